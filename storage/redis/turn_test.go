package redis_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

func begin(t *testing.T, s *redis.Store, key string, updateID int64) *redis.Turn {
	t.Helper()
	turn, err := s.Begin(ctx(t), key, updateID)
	if err != nil {
		t.Fatalf("Begin(%d): %v", updateID, err)
	}
	return turn
}

func TestTurnLoadsAndSaves(t *testing.T) {
	s, url, prefix := redistest.NewWithPrefix(t)
	turn := begin(t, s, "conv", 1)
	if turn.Data != nil || turn.Version != 0 || turn.WaitedForOthers() {
		t.Fatalf("new conversation: data %q version %d waited %v", turn.Data, turn.Version, turn.Waited)
	}
	if saved, err := turn.Commit(ctx(t), []byte("step one"), time.Minute); err != nil || !saved {
		t.Fatalf("Commit = %v, %v", saved, err)
	}
	turn = begin(t, s, "conv", 2)
	if string(turn.Data) != "step one" || turn.Version != 1 {
		t.Fatalf("second turn sees %q version %d", turn.Data, turn.Version)
	}
	if err := turn.End(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// At rest, a conversation is its state alone: no lock, no queue left.
	if keys := keys(t, url, prefix); !slices.Equal(keys, []string{prefix + "{conv}"}) {
		t.Fatalf("keys at rest = %v, want only the state", keys)
	}
	if data, v := peek(t, s, "conv"); string(data) != "step one" || v != 1 {
		t.Fatalf("End changed the state: %q %d", data, v)
	}
}

func TestTurnsGoOneAtATimeInUpdateOrder(t *testing.T) {
	s, url, prefix := redistest.NewWithPrefix(t)
	first := begin(t, s, "conv", 10)

	var (
		mu    sync.Mutex
		order []int64
		wg    sync.WaitGroup
	)
	// Later updates arrive in a scrambled order while 10 is being handled.
	for _, id := range []int64{13, 11, 12} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			turn, err := s.Begin(context.Background(), "conv", id)
			if err != nil {
				t.Errorf("Begin(%d): %v", id, err)
				return
			}
			mu.Lock()
			order = append(order, id)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond) // still holding: nobody else may be in
			if saved, err := turn.Commit(context.Background(), []byte{byte(id)}, time.Minute); err != nil || !saved {
				t.Errorf("Commit(%d) = %v, %v", id, saved, err)
			}
		}()
	}
	raw := rawClient(t, url)
	// 10 holds the turn (without queueing: nobody waited); 11-13 queue.
	waitUntil(t, func() bool { n, _ := raw.ZCard(ctx(t), prefix+"{conv}:q").Result(); return n == 3 })
	mu.Lock()
	if len(order) != 0 {
		t.Fatalf("%v took a turn while update 10 held it", order)
	}
	mu.Unlock()
	if saved, err := first.Commit(ctx(t), []byte{10}, time.Minute); err != nil || !saved {
		t.Fatalf("Commit(10) = %v, %v", saved, err)
	}
	wg.Wait()
	if !slices.Equal(order, []int64{11, 12, 13}) {
		t.Fatalf("turns taken in order %v, want 11 12 13", order)
	}
	if data, v := peek(t, s, "conv"); string(data) != string([]byte{13}) || v != 4 {
		t.Fatalf("final state %v version %d, want update 13's at version 4", data, v)
	}
}

func TestTheSameUpdateTwiceWaitsForTheFirst(t *testing.T) {
	// Telegram may deliver one update to two replicas: the second delivery
	// must see the state the first one saved (and can then tell it is done).
	s, url, prefix := redistest.NewWithPrefix(t)
	replica2 := redis.New(rawClient(t, url), prefix)
	first := begin(t, s, "conv", 7)
	got := make(chan *redis.Turn)
	go func() {
		turn, err := replica2.Begin(context.Background(), "conv", 7)
		if err != nil {
			t.Errorf("second Begin: %v", err)
		}
		got <- turn
	}()
	select {
	case <-got:
		t.Fatal("the second delivery got a turn while the first held it")
	case <-time.After(100 * time.Millisecond):
	}
	if saved, err := first.Commit(ctx(t), []byte("handled 7"), time.Minute); err != nil || !saved {
		t.Fatalf("Commit = %v, %v", saved, err)
	}
	second := <-got
	if second == nil || string(second.Data) != "handled 7" || !second.WaitedForOthers() {
		t.Fatalf("second delivery saw %+v", second)
	}
	_ = second.End(ctx(t))
}

func TestATurnHeldByADeadReplicaRunsOut(t *testing.T) {
	s := redistest.New(t)
	s.SetTurnLimits(200*time.Millisecond, 100*time.Millisecond)
	dead := begin(t, s, "conv", 1) // never ended
	start := time.Now()
	next := begin(t, s, "conv", 2)
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("took the turn after %v, while the dead one still held it", waited)
	}
	if saved, err := next.Commit(ctx(t), []byte("2"), time.Minute); err != nil || !saved {
		t.Fatalf("Commit = %v, %v", saved, err)
	}
	// The dead replica's late commit must not overwrite what came after it.
	if saved, err := dead.Commit(ctx(t), []byte("1"), time.Minute); err != nil || saved {
		t.Fatalf("late Commit = %v, %v; want not saved", saved, err)
	}
	if data, _ := peek(t, s, "conv"); string(data) != "2" {
		t.Fatalf("state = %q, want 2", data)
	}
}

