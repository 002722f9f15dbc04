package postgres_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
	"github.com/healthycities/napad/storage/postgres"
)

func TestRetentionRemovesPersonalLinks(t *testing.T) {
	st, dbURL := newStore(t)
	ctx := context.Background()
	f := newForum(t, st)
	old := submission(f.ID, "old-draft")
	old.ParticipantID, old.Title = "student-old", "Old idea"
	oldRef, err := st.Submit(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	recent := submission(f.ID, "new-draft")
	recent.ParticipantID, recent.Title = "student-new", "Recent idea"
	newRef, err := st.Submit(ctx, recent)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetContact(ctx, "student-old", 777); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	// The old one was sent three years ago.
	for _, q := range []string{
		`UPDATE suggestions SET created_at = now() - interval '3 years' WHERE participant_id = 'student-old'`,
		`UPDATE participants SET updated_at = now() - interval '3 years' WHERE id = 'student-old'`,
		`UPDATE forum_participants SET joined_at = now() - interval '3 years' WHERE participant_id = 'student-old'`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	// A closed forum: nothing more will be told to its participants.
	if err := st.SetForumOpen(ctx, f.Code, false); err != nil {
		t.Fatal(err)
	}
	n, err := st.ApplyRetention(ctx, time.Now().AddDate(-2, 0, 0))
	if err != nil || n != 1 {
		t.Fatalf("detached %d, %v", n, err)
	}
	kept, found, err := st.IdeaByReference(ctx, oldRef)
	if err != nil || !found || kept.Title != "Old idea" || kept.ParticipantID != "" || strings.Contains(kept.DraftID, "student-old") {
		t.Fatalf("old idea after retention: %+v found=%v err=%v", kept, found, err)
	}
	if fresh, _, _ := st.IdeaByReference(ctx, newRef); fresh.ParticipantID != "student-new" {
		t.Errorf("a recent idea lost its author: %+v", fresh)
	}
	var left int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM participants WHERE id = 'student-old') +
		(SELECT count(*) FROM contacts WHERE participant_id = 'student-old')`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d rows about the old student left, %v", left, err)
	}
	if ideas, _ := st.IdeasOf(ctx, "student-old"); len(ideas) != 0 {
		t.Errorf("the old student still has ideas: %v", ideas)
	}
	// Exports still contain the idea, without a pseudonym.
	var buf bytes.Buffer
	w, err := export.NewCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ExportIdeas(ctx, postgres.ExportFilter{}, w.Write); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Old idea") || !strings.Contains(buf.String(), "Recent idea") {
		t.Errorf("export after retention:\n%s", buf.String())
	}
	if n, err := st.ApplyRetention(ctx, time.Now().AddDate(-2, 0, 0)); err != nil || n != 0 {
		t.Errorf("second run detached %d, %v", n, err)
	}
}

// An idea retention detached from its author can still be reviewed, given a
// status and hidden; nobody is left to notify, so nothing is queued.
func TestRetentionDetachedIdeaStaffActions(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	old := submitOne(t, st, "old")
	accepted := submitOne(t, st, "acc")
	if _, err := conn.Exec(ctx, `UPDATE suggestions SET created_at = now() - interval '3 years'`); err != nil {
		t.Fatal(err)
	}
	if n, err := st.ApplyRetention(ctx, time.Now().AddDate(-2, 0, 0)); err != nil || n != 2 {
		t.Fatalf("detached %d, %v", n, err)
	}

	// The oldest unreviewed idea comes first and can be reviewed, so it
	// does not block the queue.
	item, found, err := st.NextForReview(ctx, nil)
	if err != nil || !found || item.Ref != old {
		t.Fatalf("NextForReview = %+v, %v, %v; want %s", item, found, err, old)
	}
	if known, err := st.Review(ctx, flows.ReviewDecision{Ref: old, Decision: flows.HidePrefix + flows.HidePersonalData}, "staff-1"); err != nil || !known {
		t.Fatalf("Review (hide) of a detached idea = %v, %v", known, err)
	}
	if known, err := st.Review(ctx, flows.ReviewDecision{Ref: accepted, Decision: flows.DecisionAccept}, "staff-1"); err != nil || !known {
		t.Fatalf("Review (accept) of a detached idea = %v, %v", known, err)
	}
	if item, found, err := st.NextForReview(ctx, nil); err != nil || found {
		t.Errorf("NextForReview after reviewing both = %+v, %v, %v; want none", item, found, err)
	}

	before, after, err := st.SetStatus(ctx, accepted, flows.StatusDone, "Hotovo", "staff-1")
	if err != nil {
		t.Fatalf("SetStatus of a detached idea: %v", err)
	}
	if before.ParticipantID != "" || after.ParticipantID != "" || after.Status != flows.StatusDone {
		t.Errorf("SetStatus = %+v -> %+v", before, after)
	}
	if err := st.Unhide(ctx, old, "staff-1"); err != nil {
		t.Fatalf("Unhide of a detached idea: %v", err)
	}
	if err := st.Hide(ctx, old, flows.HidePersonalData, "staff-1"); err != nil {
		t.Fatalf("Hide of a detached idea: %v", err)
	}
	if got := readStatus(t, conn, old); got.Hidden == nil || *got.Hidden != flows.HidePersonalData {
		t.Errorf("hidden: %+v", got)
	}
	var queued int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM notifications`).Scan(&queued); err != nil || queued != 0 {
		t.Errorf("%d notifications queued for ideas without an author, %v", queued, err)
	}
}

// A student who joined a forum that is still open keeps their membership
// and chat past the cutoff, even with no idea: they are to be told when
// voting opens. Once the forum is closed, retention removes them.
func TestRetentionKeepsParticipantsOfOpenForums(t *testing.T) {
	st, dbURL := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	if err := st.RecordJoin(ctx, f.ID, "joined-only", "nb", 4242); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := st.CreateBroadcast(ctx, flows.Broadcast{ForumID: f.ID, Kind: "announce", Key: "old", CreatedBy: "s"}); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	for _, q := range []string{
		`UPDATE participants SET updated_at = now() - interval '3 years'`,
		`UPDATE contacts SET updated_at = now() - interval '3 years'`,
		`UPDATE forum_participants SET joined_at = now() - interval '3 years'`,
		`UPDATE broadcasts SET created_at = now() - interval '3 years'`,
		`UPDATE broadcast_deliveries SET state = 'sent'`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (rows int) {
		t.Helper()
		if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM participants WHERE id = 'joined-only') +
			(SELECT count(*) FROM contacts WHERE participant_id = 'joined-only') +
			(SELECT count(*) FROM forum_participants WHERE participant_id = 'joined-only')`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	cutoff := time.Now().AddDate(-2, 0, 0)
	if _, err := st.ApplyRetention(ctx, cutoff); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Fatalf("open forum: %d of the participant's 3 rows left", n)
	}
	if n, _ := st.BroadcastAudience(ctx, f.ID); n != 1 {
		t.Errorf("open forum: audience %d after retention, want 1", n)
	}
	var deliveries int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM broadcast_deliveries`).Scan(&deliveries); err != nil || deliveries != 0 {
		t.Errorf("%d records of an old broadcast's deliveries left, %v", deliveries, err)
	}
	if err := st.SetForumOpen(ctx, f.Code, false); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyRetention(ctx, cutoff); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Errorf("closed forum: %d rows about the participant left", n)
	}
}
