package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Several bot replicas may receive updates of the same conversation at the
// same time (webhook mode behind a load balancer, or Telegram delivering one
// update twice). A conversation therefore has a turn: the update that holds
// it is the only one handling the conversation, and waiting updates get it in
// the order of their update ids, whichever replica they arrived at.
//
// Per conversation key K there are, besides the state hash PREFIX{K} (call
// it S; the braces keep the three in one cluster hash slot):
//   - S:lock, the holder's token, with a time limit so that a replica that
//     died while holding it does not block the student for ever;
//   - S:q, a sorted set of the update ids waiting (score = update id).
//
// Both exist only while updates are in flight: the memory of a conversation
// at rest is its state hash alone. Taking a turn returns the state, and
// ending it saves the state, so a handled update costs two round trips.

// beginScript takes the turn for update ARGV[1] if it is the lowest waiting
// and nobody else holds the lock, and returns {1, version, data}; otherwise
// {0}. The same token may take the lock again: an update retried after Redis
// failed while it held its turn does not wait for its own lock to run out.
// The lock's value is the token and, after "|", this attempt's number, so
// that what is left of a failed attempt is told from its retry's turn
// (releaseScript).
//
// KEYS[1] = state, KEYS[2] = lock, KEYS[3] = queue.
// ARGV[1] = update id, ARGV[2] = token, ARGV[3] = lock time limit in ms,
// ARGV[4] = "1" to drop waiting updates with lower ids (they waited in vain:
// their replica is gone), ARGV[5] = the attempt.
var beginScript = goredis.NewScript(`
local holder = redis.call('GET', KEYS[2])
local mine = holder and string.sub(holder, 1, #ARGV[2] + 1) == ARGV[2] .. '|'
local lock = ARGV[2] .. '|' .. ARGV[5]
if (not holder or mine) and redis.call('EXISTS', KEYS[3]) == 0 then
  -- Nobody holds it and nobody waits: the usual case, without the queue.
  redis.call('SET', KEYS[2], lock, 'PX', ARGV[3])
  local v = redis.call('HMGET', KEYS[1], 'v', 'd')
  return {1, v[1] or '0', v[2] or ''}
end
redis.call('ZADD', KEYS[3], 'NX', ARGV[1], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
if ARGV[4] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[1])
end
if redis.call('ZRANGE', KEYS[3], 0, 0)[1] ~= ARGV[1] then return {0} end
if holder and not mine then return {0} end
redis.call('SET', KEYS[2], lock, 'PX', ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'v', 'd')
return {1, v[1] or '0', v[2] or ''}
`)

// endScript ends a turn: with ARGV[7] = "save" it saves the state if its
// version is still ARGV[1] (returning 1, else 0), with "delete" it deletes
// the state (1), with "end" it changes nothing (1). In every case the update
// leaves the queue and the lock is freed if this turn still holds it.
//
// KEYS as beginScript. ARGV[1] = expected version, ARGV[2] = new version,
// ARGV[3] = data, ARGV[4] = ttl in ms, ARGV[5] = the lock's value (token|attempt),
// ARGV[6] = update id, ARGV[7] = mode.
var endScript = goredis.NewScript(`
local done = 1
if ARGV[7] == 'save' then
  local cur = redis.call('HGET', KEYS[1], 'v') or '0'
  if cur == ARGV[1] then
    redis.call('HSET', KEYS[1], 'd', ARGV[3], 'v', ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
  else
    done = 0
  end
elseif ARGV[7] == 'delete' then
  redis.call('DEL', KEYS[1])
end
redis.call('ZREM', KEYS[3], ARGV[6])
if redis.call('GET', KEYS[2]) == ARGV[5] then redis.call('DEL', KEYS[2]) end
return done
`)

// releaseScript frees the lock of a turn whose begin or end failed, if that
// very attempt still holds it (not a retry of its update, which has the same
// token), and takes the update out of the queue (a retry waiting there puts
// itself back at the same place the next time it looks).
// KEYS[1] = lock, KEYS[2] = queue. ARGV[1] = the lock's value, ARGV[2] = update id.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`)

// Defaults for how long a turn may be held before others may take it (far
// longer than an update takes; should one take longer, Commit's version check
// still keeps two updates from overwriting each other), and how long an update waits for
// lower ids before it stops waiting for those that never take their turn
// (their replica died after queueing).
const (
	DefaultTurnLimit   = 10 * time.Second
	DefaultOrderedWait = 5 * time.Second
	maxPoll            = 20 * time.Millisecond
)

// Turn is an update's exclusive turn on a conversation, with the state as it
// was when the turn began.
type Turn struct {
	Data    []byte
	Version int64
	// Waited: another update (or another delivery of this one) held the
	// conversation when this one came.
	Waited bool

	store            *Store
	key, lock, queue string
	token            string
	lockValue        string // token|attempt
	updateID         string
}