func TestAnUpdateQueuedByADeadReplicaStopsBlocking(t *testing.T) {
	s, url, prefix := redistest.NewWithPrefix(t)
	s.SetTurnLimits(time.Minute, 100*time.Millisecond)
	// Update 5 queued and its replica died before it took its turn.
	if err := rawClient(t, url).ZAdd(ctx(t), prefix+"{conv}:q", goredisZ(5)).Err(); err != nil {
		t.Fatal(err)
	}
	turn := begin(t, s, "conv", 6)
	if err := turn.End(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestForgetDeletesTheState(t *testing.T) {
	s := redistest.New(t)
	put(t, s, "conv", []byte("secret"))
	turn := begin(t, s, "conv", 1)
	if err := turn.Forget(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if data, v := peek(t, s, "conv"); data != nil || v != 0 {
		t.Fatalf("after Forget: %q %d", data, v)
	}
	// and the turn is free again
	if err := begin(t, s, "conv", 2).End(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestATurnIsTwoRoundTrips(t *testing.T) {
	_, url, prefix := redistest.NewWithPrefix(t) // loads the scripts
	client := rawClient(t, url)
	counter := &commandCounter{}
	client.AddHook(counter)
	s := redis.New(client, prefix)
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
	counter.take()
	turn := begin(t, s, "conv", 1)
	if _, err := turn.Commit(ctx(t), []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := counter.take(); len(got) != 2 {
		t.Fatalf("an uncontended turn sent %v, want 2 commands", got)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func goredisZ(id float64) goredis.Z { return goredis.Z{Score: id, Member: id} }

func TestAnUpdateRetriedAfterAFailureTakesItsOwnTurnBack(t *testing.T) {
	s := redistest.New(t)
	s.SetTurnLimits(time.Minute, time.Minute)
	_ = begin(t, s, "conv", 3) // Redis failed before this turn could end
	start := time.Now()
	turn := begin(t, s, "conv", 3)
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("the retried update waited %v for its own turn", waited)
	}
	if saved, err := turn.Commit(ctx(t), []byte("3"), time.Minute); err != nil || !saved {
		t.Fatalf("Commit = %v, %v", saved, err)
	}
}

func TestAnUpdateThatGivesUpLeavesTheQueue(t *testing.T) {
	s, url, prefix := redistest.NewWithPrefix(t)
	holder := begin(t, s, "conv", 1)
	_ = begin(t, s, "other", 1) // unrelated
	waiting, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Begin(waiting, "conv", 2); err == nil {
		t.Fatal("took a turn that was held")
	}
	if n, _ := rawClient(t, url).ZCard(ctx(t), prefix+"{conv}:q").Result(); n != 0 {
		t.Fatalf("%d updates left in the queue after giving up", n)
	}
	if saved, err := holder.Commit(ctx(t), []byte("1"), time.Minute); err != nil || !saved {
		t.Fatalf("Commit = %v, %v", saved, err)
	}
	if err := begin(t, s, "conv", 3).End(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

// failEnds makes the client's next end-of-turn script fail before it is
// sent, as when Redis cannot be reached.
type failEnds struct{ n atomic.Int32 }

func (f *failEnds) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (f *failEnds) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}
func (f *failEnds) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		// The end script has 3 keys and 7 arguments.
		if strings.HasPrefix(cmd.Name(), "eval") && len(cmd.Args()) == 13 && f.n.Add(-1) >= 0 {
			err := errors.New("injected: Redis unreachable")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

// A turn that could not end (Redis failed, e.g. a primary died and its
// replica took over) does not keep the conversation's next update waiting
// until the turn limit: its lock is released once Redis answers again. A
// retry of the same update, which may take the lock back at once, keeps it.
func TestALockLeftByAFailedEndIsReleased(t *testing.T) {
	_, url, prefix := redistest.NewWithPrefix(t)
	client := rawClient(t, url)
	fail := &failEnds{}
	client.AddHook(fail)
	s := redis.New(client, prefix)
	s.SetTurnLimits(5*time.Second, 5*time.Second)

	fail.n.Store(1)
	if _, err := begin(t, s, "conv", 1).Commit(ctx(t), []byte("1"), time.Minute); err == nil {
		t.Fatal("the injected failure did not fail Commit")
	}
	started := time.Now()
	turn := begin(t, s, "conv", 2)
	if waited := time.Since(started); waited > time.Second {
		t.Errorf("the next update waited %v for a lock its turn could not free", waited)
	}
	if err := turn.End(ctx(t)); err != nil {
		t.Fatal(err)
	}

	// The retry of an update whose end failed holds its lock, released or not.
	fail.n.Store(1)
	if err := begin(t, s, "conv", 3).End(ctx(t)); err == nil {
		t.Fatal("the injected failure did not fail End")
	}
	retry := begin(t, s, "conv", 3)
	time.Sleep(300 * time.Millisecond) // time for the failed attempt's release
	waiting, cancel := context.WithTimeout(ctx(t), 200*time.Millisecond)
	defer cancel()
	if _, err := s.Begin(waiting, "conv", 4); err == nil {
		t.Fatal("another update took the turn that the retry holds")
	}
	if saved, err := retry.Commit(ctx(t), []byte("3"), time.Minute); err != nil || !saved {
		t.Fatalf("the retry's Commit = %v, %v", saved, err)
	}
}
