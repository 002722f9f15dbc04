package redis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
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
func rawClient(t testing.TB, url string) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustSave(t *testing.T, s *redis.Store, key string, expected int64, data []byte) {
	t.Helper()
	ok, err := s.Save(ctx(t), key, expected, data, time.Minute)
	if err != nil {
		t.Fatalf("Save(%q, %d): %v", key, expected, err)
	}
	if !ok {
		t.Fatalf("Save(%q, %d): saved=false, want true", key, expected)
	}
}

func TestLoadMissing(t *testing.T) {
	s := redistest.New(t)
	data, v, err := s.Load(ctx(t), "nope")
	if err != nil || data != nil || v != 0 {
		t.Fatalf("Load(missing) = %v, %d, %v; want nil, 0, nil", data, v, err)
	}
}

func TestRoundTripBinary(t *testing.T) {
	s := redistest.New(t)
	blobs := map[string][]byte{
		"zero":    {0, 0, 0},
		"invalid": {0xff, 0xfe, 0x00, 0xc3, 0x28, 'a', 0x00},
		"utf8":    []byte("Nápad ✓ 日本"),
		"empty":   {},
		"crlf":    []byte("a\r\nb\r\n$3\r\n"),
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	blobs["allbytes"] = all

	for name, blob := range blobs {
		mustSave(t, s, name, 0, blob)
		got, v, err := s.Load(ctx(t), name)
		if err != nil {
			t.Fatalf("%s: Load: %v", name, err)
		}
		if v != 1 {
			t.Errorf("%s: version = %d, want 1", name, v)
		}
		if !bytes.Equal(got, blob) {
			t.Errorf("%s: Load = %x, want %x", name, got, blob)
		}
		// Existing-but-empty must be distinguishable from missing.
		if got == nil {
			t.Errorf("%s: Load returned nil data for an existing key", name)
		}
	}
}

func TestSaveNilData(t *testing.T) {
	s := redistest.New(t)
	mustSave(t, s, "k", 0, nil)
	got, v, err := s.Load(ctx(t), "k")
	if err != nil || v != 1 || got == nil || len(got) != 0 {
		t.Fatalf("Load = %q (nil=%v), %d, %v; want empty non-nil, 1, nil", got, got == nil, v, err)
	}
}

func TestVersionIncrements(t *testing.T) {
	s := redistest.New(t)
	for want := int64(1); want <= 5; want++ {
		data := []byte(fmt.Sprintf("state %d", want))
		mustSave(t, s, "conv", want-1, data)
		got, v, err := s.Load(ctx(t), "conv")
		if err != nil {
			t.Fatal(err)
		}
		if v != want || !bytes.Equal(got, data) {
			t.Fatalf("after save %d: Load = %q, %d; want %q, %d", want, got, v, data, want)
		}
	}
}

func TestStaleVersionRejected(t *testing.T) {
	s := redistest.New(t)
	mustSave(t, s, "conv", 0, []byte("one"))
	mustSave(t, s, "conv", 1, []byte("two"))

	for _, stale := range []int64{0, 1, 3, 100} {
		ok, err := s.Save(ctx(t), "conv", stale, []byte("bad"), time.Minute)
		if err != nil {
			t.Fatalf("Save(stale %d): %v", stale, err)
		}
		if ok {
			t.Fatalf("Save(stale %d) = true, want false", stale)
		}
	}
	got, v, err := s.Load(ctx(t), "conv")
	if err != nil || v != 2 || string(got) != "two" {
		t.Fatalf("Load = %q, %d, %v; want \"two\", 2, nil", got, v, err)
	}
}

func TestSaveNonzeroVersionOnMissingKey(t *testing.T) {
	// A caller holding version 3 of a conversation that has since expired
	// must not resurrect it silently.
	s := redistest.New(t)
	ok, err := s.Save(ctx(t), "gone", 3, []byte("x"), time.Minute)
	if err != nil || ok {
		t.Fatalf("Save = %v, %v; want false, nil", ok, err)
	}
	if data, v, _ := s.Load(ctx(t), "gone"); data != nil || v != 0 {
		t.Fatalf("key was created: %q, %d", data, v)
	}
}

func TestConcurrentSaveOneWinner(t *testing.T) {
	s := redistest.New(t)
	mustSave(t, s, "race", 0, []byte("base"))

	const n = 50
	var (
		wins   atomic.Int32
		winner atomic.Int32
		wg     sync.WaitGroup
		start  = make(chan struct{})
		errs   = make(chan error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			ok, err := s.Save(context.Background(), "race", 1, []byte(fmt.Sprintf("writer %d", i)), time.Minute)
			if err != nil {
				errs <- err
				return
			}
			if ok {
				wins.Add(1)
				winner.Store(int32(i))
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Save: %v", err)
	}
	if w := wins.Load(); w != 1 {
		t.Fatalf("%d writers won, want exactly 1", w)
	}
	got, v, err := s.Load(ctx(t), "race")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("writer %d", winner.Load()); v != 2 || string(got) != want {
		t.Fatalf("Load = %q, %d; want %q, 2", got, v, want)
	}
}

// TestConcurrentReadModifyWrite is the intended usage pattern: reload and
// retry on conflict. No increment may be lost.
func TestConcurrentReadModifyWrite(t *testing.T) {
	s := redistest.New(t)
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			c := context.Background()
			for done := 0; done < perWorker; {
				data, v, err := s.Load(c, "counter")
				if err != nil {
					errs <- err
					return
				}
				n := 0
				if data != nil {
					if n, err = strconv.Atoi(string(data)); err != nil {
						errs <- err
						return
					}
				}
				ok, err := s.Save(c, "counter", v, []byte(fmt.Sprint(n+1)), time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					done++
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	data, v, err := s.Load(ctx(t), "counter")
	if err != nil {
		t.Fatal(err)
	}
	if want := workers * perWorker; string(data) != fmt.Sprint(want) || v != int64(want) {
		t.Fatalf("counter = %q at version %d; want %d at version %d", data, v, want, want)
	}
}

func TestTTLSetAndRenewed(t *testing.T) {
	s, url, prefix := redistest.NewWithPrefix(t)
	raw := rawClient(t, url)
	pttl := func() time.Duration {
		t.Helper()
		d, err := raw.PTTL(ctx(t), prefix+"conv").Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	if ok, err := s.Save(ctx(t), "conv", 0, []byte("a"), 10*time.Second); err != nil || !ok {
		t.Fatalf("Save: %v, %v", ok, err)
	}
	if d := pttl(); d <= 9*time.Second || d > 10*time.Second {
		t.Fatalf("PTTL after first save = %v, want (9s, 10s]", d)
	}

	// Renewed (extended) on the next save.
	if ok, err := s.Save(ctx(t), "conv", 1, []byte("b"), time.Hour); err != nil || !ok {
		t.Fatalf("Save: %v, %v", ok, err)
	}
	if d := pttl(); d <= 59*time.Minute || d > time.Hour {
		t.Fatalf("PTTL after second save = %v, want (59m, 1h]", d)
	}

	// Set, not just extended: a shorter TTL wins too.
	if ok, err := s.Save(ctx(t), "conv", 2, []byte("c"), 5*time.Second); err != nil || !ok {
		t.Fatalf("Save: %v, %v", ok, err)
	}
	if d := pttl(); d <= 4*time.Second || d > 5*time.Second {
		t.Fatalf("PTTL after third save = %v, want (4s, 5s]", d)
	}

	// A rejected save must not touch the TTL.
	if ok, err := s.Save(ctx(t), "conv", 0, []byte("x"), time.Hour); err != nil || ok {
		t.Fatalf("stale Save: %v, %v", ok, err)
	}
	if d := pttl(); d > 5*time.Second {
		t.Fatalf("PTTL after rejected save = %v, want <= 5s", d)
	}
}

func TestExpiry(t *testing.T) {
	s := redistest.New(t)
	if ok, err := s.Save(ctx(t), "short", 0, []byte("a"), 50*time.Millisecond); err != nil || !ok {
		t.Fatalf("Save: %v, %v", ok, err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		data, v, err := s.Load(ctx(t), "short")
		if err != nil {
			t.Fatal(err)
		}
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
	// Must not become PEXPIRE 0, which would delete the key on save.
	s, url, prefix := redistest.NewWithPrefix(t)
	if ok, err := s.Save(ctx(t), "k", 0, []byte("a"), time.Microsecond); err != nil || !ok {
		t.Fatalf("Save: %v, %v", ok, err)
	}
	// The key may already have expired by now; what matters is it got a TTL.
	d, err := rawClient(t, url).PTTL(ctx(t), prefix+"k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if d == -1 {
		t.Fatal("key has no TTL")
	}
}

func TestInvalidArguments(t *testing.T) {
	s := redistest.New(t)
	for _, ttl := range []time.Duration{0, -time.Second} {
		ok, err := s.Save(ctx(t), "k", 0, []byte("a"), ttl)
		if err == nil || ok {
			t.Errorf("Save(ttl=%v) = %v, %v; want error", ttl, ok, err)
		}
	}
	if ok, err := s.Save(ctx(t), "k", -1, []byte("a"), time.Minute); err == nil || ok {
		t.Errorf("Save(version=-1) = %v, %v; want error", ok, err)
	}
	if ok, err := s.Save(ctx(t), "", 0, []byte("a"), time.Minute); err == nil || ok {
		t.Errorf("Save(empty key) = %v, %v; want error", ok, err)
	}
	if _, _, err := s.Load(ctx(t), ""); err == nil {
		t.Error("Load(empty key): want error")
	}
	if err := s.Delete(ctx(t), ""); err == nil {
		t.Error("Delete(empty key): want error")
	}
	// Nothing was written by the rejected calls.
	if data, v, err := s.Load(ctx(t), "k"); err != nil || data != nil || v != 0 {
		t.Errorf("Load after rejected saves = %q, %d, %v; want nothing", data, v, err)
	}
}

func TestDelete(t *testing.T) {
	s := redistest.New(t)
	mustSave(t, s, "conv", 0, []byte("a"))
	mustSave(t, s, "other", 0, []byte("b"))
	if err := s.Delete(ctx(t), "conv"); err != nil {
		t.Fatal(err)
	}
	if data, v, err := s.Load(ctx(t), "conv"); err != nil || data != nil || v != 0 {
		t.Fatalf("Load after Delete = %q, %d, %v", data, v, err)
	}
	if data, _, _ := s.Load(ctx(t), "other"); string(data) != "b" {
		t.Fatalf("Delete removed another key: other = %q", data)
	}
	// Deleting again is fine, and the conversation restarts at version 0.
	if err := s.Delete(ctx(t), "conv"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	mustSave(t, s, "conv", 0, []byte("new"))
}

func TestPrefixIsolation(t *testing.T) {
	a, url, prefixA := redistest.NewWithPrefix(t)
	b, _, prefixB := redistest.NewWithPrefix(t)
	if prefixA == prefixB {
		t.Fatalf("prefixes collide: %q", prefixA)
	}

	mustSave(t, a, "conv", 0, []byte("from a"))
	if data, v, err := b.Load(ctx(t), "conv"); err != nil || data != nil || v != 0 {
		t.Fatalf("b sees a's key: %q, %d, %v", data, v, err)
	}
	mustSave(t, b, "conv", 0, []byte("from b"))
	if data, _, _ := a.Load(ctx(t), "conv"); string(data) != "from a" {
		t.Fatalf("a's data = %q after b wrote", data)
	}
	if err := b.Delete(ctx(t), "conv"); err != nil {
		t.Fatal(err)
	}
	if data, _, _ := a.Load(ctx(t), "conv"); string(data) != "from a" {
		t.Fatalf("b's Delete removed a's key: %q", data)
	}

	// The prefix really is prepended to the Redis key, and the layout is the
	// documented hash {v, d}.
	got, err := rawClient(t, url).HGetAll(ctx(t), prefixA+"conv").Result()
	if err != nil {
		t.Fatal(err)
	}
	if got["v"] != "1" || got["d"] != "from a" || len(got) != 2 {
		t.Fatalf("raw hash at %q = %v", prefixA+"conv", got)
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

func TestOneRoundTrip(t *testing.T) {
	_, url, prefix := redistest.NewWithPrefix(t) // loads the script and cleans prefix
	client := rawClient(t, url)
	counter := &commandCounter{}
	client.AddHook(counter)
	s := redis.New(client, prefix)
	// Dialing a connection sends its own handshake (HELLO, CLIENT SETINFO);
	// get that out of the way so only per-operation commands are counted.
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
	counter.take()

	if _, _, err := s.Load(ctx(t), "conv"); err != nil {
		t.Fatal(err)
	}
	if got := counter.take(); len(got) != 1 || got[0] != "hmget" {
		t.Errorf("Load sent %v, want [hmget]", got)
	}
	mustSave(t, s, "conv", 0, []byte("a"))
	if got := counter.take(); len(got) != 1 || got[0] != "evalsha" {
		t.Errorf("Save sent %v, want [evalsha]", got)
	}
}

func TestScriptCacheFlushed(t *testing.T) {
	// After a Redis restart the script cache is empty; Save must recover via
	// EVAL rather than fail.
	s, url, _ := redistest.NewWithPrefix(t)
	if err := rawClient(t, url).ScriptFlush(ctx(t)).Err(); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, "conv", 0, []byte("a"))
	mustSave(t, s, "conv", 1, []byte("b"))
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
	mustSave(t, s, "k", 0, []byte("x"))
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
	data, v, err := s.Load(context.Background(), "k")
	check("load", err, start)
	if data != nil || v != 0 {
		t.Errorf("Load returned %q, %d alongside an error", data, v)
	}

	start = time.Now()
	ok, err := s.Save(context.Background(), "k", 0, []byte("a"), time.Minute)
	check("save", err, start)
	if ok {
		t.Error("Save reported saved=true on error")
	}

	start = time.Now()
	check("delete", s.Delete(context.Background(), "k"), start)
	start = time.Now()
	check("ping", s.Ping(context.Background()), start)
}

func TestContextCanceled(t *testing.T) {
	s := redistest.New(t)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Load(c, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with canceled ctx: err = %v, want context.Canceled", err)
	}
	if _, err := s.Save(c, "k", 0, []byte("a"), time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with canceled ctx: err = %v, want context.Canceled", err)
	}
}

func BenchmarkLoadSave(b *testing.B) {
	s := redistest.New(b)
	c := context.Background()
	blob := bytes.Repeat([]byte("0123456789abcdef"), 600/16) // ~600 bytes
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		_, v, err := s.Load(c, "bench")
		if err != nil {
			b.Fatal(err)
		}
		ok, err := s.Save(c, "bench", v, blob, time.Minute)
		if err != nil || !ok {
			b.Fatalf("Save: %v, %v", ok, err)
		}
	}
}

// BenchmarkLoadSaveParallel is many conversations at once, one key each.
func BenchmarkLoadSaveParallel(b *testing.B) {
	s := redistest.New(b)
	c := context.Background()
	blob := bytes.Repeat([]byte("0123456789abcdef"), 600/16)
	var id atomic.Int64
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		key := fmt.Sprintf("bench:%d", id.Add(1))
		for pb.Next() {
			_, v, err := s.Load(c, key)
			if err != nil {
				b.Error(err)
				return
			}
			ok, err := s.Save(c, key, v, blob, time.Minute)
			if err != nil || !ok {
				b.Errorf("Save: %v, %v", ok, err)
				return
			}
		}
	})
}
