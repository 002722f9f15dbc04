package botapi

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// Telegram's limits on the messages a bot sends.
const (
	// PerSecond is the most messages Telegram takes from a bot within any
	// second.
	PerSecond = 30
	// ChatBurst is how many messages into one chat within a second Limits
	// lets pass before it counts a violation of Telegram's ~1/s per chat.
	ChatBurst = 3
)

// TooManyRequests is Telegram's answer to a message beyond its limit.
func TooManyRequests(retryAfter int) *Error { return Fail(http.StatusTooManyRequests, retryAfter) }

// Limits enforces Telegram's limits on the messages a bot sends, as a fake
// sees them arrive: more than perSecond within any sliding second are
// refused (the fake answers TooManyRequests(1)); more than chatBurst into
// one chat within a second are let through but counted, unless
// RefuseInChat makes the limit per chat refuse too. It keeps the time of
// every message, for the statistics. It is safe for concurrent use.
type Limits struct {
	perSecond int
	chatBurst int
	chatLimit int // > 0: refuse a message into a chat that had this many within a second
	base      time.Time

	mu             sync.Mutex
	recent         []time.Duration // the last perSecond accepted messages, a ring
	head           int             // the oldest in recent once it is full
	accepted       []time.Duration // every accepted message
	attempts       []time.Duration // every message, refused ones too
	chats          map[int64][]time.Duration
	refused        int64
	refusedInChat  int64 // of refused, by chatLimit
	chatViolations int64
}

// NewLimits makes limits of perSecond messages within any second and a burst
// of chatBurst into one chat.
func NewLimits(perSecond, chatBurst int) *Limits {
	return &Limits{perSecond: perSecond, chatBurst: chatBurst, base: time.Now(),
		recent: make([]time.Duration, 0, perSecond), chats: map[int64][]time.Duration{}}
}

// RefuseInChat makes l refuse (429) a message into a chat that already had
// perChat accepted messages within the last second, rather than count it:
// Telegram's "no more than one message per second in a chat" taken
// literally with perChat 1, although Telegram tolerates short bursts. It
// returns l.
func (l *Limits) RefuseInChat(perChat int) *Limits {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.chatLimit = perChat
	return l
}

// Base is when the limits were made: the times in LimitStats are since then.
func (l *Limits) Base() time.Time { return l.base }

// Admit says whether a message into chatID may go now; false means 429.
func (l *Limits) Admit(chatID int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := time.Since(l.base) // under the lock: the times are in order
	l.attempts = append(l.attempts, t)
	full := len(l.recent) == l.perSecond
	if full && t-l.recent[l.head] < time.Second {
		l.refused++
		return false
	}
	kept := l.chats[chatID][:0]
	for _, at := range l.chats[chatID] {
		if t-at < time.Second {
			kept = append(kept, at)
		}
	}
	if l.chatLimit > 0 && len(kept) >= l.chatLimit {
		l.chats[chatID] = kept
		l.refused++
		l.refusedInChat++
		return false
	}
	if full {
		l.recent[l.head] = t
		l.head = (l.head + 1) % l.perSecond
	} else {
		l.recent = append(l.recent, t)
	}
	l.accepted = append(l.accepted, t)
	if len(kept) >= l.chatBurst {
		l.chatViolations++
	}
	l.chats[chatID] = append(kept, t)
	return true
}

// LimitStats is what Limits saw.
type LimitStats struct {
	Refused, ChatViolations int64
	// RefusedInChat are the refusals by the limit per chat (RefuseInChat),
	// counted in Refused too.
	RefusedInChat int64
	// Accepted and Attempts (refused ones too) are the times of the
	// messages since Base, in order.
	Accepted, Attempts []time.Duration
}

// Stats is what the limits saw so far.
func (l *Limits) Stats() LimitStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LimitStats{Refused: l.refused, ChatViolations: l.chatViolations, RefusedInChat: l.refusedInChat,
		Accepted: slices.Clone(l.accepted), Attempts: slices.Clone(l.attempts)}
}

// MaxInWindow is the most of the (ordered) times within any window w: the
// times t with start <= t < start+w, for any start.
func MaxInWindow(times []time.Duration, w time.Duration) int {
	best, i := 0, 0
	for j := range times {
		for times[j]-times[i] >= w {
			i++
		}
		best = max(best, j-i+1)
	}
	return best
}
