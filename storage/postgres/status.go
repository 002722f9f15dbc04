package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
)

// ErrIdeaNotFound is returned (wrapped) when an operation names a
// reference of an idea that does not exist.
var ErrIdeaNotFound = errors.New("idea not found")

// CLIActor is the audit actor of changes made from the command line.
const CLIActor = "cli"

// ErrAnswerNeeded is returned (wrapped) when an idea would be not feasible
// or a duplicate without an answer telling its author why.
var ErrAnswerNeeded = errors.New("this status needs an answer for the student")

// checkAnswered is the one rule for answers, for decisions made in the
// chat, on the command line and in a spreadsheet: a student told that
// their idea will not happen, or is another's (flows.StatusNeedsAnswer),
// is told why.
func checkAnswered(status, answer string) error {
	if flows.StatusNeedsAnswer(status) && strings.TrimSpace(answer) == "" {
		return fmt.Errorf("%s: %w", status, ErrAnswerNeeded)
	}
	return nil
}

// Audit actions written by this file.
const (
	ActionSetStatus = "suggestion.set_status"
	ActionHide      = "suggestion.hide"
	ActionUnhide    = "suggestion.unhide"
)

// StatusChange is an idea's staff-facing state just before or just
// after a change. The JSON form is what the audit log keeps; the fields
// without one are for whoever tells the student (who and about what).
type StatusChange struct {
	Reference    string `json:"reference"`
	Status       string `json:"status"`
	StaffAnswer  string `json:"staff_answer"`
	HiddenReason string `json:"hidden_reason"` // "" when visible
	// StatusChangedAt is zero when the status was never changed.
	StatusChangedAt time.Time `json:"-"`
	ParticipantID   string    `json:"-"` // "" once retention detached the idea
	Title           string    `json:"-"`
}

// SetStatus sets what became of the idea with reference ref and, unless
// answer is empty, the answer shown to its author; an empty answer keeps
// the current one, so a bulk status change cannot wipe answers staff wrote.
// Not feasible and duplicate need an answer, given or kept (an error
// wrapping ErrAnswerNeeded). status_changed_at moves only when the status
// really changes. The change and its audit row (actor: a participant id or
// CLIActor) are one transaction. An unknown reference gives an error
// wrapping ErrIdeaNotFound.
func (s *Store) SetStatus(ctx context.Context, ref, status, answer, actor string) (before, after StatusChange, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		before, after, err = setStatus(ctx, tx, ref, status, answer, actor)
		return err
	})
	if err != nil {
		return StatusChange{}, StatusChange{}, fmt.Errorf("postgres: set status: %w", err)
	}
	return before, after, nil
}

// setStatus is SetStatus in the transaction tx.
func setStatus(ctx context.Context, tx pgx.Tx, ref, status, answer, actor string) (before, after StatusChange, err error) {
	return decide(ctx, tx, ref, decision{status: status, answer: answer}, actor)
}

// statusesNeedingAnswer are the statuses flows.StatusNeedsAnswer names.
var statusesNeedingAnswer = func() []string {
	var out []string
	for _, s := range flows.Statuses {
		if flows.StatusNeedsAnswer(s) {
			out = append(out, s)
		}
	}
	return out
}()

// decision is what staff decided about one idea.
type decision struct {
	status, answer string
	// replaceAnswer makes answer the whole answer, so that an empty one
	// clears it: a spreadsheet holds the answer as the student sees it.
	// Otherwise an empty answer keeps the current one.
	replaceAnswer bool
}

