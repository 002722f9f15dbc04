package bot

import (
	"context"
	"sync"
	"time"

	"github.com/healthycities/napad/flows"
)

// roleCacheFor is how long a looked-up role is trusted: roles change rarely
// (an invite accepted). A failed lookup is remembered as "student" for a
// while too, so a database outage does not slow every message down.
const (
	roleCacheFor  = time.Minute
	roleFailedFor = 30 * time.Second
	roleTimeout   = 2 * time.Second
)

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
	ctx, cancel := context.WithTimeout(ctx, roleTimeout)
	defer cancel()
	role, town, err := b.stores.People.RoleOf(ctx, pid)
	a, fetched := flows.Actor{Role: role, Town: town}, now
	if err != nil {
		// Keep what was known, or treat them as a student, and ask again soon.
		b.log.Warn("role lookup failed", "err", err)
		a, fetched = cached.actor, now.Add(roleFailedFor-roleCacheFor)
	}
	b.roles.mu.Lock()
	if b.roles.roles == nil || len(b.roles.roles) > 100000 {
		b.roles.roles = map[string]cachedRole{}
	}
	b.roles.roles[pid] = cachedRole{actor: a, fetched: fetched}
	b.roles.mu.Unlock()
	return a
}

// needsRole reports whether handling an input depends on the sender's role:
// teachers' commands and buttons, a forum set-up, /help. Everything else a
// student does is the same for everyone, and needs no database.
func needsRole(st flows.State, in flows.Input) bool {
	switch {
	case st.Setup != nil || st.Closing != nil:
		return true
	case in.Kind == flows.InputCommand:
		return flows.IsStaffCommand(in.Text) || in.Text == flows.CommandHelp
	case in.Kind == flows.InputButton:
		return flows.IsStaffButton(in.Text)
	}
	return false
}

// forgetRole makes the next update look the role up again.
func (b *Bot) forgetRole(pid string) {
	b.roles.mu.Lock()
	delete(b.roles.roles, pid)
	b.roles.mu.Unlock()
}
