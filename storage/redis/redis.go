// Package redis keeps the live conversation state of the bot in Redis, and
// the outbox of ideas waiting for PostgreSQL.
//
// Each conversation is one opaque, versioned blob stored as a hash with the
// fields "v" (version, decimal) and "d" (data). An update reads and writes it
// only in its turn (turn.go), and a turn saves only if the version is still
// the one it read, so two updates of the same conversation cannot silently
// overwrite each other. Versions are compared as strings, not Lua numbers,
// which are doubles and would lose precision above 2^53; Go always writes
// them with strconv.FormatInt, so the textual form is canonical.
//
// The package never interprets, and never logs, the blob contents.
package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Store keeps conversations and the outbox in Redis. It is safe for
// concurrent use.
type Store struct {
	client goredis.UniversalClient
	prefix string

	instance               string // this replica, in turn tokens
	turnLimit, orderedWait time.Duration
	outboxLease            time.Duration
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
	// Preload the scripts so even the first turn is a single EVALSHA each
	// instead of a NOSCRIPT miss followed by EVAL. Run still falls back to
	// EVAL if the cache is lost later (e.g. Redis restarted).
	for _, script := range []*goredis.Script{beginScript, endScript} {
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
	return &Store{client: client, prefix: keyPrefix, instance: newInstanceID(), turnLimit: DefaultTurnLimit, orderedWait: DefaultOrderedWait, outboxLease: DefaultOutboxLease}
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