// decide records d about the idea with reference ref in the transaction
// tx, audited, and queues the notification of its author.
func decide(ctx context.Context, tx pgx.Tx, ref string, d decision, actor string) (before, after StatusChange, err error) {
	if err := oneOf("status", d.status, flows.Statuses); err != nil {
		return before, after, err
	}
	if n := utf8.RuneCountInString(d.answer); n > flows.MaxStaffAnswer {
		return before, after, fmt.Errorf("the answer has %d characters, at most %d allowed", n, flows.MaxStaffAnswer)
	}
	// The author hears of a real change (status or answer), in the same
	// transaction: a change never goes untold, nor is told but rolled back.
	// An idea retention detached from its author has nobody to tell.
	notify := func(ctx context.Context, tx pgx.Tx, id int64, before, after StatusChange) error {
		if err := checkAnswered(after.Status, after.StaffAnswer); err != nil {
			return err
		}
		if after.ParticipantID == "" || after.Status == flows.StatusNew || (after.Status == before.Status && after.StaffAnswer == before.StaffAnswer) {
			return nil
		}
		return enqueueNotification(ctx, tx, id, after.Status, after.StaffAnswer)
	}
	// An answer that explained why an idea was not feasible or a duplicate
	// no longer holds once the status moves on to one needing no reason:
	// it goes, unless a new answer replaces it, so that "Selected!" never
	// arrives with the reason it once was not.
	return changeIdea(ctx, tx, ActionSetStatus, ref, actor, notify, `
		status = $2,
		staff_answer = CASE WHEN $4 OR $3 <> '' THEN $3
			WHEN status = ANY($5) AND NOT $2 = ANY($5) THEN ''
			ELSE staff_answer END,
		status_changed_at = CASE WHEN status = $2 THEN status_changed_at ELSE now() END`,
		d.status, strings.TrimSpace(d.answer), d.replaceAnswer, statusesNeedingAnswer)
}

// Hide takes the idea with reference ref out of exports, for reason (one of
// flows.HideReasons). Hiding a hidden idea again changes its reason. An unknown
// reference gives an error wrapping ErrIdeaNotFound.
func (s *Store) Hide(ctx context.Context, ref, reason, actor string) error {
	if err := s.inTx(ctx, func(tx pgx.Tx) error { return hide(ctx, tx, ref, reason, actor) }); err != nil {
		return fmt.Errorf("postgres: hide: %w", err)
	}
	return nil
}

