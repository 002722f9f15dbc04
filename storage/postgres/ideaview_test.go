package postgres_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

// /idea shows an idea as staff review it, with what became of it and its
// history: who (a shortened pseudonym, or the command line), when and what,
// leaving out changes that changed nothing and other ideas' changes.
func TestStaffIdeaWithItsHistory(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	const staff = "staffpseudonym-0123456789abcdef"
	lat, lon := 50.02812, 15.20034
	sub := submission(newForum(t, st).ID, "with a pin")
	sub.Latitude, sub.Longitude, sub.PhotoFileID, sub.Language, sub.WantsToHelp = &lat, &lon, "photo-1", "uk", "yes"
	ref, err := st.Submit(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	other := submitOne(t, st, "other")

	if _, _, err := st.SetStatus(ctx, ref, flows.StatusUnderReview, "", postgres.CLIActor); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SetStatus(ctx, ref, flows.StatusUnderReview, "", staff); err != nil { // changes nothing
		t.Fatal(err)
	}
	for _, d := range []flows.ReviewDecision{
		{Decision: flows.DecisionStatus, Status: flows.StatusNotFeasible, Answer: "No land for it."},
		{Decision: flows.HidePrefix + flows.HideOffTopic},
		{Decision: flows.DecisionUnhide},
	} {
		d.Ref = strings.ToLower(ref)
		if _, err := st.Review(ctx, d, staff); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.SetStatus(ctx, ref, flows.StatusNotFeasible, "No land for it this year.", postgres.CLIActor); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Review(ctx, flows.ReviewDecision{Ref: other, Decision: flows.DecisionAccept}, staff); err != nil {
		t.Fatal(err)
	}
	// A deleted idea's change, long before this one was sent under the same reference.
	if _, err := conn.Exec(ctx, `INSERT INTO audit_log (at, actor, action, target, before, after)
		VALUES ($1, 'cli', $2, $3, '{"status":"new"}', '{"status":"done"}')`,
		time.Now().Add(-48*time.Hour), postgres.ActionSetStatus, ref); err != nil {
		t.Fatal(err)
	}

	view, found, err := st.StaffIdea(ctx, " "+strings.ToLower(ref))
	if err != nil || !found {
		t.Fatalf("StaffIdea = %v, %v", found, err)
	}
	it := view.Item
	if it.Ref != ref || it.Language != "uk" || it.WantsToHelp != "yes" || it.PhotoID != "photo-1" || it.Lat == nil || *it.Lat != lat ||
		it.Status != flows.StatusNotFeasible || it.Answer != "No land for it this year." || it.HiddenReason != "" || time.Since(it.SentAt) > time.Minute {
		t.Errorf("item %+v", it)
	}
	short := staff[:postgres.PseudonymLen]
	want := []flows.IdeaChange{
		{By: "", Kind: flows.ChangeStatus, Status: flows.StatusUnderReview},
		{By: short, Kind: flows.ChangeStatus, Status: flows.StatusNotFeasible, Answered: true},
		{By: short, Kind: flows.ChangeHide, Reason: flows.HideOffTopic},
		{By: short, Kind: flows.ChangeUnhide},
		{By: "", Kind: flows.ChangeAnswer},
	}
	if len(view.History) != len(want) || view.Earlier != 0 {
		t.Fatalf("history (%d earlier) %+v, want %+v", view.Earlier, view.History, want)
	}
	for i, ch := range view.History {
		at := ch.At
		ch.At = time.Time{}
		if ch != want[i] {
			t.Errorf("change %d: %+v, want %+v", i, ch, want[i])
		}
		if at.IsZero() || i > 0 && at.Before(view.History[i-1].At) {
			t.Errorf("change %d at %v, not in order", i, at)
		}
	}

	// Only the latest changes, and how many came before them.
	for i := range flows.MaxIdeaHistory + 3 {
		if _, _, err := st.SetStatus(ctx, other, flows.StatusDone, fmt.Sprintf("answer %d", i), staff); err != nil {
			t.Fatal(err)
		}
	}
	view, _, err = st.StaffIdea(ctx, other)
	if err != nil || len(view.History) != flows.MaxIdeaHistory || view.Earlier != 4 {
		t.Fatalf("a long history: %d changes, %d earlier, %v", len(view.History), view.Earlier, err)
	}
	if last := view.History[len(view.History)-1]; last.Kind != flows.ChangeAnswer {
		t.Errorf("the latest change %+v", last)
	}

	if _, found, err := st.StaffIdea(ctx, "N-ZZZZ"); found || err != nil {
		t.Errorf("an unknown reference: %v, %v", found, err)
	}
}
