package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// The outbox keeps finished ideas that could not be stored in PostgreSQL
// (it was unreachable) until they are. Redis has AOF persistence in
// production, so an idea written here survives a restart of either.
//
// Every replica drains the same outbox, so an entry is leased before it is
// stored: the keys, all under the store's prefix and all with the hash tag
// {outbox} (one cluster hash slot, as the scripts need), are
//   - {outbox}, a hash of the ideas by id (as before leases);
//   - {outbox}:order, a sorted set of the ids by the time they were queued,
//     oldest first (entries queued before it existed count as oldest);
//   - {outbox}:lease, a hash of id → "token:expiry in ms" (Redis' clock);
//   - {outbox}:tries, a hash of id → how often storing it failed while
//     PostgreSQL was up;
//   - {outbox}:dead, a hash of the ideas moved aside (unreadable, or failing
//     too often) for a person to look at.
const (
	outboxKey      = "{outbox}"
	outboxOrderKey = "{outbox}:order"
	outboxLeaseKey = "{outbox}:lease"
	outboxTriesKey = "{outbox}:tries"
	outboxDeadKey  = "{outbox}:dead"
)

// DefaultOutboxLease is how long a replica holds an outbox entry it is
// storing. It must be longer than one attempt at storing it (8 s), so that
// an entry whose lease ran out is no longer being stored by its holder.
const DefaultOutboxLease = 20 * time.Second

func (s *Store) outboxKeys(names ...string) []string {
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = s.prefix + n
	}
	return keys
}

// nowMs in Lua: Redis' own clock, the same for every replica.
const luaNow = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function live(l)
  if not l then return false end
  local exp = tonumber(string.match(l, ':(%d+)$'))
  return exp ~= nil and exp > now
end
local function mine(l, token)
  return l ~= false and l ~= nil and string.sub(l, 1, #token + 1) == token .. ':'
end
`

// putScript keeps an idea and, the first time, its place in the order.
// KEYS = outbox, order. ARGV[1] = id, ARGV[2] = data.
var putScript = goredis.NewScript(luaNow + `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'NX', now, ARGV[1])
return 1
`)

// claimScript leases the oldest entry that nobody holds and that is not in
// ARGV[3...], and returns {id, data}, or {} if there is none.
// KEYS = outbox, order, lease. ARGV[1] = lease in ms, ARGV[2] = token.
var claimScript = goredis.NewScript(luaNow + `
if redis.call('HLEN', KEYS[1]) > redis.call('ZCARD', KEYS[2]) then
  for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do redis.call('ZADD', KEYS[2], 'NX', 0, id) end
end
local skip = {}
for i = 3, #ARGV do skip[ARGV[i]] = true end
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if not skip[id] then
    local data = redis.call('HGET', KEYS[1], id)
    if not data then
      redis.call('ZREM', KEYS[2], id)
    elseif not live(redis.call('HGET', KEYS[3], id)) then
      redis.call('HSET', KEYS[3], id, ARGV[2] .. ':' .. (now + tonumber(ARGV[1])))
      return {id, data}
    end
  end
