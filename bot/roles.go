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
	known   bool // false: never looked up successfully (the store failed)
}

type roleCache struct {
	mu    sync.Mutex
	roles map[string]cachedRole
}

// actor says whether the sender is staff (from the configuration), a
// teacher (from the database), or a student; known is false when the
// database could not tell and nothing was known before: the caller must not
// take them for a student then (a teacher mid-set-up would lose it).
func (rt *Runtime) actor(ctx context.Context, pid string) (a flows.Actor, known bool) {
	if rt.staff[pid] {
		return flows.Actor{Role: flows.RoleStaff}, true
	}
	now := time.Now()
	rt.roles.mu.Lock()
	cached, ok := rt.roles.roles[pid]
	rt.roles.mu.Unlock()
	if ok && now.Sub(cached.fetched) < roleCacheFor {
		return cached.actor, cached.known
	}
	ctx, cancel := context.WithTimeout(ctx, roleTimeout)
	defer cancel()
	role, town, err := rt.stores.People.RoleOf(ctx, pid)
	entry := cachedRole{actor: flows.Actor{Role: role, Town: town}, fetched: now, known: true}
	if err != nil {
		// Keep what was known, and ask again soon.
		rt.log.Warn("role lookup failed", "err", err)
		entry = cachedRole{actor: cached.actor, fetched: now.Add(roleFailedFor - roleCacheFor), known: cached.known}
	}
	rt.roles.mu.Lock()
	if rt.roles.roles == nil || len(rt.roles.roles) > 100000 {
		rt.roles.roles = map[string]cachedRole{}
	}
	rt.roles.roles[pid] = entry
	rt.roles.mu.Unlock()
	return entry.actor, entry.known
}

// forgetRole makes the next update look the role up again.
func (rt *Runtime) forgetRole(pid string) {
	rt.roles.mu.Lock()
	delete(rt.roles.roles, pid)
	rt.roles.mu.Unlock()
}
