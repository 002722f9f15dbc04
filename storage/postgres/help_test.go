package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

// shortlisted stores the idea and makes it a shortlist item of its own.
func shortlisted(t *testing.T, st *postgres.Store, idea flows.Idea) flows.ShortlistItem {
	t.Helper()
	ref, err := st.Submit(t.Context(), idea)
	if err != nil {
		t.Fatal(err)
	}
	item, err := st.AddToShortlist(t.Context(), idea.ForumID, []string{ref}, "cs", nil, "staff")
	if err != nil {
		t.Fatal(err)
	}
	return item
}

// An offer to help is stored once per item and student (a retry replaces
// it), shows in their /mydata, lists for staff, and goes with /delete.
func TestHelpOffers(t *testing.T) {
	st, dbURL := newStore(t)
	ctx := context.Background()
	f := newForum(t, st)
	idea := submission(f.ID, "draft-help")
	idea.ParticipantID = "helper-a"
	item := shortlisted(t, st, idea)
	mine, err := st.IdeasOf(ctx, "helper-a")
	if err != nil || len(mine) != 1 || mine[0].WantsToHelp != "maybe" {
		t.Fatalf("ideas %+v, %v: want its wants_to_help", mine, err)
	}

	for _, contact := range []string{"8.B", "8.B", "jana@zs.cz"} { // a redelivery, then a correction
		if err := st.SaveHelpOffer(ctx, "helper-a", item.ID, contact); err != nil {
			t.Fatal(err)
		}
	}
	offers, err := st.HelpOffers(ctx, f.ID)
	if err != nil || len(offers) != 1 || offers[0].ItemID != item.ID || offers[0].Contact != "jana@zs.cz" {
		t.Fatalf("offers %+v, %v: want one, the last written", offers, err)
	}
	if other, err := st.HelpOffers(ctx, f.ID+1000); err != nil || len(other) != 0 {
		t.Errorf("another forum's offers: %+v, %v", other, err)
	}

	raw, err := st.DataOf(ctx, "helper-a")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		HelpOffers []map[string]any `json:"help_offers"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc.HelpOffers) != 1 ||
		doc.HelpOffers[0]["contact"] != "jana@zs.cz" || doc.HelpOffers[0]["item"] != idea.Title || doc.HelpOffers[0]["forum"] != f.Name {
		t.Errorf("data (%v):\n%s", err, raw)
	}

	if _, err := st.DeleteParticipant(ctx, "helper-a"); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := connect(t, dbURL).QueryRow(ctx, `SELECT count(*) FROM help_offers`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d help offers left after /delete (%v)", left, err)
	}
}

// Retention deletes the offers older than its cutoff, as it detaches ideas.
func TestRetentionDeletesOldHelpOffers(t *testing.T) {
	st, dbURL := newStore(t)
	ctx := context.Background()
	f := newForum(t, st)
	var items []int64
	for _, draft := range []string{"old", "new"} {
		idea := submission(f.ID, draft)
		item := shortlisted(t, st, idea)
		if err := st.SaveHelpOffer(ctx, idea.ParticipantID, item.ID, "8.B"); err != nil {
			t.Fatal(err)
		}
		items = append(items, item.ID)
	}
	conn := connect(t, dbURL)
	if _, err := conn.Exec(ctx, `UPDATE help_offers SET created_at = now() - interval '100 days' WHERE item_id = $1`, items[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyRetention(ctx, time.Now().Add(-30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	offers, err := st.HelpOffers(ctx, f.ID)
	if err != nil || len(offers) != 1 || offers[0].ItemID != items[1] {
		t.Errorf("offers after retention %+v, %v: want only the new one", offers, err)
	}
}
