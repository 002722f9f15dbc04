package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
)

// An offer to help is stored once per item and student (a retry replaces
// it), shows in their /mydata, lists for staff, and goes with /delete.
func TestHelpOffers(t *testing.T) {
	st, dbURL := newStore(t)
	ctx := context.Background()
	f := newForum(t, st)
	idea := submission(f.ID, "draft-help")
	idea.ParticipantID = "helper-a"
	ref, err := st.Submit(ctx, idea)
	if err != nil {
		t.Fatal(err)
	}
	item, err := st.AddToShortlist(ctx, f.ID, []string{ref}, "cs", nil, "staff")
	if err != nil {
		t.Fatal(err)
	}
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