end
return {}
`)

// doneScript removes a stored entry if the caller still holds its lease,
// and returns 1; 0 if the lease went to another replica or the entry is gone
// (the student deleted their data).
// KEYS = outbox, order, lease, tries. ARGV[1] = id, ARGV[2] = token.
var doneScript = goredis.NewScript(luaNow + `
if not mine(redis.call('HGET', KEYS[3], ARGV[1]), ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])
`)

// failScript ends a failed attempt: with ARGV[3] = "1" the failure counts
// against the entry, and once ARGV[4] failures are counted the entry is moved
// to the dead letters (returning -1); otherwise the lease is given up and the
// failures so far returned.
// KEYS = outbox, order, lease, tries, dead. ARGV[1] = id, ARGV[2] = token.
var failScript = goredis.NewScript(luaNow + `
if not mine(redis.call('HGET', KEYS[3], ARGV[1]), ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
local data = redis.call('HGET', KEYS[1], ARGV[1])
if not data then return 0 end
local n = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')
if ARGV[3] == '1' then n = redis.call('HINCRBY', KEYS[4], ARGV[1], 1) end
if n < tonumber(ARGV[4]) then return n end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[5], ARGV[1], data)
return -1
`)

// deadScript moves a leased entry to the dead letters.
// KEYS = outbox, order, lease, tries, dead. ARGV[1] = id, ARGV[2] = token.
var deadScript = goredis.NewScript(luaNow + `
if not mine(redis.call('HGET', KEYS[3], ARGV[1]), ARGV[2]) then return 0 end
local data = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if not data then return 0 end
redis.call('HSET', KEYS[5], ARGV[1], data)
return 1
`)

// forgetScript removes every entry, live or dead, whose id starts with
// ARGV[1], and returns the ids of those some replica is storing right now.
// KEYS = outbox, order, tries, dead, lease.
var forgetScript = goredis.NewScript(luaNow + `
local held = {}
local p = ARGV[1]
for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(id, 1, #p) == p then
    redis.call('HDEL', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    if live(redis.call('HGET', KEYS[5], id)) then table.insert(held, id) else redis.call('HDEL', KEYS[5], id) end
  end
end
for _, id in ipairs(redis.call('HKEYS', KEYS[4])) do
  if string.sub(id, 1, #p) == p then redis.call('HDEL', KEYS[4], id) end
end
return held
`)

// heldScript says how many of the ids in ARGV are still leased, and forgets
// the leases that ran out. KEYS = lease.
var heldScript = goredis.NewScript(luaNow + `
local n = 0
for _, id in ipairs(ARGV) do
  if live(redis.call('HGET', KEYS[1], id)) then n = n + 1 else redis.call('HDEL', KEYS[1], id) end
end
return n
`)

// PutOutbox keeps an idea under its id; writing the same id again replaces
// it (keeping its place in the order), so a retried Submit queues one entry.
//
// Where the primary has replicas, it then waits, at most outboxReplicaWait,
// until one of them has the entry too (WAIT): the student is told that the
// idea is kept, and replication is asynchronous, so a primary dying right
// after would otherwise take the idea with it. A replica that does not answer
// in time is logged, not an error: the idea is kept on the primary.
func (s *Store) PutOutbox(ctx context.Context, id string, data []byte) error {
	keys := s.outboxKeys(outboxKey, outboxOrderKey)
	node, err := s.primaryFor(ctx, keys[0])
	if err != nil {
		return fmt.Errorf("redis: put outbox %q: %w", id, err)
	}
	// WAIT counts the writes of its own connection.
	conn := node.Conn()
	defer conn.Close()
	if err := putScript.Run(ctx, conn, keys, id, data).Err(); err != nil {
		if c, ok := s.client.(*goredis.ClusterClient); ok {
			reloadIfUnreachable(c, err) // the cluster's own hook does not see this node's errors
		}
		return fmt.Errorf("redis: put outbox %q: %w", id, err)
	}
	if info, err := conn.Info(ctx, "replication").Result(); err != nil || connectedReplicas(info) == 0 {
		return nil // none (or unknown): nothing to wait for
	}
	if n, err := conn.Wait(ctx, 1, outboxReplicaWait).Result(); err != nil || n < 1 {
		warn(ctx, "an outbox entry is not on a replica yet; a failover now would lose it", "draft", id[strings.LastIndexByte(id, ':')+1:], "err", err)
	}
	return nil
}

// connectedReplicas reads connected_slaves in INFO replication.
func connectedReplicas(info string) int {
	_, rest, _ := strings.Cut(info, "connected_slaves:")
	line, _, _ := strings.Cut(rest, "\n")
	n, _ := strconv.Atoi(strings.TrimSpace(line))
	return n
}

// outboxReplicaWait bounds PutOutbox's wait for a replica.
const outboxReplicaWait = 500 * time.Millisecond

// primaryFor is the client of the server that holds key: on a cluster the
// primary of its slot, otherwise the one server (or Sentinel's primary).
func (s *Store) primaryFor(ctx context.Context, key string) (*goredis.Client, error) {
	switch c := s.client.(type) {
	case *goredis.ClusterClient:
		return c.MasterForKey(ctx, key)
	case *goredis.Client:
		return c, nil
	}
	return nil, fmt.Errorf("unexpected client %T", s.client)
}

// ClaimOutbox leases the oldest entry that no replica holds and whose id is
// not in skip (those tried already in this round), and returns it with the
// lease's token; lease is "" when there is none. The lease lasts
// DefaultOutboxLease.
func (s *Store) ClaimOutbox(ctx context.Context, skip []string) (id string, data []byte, lease string, err error) {
	if len(skip) == 0 { // a new round
		if err := s.moveLegacyOutboxNow(ctx); err != nil {
			return "", nil, "", fmt.Errorf("redis: claim outbox entry: %w", err)
		}
	}
	token := newInstanceID()
	args := append([]any{s.outboxLease.Milliseconds(), token}, toAny(skip)...)
	res, err := claimScript.Run(ctx, s.client, s.outboxKeys(outboxKey, outboxOrderKey, outboxLeaseKey), args...).StringSlice()
	if err != nil {
		return "", nil, "", fmt.Errorf("redis: claim outbox entry: %w", err)
	}
	if len(res) != 2 {
		return "", nil, "", nil
	}
	return res[0], []byte(res[1]), token, nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// DoneOutbox removes an entry PostgreSQL has stored. It says whether this
// replica still held it: if not, another replica took it over after the
// lease ran out, or the student deleted their data, and this one must not
// tell the student anything.
func (s *Store) DoneOutbox(ctx context.Context, id, lease string) (bool, error) {
	n, err := doneScript.Run(ctx, s.client, s.outboxKeys(outboxKey, outboxOrderKey, outboxLeaseKey, outboxTriesKey), id, lease).Int()
	if err != nil {
		return false, fmt.Errorf("redis: remove outbox entry: %w", err)
	}
	return n == 1, nil
}

// FailOutbox ends an attempt that could not store the entry; with count,
// the failure counts against it (PostgreSQL was up, so the entry is at
// fault), and the maxTries-th counted failure moves it to the dead letters
// (dead). Otherwise the lease is given up and tries is the failures so far.
func (s *Store) FailOutbox(ctx context.Context, id, lease string, count bool, maxTries int) (tries int, dead bool, err error) {
	c := "0"
	if count {
		c = "1"
	}
	n, err := failScript.Run(ctx, s.client, s.outboxKeys(outboxKey, outboxOrderKey, outboxLeaseKey, outboxTriesKey, outboxDeadKey), id, lease, c, maxTries).Int()
	if err != nil {
		return 0, false, fmt.Errorf("redis: release outbox entry: %w", err)
	}
	if n < 0 {
		return maxTries, true, nil
	}
	return n, false, nil
}

// DeadOutbox moves a leased entry that cannot be stored aside, to the dead
// letters (outbox:dead), where staff can look at it. It says whether it did:
// not if the lease went to another replica, or the entry is gone.
func (s *Store) DeadOutbox(ctx context.Context, id, lease string) (bool, error) {
	n, err := deadScript.Run(ctx, s.client, s.outboxKeys(outboxKey, outboxOrderKey, outboxLeaseKey, outboxTriesKey, outboxDeadKey), id, lease).Int()
	if err != nil {
		return false, fmt.Errorf("redis: move outbox entry to the dead letters: %w", err)
	}
	return n == 1, nil
}

// DeadOutboxLen is how many entries were moved aside.
func (s *Store) DeadOutboxLen(ctx context.Context) (int64, error) {
	n, err := s.client.HLen(ctx, s.prefix+outboxDeadKey).Result()
	if err != nil {
		return 0, fmt.Errorf("redis: dead outbox length: %w", err)
	}
	return n, nil
}

// ForgetOutbox deletes every entry, waiting or dead, whose id starts with
// idPrefix (a participant's entries: ids are "<participant>:<draft>"), and
// then waits until no replica is storing one of them any more (at most the
// lease), so that once it returns nothing of them can reach PostgreSQL.
func (s *Store) ForgetOutbox(ctx context.Context, idPrefix string) error {
	if idPrefix == "" {
		return errors.New("redis: forget outbox entries: empty prefix")
	}
	held, err := forgetScript.Run(ctx, s.client, s.outboxKeys(outboxKey, outboxOrderKey, outboxTriesKey, outboxDeadKey, outboxLeaseKey), idPrefix).StringSlice()
	if err != nil {
		return fmt.Errorf("redis: forget outbox entries: %w", err)
	}
	for len(held) > 0 {
		n, err := heldScript.Run(ctx, s.client, s.outboxKeys(outboxLeaseKey), toAny(held)...).Int()
		if err != nil {
			return fmt.Errorf("redis: forget outbox entries: %w", err)
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis: forget outbox entries: waiting for a replica storing one: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// OutboxOf returns the entries, waiting or dead, whose id starts with
// idPrefix, by id.
func (s *Store) OutboxOf(ctx context.Context, idPrefix string) (map[string][]byte, error) {
	if idPrefix == "" || strings.ContainsAny(idPrefix, `*?[]\`) {
		return nil, fmt.Errorf("redis: outbox entries: bad prefix")
	}
	return s.scanOutbox(ctx, idPrefix+"*")
}

// AllOutbox returns every entry, waiting or dead, by id: to seal the chats
// in them again with a new key.
func (s *Store) AllOutbox(ctx context.Context) (map[string][]byte, error) {
	return s.scanOutbox(ctx, "*")
}

// scanOutbox returns the entries, waiting or dead, whose id matches pattern.
func (s *Store) scanOutbox(ctx context.Context, pattern string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, key := range []string{outboxKey, outboxDeadKey} {
		iter := s.client.HScan(ctx, s.prefix+key, 0, pattern, 100).Iterator()
		for iter.Next(ctx) {
			id := iter.Val()
			if !iter.Next(ctx) {
				break
			}
			out[id] = []byte(iter.Val())
		}
		if err := iter.Err(); err != nil {
			return nil, fmt.Errorf("redis: outbox entries: %w", err)
		}
	}
	return out, nil
}

// OutboxLen is how many ideas wait for PostgreSQL.
func (s *Store) OutboxLen(ctx context.Context) (int64, error) {
	n, err := s.client.HLen(ctx, s.prefix+outboxKey).Result()
	if err != nil {
		return 0, fmt.Errorf("redis: outbox length: %w", err)
	}
	return n, nil
}

// replaceScript replaces an entry, waiting or dead, if it still holds what
// the caller read. KEYS = outbox, dead. ARGV = id, old data, new data.
var replaceScript = goredis.NewScript(`
for _, k in ipairs(KEYS) do
  if redis.call('HGET', k, ARGV[1]) == ARGV[2] then
    redis.call('HSET', k, ARGV[1], ARGV[3])
    return 1
  end
end
return 0
`)

// ReplaceOutbox replaces the data of an entry, waiting or dead, keeping its
// place, lease and tries, if it is still old; it says whether it was. An
// entry stored or deleted meanwhile is not brought back.
func (s *Store) ReplaceOutbox(ctx context.Context, id string, old, data []byte) (bool, error) {
	n, err := replaceScript.Run(ctx, s.client, s.outboxKeys(outboxKey, outboxDeadKey), id, old, data).Int()
	if err != nil {
		return false, fmt.Errorf("redis: replace outbox entry: %w", err)
	}
	return n == 1, nil
}
