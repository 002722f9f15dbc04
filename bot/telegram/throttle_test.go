package telegram

import (
	"context"
	"testing"
	"time"
)

func TestThrottleSpacesNotificationsAtTheOverallRate(t *testing.T) {
	th := newThrottle(100, 0)
	start := time.Now()
	for i := range 21 {
		if err := th.slot(context.Background(), int64(i), true); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("21 notifications at 100/s in %v, want at least 200ms", d)
	}
}

func TestThrottleLetsRepliesGoFirst(t *testing.T) {
	th := newThrottle(10, 0)
	now := time.Now()
	// Notifications have used the overall rate up for the next second...
	for i := range 10 {
		th.next = now.Add(time.Duration(i) * 100 * time.Millisecond)
	}
	if wait := th.take(now, 1, true); wait <= 0 {
		t.Fatal("a notification went out beyond the rate")
	}
	// ...but a reply to a student who is waiting goes at once.
	if wait := th.take(now, 2, false); wait != 0 {
		t.Fatalf("a reply waited %v behind notifications", wait)
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
	if wait < 900*time.Millisecond || wait > time.Second {
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
