// Package redis keeps the live conversation state of the bot in Redis.
//
// Each conversation is one opaque, versioned blob stored as a hash with the
// fields "v" (version, decimal) and "d" (data). Writers use optimistic
// concurrency: Save only succeeds if the caller saw the current version, so
// two updates of the same conversation handled concurrently cannot silently
// overwrite each other. Load and Save each cost exactly one round trip.
//
// The package never interprets, and never logs, the blob contents.
package redis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

const (
	fieldVersion = "v"
	fieldData    = "d"
)

// saveScript is a compare-and-set on the version field. It runs atomically
// in Redis, which is what makes Save a single round trip without WATCH/MULTI.
//
// Versions are compared as strings, not Lua numbers, because Lua numbers are
// doubles and would lose precision above 2^53. Go always writes them with
// strconv.FormatInt, so the textual form is canonical. A missing key (or a
// hash without "v") counts as version "0".
//
// KEYS[1] = key, ARGV[1] = expected version, ARGV[2] = new version,
// ARGV[3] = data, ARGV[4] = ttl in milliseconds.
// Returns 1 if saved, 0 on version mismatch.
var saveScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'v')
if not cur then cur = '0' end
if cur ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'd', ARGV[3], 'v', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// Store is a versioned blob store backed by Redis. It is safe for concurrent
// use.
type Store struct {
	client goredis.UniversalClient
	prefix string

	instance               string // this replica, in turn tokens
	turnLimit, orderedWait time.Duration
}

// Open connects to the Redis at redisURL (redis:// or rediss://), checks the
// connection with PING and returns a Store whose keys all start with
// keyPrefix (e.g. "napad:").
func Open(ctx context.Context, redisURL, keyPrefix string) (*Store, error) {
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		// Don't echo the URL: it may contain a password.
		return nil, fmt.Errorf("redis: parse URL: %w", err)
	}
	client := goredis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis: ping %s db %d: %w", opts.Addr, opts.DB, err)
	}
	// Preload the script so even the first Save is a single EVALSHA instead
	// of a NOSCRIPT miss followed by EVAL. Run still falls back to EVAL if
	// the cache is lost later (e.g. Redis restarted).
	for _, script := range []*goredis.Script{saveScript, beginScript, endScript} {
		if err := script.Load(ctx, client).Err(); err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("redis: load scripts on %s: %w", opts.Addr, err)
		}
	}
	return New(client, keyPrefix), nil
}

// New wraps an existing client. The Store takes ownership: Close closes the
// client.
func New(client goredis.UniversalClient, keyPrefix string) *Store {
	return &Store{client: client, prefix: keyPrefix, instance: newInstanceID(), turnLimit: DefaultTurnLimit, orderedWait: DefaultOrderedWait}
}

// Close closes the underlying client.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redis: close: %w", err)
	}
	return nil
}

// Ping checks that Redis is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

func (s *Store) fullKey(key string) (string, error) {
	// An empty key would address the bare prefix, which is almost certainly
	// a caller bug that would make unrelated conversations share state.
	if key == "" {
		return "", errors.New("empty key")
	}
	return s.prefix + key, nil
}

// Load returns the blob stored under key and its version. A missing (or
// expired) key is not an error: it yields nil data and version 0, which is
// the expectedVersion to pass to Save to create it.
func (s *Store) Load(ctx context.Context, key string) (data []byte, version int64, err error) {
	k, err := s.fullKey(key)
	if err != nil {
		return nil, 0, fmt.Errorf("redis: load: %w", err)
	}
	vals, err := s.client.HMGet(ctx, k, fieldVersion, fieldData).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("redis: load %q: %w", key, err)
	}
	if len(vals) != 2 {
		return nil, 0, fmt.Errorf("redis: load %q: HMGET returned %d values, want 2", key, len(vals))
	}
	if vals[0] == nil {
		return nil, 0, nil
	}
	vs, ok := vals[0].(string)
	if !ok {
		return nil, 0, fmt.Errorf("redis: load %q: unexpected version type %T", key, vals[0])
	}
	version, err = strconv.ParseInt(vs, 10, 64)
	if err != nil || version < 1 {
		return nil, 0, fmt.Errorf("redis: load %q: corrupt version field", key)
	}
	// Save writes both fields atomically, so a version without data means
	// the key was written by something other than this package.
	ds, ok := vals[1].(string)
	if !ok {
		return nil, 0, fmt.Errorf("redis: load %q: data field missing or of type %T", key, vals[1])
	}
	return []byte(ds), version, nil
}

// Save stores data under key if the current version is expectedVersion (0
// for a key that does not exist), bumps the version to expectedVersion+1 and
// sets the key's TTL to ttl, so idle conversations expire ttl after their
// last save.
//
// saved is false, with a nil error, when the version did not match: someone
// else saved first and the caller should reload and retry (or give up).
func (s *Store) Save(ctx context.Context, key string, expectedVersion int64, data []byte, ttl time.Duration) (saved bool, err error) {
	k, err := s.fullKey(key)
	if err != nil {
		return false, fmt.Errorf("redis: save: %w", err)
	}
	if ttl <= 0 {
		return false, fmt.Errorf("redis: save %q: ttl must be positive, got %v", key, ttl)
	}
	if expectedVersion < 0 || expectedVersion == math.MaxInt64 {
		return false, fmt.Errorf("redis: save %q: invalid expected version %d", key, expectedVersion)
	}
	// PEXPIRE 0 would delete the key, so round sub-millisecond TTLs up.
	ms := ttl.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	res, err := saveScript.Run(ctx, s.client, []string{k},
		strconv.FormatInt(expectedVersion, 10),
		strconv.FormatInt(expectedVersion+1, 10),
		data,
		ms,
	).Int64()
	if err != nil {
		return false, fmt.Errorf("redis: save %q: %w", key, err)
	}
	return res == 1, nil
}

// Delete removes key. Deleting a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.fullKey(key)
	if err != nil {
		return fmt.Errorf("redis: delete: %w", err)
	}
	if err := s.client.Del(ctx, k).Err(); err != nil {
		return fmt.Errorf("redis: delete %q: %w", key, err)
	}
	return nil
}
