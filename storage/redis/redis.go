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
// Every script touches keys of one hash slot, so that it runs unchanged on a
// Redis Cluster: a conversation's keys share the hash tag {KEY} (PREFIX{KEY},
// PREFIX{KEY}:lock, PREFIX{KEY}:q), the outbox's the tag {outbox}.
//
// The package never interprets, and never logs, the blob contents.
package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Store keeps conversations and the outbox in Redis. It is safe for
// concurrent use.
type Store struct {
	client goredis.UniversalClient
	prefix string

	instance               string        // this replica, in turn tokens
	attempts               atomic.Uint64 // numbers the attempts at a turn
	turnLimit, orderedWait time.Duration
	outboxLease            time.Duration

	cluster          bool         // a Redis Cluster, where no older version's keys can be
	legacyOutboxNext atomic.Int64 // when ClaimOutbox looks for them next (Unix ns)
}

// Open connects to the Redis that redisURL names (url.go: one server, a
// Redis Cluster or a primary behind Sentinel), checks the connection with
// PING, moves what an older version kept under keys without hash tags to
// today's keys (legacy.go), and returns a Store whose keys all start with
// keyPrefix (e.g. "napad:").
func Open(ctx context.Context, redisURL, keyPrefix string) (*Store, error) {
	tgt, err := parseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("redis: URL %w", err)
	}
	if err := CheckPrefix(keyPrefix); err != nil {
		return nil, fmt.Errorf("redis: key prefix %w", err)
	}
	client := tgt.newClient()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis: ping %s: %w", tgt.name, err)
	}
	// Preload the scripts so even the first turn is a single EVALSHA each
	// instead of a NOSCRIPT miss followed by EVAL (on a cluster, on every
	// primary). Run still falls back to EVAL if the cache is lost later
	// (e.g. Redis restarted, or a replica took over).
	for _, script := range []*goredis.Script{beginScript, endScript, countScript} {
		if err := script.Load(ctx, client).Err(); err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("redis: load scripts on %s: %w", tgt.name, err)
		}
	}
	s := New(client, keyPrefix)
	if !s.cluster { // an older version could not use a cluster: nothing to move there
		if err := s.moveLegacyKeys(ctx); err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("redis: on %s: %w", tgt.name, err)
		}
	}
	return s, nil
}

// CheckPrefix says whether keyPrefix can start the Store's keys. Braces
// would change which part of a key Redis Cluster hashes, and so could put
// the keys of one script on different nodes.
func CheckPrefix(keyPrefix string) error {
	if strings.ContainsAny(keyPrefix, "{}") {
		return errors.New("must not contain { or }")
	}
	return nil
}

// New wraps an existing client. The Store takes ownership: Close closes the
// client.
func New(client goredis.UniversalClient, keyPrefix string) *Store {
	_, cluster := client.(*goredis.ClusterClient)
	return &Store{client: client, prefix: keyPrefix, instance: newInstanceID(), turnLimit: DefaultTurnLimit, orderedWait: DefaultOrderedWait, outboxLease: DefaultOutboxLease, cluster: cluster}
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

// fullKey is the state key of a conversation: the conversation's own key
// in braces, a hash tag, so that Redis Cluster keeps it and its turn's keys
// (turn.go) in one hash slot, which every script needs.
func (s *Store) fullKey(key string) (string, error) {
	// An empty key would address the bare prefix, which is almost certainly
	// a caller bug that would make unrelated conversations share state; a
	// brace would end the hash tag early, or make it empty.
	if key == "" || strings.ContainsAny(key, "{}") {
		return "", fmt.Errorf("bad conversation key %q", key)
	}
	return s.prefix + "{" + key + "}", nil
}
