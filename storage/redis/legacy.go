package redis

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Versions before hash tags kept a conversation's state under PREFIX<pid>
// and the outbox under PREFIX"outbox", "outbox:order", and so on. Open moves
// what it finds there to today's keys, so that an upgrade loses neither a
// conversation in progress nor an idea waiting for PostgreSQL. Only a single
// server or a Sentinel's primary can hold such keys: those versions could not
// use a cluster. Turn locks and queues are not moved: they run out within
// seconds.
//
// An old replica still running next to a new one keeps using the old keys:
// ClaimOutbox moves what such a replica queued (legacyOutboxEvery), while a
// conversation it saved after the move keeps its place only under the old
// key. The README therefore says to stop old replicas before new ones start.
var legacyOutboxKeys = []string{"outbox", "outbox:order", "outbox:lease", "outbox:tries", "outbox:dead"}

// legacyOutboxEvery is how often ClaimOutbox looks for entries that a
// replica of an older version queued.
const legacyOutboxEvery = time.Minute

// legacyStateKey is a conversation's old state key after the prefix: a
// participant pseudonym (bot.Pseudonym), and nothing else, so that keys of a
// deployment whose prefix merely starts with this one's are left alone.
var legacyStateKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

// moveOutboxScript moves the old outbox's entries, with their order, leases,
// tries and dead letters, into today's keys, and deletes the old keys. An
// entry already in today's outbox stays as it is there. It returns how many
// entries it moved.
// KEYS[1..5] = the old outbox, order, lease, tries, dead; KEYS[6..10] today's.
var moveOutboxScript = goredis.NewScript(`
local n = 0
for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do
  n = n + redis.call('HSETNX', KEYS[6], id, redis.call('HGET', KEYS[1], id))
  redis.call('ZADD', KEYS[7], 'NX', redis.call('ZSCORE', KEYS[2], id) or 0, id)
  for i = 3, 4 do
    local v = redis.call('HGET', KEYS[i], id)
    if v then redis.call('HSETNX', KEYS[i + 5], id, v) end
  end
end
local dead = redis.call('HGETALL', KEYS[5])
for i = 1, #dead, 2 do n = n + redis.call('HSETNX', KEYS[10], dead[i], dead[i + 1]) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return n
`)

// moveLegacyKeys moves the old outbox and every old conversation state that
// has no state under today's key (a newer one wins: it was saved after the
// upgrade).
func (s *Store) moveLegacyKeys(ctx context.Context) error {
	if err := s.moveLegacyOutbox(ctx); err != nil {
		return err
	}
	var cursor uint64
	for {
		keys, next, err := s.client.Scan(ctx, cursor, globEscape(s.prefix)+"*", 1000).Result()
		if err != nil {
			return fmt.Errorf("move conversations of an older version: scan: %w", err)
		}
		_, err = s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range keys {
				if pid := k[len(s.prefix):]; legacyStateKey.MatchString(pid) {
					p.RenameNX(ctx, k, s.prefix+"{"+pid+"}")
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("move conversations of an older version: %w", err)
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

func (s *Store) moveLegacyOutbox(ctx context.Context) error {
	old := make([]string, len(legacyOutboxKeys))
	for i, k := range legacyOutboxKeys {
		old[i] = s.prefix + k
	}
	keys := append(old, s.outboxKeys(outboxKey, outboxOrderKey, outboxLeaseKey, outboxTriesKey, outboxDeadKey)...)
	if err := moveOutboxScript.Run(ctx, s.client, keys).Err(); err != nil {
		return fmt.Errorf("move the outbox of an older version: %w", err)
	}
	s.legacyOutboxNext.Store(time.Now().Add(legacyOutboxEvery).UnixNano())
	return nil
}

// moveLegacyOutboxNow moves what an old replica queued, if legacyOutboxEvery
// passed since the last look.
func (s *Store) moveLegacyOutboxNow(ctx context.Context) error {
	next, now := s.legacyOutboxNext.Load(), time.Now().UnixNano()
	if s.cluster || now < next || !s.legacyOutboxNext.CompareAndSwap(next, now+int64(legacyOutboxEvery)) {
		return nil
	}
	return s.moveLegacyOutbox(ctx)
}

// globEscape quotes the characters SCAN MATCH would read as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
