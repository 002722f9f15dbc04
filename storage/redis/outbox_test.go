package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

func TestOutbox(t *testing.T) {
	st := redistest.New(t)
	ctx := context.Background()
	if err := st.PutOutbox(ctx, "d1", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := st.PutOutbox(ctx, "d2", []byte("\x00bin")); err != nil {
		t.Fatal(err)
	}
	if err := st.PutOutbox(ctx, "d1", []byte(`{"a":2}`)); err != nil { // the same draft again: replaced, still first
		t.Fatal(err)
	}
	id, data, lease, err := st.ClaimOutbox(ctx, nil)
	if err != nil || id != "d1" || string(data) != `{"a":2}` || lease == "" {
		t.Fatalf("claimed %q %q %q, %v", id, data, lease, err)
	}
	id2, data2, lease2, err := st.ClaimOutbox(ctx, nil)
	if err != nil || id2 != "d2" || string(data2) != "\x00bin" {
		t.Fatalf("claimed %q %q %q, %v", id2, data2, lease2, err)
	}
	if ok, err := st.DoneOutbox(ctx, "d1", lease); err != nil || !ok {
		t.Fatalf("done: %v, %v", ok, err)
	}
	if n, err := st.OutboxLen(ctx); err != nil || n != 1 {
		t.Errorf("length %d, %v", n, err)
	}
}

// Two replicas draining one outbox never hold the same entry while its lease
// lasts, and take the entries oldest first.
func TestOutboxLeaseExcludesOtherDrainers(t *testing.T) {
	a, url, prefix := redistest.NewWithPrefix(t)
	b, err := redis.Open(context.Background(), url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	for _, id := range []string{"p:1", "p:2", "p:3"} {
		if err := a.PutOutbox(ctx, id, []byte(id)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // queued at different milliseconds
	}
	got := map[string]string{}
	for i, st := range []*redis.Store{a, b, a, b} {
		id, _, lease, err := st.ClaimOutbox(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			if lease != "" {
				t.Fatalf("a fourth claim got %q, held by another drainer", id)
			}
			break
		}
		if want := []string{"p:1", "p:2", "p:3"}[i]; id != want {
			t.Fatalf("claim %d got %q, want %q (oldest first)", i, id, want)
		}
		got[id] = lease
	}
	// b cannot finish a's entry; a can.
	if ok, err := b.DoneOutbox(ctx, "p:1", got["p:2"]); err != nil || ok {
		t.Fatalf("done with another's lease: %v, %v", ok, err)
	}
	if ok, err := a.DoneOutbox(ctx, "p:1", got["p:1"]); err != nil || !ok {
		t.Fatalf("done: %v, %v", ok, err)
	}
	// A released entry is free again, and a skipped one is not claimed.
	if _, _, err := b.FailOutbox(ctx, "p:2", got["p:2"], false, 5); err != nil {
		t.Fatal(err)
	}
	if id, _, lease, err := a.ClaimOutbox(ctx, []string{"p:2"}); err != nil || lease != "" {
		t.Fatalf("claimed the skipped %q, %v", id, err)
	}
	if id, _, _, err := a.ClaimOutbox(ctx, nil); err != nil || id != "p:2" {
		t.Fatalf("claimed %q after the release, %v", id, err)
	}
}

// A drainer that died holding a lease blocks its entry only until the lease
// runs out; then another replica stores it, and the dead one's late "done"
// changes nothing.
func TestOutboxLeaseOfCrashedDrainerRunsOut(t *testing.T) {
	st := redistest.New(t)
	st.SetOutboxLease(200 * time.Millisecond)
	ctx := context.Background()
	if err := st.PutOutbox(ctx, "p:1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	_, _, crashed, err := st.ClaimOutbox(ctx, nil)
	if err != nil || crashed == "" {
		t.Fatalf("claim: %q, %v", crashed, err)
	}
	if id, _, lease, _ := st.ClaimOutbox(ctx, nil); lease != "" {
		t.Fatalf("claimed %q while leased", id)
	}
	time.Sleep(300 * time.Millisecond)
	id, _, lease, err := st.ClaimOutbox(ctx, nil)
	if err != nil || id != "p:1" {
		t.Fatalf("after the lease: %q, %v", id, err)
	}
	if ok, _ := st.DoneOutbox(ctx, "p:1", crashed); ok {
		t.Error("the crashed drainer's lease still counted")
	}
	if ok, err := st.DoneOutbox(ctx, "p:1", lease); err != nil || !ok {
		t.Errorf("done: %v, %v", ok, err)
	}
}

// Failures count against an entry; a dead letter leaves the outbox, keeps
// its data for a person, and no longer holds up the others.
func TestOutboxDeadLetter(t *testing.T) {
	st := redistest.New(t)
	ctx := context.Background()
	for _, id := range []string{"p:bad", "p:good"} {
		if err := st.PutOutbox(ctx, id, []byte(id)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	for want := 1; want <= 2; want++ {
		_, _, lease, _ := st.ClaimOutbox(ctx, nil)
		if n, dead, err := st.FailOutbox(ctx, "p:bad", lease, true, 3); err != nil || n != want || dead {
			t.Fatalf("tries %d, %v, %v; want %d", n, dead, err, want)
		}
	}
	_, _, lease, _ := st.ClaimOutbox(ctx, nil)
	if n, dead, _ := st.FailOutbox(ctx, "p:bad", lease, false, 3); n != 2 || dead { // PostgreSQL down: not counted
		t.Fatalf("tries %d (dead %v) after an uncounted failure", n, dead)
	}
	_, _, lease, _ = st.ClaimOutbox(ctx, nil)
	if _, dead, err := st.FailOutbox(ctx, "p:bad", lease, true, 3); err != nil || !dead {
		t.Fatalf("third failure: dead %v, %v", dead, err)
	}
	if err := st.PutOutbox(ctx, "p:unreadable", []byte("?")); err != nil {
		t.Fatal(err)
	}
	_, _, lease, _ = st.ClaimOutbox(ctx, []string{"p:good"})
	if moved, err := st.DeadOutbox(ctx, "p:unreadable", lease); err != nil || !moved {
		t.Fatalf("dead: %v, %v", moved, err)
	}
	if moved, _ := st.DeadOutbox(ctx, "p:unreadable", lease); moved {
		t.Fatal("moved twice")
	}
	if n, err := st.DeadOutboxLen(ctx); err != nil || n != 2 {
		t.Fatalf("dead letters %d, %v", n, err)
	}
	if n, _ := st.OutboxLen(ctx); n != 1 {
		t.Fatalf("outbox length %d", n)
	}
	if id, _, _, err := st.ClaimOutbox(ctx, nil); err != nil || id != "p:good" {
		t.Fatalf("next claim %q, %v", id, err)
	}
	if got, err := st.OutboxOf(ctx, "p:"); err != nil || string(got["p:bad"]) != "p:bad" || string(got["p:good"]) != "p:good" {
		t.Fatalf("entries of p: %q, %v", got, err)
	}
}

// Forgetting a participant's entries removes them, waiting and dead, and
// waits for a drainer storing one of them to be done.
func TestOutboxForget(t *testing.T) {
	st := redistest.New(t)
	ctx := context.Background()
	for _, id := range []string{"p:1", "p:2", "q:1"} {
		if err := st.PutOutbox(ctx, id, []byte(id)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	_, _, lease, _ := st.ClaimOutbox(ctx, nil) // p:1, being stored
	done := make(chan time.Time, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		done <- time.Now()
		if ok, err := st.DoneOutbox(ctx, "p:1", lease); err != nil || ok {
			t.Errorf("done after forget: %v, %v", ok, err)
		}
	}()
	if err := st.ForgetOutbox(ctx, "p:"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	default:
		t.Error("ForgetOutbox returned while p:1 was being stored")
	}
	if got, _ := st.OutboxOf(ctx, "p:"); len(got) != 0 {
		t.Errorf("left %q", got)
	}
	if id, _, _, _ := st.ClaimOutbox(ctx, nil); id != "q:1" {
		t.Errorf("claimed %q, want q:1", id)
	}
}

// ReplaceOutbox changes an entry, waiting or dead, only if it still holds
// what was read, and never brings back one that is gone.
func TestOutboxReplace(t *testing.T) {
	st := redistest.New(t)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		if err := st.PutOutbox(ctx, id, []byte(id+"1")); err != nil {
			t.Fatal(err)
		}
	}
	id, _, lease, err := st.ClaimOutbox(ctx, nil)
	if err != nil || id != "a" {
		t.Fatalf("claimed %q, %v", id, err)
	}
	if moved, err := st.DeadOutbox(ctx, "a", lease); err != nil || !moved {
		t.Fatalf("dead: %v, %v", moved, err)
	}
	if err := st.PutOutbox(ctx, "b", []byte("b2")); err != nil { // changed since read
		t.Fatal(err)
	}
	id, _, lease, err = st.ClaimOutbox(ctx, nil)
	if err != nil || id != "b" {
		t.Fatalf("claimed %q, %v", id, err)
	}
	for _, c := range []struct {
		id, old string
		want    bool
	}{{"a", "a1", true}, {"b", "b1", false}, {"c", "c1", true}, {"gone", "", false}} {
		if ok, err := st.ReplaceOutbox(ctx, c.id, []byte(c.old), []byte(c.id+"-new")); err != nil || ok != c.want {
			t.Errorf("ReplaceOutbox(%s) = %v, %v; want %v", c.id, ok, err, c.want)
		}
	}
	all, err := st.AllOutbox(ctx)
	if err != nil || len(all) != 3 || string(all["a"]) != "a-new" || string(all["b"]) != "b2" || string(all["c"]) != "c-new" {
		t.Errorf("AllOutbox = %q, %v", all, err)
	}
	if n, err := st.DeadOutboxLen(ctx); err != nil || n != 1 {
		t.Errorf("dead letters %d, %v; want a still dead", n, err)
	}
	// The lease on b is still its holder's.
	if ok, err := st.DoneOutbox(ctx, "b", lease); err != nil || !ok {
		t.Errorf("done after a replace elsewhere: %v, %v", ok, err)
	}
}
