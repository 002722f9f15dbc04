package postgres_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// statusRow is the staff-facing state of a suggestion, read straight from
// the table.
type statusRow struct {
	Status, Answer string
	Hidden         *string
	ChangedAt      *time.Time
}

func readStatus(t *testing.T, conn *pgx.Conn, ref string) statusRow {
	t.Helper()
	var r statusRow
	if err := conn.QueryRow(t.Context(),
		`SELECT status, staff_answer, hidden_reason, status_changed_at FROM suggestions WHERE reference = $1`, ref,
	).Scan(&r.Status, &r.Answer, &r.Hidden, &r.ChangedAt); err != nil {
		t.Fatalf("read %s: %v", ref, err)
	}
	return r
}

func auditCount(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func submitOne(t *testing.T, st *postgres.Store, draft string) string {
	t.Helper()
	ref, err := st.Submit(t.Context(), submission(newForum(t, st).ID, draft))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// auditState decodes an audit row's before or after.
func auditState(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("audit state %s: %v", raw, err)
	}
	return m
}

func TestStatusNewIdeaDefaults(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ref := submitOne(t, st, "d1")
	got := readStatus(t, connect(t, dbURL), ref)
	if got.Status != "new" || got.Answer != "" || got.Hidden != nil || got.ChangedAt != nil {
		t.Errorf("a new idea has %+v", got)
	}
}

func TestStatusSet(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	ref := submitOne(t, st, "d1")

	start := time.Now()
	before, after, err := st.SetStatus(ctx, strings.ToLower(ref), "selected", "  Díky, uděláme to.  ", "staff-1")
	if err != nil {
		t.Fatal(err)
	}
	if before.Status != "new" || before.StaffAnswer != "" || !before.StatusChangedAt.IsZero() {
		t.Errorf("before %+v", before)
	}
	if after.Reference != ref || after.Status != "selected" || after.StaffAnswer != "Díky, uděláme to." {
		t.Errorf("after %+v", after)
	}
	if after.ParticipantID != "p-d1" || after.Title != "Benches in the yard" {
		t.Errorf("after lacks who and what to notify: %+v", after)
	}
	row := readStatus(t, conn, ref)
	if row.Status != "selected" || row.Answer != "Díky, uděláme to." || row.ChangedAt == nil ||
		row.ChangedAt.Before(start.Add(-time.Minute)) || !row.ChangedAt.Equal(after.StatusChangedAt) {
		t.Errorf("stored %+v, after %+v", row, after)
	}

	entries, err := pgtest.AuditLog(ctx, st, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d audit entries, want 1", len(entries))
	}
	e := entries[0]
	if e.Actor != "staff-1" || e.Action != postgres.ActionSetStatus || e.Target != ref || time.Since(e.At) > time.Minute {
		t.Errorf("audit entry %+v", e)
	}
	if b := auditState(t, e.Before); b["status"] != "new" || b["staff_answer"] != "" || b["reference"] != ref {
		t.Errorf("audit before %s", e.Before)
	}
	if a := auditState(t, e.After); a["status"] != "selected" || a["staff_answer"] != "Díky, uděláme to." {
		t.Errorf("audit after %s", e.After)
	}
	if strings.Contains(string(e.Before)+string(e.After), "p-d1") {
		t.Error("the audit log repeats the participant id")
	}

	// An empty answer keeps the one staff wrote; the same status again does
	// not move status_changed_at, but is still recorded.
	_, after2, err := st.SetStatus(ctx, ref, "selected", "", postgres.CLIActor)
	if err != nil {
		t.Fatal(err)
	}
	if after2.StaffAnswer != "Díky, uděláme to." || !after2.StatusChangedAt.Equal(after.StatusChangedAt) {
		t.Errorf("same status again: %+v", after2)
	}
	// A new status moves it.
	_, after3, err := st.SetStatus(ctx, ref, "in_progress", "Začínáme v září.", postgres.CLIActor)
	if err != nil {
		t.Fatal(err)
	}
	if after3.StaffAnswer != "Začínáme v září." || !after3.StatusChangedAt.After(after.StatusChangedAt) {
		t.Errorf("new status: %+v (was %v)", after3, after.StatusChangedAt)
	}
	entries, err = pgtest.AuditLog(ctx, st, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Actor != "cli" || auditState(t, entries[0].After)["status"] != "in_progress" ||
		entries[0].ID <= entries[1].ID {
		t.Errorf("newest audit entries first, limited to 2: %+v", entries)
	}
}

func TestStatusSetRejects(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	ref := submitOne(t, st, "d1")

	_, _, err := st.SetStatus(ctx, "N-ZZZZ", "done", "", "staff-1")
	if !errors.Is(err, postgres.ErrIdeaNotFound) || !strings.Contains(err.Error(), "N-ZZZZ") {
		t.Errorf("unknown reference: %v", err)
	}
	for name, call := range map[string]func() error{
		"status":      func() error { _, _, err := st.SetStatus(ctx, ref, "finished", "", "staff-1"); return err },
		"empty ref":   func() error { _, _, err := st.SetStatus(ctx, " ", "done", "", "staff-1"); return err },
		"no actor":    func() error { _, _, err := st.SetStatus(ctx, ref, "done", "", ""); return err },
		"long answer": func() error { _, _, err := st.SetStatus(ctx, ref, "done", strings.Repeat("á", 2001), "x"); return err },
		"reason":      func() error { return st.Hide(ctx, ref, "boring", "staff-1") },
		"hide actor":  func() error { return st.Hide(ctx, ref, "abusive", "") },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := st.Hide(ctx, "N-ZZZZ", "abusive", "staff-1"); !errors.Is(err, postgres.ErrIdeaNotFound) {
		t.Errorf("hide unknown: %v", err)
	}
	if err := st.Unhide(ctx, "N-ZZZZ", "staff-1"); !errors.Is(err, postgres.ErrIdeaNotFound) {
		t.Errorf("unhide unknown: %v", err)
	}
	if got := readStatus(t, conn, ref); got.Status != "new" || got.Hidden != nil {
		t.Errorf("after rejected changes: %+v", got)
	}
	if n := auditCount(t, conn); n != 0 {
		t.Errorf("%d audit rows for rejected changes", n)
	}
	if _, err := pgtest.AuditLog(ctx, st, 0); err == nil {
		t.Error("AuditLog(0) accepted")
	}
	// The schema itself keeps unknown values out.
	if _, err := conn.Exec(ctx, `UPDATE suggestions SET status = 'finished' WHERE reference = $1`, ref); err == nil {
		t.Error("the schema accepts an unknown status")
	}
	if _, err := conn.Exec(ctx, `UPDATE suggestions SET hidden_reason = 'boring' WHERE reference = $1`, ref); err == nil {
		t.Error("the schema accepts an unknown hidden reason")
	}
}

func TestStatusHideUnhide(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	ref := submitOne(t, st, "d1")

	if err := st.Hide(ctx, ref, "personal_data", "staff-1"); err != nil {
		t.Fatal(err)
	}
	if got := readStatus(t, conn, ref); got.Hidden == nil || *got.Hidden != "personal_data" || got.Status != "new" {
		t.Errorf("hidden: %+v", got)
	}
	if err := st.Unhide(ctx, ref, "staff-2"); err != nil {
		t.Fatal(err)
	}
	if got := readStatus(t, conn, ref); got.Hidden != nil {
		t.Errorf("unhidden: %+v", got)
	}
	entries, err := pgtest.AuditLog(ctx, st, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d audit entries, want 2", len(entries))
	}
	unhide, hide := entries[0], entries[1]
	if hide.Action != postgres.ActionHide || hide.Actor != "staff-1" ||
		auditState(t, hide.Before)["hidden_reason"] != "" || auditState(t, hide.After)["hidden_reason"] != "personal_data" {
		t.Errorf("hide audit %+v %s %s", hide, hide.Before, hide.After)
	}
	if unhide.Action != postgres.ActionUnhide || unhide.Actor != "staff-2" ||
		auditState(t, unhide.After)["hidden_reason"] != "" {
		t.Errorf("unhide audit %+v %s", unhide, unhide.After)
	}
}

// The change and its audit row commit together or not at all.
func TestStatusAuditInSameTransaction(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	ref := submitOne(t, st, "d1")
	// Make writing the audit row fail, after the update has been made.
	if _, err := conn.Exec(ctx, `ALTER TABLE audit_log ADD CONSTRAINT no_more CHECK (false) NOT VALID`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SetStatus(ctx, ref, "done", "Hotovo", "staff-1"); err == nil {
		t.Fatal("SetStatus succeeded without its audit row")
	}
	if err := st.Hide(ctx, ref, "abusive", "staff-1"); err == nil {
		t.Fatal("Hide succeeded without its audit row")
	}
	if got := readStatus(t, conn, ref); got.Status != "new" || got.Answer != "" || got.Hidden != nil || got.ChangedAt != nil {
		t.Errorf("the change stayed without its audit row: %+v", got)
	}
}

// Concurrent changes to one idea queue up: each audit row's "before" is
// the previous row's "after".
func TestStatusConcurrentChanges(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	ref := submitOne(t, st, "d1")
	statuses := flows.Statuses
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			status, answer := statuses[i%len(statuses)], ""
			if flows.StatusNeedsAnswer(status) {
				answer = "Proč: " + status
			}
			if _, _, err := st.SetStatus(ctx, ref, status, answer, "staff"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	entries, err := pgtest.AuditLog(ctx, st, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 12 {
		t.Fatalf("%d audit entries, want 12", len(entries))
	}
	for i := 0; i+1 < len(entries); i++ {
		newer, older := entries[i], entries[i+1]
		if auditState(t, newer.Before)["status"] != auditState(t, older.After)["status"] {
			t.Errorf("entry %d starts from %s but entry %d ended at %s", newer.ID, newer.Before, older.ID, older.After)
		}
	}
}

// 00003 rolls back alone, keeping ideas, and applies again with defaults.
func TestStatusMigrationDownAndUp(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	ref := submitOne(t, st, "d1")
	if _, _, err := st.SetStatus(ctx, ref, "done", "Hotovo", "staff-1"); err != nil {
		t.Fatal(err)
	}

	if err := postgres.MigrateDownTo(ctx, dbURL, 2); err != nil {
		t.Fatalf("down to 2: %v", err)
	}
	for _, tbl := range []string{"audit_log", "contacts"} {
		if tableExists(t, conn, tbl) {
			t.Errorf("table %s still exists after down to 2", tbl)
		}
	}
	for _, col := range []string{"status", "staff_answer", "hidden_reason", "duplicate_of", "status_changed_at", "reviewed", "flagged"} {
		if columnExists(t, conn, "suggestions", col) {
			t.Errorf("suggestions.%s still exists after down to 2", col)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM suggestions`).Scan(&n); err != nil || n != 1 {
		t.Errorf("suggestions after down: %d, %v", n, err)
	}

	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if got := readStatus(t, conn, ref); got.Status != "new" || got.Answer != "" {
		t.Errorf("after up again: %+v", got)
	}
	if auditCount(t, conn) != 0 {
		t.Error("audit rows survived the rollback")
	}
	// duplicate_of must name an existing idea, and not the idea itself.
	if _, err := conn.Exec(ctx, `UPDATE suggestions SET duplicate_of = 'N-NONE' WHERE reference = $1`, ref); err == nil {
		t.Error("duplicate_of accepts an unknown reference")
	}
	if _, err := conn.Exec(ctx, `UPDATE suggestions SET duplicate_of = reference WHERE reference = $1`, ref); err == nil {
		t.Error("an idea can be a duplicate of itself")
	}
}

// Erasing a participant erases their contact, and a duplicate_of pointing
// at their idea becomes NULL instead of blocking the erasure.
func TestStatusErasureCascades(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	f := newForum(t, st)
	orig, err := st.Submit(ctx, submission(f.ID, "orig"))
	if err != nil {
		t.Fatal(err)
	}
	dup, err := st.Submit(ctx, submission(f.ID, "dup"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE suggestions SET status = 'duplicate', duplicate_of = $1 WHERE reference = $2`, orig, dup); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO contacts (participant_id, chat_id) VALUES ('p-orig', 42)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM participants WHERE id = 'p-orig'`); err != nil {
		t.Fatalf("erase participant: %v", err)
	}
	var contacts int
	var dupOf *string
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM contacts), (SELECT duplicate_of FROM suggestions WHERE reference = $1)`, dup).
		Scan(&contacts, &dupOf); err != nil {
		t.Fatal(err)
	}
	if contacts != 0 || dupOf != nil {
		t.Errorf("after erasure: %d contacts, duplicate_of %v", contacts, dupOf)
	}
}

// Not feasible and duplicate tell the student why: with an answer given
// now or kept from before; without one nothing changes.
func TestStatusNeedsAnswer(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	ref := submitOne(t, st, "na")
	for _, status := range []string{flows.StatusNotFeasible, flows.StatusDuplicate} {
		if _, _, err := st.SetStatus(ctx, ref, status, "  ", "staff-1"); !errors.Is(err, postgres.ErrAnswerNeeded) {
			t.Errorf("%s without an answer: %v, want ErrAnswerNeeded", status, err)
		}
	}
	if got := readStatus(t, conn, ref); got.Status != "new" {
		t.Errorf("a refused change stayed: %+v", got)
	}
	if n := auditRows(t, dbURL, postgres.ActionSetStatus); n != 0 {
		t.Errorf("%d refused changes audited", n)
	}
	if _, _, err := st.SetStatus(ctx, ref, flows.StatusNotFeasible, "Na to nemáme místo.", "staff-1"); err != nil {
		t.Fatal(err)
	}
	// The answer it has is kept, and is the reason.
	if _, after, err := st.SetStatus(ctx, ref, flows.StatusDuplicate, "", "staff-1"); err != nil || after.StaffAnswer != "Na to nemáme místo." {
		t.Errorf("duplicate keeping the answer: %+v, %v", after, err)
	}
	// Once the idea is selected after all, that reason would mislead: it goes.
	if _, after, err := st.SetStatus(ctx, ref, flows.StatusSelected, "", "staff-1"); err != nil || after.StaffAnswer != "" {
		t.Errorf("selected after not feasible: %+v, %v; want the old reason gone", after, err)
	}
	if _, after, err := st.SetStatus(ctx, ref, flows.StatusDone, "Hotovo v březnu.", "staff-1"); err != nil || after.StaffAnswer != "Hotovo v březnu." {
		t.Fatalf("done with an answer: %+v, %v", after, err)
	}
	// Other answers stay when only the status changes.
	if _, after, err := st.SetStatus(ctx, ref, flows.StatusInProgress, "", "staff-1"); err != nil || after.StaffAnswer != "Hotovo v březnu." {
		t.Errorf("in progress after done: %+v, %v; want the answer kept", after, err)
	}
}
