package telegram

import (
	"context"
	"sync"
	"time"
)

// Telegram's limits on what a bot sends: about 30 messages a second in all,
// and about one a second into one chat (short bursts are tolerated).
const (
	DefaultMessagesPerSecond     = 30
	DefaultChatMessagesPerSecond = 1
	// chatBurst lets a step's two or three messages (an answer and the next
	// question) go out at once.
	chatBurst = 3
	// overallBurst is how far replies may run ahead of the overall rate
	// when a class answers at once; notifications never do.
	overallBurst = 30
	// bulkMargin: notifications go 1/bulkMargin slower than the overall
	// rate (1 %: 3,000 take about 101 s instead of 100).
	bulkMargin = 100
	// idleChat is how long a chat's pace is remembered.
	idleChat = time.Minute
)

// throttle keeps every sender of the bot (replies, notifications) within
// Telegram's limits together. Replies to students go first: notifications
// wait for the overall rate without a burst, so a status change that tells
// thousands never delays an answer for long. A 429 from Telegram pauses every
// sender for as long as Telegram asks.
//
// Each limit is a "virtual scheduling" pace: next is when the next message
// would be on time; a message may go while it is at most burst intervals
// early.
type throttle struct {
	overall time.Duration // 0: no overall limit
	perChat time.Duration // 0: no limit per chat

	mu          sync.Mutex
	pausedUntil time.Time
	next        time.Time
	chats       map[int64]time.Time
	swept       time.Time
}

// newThrottle takes the limits in messages per second; 0 turns one off (a
// load test against a fake Bot API).
func newThrottle(perSecond, chatPerSecond float64) *throttle {
	t := &throttle{chats: map[int64]time.Time{}}
	if perSecond > 0 {
		t.overall = time.Duration(float64(time.Second) / perSecond)
	}
	if chatPerSecond > 0 {
		t.perChat = time.Duration(float64(time.Second) / chatPerSecond)
	}
	return t
}

// pauseFor stops every sender for d (Telegram's retry_after).
func (t *throttle) pauseFor(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if until := time.Now().Add(d); until.After(t.pausedUntil) {
		t.pausedUntil = until
	}
}

// awaitPause waits while Telegram asked the bot to pause.
func (t *throttle) awaitPause(ctx context.Context) error {
	for {
		t.mu.Lock()
		wait := time.Until(t.pausedUntil)
		t.mu.Unlock()
		if wait <= 0 {
			return ctx.Err()
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// slot waits until a message may be sent into chatID; bulk messages
// (notifications) have no burst and give way to replies.
func (t *throttle) slot(ctx context.Context, chatID int64, bulk bool) error {
	for {
		wait := t.take(time.Now(), chatID, bulk)
		if wait <= 0 {
			return ctx.Err()
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// take books a message at now if every limit allows it (0), or says how long
// to wait before asking again.
func (t *throttle) take(now time.Time, chatID int64, bulk bool) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if wait := t.pausedUntil.Sub(now); wait > 0 {
		return wait
	}
	burst := time.Duration(overallBurst) * t.overall
	if bulk {
		burst = 0
	}
	var wait time.Duration
	if t.overall > 0 {
		wait = max(wait, later(t.next, now).Sub(now)-burst)
	}
	chatNext := t.chats[chatID]
	if t.perChat > 0 {
		wait = max(wait, later(chatNext, now).Sub(now)-time.Duration(chatBurst-1)*t.perChat)
	}
	if wait > 0 {
		return wait
	}
	if t.overall > 0 {
		step := t.overall
		if bulk {
			// A hair under the limit: a send delayed on its way must not
			// bring 31 into one second at Telegram.
			step += t.overall / bulkMargin
		}
		t.next = later(t.next, now).Add(step)
	}
	if t.perChat > 0 {
		t.chats[chatID] = later(chatNext, now).Add(t.perChat)
		t.forgetIdleChats(now)
	}
	return 0
}

// forgetIdleChats drops chats whose pace is long past, once a minute, so the
// map holds only chats spoken to lately.
func (t *throttle) forgetIdleChats(now time.Time) {
	if now.Sub(t.swept) < idleChat {
		return
	}
	t.swept = now
	for id, next := range t.chats {
		if now.Sub(next) > idleChat {
			delete(t.chats, id)
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sleep waits d; false means ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
