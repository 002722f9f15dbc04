package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/healthycities/napad/flows"
	"github.com/jackc/pgx/v5"
)

// Why a forum cannot follow the forum asked for.
var (
	ErrPreviousNotFound  = errors.New("no forum has that join code")
	ErrPreviousSelf      = errors.New("a forum cannot follow itself")
	ErrPreviousOtherTown = errors.New("last year's forum is in another town")
	ErrPreviousCycle     = errors.New("that forum follows this one already")
)

// forumLinksLock is the advisory lock that changes of forum links take, so
// two changes made at once (A follows B, B follows A) cannot make a cycle
// that neither of them saw. Links change rarely; one lock for all is enough.
const forumLinksLock = 0x6e61706164_01 // "napad", 1

// SetPreviousForum makes the forum with the join code follow last year's
// forum, previousCode ("" unlinks it). Last year's forum must be another
// forum of the same town (compared without case and outer spaces), and must
// not follow this one, directly or through others. Audited.
func (s *Store) SetPreviousForum(ctx context.Context, code, previousCode, actor string) error {
	if !validJoinCode(code) {
		return fmt.Errorf("postgres: set previous forum: %w", ErrForumNotFound)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(forumLinksLock)); err != nil {
			return err
		}
		var id int64
		var town string
		err := tx.QueryRow(ctx, `SELECT id, town FROM forums WHERE join_code = $1 FOR UPDATE`, code).Scan(&id, &town)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrForumNotFound
		}
		if err != nil {
			return err
		}
		var previous *int64
		if previousCode != "" {
			if previous, err = checkPrevious(ctx, tx, id, town, previousCode); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE forums SET previous_forum_id = $2 WHERE id = $1`, id, previous); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "forum.previous", code, map[string]any{"previous": previousCode})
	})
	if err != nil {
		return fmt.Errorf("postgres: set previous forum: %w", err)
	}
	return nil
}

// rowQueryer is a pool or a transaction.
type rowQueryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// checkPrevious finds the forum previousCode and checks that forum id of
// town (0: a forum not created yet) may follow it.
func checkPrevious(ctx context.Context, q rowQueryer, id int64, town, previousCode string) (*int64, error) {
	if !validJoinCode(previousCode) {
		return nil, fmt.Errorf("%q: %w", previousCode, ErrPreviousNotFound)
	}
	var previous int64
	var previousTown string
	err := q.QueryRow(ctx, `SELECT id, town FROM forums WHERE join_code = $1`, previousCode).Scan(&previous, &previousTown)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("%q: %w", previousCode, ErrPreviousNotFound)
	case err != nil:
		return nil, err
	case previous == id:
		return nil, ErrPreviousSelf
	case !strings.EqualFold(strings.TrimSpace(town), strings.TrimSpace(previousTown)):
		return nil, fmt.Errorf("%q, %q: %w", town, previousTown, ErrPreviousOtherTown)
	}
	// Walk back from last year's forum: meeting this one would close a cycle.
	// UNION (not UNION ALL) ends the walk even on a cycle made around the store.
	var cycle bool
	err = q.QueryRow(ctx, `
		WITH RECURSIVE back(id) AS (
			SELECT previous_forum_id FROM forums WHERE id = $1
			UNION
			SELECT f.previous_forum_id FROM forums f JOIN back b ON f.id = b.id
		)
		SELECT EXISTS (SELECT 1 FROM back WHERE id = $2)`, previous, id).Scan(&cycle)
	if err != nil {
		return nil, err
	}
	if cycle {
		return nil, ErrPreviousCycle
	}
	return &previous, nil
}

// AnswerShortlistItem records the public answer of the school or town to an
// item of the forum's shortlist: its status (one of flows.ItemStatuses)
// and, if answer is not empty, the staff's words in lang (replacing any
// answer in lang; an empty answer keeps the ones written, so a change of
// status alone cannot wipe them). Allowed in any phase: the answer is not
// part of the ballot. Audited.
func (s *Store) AnswerShortlistItem(ctx context.Context, forumID, itemID int64, status, lang, answer, actor string) error {
	answer = strings.TrimSpace(answer)
	if err := oneOf("status", status, flows.ItemStatuses); err != nil {
		return fmt.Errorf("postgres: answer shortlist item: %w", err)
	}
	if n := utf8.RuneCountInString(answer); n > flows.MaxItemAnswer {
		return fmt.Errorf("postgres: answer shortlist item: the answer has %d characters, at most %d allowed", n, flows.MaxItemAnswer)
	}
	if answer != "" {
		if err := oneOf("language", lang, flows.Languages); err != nil {
			return fmt.Errorf("postgres: answer shortlist item: %w", err)
		}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		doc, err := json.Marshal(answer)
		if err != nil {
			return err
		}
		var code string
		err = tx.QueryRow(ctx, `
			UPDATE shortlist_items i SET answer_status = $3, answered_at = now(),
				answers = CASE WHEN $5 = '' THEN answers ELSE jsonb_set(answers, ARRAY[$4::text], $6) END
			FROM forums f
			WHERE i.id = $1 AND i.forum_id = $2 AND f.id = i.forum_id
			RETURNING f.join_code`, itemID, forumID, status, lang, answer, doc).Scan(&code)
		if errors.Is(err, pgx.ErrNoRows) {
			return refused(flows.ShortlistUnknown, "")
		}
		if err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "shortlist.answer", code, map[string]any{"item": itemID, "status": status, "language": lang, "answer": answer})
	})
	if err != nil {
		return fmt.Errorf("postgres: answer shortlist item: %w", err)
	}
	return nil
}
