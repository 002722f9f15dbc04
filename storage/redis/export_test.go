package redis

import "time"

// SetTurnLimits changes DefaultTurnLimit and DefaultOrderedWait, for tests
// that play a replica dying while it holds a turn.
func (s *Store) SetTurnLimits(turnLimit, orderedWait time.Duration) {
	s.turnLimit, s.orderedWait = turnLimit, orderedWait
}
