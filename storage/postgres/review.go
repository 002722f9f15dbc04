package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
)

// reviewColumns are an idea as staff see it (scanReviewItem), from
// suggestions s joined with its forum f.
const reviewColumns = `s.reference, f.name, s.title, s.description, s.works_well, s.improve, s.scope, s.category,
	s.place_text, s.photo_file_id, s.latitude, s.longitude, s.flagged, s.created_at, s.language, s.wants_to_help,
	s.status, s.staff_answer, coalesce(s.hidden_reason, ''), coalesce(s.duplicate_of, '')`

func scanReviewItem(r pgx.CollectableRow) (flows.ReviewItem, error) {
	var i flows.ReviewItem
	err := r.Scan(&i.Ref, &i.Forum, &i.Title, &i.Description, &i.WorksWell, &i.Improve, &i.Scope, &i.Category,
		&i.PlaceText, &i.PhotoID, &i.Lat, &i.Lon, &i.Flagged, &i.SentAt, &i.Language, &i.WantsToHelp,
		&i.Status, &i.Answer, &i.HiddenReason, &i.DuplicateOf)
	return i, err
}

// NextForReview is the idea staff should look at next: not yet reviewed,
// not hidden, possibly offensive ones first, then the oldest. skip are
// references passed over in this round.
func (s *Store) NextForReview(ctx context.Context, skip []string) (flows.ReviewItem, bool, error) {
	if skip == nil {
		skip = []string{}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+reviewColumns+`
		FROM suggestions s JOIN forums f ON f.id = s.forum_id
		WHERE NOT s.reviewed AND s.hidden_reason IS NULL AND NOT (s.reference = ANY($1))
		ORDER BY s.flagged DESC, s.id
		LIMIT 1`, skip)
	if err != nil {
		return flows.ReviewItem{}, false, fmt.Errorf("postgres: next for review: %w", err)
	}
	item, err := pgx.CollectExactlyOneRow(rows, scanReviewItem)
	if errors.Is(err, pgx.ErrNoRows) {
		return flows.ReviewItem{}, false, nil
	}
	if err != nil {
		return flows.ReviewItem{}, false, fmt.Errorf("postgres: next for review: %w", err)
	}
	return item, true, nil
}

// Review stores what staff decided about an idea: accepted for
// consideration (status under_review), given a status (with the answer
// to its author, if any), a duplicate of another idea, hidden for a
// reason, or published again. A status reaches the author as with `napad
// status set` (setStatus). Each is audited; the idea then counts as
// reviewed, but for one published again, which goes back to be reviewed
// if it never was. known is false, with a nil error, when the idea or the
// original it repeats does not exist.
func (s *Store) Review(ctx context.Context, d flows.ReviewDecision, actor string) (known bool, err error) {
	err = s.review(ctx, d, actor)
	if errors.Is(err, ErrIdeaNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) review(ctx context.Context, d flows.ReviewDecision, actor string) error {
	// One transaction: a status, its audit row and the student's
	// notification are never kept without duplicate_of and reviewed.
	return s.inTx(ctx, func(tx pgx.Tx) error { return review(ctx, tx, d, actor) })
}

func review(ctx context.Context, tx pgx.Tx, d flows.ReviewDecision, actor string) error {
	ref := NormalizeReference(d.Ref)
	switch {
	case d.Decision == flows.DecisionAccept:
		if _, _, err := setStatus(ctx, tx, ref, flows.StatusUnderReview, d.Answer, actor); err != nil {
			return fmt.Errorf("postgres: review: %w", err)
		}
	case d.Decision == flows.DecisionStatus:
		if !slices.Contains(flows.DecisionStatuses, d.Status) {
			return fmt.Errorf("postgres: review: status %q cannot be decided", d.Status)
		}
		if _, _, err := setStatus(ctx, tx, ref, d.Status, d.Answer, actor); err != nil {
			return fmt.Errorf("postgres: review: %w", err)
		}
	case d.Decision == flows.DecisionUnhide:
		if _, _, err := changeIdea(ctx, tx, ActionUnhide, ref, actor, nil, `hidden_reason = NULL`); err != nil {
			return fmt.Errorf("postgres: review: %w", err)
		}
		return nil
	case d.Decision == flows.DecisionDuplicate:
		of := NormalizeReference(d.DuplicateOf)
		if of == ref {
			return fmt.Errorf("postgres: review: an idea cannot repeat itself: %w", ErrIdeaNotFound)
		}
		// FOR SHARE: the original cannot go (erasure) before this commits.
		var exists bool
		err := tx.QueryRow(ctx, `SELECT true FROM suggestions WHERE reference = $1 FOR SHARE`, of).Scan(&exists)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: review: original %s: %w", of, ErrIdeaNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: review: original %s: %w", of, err)
		}
		if _, _, err := decide(ctx, tx, ref, decision{status: flows.StatusDuplicate, answer: d.Answer}, actor); err != nil {
			return fmt.Errorf("postgres: review: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE suggestions SET duplicate_of = $2 WHERE reference = $1`, ref, of); err != nil {
			return fmt.Errorf("postgres: review: duplicate of: %w", err)
		}
	case strings.HasPrefix(d.Decision, flows.HidePrefix):
		if err := hide(ctx, tx, ref, strings.TrimPrefix(d.Decision, flows.HidePrefix), actor); err != nil {
			return fmt.Errorf("postgres: review: %w", err)
		}
	default:
		return fmt.Errorf("postgres: review: unknown decision %q", d.Decision)
	}
	if _, err := tx.Exec(ctx, `UPDATE suggestions SET reviewed = true WHERE reference = $1`, ref); err != nil {
		return fmt.Errorf("postgres: review: mark reviewed: %w", err)
	}
	return nil
}
