package postgres_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

// reviewState is everything a review writes about one idea.
type reviewState struct {
	Status        string
	Reviewed      bool
	DuplicateOf   *string
	Audit, Queued int
}

func readReviewState(t *testing.T, conn *pgx.Conn, ref string) reviewState {
	t.Helper()
	var r reviewState
	if err := conn.QueryRow(t.Context(), `
		SELECT s.status, s.reviewed, s.duplicate_of,
		       (SELECT count(*) FROM audit_log a WHERE a.target = s.reference),
		       (SELECT count(*) FROM notifications n WHERE n.suggestion_id = s.id)
		FROM suggestions s WHERE s.reference = $1`, ref,
	).Scan(&r.Status, &r.Reviewed, &r.DuplicateOf, &r.Audit, &r.Queued); err != nil {
		t.Fatalf("read %s: %v", ref, err)
	}
	return r
}

// A review is one transaction: when writing duplicate_of or reviewed fails,
// the status, its audit row and the student's notification are not kept
// either, and the idea stays unreviewed.
func TestReviewIsAtomic(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	original := submitOne(t, st, "orig")
	dup := submitOne(t, st, "dup")
	accepted := submitOne(t, st, "acc")
	// Writing duplicate_of or reviewed fails, after the status has been set.
	for _, q := range []string{
		`CREATE FUNCTION fail_review() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
		`CREATE TRIGGER fail_review BEFORE UPDATE OF duplicate_of, reviewed ON suggestions
			FOR EACH ROW EXECUTE FUNCTION fail_review()`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []flows.ReviewDecision{
		{Ref: dup, Decision: flows.DecisionDuplicate, DuplicateOf: original, Answer: "Same as the first."},
		{Ref: accepted, Decision: flows.DecisionAccept},
		{Ref: accepted, Decision: flows.HidePrefix + "abusive"},
	} {
		if known, err := st.Review(ctx, d, "staff-1"); err == nil {
			t.Errorf("Review(%+v) = %v, nil: it succeeded although a part of it failed", d, known)
		}
	}
	want := reviewState{Status: flows.StatusNew}
	for _, ref := range []string{dup, accepted} {
		if got := readReviewState(t, conn, ref); got != want {
			t.Errorf("%s after a failed review: %+v, want %+v (nothing of it kept)", ref, got, want)
		}
	}
	if _, err := conn.Exec(ctx, `DROP TRIGGER fail_review ON suggestions`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Review(ctx, flows.ReviewDecision{Ref: dup, Decision: flows.DecisionDuplicate, DuplicateOf: original,
		Answer: "Same as the first."}, "staff-1"); err != nil {
		t.Fatal(err)
	}
	got := readReviewState(t, conn, dup)
	if got.Status != flows.StatusDuplicate || !got.Reviewed || got.DuplicateOf == nil || *got.DuplicateOf != original ||
		got.Audit != 1 || got.Queued != 1 {
		t.Errorf("after a review: %+v", got)
	}
}

// decisionState is what a decision leaves of an idea: its status and
// answer, whether it is hidden and reviewed, its newest audit row, and the
// notification waiting for its author.
type decisionState struct {
	Status, Answer, Hidden string
	Reviewed               bool
	AuditActor, Action     string
	Notified               *string // the notification's status; nil: none
	NotifiedAnswer         string
}

func readDecision(t *testing.T, conn *pgx.Conn, ref string) decisionState {
	t.Helper()
	var d decisionState
	if err := conn.QueryRow(t.Context(), `
		SELECT s.status, s.staff_answer, coalesce(s.hidden_reason, ''), s.reviewed,
		       coalesce(a.actor, ''), coalesce(a.action, ''), n.status, coalesce(n.answer, '')
		FROM suggestions s
		LEFT JOIN LATERAL (SELECT actor, action FROM audit_log WHERE target = s.reference ORDER BY id DESC LIMIT 1) a ON true
		LEFT JOIN notifications n ON n.suggestion_id = s.id AND n.sent_at IS NULL
		WHERE s.reference = $1`, ref,
	).Scan(&d.Status, &d.Answer, &d.Hidden, &d.Reviewed, &d.AuditActor, &d.Action, &d.Notified, &d.NotifiedAnswer); err != nil {
		t.Fatalf("read %s: %v", ref, err)
	}
	return d
}

// Every decision staff take in the chat is stored as `napad status set`
// stores a status: audited under the staff member's pseudonym and, for a
// status, told to the author with the answer, in one go.
func TestReviewDecisions(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	str := func(s string) *string { return &s }
	const staff = "staff-pseudonym-0123456789"
	original := submitOne(t, st, "original")
	for _, tc := range []struct {
		name string
		d    flows.ReviewDecision
		want decisionState
	}{
		{"not feasible, with the answer", flows.ReviewDecision{Decision: flows.DecisionStatus, Status: flows.StatusNotFeasible, Answer: "  No land for it this year.  "},
			decisionState{Status: flows.StatusNotFeasible, Answer: "No land for it this year.", Reviewed: true, Action: postgres.ActionSetStatus,
				Notified: str(flows.StatusNotFeasible), NotifiedAnswer: "No land for it this year."}},
		{"selected", flows.ReviewDecision{Decision: flows.DecisionStatus, Status: flows.StatusSelected},
			decisionState{Status: flows.StatusSelected, Reviewed: true, Action: postgres.ActionSetStatus, Notified: str(flows.StatusSelected)}},
		{"done", flows.ReviewDecision{Decision: flows.DecisionStatus, Status: flows.StatusDone},
			decisionState{Status: flows.StatusDone, Reviewed: true, Action: postgres.ActionSetStatus, Notified: str(flows.StatusDone)}},
		{"accepted", flows.ReviewDecision{Decision: flows.DecisionAccept},
			decisionState{Status: flows.StatusUnderReview, Reviewed: true, Action: postgres.ActionSetStatus, Notified: str(flows.StatusUnderReview)}},
		{"a duplicate, with the answer", flows.ReviewDecision{Decision: flows.DecisionDuplicate, DuplicateOf: strings.ToLower(original), Answer: "Same as another."},
			decisionState{Status: flows.StatusDuplicate, Answer: "Same as another.", Reviewed: true, Action: postgres.ActionSetStatus,
				Notified: str(flows.StatusDuplicate), NotifiedAnswer: "Same as another."}},
		{"hidden", flows.ReviewDecision{Decision: flows.HidePrefix + flows.HidePersonalData},
			decisionState{Status: flows.StatusNew, Hidden: flows.HidePersonalData, Reviewed: true, Action: postgres.ActionHide}},
	} {
		ref := submitOne(t, st, tc.name)
		tc.d.Ref = ref
		if known, err := st.Review(ctx, tc.d, staff); err != nil || !known {
			t.Fatalf("%s: Review = %v, %v", tc.name, known, err)
		}
		tc.want.AuditActor = staff
		if got := readDecision(t, conn, ref); !sameDecision(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}

	// Published again: visible, and back in the queue if it was never reviewed.
	hidden := submitOne(t, st, "hidden by the command line")
	if err := st.Hide(ctx, hidden, flows.HideAbusive, postgres.CLIActor); err != nil {
		t.Fatal(err)
	}
	if known, err := st.Review(ctx, flows.ReviewDecision{Ref: hidden, Decision: flows.DecisionUnhide}, staff); err != nil || !known {
		t.Fatalf("unhide: %v, %v", known, err)
	}
	want := decisionState{Status: flows.StatusNew, AuditActor: staff, Action: postgres.ActionUnhide}
	if got := readDecision(t, conn, hidden); !sameDecision(got, want) {
		t.Errorf("published again: %+v, want %+v", got, want)
	}

	// A status that needs its own decision, or none, changes nothing.
	before := auditCount(t, conn)
	for _, status := range []string{flows.StatusNew, flows.StatusDuplicate, "nonsense"} {
		if _, err := st.Review(ctx, flows.ReviewDecision{Ref: hidden, Decision: flows.DecisionStatus, Status: status, Answer: "x"}, staff); err == nil {
			t.Errorf("status %q was decided", status)
		}
	}
	if got := readDecision(t, conn, hidden); got.Status != flows.StatusNew || auditCount(t, conn) != before {
		t.Errorf("after refused decisions: %+v, %d audit rows (was %d)", got, auditCount(t, conn), before)
	}
	// An idea that does not exist is unknown, not an error.
	if known, err := st.Review(ctx, flows.ReviewDecision{Ref: "N-ZZZZ", Decision: flows.DecisionStatus, Status: flows.StatusDone}, staff); known || err != nil {
		t.Errorf("an unknown idea: %v, %v", known, err)
	}
}

func sameDecision(a, b decisionState) bool {
	if (a.Notified == nil) != (b.Notified == nil) || a.Notified != nil && *a.Notified != *b.Notified {
		return false
	}
	a.Notified, b.Notified = nil, nil
	return a == b
}
