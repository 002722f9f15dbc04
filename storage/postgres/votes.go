package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/jackc/pgx/v5"
)

// Vote gives (vote true) or takes back (false) the participant's vote for an
// item of the forum's shortlist, at now, and returns what became of it with
// the participant's ballot as it is after.
//
// A vote counts once however often it is asked for: the button carries the
// intended action, so a double tap or a redelivered update asks for what is
// already so, and changes nothing. At most one vote per item (the key), at
// most the forum's votes per participant: the participant's row in
// forum_participants is locked while their votes are counted, so two votes
// at once (two replicas) are counted one after the other. The forum row is
// held FOR SHARE, so no vote lands after a move out of voting commits.
// Voting makes the participant a participant of the forum if they were not.
func (s *Store) Vote(ctx context.Context, forumID, itemID int64, participantID, language string, vote bool, now time.Time) (outcome string, ballot flows.Ballot, err error) {
	if participantID == "" {
		return "", ballot, errors.New("postgres: vote: participant id is required")
	}
	if err := oneOf("language", language, flows.Languages); err != nil {
		return "", ballot, fmt.Errorf("postgres: vote: %w", err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+forumColumns+` FROM forums WHERE id = $1 FOR SHARE`, forumID)
		if err != nil {
			return err
		}
		f, err := pgx.CollectExactlyOneRow(rows, scanForum)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrForumNotFound
		}
		if err != nil {
			return err
		}
		if f.PhaseAt(now) != flows.PhaseVoting {
			outcome = flows.VoteClosed
			return nil
		}
		if err := upsertParticipant(ctx, tx, participantID, language); err != nil {
			return err
		}
		if err := insertForumParticipant(ctx, tx, forumID, participantID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM forum_participants WHERE forum_id = $1 AND participant_id = $2 FOR UPDATE`,
			forumID, participantID); err != nil {
			return err
		}
		var ofForum bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM shortlist_items WHERE id = $1 AND forum_id = $2)`, itemID, forumID).Scan(&ofForum); err != nil {
			return err
		}
		if !ofForum {
			outcome = flows.VoteUnknownItem
			return nil
		}
		outcome, err = castVote(ctx, tx, f, itemID, participantID, vote)
		return err
	})
	if err != nil {
		return "", flows.Ballot{}, fmt.Errorf("postgres: vote: %w", err)
	}
	ballot, err = s.Ballot(ctx, forumID, participantID)
	return outcome, ballot, err
}

// castVote changes the vote, with the participant's row locked.
func castVote(ctx context.Context, tx pgx.Tx, f flows.Forum, itemID int64, participantID string, vote bool) (string, error) {
	if !vote {
		_, err := tx.Exec(ctx, `DELETE FROM votes WHERE item_id = $1 AND participant_id = $2`, itemID, participantID)
		return flows.VoteTakenBack, err
	}
	var given int
	var already bool
	if err := tx.QueryRow(ctx, `
		SELECT count(*), COALESCE(bool_or(item_id = $3), false)
		FROM votes WHERE forum_id = $1 AND participant_id = $2`, f.ID, participantID, itemID).Scan(&given, &already); err != nil {
		return "", err
	}
	switch {
	case already:
		return flows.VoteRecorded, nil
	case given >= f.VotesPerParticipant:
		return flows.VoteNoneLeft, nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO votes (forum_id, item_id, participant_id) VALUES ($1, $2, $3)`, f.ID, itemID, participantID)
	return flows.VoteRecorded, err
}

// Ballot is the forum's shortlist with the participant's votes on it.
func (s *Store) Ballot(ctx context.Context, forumID int64, participantID string) (flows.Ballot, error) {
	f, found, err := s.ForumByID(ctx, forumID)
	if err != nil {
		return flows.Ballot{}, fmt.Errorf("postgres: ballot: %w", err)
	}
	if !found {
		return flows.Ballot{}, fmt.Errorf("postgres: ballot: forum %d: %w", forumID, ErrForumNotFound)
	}
	items, err := s.Shortlist(ctx, forumID)
	if err != nil {
		return flows.Ballot{}, fmt.Errorf("postgres: ballot: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT v.item_id FROM votes v JOIN shortlist_items i ON i.id = v.item_id
		WHERE v.forum_id = $1 AND v.participant_id = $2 ORDER BY i.position`, forumID, participantID)
	if err != nil {
		return flows.Ballot{}, fmt.Errorf("postgres: ballot: %w", err)
	}
	mine, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return flows.Ballot{}, fmt.Errorf("postgres: ballot: %w", err)
	}
	return flows.Ballot{Forum: f, Items: items, Mine: mine}, nil
}

// Results are the forum's shortlist items with their votes, ranked.
func (s *Store) Results(ctx context.Context, forumID int64) ([]flows.ItemResult, error) {
	items, err := s.Shortlist(ctx, forumID)
	if err != nil {
		return nil, fmt.Errorf("postgres: results: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT item_id, count(*) FROM votes WHERE forum_id = $1 GROUP BY item_id`, forumID)
	if err != nil {
		return nil, fmt.Errorf("postgres: results: %w", err)
	}
	votes := map[int64]int{}
	var id int64
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { votes[id] = n; return nil }); err != nil {
		return nil, fmt.Errorf("postgres: results: %w", err)
	}
	results := make([]flows.ItemResult, len(items))
	for i, it := range items {
		results[i] = flows.ItemResult{Item: it, Votes: votes[it.ID]}
	}
	return flows.Rank(results), nil
}
