package bot

import (
	"context"
	"sync"
	"time"

	"github.com/healthycities/napad/flows"
)

// roleCacheFor is how long a looked-up role is trusted: roles change rarely
// (an invite accepted), and every update needs one.
const roleCacheFor = time.Minute

type cachedRole struct {
	actor   flows.Actor
	fetched time.Time
}

type roleCache struct {
	mu    sync.Mutex
	roles map[string]cachedRole
}

// actor says whether the sender is staff (from STAFF_TELEGRAM_IDS), a
// teacher (from the database), or a student.
func (b *Bot) actor(ctx context.Context, telegramID int64, pid string) flows.Actor {
	if b.staff[telegramID] {
		return flows.Actor{Role: flows.RoleStaff}
	}
	now := time.Now()
	b.roles.mu.Lock()
	cached, ok := b.roles.roles[pid]
	b.roles.mu.Unlock()
	if ok && now.Sub(cached.fetched) < roleCacheFor {
		return cached.actor
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	role, town, err := b.stores.People.RoleOf(ctx, pid)
	if err != nil {
		// A student must not be stopped by a database outage: keep what
		// was known, or treat them as a student.
		b.log.Warn("role lookup failed", "err", err)
		return cached.actor
	}
	a := flows.Actor{Role: role, Town: town}
	b.roles.mu.Lock()
	if b.roles.roles == nil || len(b.roles.roles) > 100000 {
		b.roles.roles = map[string]cachedRole{}
	}
	b.roles.roles[pid] = cachedRole{actor: a, fetched: now}
	b.roles.mu.Unlock()
	return a
}

// forgetRole makes the next update look the role up again.
func (b *Bot) forgetRole(pid string) {
	b.roles.mu.Lock()
	delete(b.roles.roles, pid)
	b.roles.mu.Unlock()
}
