package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// A primary of a Redis Cluster dies and its replica takes over: the
// conversations and outbox entries the store had written are there, and the
// store goes on against the new primary. PutOutbox waits until a replica has
// the entry: a replica that lags makes it wait, rather than tell the student
// their idea is kept while only the primary has it.
func TestFailoverOfAPrimary(t *testing.T) {
	c := redistest.StartCluster(t, 3, 1)
	s, _, prefix := redistest.NewAt(t, c.URL)
	primary := c.PrimaryFor(prefix + "{outbox}")
	replica := c.ReplicasOf(primary)[0]
	// A conversation on the same primary.
	conv := ""
	for i := 0; conv == ""; i++ {
		if k := fmt.Sprintf("%032x", i); c.PrimaryFor(prefix+"{"+k+"}") == primary {
			conv = k
		}
	}
	put(t, s, conv, []byte("before"))
	bg := context.Background()
	for i := range 5 {
		if err := s.PutOutbox(bg, fmt.Sprintf("p:%d", i), []byte("idea")); err != nil {
			t.Fatal(err)
		}
	}

	lag := make(chan error, 1)
	go func() {
		client := rawClient(t, fmt.Sprintf("redis://127.0.0.1:%d", replica))
		lag <- client.Do(bg, "DEBUG", "SLEEP", "0.4").Err()
	}()
	time.Sleep(50 * time.Millisecond) // the replica sleeps
	started := time.Now()
	if err := s.PutOutbox(bg, "p:lagging", []byte("idea")); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(started); waited < 200*time.Millisecond {
		t.Errorf("PutOutbox returned after %v, before the lagging replica had the entry", waited)
	}
	if err := <-lag; err != nil {
		t.Fatalf("DEBUG SLEEP on the replica: %v", err)
	}

	if now := c.KillPrimary(primary); now != replica {
		t.Fatalf("the new primary is %d, want %d", now, replica)
	}
	if n := outboxLenOnceUp(t, s); n != 6 {
		t.Fatalf("outbox after the failover: %d entries, want 6", n)
	}
	if data, v := peek(t, s, conv); string(data) != "before" || v != 1 {
		t.Errorf("conversation after the failover: %q at %d", data, v)
	}
	put(t, s, conv, []byte("after"))
	if id, _, lease, err := s.ClaimOutbox(bg, nil); err != nil || id != "p:0" || lease == "" {
		t.Errorf("claim after the failover: %q, %v", id, err)
	}
}

// outboxLenOnceUp is the outbox's length as soon as the store reaches Redis
// again: after a failover, it finds the new primary by itself, but its first
// commands may still go to the dead one.
func outboxLenOnceUp(t *testing.T, s *redis.Store) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := s.OutboxLen(context.Background())
		if err == nil {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store does not reach Redis 10 s after the failover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
