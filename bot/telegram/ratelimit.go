package telegram

import (
	"sync"
	"time"
)

// Per-student limits: a burst covers a whole idea typed fast; a flood of
// messages (a stuck key, a script) is cut off without slowing anyone else.
const (
	studentBurst     = 30
	studentPerSecond = 3
	// A group is told that the bot works in private chats at most once in
	// ten minutes.
	groupRepliesPerSecond = 1.0 / 600
)

// rateLimiter is a token bucket per Telegram user.
type rateLimiter struct {
	mu      sync.Mutex
	buckets map[int64]*bucket
	burst   float64
	rate    float64 // tokens per second
}

type bucket struct {
	tokens float64
	last   time.Time
	warned bool // told to slow down since the bucket last had room
}

func newRateLimiter(burst, perSecond float64) *rateLimiter {
	return &rateLimiter{buckets: map[int64]*bucket{}, burst: burst, rate: perSecond}
}

// allow takes a token for user. warn is true for the first refusal of a
// flood, when the student should be told once.
func (r *rateLimiter) allow(user int64, now time.Time) (ok, warn bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, found := r.buckets[user]
	if !found {
		if len(r.buckets) > 100000 { // forget everyone rather than grow without end
			r.buckets = map[int64]*bucket{}
		}
		b = &bucket{tokens: r.burst, last: now}
		r.buckets[user] = b
	}
	b.tokens = min(r.burst, b.tokens+now.Sub(b.last).Seconds()*r.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		if b.tokens >= r.burst/2 {
			b.warned = false
		}
		return true, false
	}
	warn = !b.warned
	b.warned = true
	return false, warn
}
