package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
)

// StaffIdea is the idea with reference ref as staff look it up (/idea):
// its card, and its latest changes from the audit log (at most
// flows.MaxIdeaHistory, oldest first), with how many earlier ones there
// are. Who made a change is a shortened pseudonym, or "" for the command
// line. found is false when there is no such idea.
func (s *Store) StaffIdea(ctx context.Context, ref string) (view flows.IdeaView, found bool, err error) {
	ref = NormalizeReference(ref)
	rows, err := s.pool.Query(ctx, `
		SELECT `+reviewColumns+`
		FROM suggestions s JOIN forums f ON f.id = s.forum_id
		WHERE s.reference = $1`, ref)
	if err != nil {
		return flows.IdeaView{}, false, fmt.Errorf("postgres: staff idea %s: %w", ref, err)
	}
	view.Item, err = pgx.CollectExactlyOneRow(rows, scanReviewItem)
	if errors.Is(err, pgx.ErrNoRows) {
		return flows.IdeaView{}, false, nil
	}
	if err != nil {
		return flows.IdeaView{}, false, fmt.Errorf("postgres: staff idea %s: %w", ref, err)
	}
	if view.History, view.Earlier, err = s.ideaHistory(ctx, ref, view.Item.SentAt); err != nil {
		return flows.IdeaView{}, false, fmt.Errorf("postgres: staff idea %s: %w", ref, err)
	}
	return view, true, nil
}

// ideaHistory reads the changes of the idea ref from the audit log: only
// those since it was stored (a deleted idea's reference can be given
// again; a minute's leeway for a change whose transaction began as it was
// being stored), and of a status only those that changed something.
func (s *Store) ideaHistory(ctx context.Context, ref string, stored time.Time) ([]flows.IdeaChange, int, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT at, actor, action, coalesce(before, '{}'), coalesce(after, '{}'), count(*) OVER ()
		FROM audit_log
		WHERE target = $1 AND at >= $2::timestamptz - interval '1 minute' AND (action IN ($3, $4) OR action = $5 AND (
			before->>'status' IS DISTINCT FROM after->>'status' OR before->>'staff_answer' IS DISTINCT FROM after->>'staff_answer'))
		ORDER BY id DESC
		LIMIT $6`, ref, stored, ActionHide, ActionUnhide, ActionSetStatus, flows.MaxIdeaHistory)
	if err != nil {
		return nil, 0, fmt.Errorf("history: %w", err)
	}
	var total int
	changes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (flows.IdeaChange, error) {
		var ch flows.IdeaChange
		var actor, action string
		var beforeJSON, afterJSON []byte
		if err := r.Scan(&ch.At, &actor, &action, &beforeJSON, &afterJSON, &total); err != nil {
			return ch, err
		}
		var before, after StatusChange
		if err := json.Unmarshal(beforeJSON, &before); err != nil {
			return ch, fmt.Errorf("audit row of %s: %w", ref, err)
		}
		if err := json.Unmarshal(afterJSON, &after); err != nil {
			return ch, fmt.Errorf("audit row of %s: %w", ref, err)
		}
		if actor != CLIActor {
			ch.By = actor[:min(PseudonymLen, len(actor))]
		}
		switch {
		case action == ActionHide:
			ch.Kind, ch.Reason = flows.ChangeHide, after.HiddenReason
		case action == ActionUnhide:
			ch.Kind = flows.ChangeUnhide
		case before.Status != after.Status:
			ch.Kind, ch.Status = flows.ChangeStatus, after.Status
			ch.Answered = after.StaffAnswer != before.StaffAnswer && after.StaffAnswer != ""
		default:
			ch.Kind = flows.ChangeAnswer
		}
		return ch, nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("history: %w", err)
	}
	slices.Reverse(changes) // read newest first, to keep the latest

	return changes, total - len(changes), nil
}
