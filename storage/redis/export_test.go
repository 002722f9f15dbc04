package redis

import "time"

// SetTurnLimits changes DefaultTurnLimit and DefaultOrderedWait, for tests
// that play a replica dying while it holds a turn.
func (s *Store) SetTurnLimits(turnLimit, orderedWait time.Duration) {
	s.turnLimit, s.orderedWait = turnLimit, orderedWait
}

// SetOutboxLease changes DefaultOutboxLease, for tests of a lease running out.
func (s *Store) SetOutboxLease(d time.Duration) { s.outboxLease = d }

// LookForLegacyOutbox makes the next round of ClaimOutbox look for entries
// that a replica of an older version queued, without waiting a minute.
func (s *Store) LookForLegacyOutbox() { s.legacyOutboxNext.Store(0) }
