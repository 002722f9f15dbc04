package postgres

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
)

// Staff decide in the spreadsheet they exported (the Status and Answer to
// the student columns) and send it back: PlanImport shows what it would
// change, ApplyImport changes exactly that, each change as a decision in
// the chat would (audited, the author told).
//
// The file's answer is the answer the student sees: an answer cleared in
// the file is cleared (unlike `napad status set`, where no --answer keeps
// the answer), except that not feasible and duplicate need one.

// PlanImport is what importing the spreadsheet name (its content data)
// would change: the ideas whose status or answer in the file differs from
// the database, in the file's order. A file that cannot be imported as a
// whole is refused with a *flows.ImportError (wrapped) naming the row: as
// export.ReadDecisions refuses it, a reference no idea has
// (flows.ImportUnknownRef), or a change to not feasible or duplicate
// without an answer (flows.ImportAnswerNeeded).
func (s *Store) PlanImport(ctx context.Context, name string, data []byte) (flows.ImportPlan, error) {
	ds, err := export.ReadDecisions(name, data)
	if err != nil {
		return flows.ImportPlan{}, fmt.Errorf("postgres: plan import: %w", err)
	}
	plan, err := planImport(ctx, s.pool, ds, false)
	if err != nil {
		return flows.ImportPlan{}, fmt.Errorf("postgres: plan import: %w", err)
	}
	return plan, nil
}

// ApplyImport plans the file again and, if the plan's Hash is wantHash
// (what staff saw and confirmed), applies every change in one transaction,
// each through the same path as a decision in the chat: audited with
// actor, the author notified. Otherwise (the database or the file changed
// since) nothing changes: the new plan comes back with applied false, to
// be shown again. Refusals are PlanImport's.
func (s *Store) ApplyImport(ctx context.Context, name string, data []byte, wantHash, actor string) (plan flows.ImportPlan, applied bool, err error) {
	ds, err := export.ReadDecisions(name, data)
	if err != nil {
		return flows.ImportPlan{}, false, fmt.Errorf("postgres: apply import: %w", err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// The ideas stay locked from planning to applying: nothing else
		// changes them in between.
		if plan, err = planImport(ctx, tx, ds, true); err != nil || plan.Hash != wantHash {
			return err
		}
		for _, c := range plan.Changes {
			d := decision{status: c.ToStatus, answer: c.ToAnswer, replaceAnswer: true}
			if _, _, err := decide(ctx, tx, c.Ref, d, actor); err != nil {
				return fmt.Errorf("row %d: %w", c.Row, err)
			}
		}
		applied = true
		return nil
	})
	if err != nil {
		return flows.ImportPlan{}, false, fmt.Errorf("postgres: apply import: %w", err)
	}
	return plan, applied, nil
}

// planImport compares the decisions with the ideas in q; lock holds them
// (FOR UPDATE) until the transaction q ends.
func planImport(ctx context.Context, q queryer, ds []export.Decision, lock bool) (flows.ImportPlan, error) {
	refs := make([]string, len(ds))
	for i, d := range ds {
		refs[i] = d.Reference
	}
	query := `SELECT reference, status, staff_answer, title FROM suggestions WHERE reference = ANY($1) ORDER BY id`
	if lock {
		query += ` FOR UPDATE`
	}
	rows, err := q.Query(ctx, query, refs)
	if err != nil {
		return flows.ImportPlan{}, err
	}
	type idea struct{ status, answer, title string }
	ideas := map[string]idea{}
	for rows.Next() {
		var ref string
		var i idea
		if err := rows.Scan(&ref, &i.status, &i.answer, &i.title); err != nil {
			rows.Close()
			return flows.ImportPlan{}, err
		}
		ideas[ref] = i
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return flows.ImportPlan{}, err
	}
	plan := flows.ImportPlan{Rows: len(ds)}
	for _, d := range ds {
		i, ok := ideas[d.Reference]
		if !ok {
			return flows.ImportPlan{}, &flows.ImportError{Reason: flows.ImportUnknownRef, Row: d.Row, Ref: d.Reference}
		}
		// Line breaks as the file has them: an answer typed on Windows is
		// not a change.
		answer := strings.ReplaceAll(i.answer, "\r\n", "\n")
		if d.Status == i.status && d.Answer == answer {
			continue
		}
		if err := checkAnswered(d.Status, d.Answer); err != nil {
			return flows.ImportPlan{}, &flows.ImportError{Reason: flows.ImportAnswerNeeded, Row: d.Row, Ref: d.Reference, Value: d.Status}
		}
		plan.Changes = append(plan.Changes, flows.ImportChange{Row: d.Row, Ref: d.Reference, Title: i.title,
			FromStatus: i.status, ToStatus: d.Status, FromAnswer: i.answer, ToAnswer: d.Answer})
	}
	plan.Hash = importHash(plan.Changes)
	return plan, nil
}

// importHash identifies a plan's changes whatever the order of the file's
// rows: sha256 over the changes sorted by reference, without their rows.
func importHash(changes []flows.ImportChange) string {
	type change struct{ Ref, FromStatus, ToStatus, FromAnswer, ToAnswer string }
	cs := make([]change, len(changes))
	for i, c := range changes {
		cs[i] = change{c.Ref, c.FromStatus, c.ToStatus, c.FromAnswer, c.ToAnswer}
	}
	slices.SortFunc(cs, func(a, b change) int { return cmp.Compare(a.Ref, b.Ref) })
	data, err := json.Marshal(cs)
	if err != nil {
		panic("postgres: import hash: " + err.Error()) // strings always marshal
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
