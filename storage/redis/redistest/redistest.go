// Package redistest gives tests a redis.Store on a real Redis, isolated by a
// random key prefix and cleaned up afterwards.
//
// It deliberately fails (never skips) when Redis is unreachable: a skipped
// storage test looks green in CI while testing nothing.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/healthycities/napad/storage/redis"
)

// EnvURL names the environment variable that overrides DefaultURL.
const EnvURL = "TEST_REDIS_URL"

// DefaultURL is used when TEST_REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// startHint is printed when Redis is unreachable, so the fix is one copy-paste.
const startHint = `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log`

// URL returns the Redis URL tests use: $TEST_REDIS_URL or DefaultURL.
func URL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// New returns a Store on the test Redis with a unique key prefix. All keys
// under that prefix are deleted and the store is closed when the test ends.
func New(t testing.TB) *redis.Store {
	t.Helper()
	s, _, _ := NewWithPrefix(t)
	return s
}

// NewWithPrefix is New that also returns the URL and key prefix, so a test
// can start other components (e.g. the whole program) against the same
// isolated keyspace. Keys those components create under prefix are cleaned
// up too.
func NewWithPrefix(t testing.TB) (store *redis.Store, redisURL, prefix string) {
	t.Helper()
	return NewAt(t, URL())
}

// NewAt is NewWithPrefix on the Redis at redisURL, e.g. a Cluster's URL.
func NewAt(t testing.TB, redisURL string) (store *redis.Store, _, prefix string) {
	t.Helper()
	prefix = NewPrefix(t)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store, err := redis.Open(ctx, redisURL, prefix)
	if err != nil {
		t.Fatalf("redistest: cannot use Redis at %s (set %s to override): %v\nStart a local Redis with:\n  %s",
			redact(redisURL), EnvURL, err, startHint)
	}
	t.Cleanup(func() {
		// Clean with a separate client: the test may already have closed
		// the store, and keys may have been written by other components.
		Cleanup(t, redisURL, prefix)
		_ = store.Close() // may already be closed by the test
	})
	return store, redisURL, prefix
}

// Put stores data as the conversation key's state, in a turn of its own,
// and fails the test if it could not. It is how tests set up a conversation
// (the turn's update id is 0, before any real one).
func Put(t testing.TB, s *redis.Store, key string, data []byte, ttl time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	turn, err := s.Begin(ctx, key, 0)
	if err != nil {
		t.Fatalf("redistest: put %q: %v", key, err)
	}
	if saved, err := turn.Commit(ctx, data, ttl); err != nil || !saved {
		t.Fatalf("redistest: put %q: saved=%v, %v", key, saved, err)
	}
}

// NewPrefix returns a fresh, unique key prefix like "napadtest:<hex>:"
// without opening anything or registering cleanup. It contains no glob
// metacharacters, so it is safe in SCAN MATCH.
func NewPrefix(t testing.TB) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("redistest: random prefix: %v", err)
	}
	return "napadtest:" + hex.EncodeToString(b[:]) + ":"
}

// Cleanup deletes every key starting with prefix. It is registered by
// NewWithPrefix; call it directly only for prefixes from NewPrefix.
func Cleanup(t testing.TB, redisURL, prefix string) {
	t.Helper()
	if prefix == "" {
		// Never wipe a whole database by accident.
		t.Errorf("redistest: refusing to clean up an empty prefix")
		return
	}
	client, err := redis.NewClient(redisURL)
	if err != nil {
		t.Errorf("redistest: cleanup: %v", err)
		return
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := redis.ForEachPrimary(ctx, client, func(ctx context.Context, node *goredis.Client) error {
		return unlinkPrefixed(ctx, node, prefix)
	}); err != nil {
		t.Errorf("redistest: cleanup %s: %v", prefix, err)
	}
}

func unlinkPrefixed(ctx context.Context, node *goredis.Client, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, prefix+"*", 500).Result()
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		// One key per UNLINK: on a cluster node, one command's keys must
		// share a hash slot.
		if _, err := node.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range keys {
				p.Unlink(ctx, k)
			}
			return nil
		}); err != nil {
			return fmt.Errorf("unlink: %w", err)
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// redact hides a password in the URL before it goes into test output.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}
