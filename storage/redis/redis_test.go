package redis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// rawClient gives tests direct access to Redis to check what Store wrote.
func rawClient(t testing.TB, url string) goredis.UniversalClient {
	t.Helper()
	c, err := redis.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// keys are the keys under prefix, on every node of a cluster.
func keys(t testing.TB, url, prefix string) []string {
	t.Helper()
	var (
		mu  sync.Mutex
		all []string
	)
	err := redis.ForEachPrimary(ctx(t), rawClient(t, url), func(c context.Context, node *goredis.Client) error {
		ks, err := node.Keys(c, prefix+"*").Result()
		mu.Lock()
		all = append(all, ks...)
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	return all
}

// peekID numbers the turns peek takes, above any update id a test uses.
var peekID atomic.Int64

// peek returns the conversation's state and version, read in a turn that
// changes nothing.
func peek(t *testing.T, s *redis.Store, key string) ([]byte, int64) {
	t.Helper()
	turn := begin(t, s, key, 1<<40+peekID.Add(1))
	if err := turn.End(ctx(t)); err != nil {
		t.Fatalf("End: %v", err)
	}
	return turn.Data, turn.Version
}

// put stores data as the conversation's state with a TTL of a minute.
func put(t *testing.T, s *redis.Store, key string, data []byte) {
	t.Helper()
	redistest.Put(t, s, key, data, time.Minute)
}

// Any bytes go through the scripts and back unchanged.
func TestRoundTripBinary(t *testing.T) {
	s := redistest.New(t)
	blobs := map[string][]byte{
		"zero":    {0, 0, 0},
		"invalid": {0xff, 0xfe, 0x00, 0xc3, 0x28, 'a', 0x00},
		"utf8":    []byte("Nápad ✓ 日本"),
		"crlf":    []byte("a\r\nb\r\n$3\r\n"),
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	blobs["allbytes"] = all

	for name, blob := range blobs {
		put(t, s, name, blob)
		got, v := peek(t, s, name)
		if v != 1 {
			t.Errorf("%s: version = %d, want 1", name, v)
		}
		if !bytes.Equal(got, blob) {
			t.Errorf("%s: state = %x, want %x", name, got, blob)
		}
	}
}

// TestConcurrentReadModifyWrite is the bot's pattern: many updates of one
// conversation at once, each reading the state and writing it back in its
// turn. No increment may be lost.
func TestConcurrentReadModifyWrite(t *testing.T) {
	s := redistest.New(t)
	const workers, perWorker = 8, 25
	var (
		wg     sync.WaitGroup
		update atomic.Int64
	)
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			c := context.Background()
			for range perWorker {
				turn, err := s.Begin(c, "counter", update.Add(1))
				if err != nil {
					errs <- err
					return
				}
				n := 0
				if turn.Data != nil {
					if n, err = strconv.Atoi(string(turn.Data)); err != nil {
						errs <- err
						return
					}
				}
				if saved, err := turn.Commit(c, []byte(fmt.Sprint(n+1)), time.Minute); err != nil || !saved {
					errs <- fmt.Errorf("Commit = %v, %v", saved, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	data, v := peek(t, s, "counter")
	if want := workers * perWorker; string(data) != fmt.Sprint(want) || v != int64(want) {
		t.Fatalf("counter = %q at version %d; want %d at version %d", data, v, want, want)
	}
}

func TestTTLSetAndRenewed(t *testing.T) {
	s, url, prefix := redistest.NewWithPrefix(t)
	raw := rawClient(t, url)
	pttl := func() time.Duration {
		t.Helper()
		d, err := raw.PTTL(ctx(t), prefix+"{conv}").Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	commit := func(updateID int64, data string, ttl time.Duration) {
		t.Helper()
		if saved, err := begin(t, s, "conv", updateID).Commit(ctx(t), []byte(data), ttl); err != nil || !saved {
			t.Fatalf("Commit: %v, %v", saved, err)
		}
	}

	commit(1, "a", 10*time.Second)
	if d := pttl(); d <= 9*time.Second || d > 10*time.Second {
		t.Fatalf("PTTL after first commit = %v, want (9s, 10s]", d)
	}

	// Renewed (extended) on the next commit.
	commit(2, "b", time.Hour)
	if d := pttl(); d <= 59*time.Minute || d > time.Hour {
		t.Fatalf("PTTL after second commit = %v, want (59m, 1h]", d)
	}

	// Set, not just extended: a shorter TTL wins too.
	commit(3, "c", 5*time.Second)
	if d := pttl(); d <= 4*time.Second || d > 5*time.Second {
		t.Fatalf("PTTL after third commit = %v, want (4s, 5s]", d)
	}

	// A rejected commit (of a turn that ran out while another saved) must
	// not touch the TTL.
	s.SetTurnLimits(100*time.Millisecond, 50*time.Millisecond)
	stale := begin(t, s, "conv", 4)
	commit(5, "d", 5*time.Second)
	if saved, err := stale.Commit(ctx(t), []byte("x"), time.Hour); err != nil || saved {
		t.Fatalf("stale Commit: %v, %v", saved, err)
	}
	if d := pttl(); d > 5*time.Second {
		t.Fatalf("PTTL after rejected commit = %v, want <= 5s", d)
	}
}

func TestExpiry(t *testing.T) {
	s := redistest.New(t)
	redistest.Put(t, s, "short", []byte("a"), 50*time.Millisecond)
	deadline := time.Now().Add(3 * time.Second)
	for {
		data, v := peek(t, s, "short")
		if data == nil && v == 0 {
			return // expired; a fresh conversation starts at version 0
		}
		if time.Now().After(deadline) {
			t.Fatalf("key did not expire; still at version %d", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSubMillisecondTTL(t *testing.T) {
	// Must not become PEXPIRE 0, which would delete the key on commit.
	s, url, prefix := redistest.NewWithPrefix(t)
	redistest.Put(t, s, "k", []byte("a"), time.Microsecond)
	// The key may already have expired by now; what matters is it got a TTL.
	d, err := rawClient(t, url).PTTL(ctx(t), prefix+"{k}").Result()
	if err != nil {
		t.Fatal(err)
	}
	if d == -1 {
		t.Fatal("key has no TTL")
	}
}

func TestInvalidArguments(t *testing.T) {
	s := redistest.New(t)
	for i, ttl := range []time.Duration{0, -time.Second} {
		turn := begin(t, s, "k", int64(i+1))
		if saved, err := turn.Commit(ctx(t), []byte("a"), ttl); err == nil || saved {
			t.Errorf("Commit(ttl=%v) = %v, %v; want error", ttl, saved, err)
		}
		if err := turn.End(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Begin(ctx(t), "", 1); err == nil {
		t.Error("Begin(empty key): want error")
	}
	// Nothing was written by the rejected calls.
	if data, v := peek(t, s, "k"); data != nil || v != 0 {
		t.Errorf("state after rejected commits = %q, %d; want nothing", data, v)
	}
}

func TestPrefixIsolation(t *testing.T) {
	a, url, prefixA := redistest.NewWithPrefix(t)
	b, _, prefixB := redistest.NewWithPrefix(t)
	if prefixA == prefixB {
		t.Fatalf("prefixes collide: %q", prefixA)
	}

	put(t, a, "conv", []byte("from a"))
	if data, v := peek(t, b, "conv"); data != nil || v != 0 {
		t.Fatalf("b sees a's key: %q, %d", data, v)
	}
	put(t, b, "conv", []byte("from b"))
	if data, _ := peek(t, a, "conv"); string(data) != "from a" {
		t.Fatalf("a's data = %q after b wrote", data)
	}
	if err := begin(t, b, "conv", 2).Forget(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if data, _ := peek(t, a, "conv"); string(data) != "from a" {
		t.Fatalf("b's Forget removed a's key: %q", data)
	}

	// The prefix really is prepended to the Redis key, and the layout is the
	// documented hash {v, d}.
	got, err := rawClient(t, url).HGetAll(ctx(t), prefixA+"{conv}").Result()
	if err != nil {
		t.Fatal(err)
	}
	if got["v"] != "1" || got["d"] != "from a" || len(got) != 2 {
		t.Fatalf("raw hash at %q = %v", prefixA+"{conv}", got)
	}
}

// commandCounter counts commands sent, to pin down round trips.
type commandCounter struct {
	mu   sync.Mutex
	cmds []string
}

func (c *commandCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *commandCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.mu.Lock()
		c.cmds = append(c.cmds, "pipeline")
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}
func (c *commandCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.mu.Lock()
		c.cmds = append(c.cmds, cmd.Name())
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (c *commandCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.cmds
	c.cmds = nil
	return out
}

func TestScriptCacheFlushed(t *testing.T) {
	// After a Redis restart the script cache is empty; turns must recover
	// via EVAL rather than fail.
	s, url, _ := redistest.NewWithPrefix(t)
	if err := rawClient(t, url).ScriptFlush(ctx(t)).Err(); err != nil {
		t.Fatal(err)
	}
	put(t, s, "conv", []byte("a"))
	if saved, err := begin(t, s, "conv", 1).Commit(ctx(t), []byte("b"), time.Minute); err != nil || !saved {
		t.Fatalf("Commit after the flush = %v, %v", saved, err)
	}
	if data, v := peek(t, s, "conv"); string(data) != "b" || v != 2 {
		t.Fatalf("state = %q version %d, want b at 2", data, v)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := redis.Open(ctx(t), "not-a-url", "p:"); err == nil {
		t.Error("Open(bad URL): want error")
	}
	// The password must not leak into the error message.
	addr := closedAddr(t)
	c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := redis.Open(c, "redis://:s3cret@"+addr+"/0?dial_timeout=200ms&max_retries=-1", "p:")
	if err == nil {
		t.Fatal("Open(closed port): want error")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks password: %v", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the address %s", err, addr)
	}
}

func TestOpenAndPing(t *testing.T) {
	prefix := redistest.NewPrefix(t)
	t.Cleanup(func() { redistest.Cleanup(t, redistest.URL(), prefix) })
	s, err := redis.Open(ctx(t), redistest.URL(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
	put(t, s, "k", []byte("x"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx(t)); err == nil {
		t.Error("Ping after Close: want error")
	}
}

// closedAddr returns a localhost address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestUnreachable(t *testing.T) {
	s := redis.New(goredis.NewClient(&goredis.Options{
		Addr:        closedAddr(t),
		DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 200 * time.Millisecond,
		MaxRetries:  -1, // fail on the first error; 0 would mean the default 3
		// Dial attempts per command (default 5, 100ms apart).
		DialerRetries: 1,
	}), "p:")
	t.Cleanup(func() { _ = s.Close() })

	check := func(op string, err error, start time.Time) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: want error", op)
		}
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("%s took %v, want fast failure", op, elapsed)
		}
		if !strings.HasPrefix(err.Error(), "redis: "+op) {
			t.Errorf("%s error not wrapped with context: %v", op, err)
		}
		var opErr *net.OpError
		if !errors.As(err, &opErr) {
			t.Errorf("%s error does not wrap the network error: %v", op, err)
		}
	}

	start := time.Now()
	turn, err := s.Begin(context.Background(), "k", 1)
	check("begin turn", err, start)
	if turn != nil {
		t.Errorf("Begin returned a turn alongside an error")
	}
	start = time.Now()
	check("ping", s.Ping(context.Background()), start)
}

func TestContextCanceled(t *testing.T) {
	s := redistest.New(t)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Begin(c, "k", 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Begin with canceled ctx: err = %v, want context.Canceled", err)
	}
	turn := begin(t, s, "k", 2)
	if _, err := turn.Commit(c, []byte("a"), time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit with canceled ctx: err = %v, want context.Canceled", err)
	}
}

// BenchmarkTurn is one update's Redis work on a ~600-byte state: take the
// turn (reading the state), commit (writing it).
func BenchmarkTurn(b *testing.B) {
	s := redistest.New(b)
	c := context.Background()
	blob := bytes.Repeat([]byte("0123456789abcdef"), 600/16) // ~600 bytes
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	update := int64(0)
	for b.Loop() {
		update++
		turn, err := s.Begin(c, "bench", update)
		if err != nil {
			b.Fatal(err)
		}
		if saved, err := turn.Commit(c, blob, time.Minute); err != nil || !saved {
			b.Fatalf("Commit: %v, %v", saved, err)
		}
	}
}

// BenchmarkTurnParallel is many conversations at once, one key each.
func BenchmarkTurnParallel(b *testing.B) {
	s := redistest.New(b)
	c := context.Background()
	blob := bytes.Repeat([]byte("0123456789abcdef"), 600/16)
	var id atomic.Int64
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		key := fmt.Sprintf("bench:%d", id.Add(1))
		update := int64(0)
		for pb.Next() {
			update++
			turn, err := s.Begin(c, key, update)
			if err != nil {
				b.Error(err)
				return
			}
			if saved, err := turn.Commit(c, blob, time.Minute); err != nil || !saved {
				b.Errorf("Commit: %v, %v", saved, err)
				return
			}
		}
	})
}
