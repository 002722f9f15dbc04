package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// A student's wrong join codes are counted under PREFIX{KEY}:joins, next to
// their conversation (the same hash tag, so one cluster slot), for a window
// that starts with the first wrong code. The count holds nothing but a
// number, runs out by itself and is not deleted with the conversation: a
// guesser must not start afresh by deleting their data.

// countScript adds one to the count and, for the first one, starts the
// window. A count that somehow lost its time limit (PTTL -1) gets one, so it
// cannot block a student for ever. Returns the count.
// KEYS[1] = the count. ARGV[1] = the window in ms.
var countScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

// joinsKey is where key's wrong join codes are counted.
func (s *Store) joinsKey(key string) (string, error) {
	k, err := s.fullKey(key)
	if err != nil {
		return "", err
	}
	return k + ":joins", nil
}

// WrongJoinCodes is how many wrong join codes the participant typed in their
// current window (0: none, or the window is over).
func (s *Store) WrongJoinCodes(ctx context.Context, participantID string) (int, error) {
	key, err := s.joinsKey(participantID)
	if err != nil {
		return 0, fmt.Errorf("redis: wrong join codes: %w", err)
	}
	n, err := s.client.Get(ctx, key).Int()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redis: wrong join codes: %w", err)
	}
	return n, nil
}

// CountWrongJoinCode counts one more wrong join code of the participant and
// returns their count; the first starts a window of the given length, after
// which the count starts again.
func (s *Store) CountWrongJoinCode(ctx context.Context, participantID string, window time.Duration) (int, error) {
	if window <= 0 {
		return 0, errors.New("redis: count wrong join code: window must be positive")
	}
	key, err := s.joinsKey(participantID)
	if err != nil {
		return 0, fmt.Errorf("redis: count wrong join code: %w", err)
	}
	n, err := countScript.Run(ctx, s.client, []string{key}, max(window.Milliseconds(), 1)).Int()
	if err != nil {
		return 0, fmt.Errorf("redis: count wrong join code: %w", err)
	}
	return n, nil
}
