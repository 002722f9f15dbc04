package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
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
		{Ref: dup, Decision: flows.DecisionDuplicate, DuplicateOf: original},
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
	if _, err := st.Review(ctx, flows.ReviewDecision{Ref: dup, Decision: flows.DecisionDuplicate, DuplicateOf: original}, "staff-1"); err != nil {
		t.Fatal(err)
	}
	got := readReviewState(t, conn, dup)
	if got.Status != flows.StatusDuplicate || !got.Reviewed || got.DuplicateOf == nil || *got.DuplicateOf != original ||
		got.Audit != 1 || got.Queued != 1 {
		t.Errorf("after a review: %+v", got)
	}
}
