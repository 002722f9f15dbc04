package postgres_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

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