// HideAllOf hides every idea of the student whose pseudonym starts with
// pseudonym (at least 8 characters, as exports show it), in one
// transaction, each audited, and returns their references. A pseudonym
// that fits more than one student hides nothing.
func (s *Store) HideAllOf(ctx context.Context, pseudonym, reason, actor string) ([]string, error) {
	if len(pseudonym) < 8 {
		return nil, fmt.Errorf("postgres: hide all of: give at least 8 characters of the pseudonym: %w", ErrIdeaNotFound)
	}
	var refs []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT reference, participant_id FROM suggestions
			WHERE starts_with(participant_id, $1) AND hidden_reason IS NULL ORDER BY id FOR UPDATE`, pseudonym)
		if err != nil {
			return err
		}
		authors := map[string]bool{}
		for rows.Next() {
			var ref, pid string
			if err := rows.Scan(&ref, &pid); err != nil {
				rows.Close()
				return err
			}
			refs, authors[pid] = append(refs, ref), true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		switch {
		case len(authors) > 1:
			return fmt.Errorf("%d students' pseudonyms start with %q: give more of it", len(authors), pseudonym)
		case len(refs) == 0:
			return ErrIdeaNotFound
		}
		for _, ref := range refs {
			if err := hide(ctx, tx, ref, reason, actor); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: hide all of: %w", err)
	}
	return refs, nil
}

// hide is Hide in the transaction tx.
func hide(ctx context.Context, tx pgx.Tx, ref, reason, actor string) error {
	if err := oneOf("reason", reason, flows.HideReasons); err != nil {
		return err
	}
	_, _, err := changeIdea(ctx, tx, ActionHide, ref, actor, nil, `hidden_reason = $2`, reason)
	return err
}

// Unhide makes the idea with reference ref visible again. An unknown
// reference gives an error wrapping ErrIdeaNotFound.
func (s *Store) Unhide(ctx context.Context, ref, actor string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, _, err := changeIdea(ctx, tx, ActionUnhide, ref, actor, nil, `hidden_reason = NULL`)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: unhide: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// statusColumns matches scanStatusChange.
const statusColumns = `reference, status, staff_answer, hidden_reason, status_changed_at, participant_id, title`

// scanStatusChange scans statusColumns followed by the extra destinations.
func scanStatusChange(row pgx.Row, extra ...any) (StatusChange, error) {
	var c StatusChange
	var hidden, participant *string // participant: NULL once retention detached the idea
	var changedAt *time.Time
	dest := append([]any{&c.Reference, &c.Status, &c.StaffAnswer, &hidden, &changedAt, &participant, &c.Title}, extra...)
	err := row.Scan(dest...)
	if participant != nil {
		c.ParticipantID = *participant
	}
	if hidden != nil {
		c.HiddenReason = *hidden
	}
	if changedAt != nil {
		c.StatusChangedAt = *changedAt
	}
	return c, err
}

// changeIdea runs "UPDATE suggestions SET <set>" on the suggestion
// with reference ref ($1 is its id, args follow as $2...) and records the
// change in the audit log, all in one transaction: a change without its
// audit row, or the reverse, must never be committed. then, unless nil,
// runs in the transaction too, after the update. The caller commits tx.
func changeIdea(ctx context.Context, tx pgx.Tx, action, ref, actor string,
	then func(ctx context.Context, tx pgx.Tx, id int64, before, after StatusChange) error,
	set string, args ...any) (before, after StatusChange, err error) {
	ref = NormalizeReference(ref)
	switch {
	case ref == "":
		return before, after, errors.New("reference is required")
	case strings.TrimSpace(actor) == "":
		return before, after, errors.New("actor is required")
	}
	// FOR UPDATE: a concurrent change waits, so "before" in the audit log is
	// really what this change replaced.
	var id int64
	before, err = scanStatusChange(tx.QueryRow(ctx,
		`SELECT `+statusColumns+`, id FROM suggestions WHERE reference = $1 FOR UPDATE`, ref), &id)
	if errors.Is(err, pgx.ErrNoRows) {
		return StatusChange{}, StatusChange{}, fmt.Errorf("%s: %w", ref, ErrIdeaNotFound)
	}
	if err != nil {
		return StatusChange{}, StatusChange{}, fmt.Errorf("read %s: %w", ref, err)
	}

	after, err = scanStatusChange(tx.QueryRow(ctx,
		`UPDATE suggestions SET `+set+` WHERE id = $1 RETURNING `+statusColumns,
		append([]any{id}, args...)...))
	if err != nil {
		return StatusChange{}, StatusChange{}, fmt.Errorf("update %s: %w", ref, err)
	}
	beforeJSON, err := json.Marshal(before)
	if err != nil {
		return StatusChange{}, StatusChange{}, fmt.Errorf("audit %s: %w", ref, err)
	}
	afterJSON, err := json.Marshal(after)
	if err != nil {
		return StatusChange{}, StatusChange{}, fmt.Errorf("audit %s: %w", ref, err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO audit_log (actor, action, target, before, after)
		VALUES ($1, $2, $3, $4, $5)`,
		actor, action, ref, beforeJSON, afterJSON,
	); err != nil {
		return StatusChange{}, StatusChange{}, fmt.Errorf("audit %s: %w", ref, err)
	}
	if then != nil {
		if err := then(ctx, tx, id, before, after); err != nil {
			return StatusChange{}, StatusChange{}, fmt.Errorf("%s: %w", ref, err)
		}
	}
	return before, after, nil
}

// NormalizeReference returns ref as references are stored: trimmed and in
// capitals, since staff retype references read aloud or from a printout.
func NormalizeReference(ref string) string {
	return strings.ToUpper(strings.TrimSpace(ref))
}
