package telegram

import (
	"context"
	"testing"
	"time"
)

// sendAll takes n messages from the throttle as fast as it lets them go,
// on a clock that moves only by the waits; it returns how long that took
// and the most that went within any one second.
func sendAll(th *throttle, n int, bulk bool) (took time.Duration, most int) {
	start := time.Now()
	at := start
	var times []time.Time
	for len(times) < n {
		if w := th.take(at, int64(1000+len(times)), bulk); w > 0 {
			at = at.Add(w)
			continue
		}
		times = append(times, at)
	}
	for i := range times {
		inSecond := 0
		for _, t := range times[i:] {
			if t.Sub(times[i]) < time.Second {
				inSecond++
			}
		}
		most = max(most, inSecond)
	}
	return at.Sub(start), most
}

// Never more than the limit within any second, replies or notifications:
// Telegram answers more with 429, which stops every sender.
func TestThrottleKeepsTheOverallLimitInEverySecond(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		took, most := sendAll(newThrottle(30, 0), 100, bulk)
		if most > 30 || took < 3*time.Second {
			t.Errorf("bulk %v: 100 messages at 30 a second in %v, at most %d in a second", bulk, took, most)
		}
	}
}

// A notification leaves the window's last place to a reply: one asking
// when the window is nearly full goes at once.
func TestThrottleLetsRepliesGoFirst(t *testing.T) {
	th := newThrottle(10, 0)
	now := time.Now()
	for i := range 9 {
		if w := th.take(now, int64(i+1), true); w != 0 {
			t.Fatalf("notification %d waited %v", i, w)
		}
	}
	if w := th.take(now, 100, true); w <= 0 {
		t.Fatal("a notification took the last place in the window")
	}
	if w := th.take(now, 101, false); w != 0 {
		t.Fatalf("a reply waited %v behind notifications", w)
	}
	if w := th.take(now, 102, false); w <= 0 {
		t.Fatal("a reply went beyond the limit")
	}
}

// Edits keep a limit of their own: neither the chat's next message nor the
// messages' window waits for them.
func TestThrottleEditsCountOnlyOverall(t *testing.T) {
	th := newThrottle(10, 1)
	now := time.Now()
	if w := th.take(now, 0, false); w != 0 {
		t.Fatalf("an edit waited %v", w)
	}
	if w := th.take(now.Add(110*time.Millisecond), 7, false); w != 0 {
		t.Fatalf("a message after an edit in its chat waited %v", w)
	}
	if w := th.take(now.Add(220*time.Millisecond), 7, false); w < 800*time.Millisecond {
		t.Fatalf("a second message into the chat within a second waits only %v", w)
	}
	if len(th.sent) != 1 || len(th.edited) != 1 {
		t.Fatalf("%d messages and %d edits in the windows, want one each", len(th.sent), len(th.edited))
	}
	for range 9 {
		th.take(now, 0, false)
	}
	if w := th.take(now, 0, false); w <= 0 {
		t.Fatal("the 11th edit within a second at 10 a second went at once")
	}
	if w := th.take(now.Add(1200*time.Millisecond), 8, false); w != 0 {
		t.Fatalf("a message waited %v behind edits", w)
	}
}

func TestThrottleKeepsAboutOneMessageASecondPerChat(t *testing.T) {
	th := newThrottle(0, 1)
	now := time.Now()
	for i := range chatBurst {
		if wait := th.take(now, 7, false); wait != 0 {
			t.Fatalf("message %d of a step waited %v", i+1, wait)
		}
	}
	wait := th.take(now, 7, false)
	if wait < 900*time.Millisecond || wait > time.Second+time.Second/margin {
		t.Fatalf("the message after a burst may go in %v, want about 1 s", wait)
	}
	if w := th.take(now, 8, false); w != 0 {
		t.Fatalf("another chat waited %v", w)
	}
	if w := th.take(now.Add(wait), 7, false); w != 0 {
		t.Fatalf("after waiting, still %v", w)
	}
}

func TestThrottlePauseStopsEverySender(t *testing.T) {
	th := newThrottle(0, 0)
	th.pauseFor(150 * time.Millisecond)
	start := time.Now()
	done := make(chan time.Duration, 3)
	go func() { _ = th.slot(context.Background(), 1, false); done <- time.Since(start) }()
	go func() { _ = th.slot(context.Background(), 2, true); done <- time.Since(start) }()
	go func() { _ = th.awaitPause(context.Background()); done <- time.Since(start) }()
	for range 3 {
		if d := <-done; d < 140*time.Millisecond {
			t.Errorf("a sender went on after %v of a 150ms pause", d)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	th.pauseFor(time.Hour)
	if err := th.slot(ctx, 1, false); err == nil {
		t.Error("slot after cancel returned no error")
	}
}

func TestThrottleForgetsIdleChats(t *testing.T) {
	th := newThrottle(0, 1)
	now := time.Now()
	for i := range 100 {
		th.take(now, int64(i), false)
	}
	th.take(now.Add(3*idleChat), 1000, false)
	if len(th.chats) != 1 {
		t.Fatalf("%d chats remembered, want only the latest", len(th.chats))
	}
}
