package web

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Rate is a token bucket: Burst requests at once, then PerSecond.
type Rate struct {
	Burst     int
	PerSecond float64
}

// limiter keeps a token bucket per key (a participant, an address) in this
// process's memory: each replica counts on its own and a restart forgets,
// which is enough to slow a flood or a guesser down without a store.
type limiter struct {
	rate Rate
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// pruneAt is how many buckets there may be before the full ones (nobody
// who asked lately) are dropped.
const pruneAt = 10000

func newLimiter(r Rate, now func() time.Time) *limiter {
	return &limiter{rate: r, now: now, buckets: map[string]*bucket{}}
}

// allow takes a token of key's bucket, if there is one.
func (l *limiter) allow(key string) bool {
	if l.rate.Burst <= 0 { // no limit
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buckets) >= pruneAt {
		for k, b := range l.buckets {
			if l.refill(b, now) >= float64(l.rate.Burst) {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(l.rate.Burst), at: now}
		l.buckets[key] = b
	}
	b.tokens = l.refill(b, now)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// refill is how many tokens b has at now.
func (l *limiter) refill(b *bucket, now time.Time) float64 {
	return min(float64(l.rate.Burst), b.tokens+now.Sub(b.at).Seconds()*l.rate.PerSecond)
}

// clientAddress is who sent a request, as far as the limits care: the
// peer, or behind a reverse proxy the address it appended last to
// X-Forwarded-For (the ones before it are the client's word).
func (s *Server) clientAddress(r *http.Request) string {
	if s.cfg.ForwardedFor {
		if fwd := r.Header.Values("X-Forwarded-For"); len(fwd) > 0 {
			parts := strings.Split(fwd[len(fwd)-1], ",")
			if a := strings.TrimSpace(parts[len(parts)-1]); a != "" {
				return a
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
