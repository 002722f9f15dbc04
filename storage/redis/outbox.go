package redis

import (
	"context"
	"fmt"
)

// The outbox keeps finished ideas that could not be stored in PostgreSQL
// (it was unreachable) until they are. Redis has AOF persistence in
// production, so an idea written here survives a restart of either.
const outboxKey = "outbox"

// PutOutbox keeps an idea under its draft id; writing the same id again
// replaces it, so a retried Submit queues one entry.
func (s *Store) PutOutbox(ctx context.Context, id string, data []byte) error {
	if err := s.client.HSet(ctx, s.prefix+outboxKey, id, data).Err(); err != nil {
		return fmt.Errorf("redis: put outbox %q: %w", id, err)
	}
	return nil
}

// Outbox returns up to limit queued ideas by draft id.
func (s *Store) Outbox(ctx context.Context, limit int) (map[string][]byte, error) {
	keys, _, err := s.client.HScan(ctx, s.prefix+outboxKey, 0, "", int64(limit)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: read outbox: %w", err)
	}
	out := make(map[string][]byte, len(keys)/2)
	for i := 0; i+1 < len(keys); i += 2 {
		out[keys[i]] = []byte(keys[i+1])
	}
	return out, nil
}

// DeleteOutbox removes an idea once PostgreSQL has it.
func (s *Store) DeleteOutbox(ctx context.Context, id string) error {
	if err := s.client.HDel(ctx, s.prefix+outboxKey, id).Err(); err != nil {
		return fmt.Errorf("redis: delete outbox %q: %w", id, err)
	}
	return nil
}

// OutboxLen is how many ideas wait for PostgreSQL.
func (s *Store) OutboxLen(ctx context.Context) (int64, error) {
	n, err := s.client.HLen(ctx, s.prefix+outboxKey).Result()
	if err != nil {
		return 0, fmt.Errorf("redis: outbox length: %w", err)
	}
	return n, nil
}
