package redis_test

import (
	"slices"
	"testing"
	"time"

	"github.com/healthycities/napad/storage/redis/redistest"
)

// Wrong join codes are counted per participant, next to their
// conversation, in a window that starts with the first and is not
// stretched by later ones.
func TestWrongJoinCodesAreCountedInAWindow(t *testing.T) {
	t.Parallel()
	s, url, prefix := redistest.NewWithPrefix(t)
	c := ctx(t)
	raw := rawClient(t, url)
	if n, err := s.WrongJoinCodes(c, "pid-a"); err != nil || n != 0 {
		t.Fatalf("before any: %d, %v", n, err)
	}
	for i := 1; i <= 6; i++ {
		n, err := s.CountWrongJoinCode(c, "pid-a", 10*time.Minute)
		if err != nil || n != i {
			t.Fatalf("count #%d = %d, %v", i, n, err)
		}
	}
	if n, err := s.WrongJoinCodes(c, "pid-a"); err != nil || n != 6 {
		t.Errorf("after six: %d, %v", n, err)
	}
	if n, err := s.WrongJoinCodes(c, "pid-b"); err != nil || n != 0 {
		t.Errorf("another participant: %d, %v", n, err)
	}
	key := prefix + "{pid-a}:joins" // the conversation's hash tag: its slot
	if got := keys(t, url, prefix); !slices.Equal(got, []string{key}) {
		t.Errorf("keys %v, want [%s]", got, key)
	}
	ttl, err := raw.PTTL(c, key).Result()
	if err != nil || ttl <= 9*time.Minute || ttl > 10*time.Minute {
		t.Errorf("the window has %v left, %v; want just under 10 minutes", ttl, err)
	}

	// A window that ran out starts again.
	const window = 400 * time.Millisecond
	for range 3 {
		if _, err := s.CountWrongJoinCode(c, "pid-c", window); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(window * 5 / 8)
	if n, err := s.CountWrongJoinCode(c, "pid-c", window); err != nil || n != 4 {
		t.Fatalf("a later code in the window: %d, %v", n, err)
	}
	time.Sleep(window * 5 / 8) // past the first code's window, not the last's
	if n, err := s.WrongJoinCodes(c, "pid-c"); err != nil || n != 0 {
		t.Errorf("after the window: %d, %v; want 0", n, err)
	}
	if n, err := s.CountWrongJoinCode(c, "pid-c", time.Minute); err != nil || n != 1 {
		t.Errorf("the first of a new window: %d, %v", n, err)
	}

	// A count without a time limit gets one rather than blocking for ever.
	if err := raw.Set(c, prefix+"{pid-d}:joins", 9, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountWrongJoinCode(c, "pid-d", time.Minute); err != nil || n != 10 {
		t.Errorf("count = %d, %v", n, err)
	}
	if ttl, err := raw.PTTL(c, prefix+"{pid-d}:joins").Result(); err != nil || ttl <= 0 {
		t.Errorf("a count without a time limit still has none: %v, %v", ttl, err)
	}

	for _, bad := range []string{"", "a{b"} {
		if _, err := s.CountWrongJoinCode(c, bad, time.Minute); err == nil {
			t.Errorf("counting for %q succeeded", bad)
		}
		if _, err := s.WrongJoinCodes(c, bad); err == nil {
			t.Errorf("reading for %q succeeded", bad)
		}
	}
	if _, err := s.CountWrongJoinCode(c, "pid-e", 0); err == nil {
		t.Error("a count without a window succeeded")
	}
}

// Deleting a conversation (/delete) leaves the count: a guesser must not
// start afresh by deleting their data.
func TestForgettingAConversationKeepsItsWrongJoinCodes(t *testing.T) {
	t.Parallel()
	s := redistest.New(t)
	c := ctx(t)
	put(t, s, "pid", []byte("state"))
	if _, err := s.CountWrongJoinCode(c, "pid", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := begin(t, s, "pid", 1).Forget(c); err != nil {
		t.Fatal(err)
	}
	if data, _ := peek(t, s, "pid"); len(data) != 0 {
		t.Fatalf("the conversation is still there: %q", data)
	}
	if n, err := s.WrongJoinCodes(c, "pid"); err != nil || n != 1 {
		t.Errorf("after /delete: %d, %v; want 1", n, err)
	}
}
