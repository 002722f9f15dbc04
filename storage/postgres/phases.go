package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/jackc/pgx/v5"
)

// ActorSchedule is the audit log's actor of the moves made at a forum's dates.
const ActorSchedule = "schedule"

// MovePhase moves the forum with the given join code from phase from to
// phase to, if flows.PhaseMove allows it, and records it in the audit log
// in the same transaction. The update is conditional on the forum still
// being in from, so of two moves asked for at once (two taps, two replicas,
// the schedule) exactly one happens; the other gets ErrPhaseChanged, or nil
// if it asked for the very same move (it happened: asking again is no error
// and audits nothing). backwardsConfirmed must be set for results → voting.
func (s *Store) MovePhase(ctx context.Context, code, from, to, actor string, backwardsConfirmed bool) (moved bool, err error) {
	allowed, backwards := flows.PhaseMove(from, to)
	switch {
	case !allowed:
		return false, fmt.Errorf("postgres: move phase %s → %s: %w", from, to, flows.ErrPhaseMove)
	case backwards && !backwardsConfirmed:
		return false, fmt.Errorf("postgres: move phase %s → %s: %w", from, to, flows.ErrNeedsConfirmation)
	case actor == "":
		return false, errors.New("postgres: move phase: actor is required")
	case !validJoinCode(code):
		return false, fmt.Errorf("postgres: move phase: %w", ErrForumNotFound)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// Votes hold the forum FOR SHARE, so none lands after voting has closed.
		id, now, err := lockForum(ctx, tx, code)
		if err != nil {
			return err
		}
		switch {
		case now == to:
			return nil // done already, by an earlier delivery of the same request
		case now != from:
			return fmt.Errorf("%w: it is %s", flows.ErrPhaseChanged, now)
		}
		if to == flows.PhaseVoting {
			var items int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM shortlist_items WHERE forum_id = $1`, id).Scan(&items); err != nil {
				return err
			}
			if items == 0 {
				return flows.ErrShortlistEmpty
			}
		}
		moved = true
		return movePhaseTx(ctx, tx, flows.PhaseMoved{ForumID: id, Code: code, From: from, To: to}, actor)
	})
	if err != nil {
		return false, fmt.Errorf("postgres: move phase %s → %s: %w", from, to, err)
	}
	return moved, nil
}

// lockForum locks the forum with the join code for a change, and says
// where it is.
func lockForum(ctx context.Context, tx pgx.Tx, code string) (id int64, phase string, err error) {
	err = tx.QueryRow(ctx, `SELECT id, phase FROM forums WHERE join_code = $1 FOR UPDATE`, code).Scan(&id, &phase)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", ErrForumNotFound
	}
	return id, phase, err
}

// movePhaseTx updates the forum's phase if it is still m.From, and audits it.
func movePhaseTx(ctx context.Context, tx pgx.Tx, m flows.PhaseMoved, actor string) error {
	set := `phase = $2, reopens_to = NULL`
	if m.To == flows.PhaseClosed {
		set = `phase = $2, reopens_to = phase`
	}
	tag, err := tx.Exec(ctx, `UPDATE forums SET `+set+` WHERE id = $1 AND phase = $3`, m.ForumID, m.To, m.From)
	if err != nil {
		return fmt.Errorf("update phase: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return flows.ErrPhaseChanged
	}
	before, _ := json.Marshal(map[string]string{"phase": m.From})
	after, _ := json.Marshal(map[string]string{"phase": m.To})
	var moveID int64
	if err := tx.QueryRow(ctx, `INSERT INTO audit_log (actor, action, target, before, after) VALUES ($1, 'forums.phase', $2, $3, $4) RETURNING id`,
		actor, m.Code, before, after).Scan(&moveID); err != nil {
		return fmt.Errorf("audit phase move: %w", err)
	}
	// Everyone is told when voting opens and when the results are in,
	// however the forum got there (card, CLI, date): the broadcast is made
	// with the move, keyed by it, so a move back and forth tells them again.
	if kind := flows.PhaseBroadcast(m.To); kind != "" {
		key := fmt.Sprintf("phase:%d:%d", m.ForumID, moveID)
		if _, _, _, err := createBroadcastTx(ctx, tx, flows.Broadcast{ForumID: m.ForumID, Kind: kind, CreatedBy: actor, Key: key}); err != nil {
			return fmt.Errorf("announce phase %s: %w", m.To, err)
		}
	}
	return nil
}

// dueMoves are the moves a forum makes by itself, with when each is due:
// collecting ends at the closing date, voting opens (on a shortlist that
// is not empty) and closes at its dates.
var dueMoves = []struct{ from, to, due string }{
	{flows.PhaseCollecting, flows.PhaseShortlisting, `closes_at <= $1`},
	{flows.PhaseShortlisting, flows.PhaseVoting, `vote_opens_at <= $1 AND EXISTS (SELECT 1 FROM shortlist_items i WHERE i.forum_id = forums.id)`},
	{flows.PhaseVoting, flows.PhaseResults, `vote_closes_at <= $1`},
}

// AdvanceDuePhases moves every forum whose date has come one phase on, and
// returns the moves it made. Several replicas may call it at once: each
// move is a conditional update (WHERE phase = the old one), so it is made,
// audited and returned by one caller only.
func (s *Store) AdvanceDuePhases(ctx context.Context, now time.Time) ([]flows.PhaseMoved, error) {
	var moves []flows.PhaseMoved
	for _, d := range dueMoves {
		rows, err := s.pool.Query(ctx, `SELECT id, join_code FROM forums WHERE phase = $2 AND `+d.due+` ORDER BY id`, now, d.from)
		if err != nil {
			return moves, fmt.Errorf("postgres: advance due phases: %w", err)
		}
		due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (flows.PhaseMoved, error) {
			m := flows.PhaseMoved{From: d.from, To: d.to}
			return m, r.Scan(&m.ForumID, &m.Code)
		})
		if err != nil {
			return moves, fmt.Errorf("postgres: advance due phases: %w", err)
		}
		for _, m := range due {
			err := s.inTx(ctx, func(tx pgx.Tx) error { return movePhaseTx(ctx, tx, m, ActorSchedule) })
			if errors.Is(err, flows.ErrPhaseChanged) {
				continue // another replica, or a person, moved it first
			}
			if err != nil {
				return moves, fmt.Errorf("postgres: advance forum %d to %s: %w", m.ForumID, m.To, err)
			}
			moves = append(moves, m)
		}
	}
	return moves, nil
}

// ForumSettings are the settings of a forum's shortlist and vote; nil
// fields stay as they are, a zero time removes a date.
type ForumSettings struct {
	VoteOpensAt, VoteClosesAt *time.Time
	ShortlistSize             *int
	VotesPerParticipant       *int
}

// SetForumSettings changes a forum's shortlist and vote settings, audited.
// The number of votes, and the shortlist size, are fixed once voting has
// begun (a participant's votes would no longer fit); dates may change until
// results.
func (s *Store) SetForumSettings(ctx context.Context, code string, set ForumSettings, actor string) error {
	if n := set.ShortlistSize; n != nil && (*n < 1 || *n > flows.MaxShortlistSize) {
		return fmt.Errorf("postgres: forum settings: shortlist size must be 1 to %d", flows.MaxShortlistSize)
	}
	if n := set.VotesPerParticipant; n != nil && (*n < 1 || *n > flows.MaxVotesPerParticipant) {
		return fmt.Errorf("postgres: forum settings: votes per participant must be 1 to %d", flows.MaxVotesPerParticipant)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		id, phase, err := lockForum(ctx, tx, code)
		if err != nil {
			return err
		}
		if (set.ShortlistSize != nil || set.VotesPerParticipant != nil) && !flows.ShortlistEditable(phase) {
			return fmt.Errorf("the shortlist size and votes cannot change in the %s phase", phase)
		}
		if set.ShortlistSize != nil {
			var items int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM shortlist_items WHERE forum_id = $1`, id).Scan(&items); err != nil {
				return err
			}
			if items > *set.ShortlistSize {
				return fmt.Errorf("the shortlist has %d items already, more than %d", items, *set.ShortlistSize)
			}
		}
		opens, closes := optionalTime(set.VoteOpensAt), optionalTime(set.VoteClosesAt)
		if _, err := tx.Exec(ctx, `
			UPDATE forums SET
				vote_opens_at = CASE WHEN $2 THEN $3 ELSE vote_opens_at END,
				vote_closes_at = CASE WHEN $4 THEN $5 ELSE vote_closes_at END,
				shortlist_size = COALESCE($6, shortlist_size),
				votes_per_participant = COALESCE($7, votes_per_participant)
			WHERE id = $1`,
			id, set.VoteOpensAt != nil, opens, set.VoteClosesAt != nil, closes, set.ShortlistSize, set.VotesPerParticipant); err != nil {
			if isConstraintError(err, "23514", "forums_vote_dates_check") {
				return flows.ErrVoteDaysOrder
			}
			return err
		}
		return auditTx(ctx, tx, actor, "forums.settings", code, set)
	})
	if err != nil {
		return fmt.Errorf("postgres: forum settings: %w", err)
	}
	return nil
}

// SetVoteDays changes when voting opens and closes (nil: as it is; a zero
// time: no date), as SetForumSettings does: for the forum card.
func (s *Store) SetVoteDays(ctx context.Context, code string, opensAt, closesAt *time.Time, actor string) error {
	return s.SetForumSettings(ctx, code, ForumSettings{VoteOpensAt: opensAt, VoteClosesAt: closesAt}, actor)
}

// optionalTime is a date to set: NULL for a zero time.
func optionalTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return zeroAsNull(*t)
}