// newInstanceID tells this replica's turns from another's, so that two
// deliveries of the same update to two replicas never share a lock.
func newInstanceID() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("redis: random instance id: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// Begin waits until it is update updateID's turn on the conversation key and
// returns the state. Waiting updates go in order of their ids. The turn must
// be ended with Commit, Forget or End.
func (s *Store) Begin(ctx context.Context, key string, updateID int64) (*Turn, error) {
	k, err := s.fullKey(key)
	if err != nil {
		return nil, fmt.Errorf("redis: begin: %w", err)
	}
	t := &Turn{
		store: s, key: k, lock: k + ":lock", queue: k + ":q",
		updateID: strconv.FormatInt(updateID, 10),
	}
	t.token = s.instance + ":" + t.updateID
	attempt := strconv.FormatUint(s.attempts.Add(1), 36)
	t.lockValue = t.token + "|" + attempt
	keys := []string{t.key, t.lock, t.queue}
	started := time.Now()
	poll := time.Millisecond
	for {
		force := "0"
		if time.Since(started) > s.orderedWait {
			force = "1"
		}
		res, err := beginScript.Run(ctx, s.client, keys, t.updateID, t.token, s.turnLimit.Milliseconds(), force, attempt).Slice()
		if err != nil {
			go t.release(ctx) // the script may have run all the same
			return nil, fmt.Errorf("redis: begin turn on %q: %w", key, err)
		}
		if n, _ := res[0].(int64); n == 1 {
			if len(res) != 3 {
				return nil, fmt.Errorf("redis: begin turn on %q: unexpected reply %v", key, res)
			}
			vs, _ := res[1].(string)
			t.Version, err = strconv.ParseInt(vs, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("redis: begin turn on %q: corrupt version %q", key, vs)
			}
			if d, _ := res[2].(string); d != "" {
				t.Data = []byte(d)
			}
			return t, nil
		}
		t.Waited = true
		select {
		case <-ctx.Done():
			s.leaveQueue(ctx, t)
			return nil, fmt.Errorf("redis: waiting for turn on %q: %w", key, ctx.Err())
		case <-time.After(poll):
		}
		poll = min(2*poll, maxPoll)
	}
}

// leaveQueue takes an update that gives up waiting out of the queue, so that
// later updates do not wait for it in vain (best effort: Redis may be down).
func (s *Store) leaveQueue(ctx context.Context, t *Turn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_ = s.client.ZRem(ctx, t.queue, t.updateID).Err()
}

// release frees what a turn whose begin or end failed may have left: its
// lock, which would otherwise keep every later update of the conversation
// waiting until the turn limit, and its place in the queue. It tries until
// Redis answers (e.g. a replica has taken over from a primary that died), at
// most for the turn limit, after which the lock has run out anyway.
func (t *Turn) release(ctx context.Context) {
	s := t.store
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.turnLimit)
	defer cancel()
	for pause := 50 * time.Millisecond; ; pause = min(2*pause, time.Second) {
		err := releaseScript.Run(ctx, s.client, []string{t.lock, t.queue}, t.lockValue, t.updateID).Err()
		if err == nil || errors.Is(err, goredis.ErrClosed) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}

// State is the conversation's state when the turn began (nil if none).
func (t *Turn) State() []byte { return t.Data }

// WaitedForOthers says whether another update held the conversation first.
func (t *Turn) WaitedForOthers() bool { return t.Waited }

// Commit saves data as the conversation's new state, if nobody saved since
// the turn began (only possible if the turn outlived its time limit), and
// ends the turn. saved is false when the state had changed: begin again.
func (t *Turn) Commit(ctx context.Context, data []byte, ttl time.Duration) (saved bool, err error) {
	if ttl <= 0 {
		return false, errors.New("redis: commit: ttl must be positive")
	}
	if t.Version == math.MaxInt64 {
		return false, errors.New("redis: commit: version overflow")
	}
	return t.end(ctx, "save", data, max(ttl.Milliseconds(), 1))
}

// Forget deletes the conversation's state and ends the turn.
func (t *Turn) Forget(ctx context.Context) error {
	_, err := t.end(ctx, "delete", nil, 0)
	return err
}

// End ends the turn without changing the state.
func (t *Turn) End(ctx context.Context) error {
	_, err := t.end(ctx, "end", nil, 0)
	return err
}

func (t *Turn) end(ctx context.Context, mode string, data []byte, ttlMillis int64) (bool, error) {
	if data == nil {
		data = []byte{}
	}
	n, err := endScript.Run(ctx, t.store.client, []string{t.key, t.lock, t.queue},
		strconv.FormatInt(t.Version, 10), strconv.FormatInt(t.Version+1, 10),
		data, ttlMillis, t.lockValue, t.updateID, mode).Int()
	if err != nil {
		go t.release(ctx)
		return false, fmt.Errorf("redis: %s turn: %w", mode, err)
	}
	return n == 1, nil
}
