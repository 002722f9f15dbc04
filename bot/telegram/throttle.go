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
	// chatBurst is how many messages may go into one chat at once: one,
	// since each step of the conversation sends at most one message (a
	// tapped answer edits its message instead).
	chatBurst = 1
	// margin: a second counts as 1 + 1/margin seconds, for the overall
	// limit and a chat's: a message booked on time may reach Telegram a
	// little late and the next one on time, and the two must not fall
	// within one of Telegram's seconds (a 10 ms slack still let 4 of 4,200
	// through in the assembly benchmark; 100 ms let none).
	margin = 10
	// idleChat is how long a chat's pace is remembered.
	idleChat = time.Minute
)

// throttle keeps every sender of the bot (replies, notifications) within
// Telegram's limits together. Replies to students go first: notifications
// wait for the overall rate without a burst, so a status change that tells
// thousands never delays an answer for long. A 429 from Telegram pauses every
// sender for as long as Telegram asks.
//
// The overall limit is a sliding window, as Telegram counts: at most
// perSecond messages within any second (a hair longer, see margin); a
// notification leaves the window's last place to a reply. The limit per
// chat is a pace: next is when the chat's next message is on time.
type throttle struct {
	perSecond int           // 0: no overall limit
	perChat   time.Duration // 0: no limit per chat

	mu          sync.Mutex
	pausedUntil time.Time
	// The messages, and apart the edits, within the window, oldest first:
	// Telegram's limit speaks of messages sent; edits, whose limit it does
	// not document, are kept to the same number on their own.
	sent, edited []time.Time
	chats        map[int64]time.Time
	swept        time.Time
}

// newThrottle takes the limits in messages per second; 0 turns one off (a
// load test against a fake Bot API).
func newThrottle(perSecond, chatPerSecond float64) *throttle {
	t := &throttle{chats: map[int64]time.Time{}}
	if perSecond > 0 {
		t.perSecond = max(1, int(perSecond))
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
// (notifications) give way to replies. chatID 0 is an edit of a message:
// Telegram documents no limit for edits, neither per chat nor with the
// messages; they keep to 30 a second of their own.
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
	// Nothing goes beyond the limit: a class answering at once waits its
	// turn rather than meet Telegram's 429, which stops every sender for a
	// second.
	var wait time.Duration
	window := &t.sent
	if chatID == 0 {
		window = &t.edited
	}
	if t.perSecond > 0 {
		length := time.Second + time.Second/margin
		for len(*window) > 0 && now.Sub((*window)[0]) >= length {
			*window = (*window)[1:]
		}
		room := t.perSecond
		if bulk && room > 1 {
			room-- // the last place in the window is a reply's
		}
		if len(*window) >= room {
			wait = (*window)[len(*window)-room].Add(length).Sub(now)
		}
	}
	chatNext := t.chats[chatID]
	perChat := t.perChat > 0 && chatID != 0
	if perChat {
		wait = max(wait, later(chatNext, now).Sub(now)-time.Duration(chatBurst-1)*t.perChat)
	}
	if wait > 0 {
		return wait
	}
	if t.perSecond > 0 {
		*window = append(*window, now)
	}
	if perChat {
		t.chats[chatID] = later(chatNext, now).Add(t.perChat + t.perChat/margin)
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
