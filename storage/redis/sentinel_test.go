package redis_test

import (
	"context"
	"testing"

	"github.com/healthycities/napad/storage/redis/redistest"
)

// REDIS_URL may name the primary that a Sentinel watches: turns and the
// outbox work there, and go on after the Sentinel has made the replica the
// primary in place of one that died.
func TestOnSentinel(t *testing.T) {
	c := redistest.StartSentinel(t)
	s, _, _ := redistest.NewAt(t, c.URL)
	bg := context.Background()
	put(t, s, "conv", []byte("before"))
	if err := s.PutOutbox(bg, "p:1", []byte("idea")); err != nil {
		t.Fatal(err)
	}

	c.KillPrimary(c.SentinelPrimary())
	if n := outboxLenOnceUp(t, s); n != 1 {
		t.Fatalf("outbox after the failover: %d entries, want 1\n%s", n, c.Logs())
	}
	if data, v := peek(t, s, "conv"); string(data) != "before" || v != 1 {
		t.Errorf("conversation after the failover: %q at %d", data, v)
	}
	put(t, s, "conv", []byte("after"))
}
