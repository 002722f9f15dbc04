package redis_test

import (
	"context"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// An upgrade from a version whose keys had no hash tags: Open moves the
// outbox (entries in their order, leases, tries, dead letters) and the
// conversations to today's keys, and leaves alone what is not its own.
// An entry that a replica of the old version queues after that is moved at
// the next round of ClaimOutbox.
func TestOpenMovesTheKeysOfAnOlderVersion(t *testing.T) {
	url := redistest.URL()
	prefix := redistest.NewPrefix(t)
	t.Cleanup(func() { redistest.Cleanup(t, url, prefix) })
	raw := rawClient(t, url)
	c := ctx(t)
	pid := "0123456789abcdef0123456789abcdef"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// What the older version left behind: a conversation at version 3 with a
	// TTL, a turn lock, an outbox of two ideas (the second one older, one
	// failed once) and a dead letter, and a key that only looks alike.
	must(raw.HSet(c, prefix+pid, "v", "3", "d", "state").Err())
	must(raw.PExpire(c, prefix+pid, time.Hour).Err())
	must(raw.Set(c, prefix+pid+":lock", "x", time.Minute).Err())
	must(raw.HSet(c, prefix+"other:"+pid, "v", "1").Err())
	must(raw.HSet(c, prefix+"outbox", pid+":1", "one", pid+":2", "two").Err())
	must(raw.ZAdd(c, prefix+"outbox:order", goredis.Z{Score: 2000, Member: pid + ":1"}, goredis.Z{Score: 1000, Member: pid + ":2"}).Err())
	must(raw.HSet(c, prefix+"outbox:tries", pid+":1", "1").Err())
	must(raw.HSet(c, prefix+"outbox:dead", pid+":0", "zero").Err())

	s, err := redis.Open(c, url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	turn := begin(t, s, pid, 1)
	if string(turn.Data) != "state" || turn.Version != 3 {
		t.Errorf("the conversation after the upgrade: %q at version %d", turn.Data, turn.Version)
	}
	must(turn.End(c))
	if d, err := raw.PTTL(c, prefix+"{"+pid+"}").Result(); err != nil || d <= 0 || d > time.Hour {
		t.Errorf("the moved conversation's TTL: %v, %v", d, err)
	}
	entries, err := s.OutboxOf(c, pid+":")
	if err != nil || len(entries) != 3 || string(entries[pid+":1"]) != "one" || string(entries[pid+":0"]) != "zero" {
		t.Errorf("the outbox after the upgrade: %q, %v", entries, err)
	}
	if n, err := s.DeadOutboxLen(c); err != nil || n != 1 {
		t.Errorf("dead letters after the upgrade: %d, %v", n, err)
	}
	id, _, lease, err := s.ClaimOutbox(c, nil)
	if err != nil || id != pid+":2" {
		t.Fatalf("first claim after the upgrade: %q, %v; want the older entry", id, err)
	}
	// The try the old version counted still counts: one more makes two.
	if tries, dead, err := s.FailOutbox(c, id, lease, true, 5); err != nil || dead || tries != 1 {
		t.Errorf("failing the never-failed entry: %d tries, dead %v, %v", tries, dead, err)
	}
	id, _, lease, err = s.ClaimOutbox(c, []string{pid + ":2"})
	must(err)
	if tries, _, err := s.FailOutbox(c, id, lease, true, 5); err != nil || id != pid+":1" || tries != 2 {
		t.Errorf("failing %q, which failed once before the upgrade: %d tries, %v", id, tries, err)
	}

	left := keys(t, url, prefix)
	want := []string{prefix + pid + ":lock", prefix + "other:" + pid, prefix + "{" + pid + "}", prefix + "{outbox}", prefix + "{outbox}:dead", prefix + "{outbox}:order", prefix + "{outbox}:tries"}
	if !slices.Equal(left, want) {
		t.Errorf("keys after the upgrade:\n%q\nwant\n%q", left, want)
	}

	// A replica of the old version, still running, queues one more.
	must(raw.HSet(c, prefix+"outbox", pid+":3", "three").Err())
	must(raw.ZAdd(c, prefix+"outbox:order", goredis.Z{Score: 1, Member: pid + ":3"}).Err())
	s.LookForLegacyOutbox()
	if id, data, _, err := s.ClaimOutbox(context.Background(), nil); err != nil || id != pid+":3" || string(data) != "three" {
		t.Errorf("claim after an old replica queued: %q %q, %v", id, data, err)
	}
	if n, err := raw.Exists(c, prefix+"outbox", prefix+"outbox:order").Result(); err != nil || n != 0 {
		t.Errorf("old outbox keys left: %d, %v", n, err)
	}
}
