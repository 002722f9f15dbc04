package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
)

func TestStudentsOwnData(t *testing.T) {
	st, dbURL := newStore(t)
	ctx := context.Background()
	f := newForum(t, st)
	mine := submission(f.ID, "draft-1")
	mine.ParticipantID, mine.Title = "student-a", "Lavičky na dvoře"
	mine.Channel = flows.ChannelWeb
	ref, err := st.Submit(ctx, mine)
	if err != nil {
		t.Fatal(err)
	}
	other := submission(f.ID, "draft-2")
	other.ParticipantID, other.Title = "student-b", "Someone else's"
	otherRef, err := st.Submit(ctx, other)
	if err != nil {
		t.Fatal(err)
	}

	ideas, err := st.IdeasOf(ctx, "student-a")
	if err != nil || len(ideas) != 1 || ideas[0].Reference != ref || ideas[0].Title != "Lavičky na dvoře" || ideas[0].Status != "new" || ideas[0].Forum != f.Name {
		t.Fatalf("ideas %+v, %v", ideas, err)
	}

	if err := st.SetContact(ctx, "student-a", 424242); err != nil {
		t.Fatal(err)
	}
	if err := st.StopContact(ctx, "student-a", true); err != nil {
		t.Fatal(err)
	}
	if err := st.SetContact(ctx, "student-a", 424242); err != nil { // a later idea keeps the /stop
		t.Fatal(err)
	}
	if err := st.StopContact(ctx, "nobody", true); err != nil {
		t.Fatalf("/stop by someone never seen: %v", err)
	}

	raw, err := st.DataOf(ctx, "student-a")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Participant  map[string]any   `json:"participant"`
		ForumsJoined []map[string]any `json:"forums_joined"`
		Ideas        []map[string]any `json:"ideas"`
		Contact      map[string]any   `json:"contact"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, raw)
	}
	if doc.Participant["id"] != "student-a" || len(doc.ForumsJoined) != 1 || len(doc.Ideas) != 1 ||
		doc.Ideas[0]["title"] != "Lavičky na dvoře" || doc.Contact["notifications_stopped"] != true {
		t.Errorf("data:\n%s", raw)
	}
	// How the idea came is the student's to see too.
	if doc.Ideas[0]["channel"] != flows.ChannelWeb {
		t.Errorf("the idea's channel %v, want web:\n%s", doc.Ideas[0]["channel"], raw)
	}
	if strings.Contains(string(raw), "Someone else's") {
		t.Error("another student's idea is in the data")
	}

	deleted, err := st.DeleteParticipant(ctx, "student-a")
	if err != nil || !deleted {
		t.Fatalf("delete: %v %v", deleted, err)
	}
	if _, found, _ := st.IdeaByReference(ctx, ref); found {
		t.Error("the idea survived the deletion")
	}
	if _, found, _ := st.IdeaByReference(ctx, otherRef); !found {
		t.Error("another student's idea was deleted")
	}
	if ideas, _ := st.IdeasOf(ctx, "student-a"); len(ideas) != 0 {
		t.Errorf("ideas after deletion: %v", ideas)
	}
	conn := connect(t, dbURL)
	var left int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM contacts WHERE participant_id = 'student-a') +
		(SELECT count(*) FROM forum_participants WHERE participant_id = 'student-a') +
		(SELECT count(*) FROM participants WHERE id = 'student-a')`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d rows about the student left, %v", left, err)
	}
	var audit string
	if err := conn.QueryRow(ctx, `SELECT after::text FROM audit_log WHERE action = 'participant.delete'`).Scan(&audit); err != nil || strings.Contains(audit, "student-a") {
		t.Errorf("audit %q, %v", audit, err)
	}
	if deleted, err := st.DeleteParticipant(ctx, "student-a"); err != nil || deleted {
		t.Errorf("deleting twice: %v %v", deleted, err)
	}
}

// The chat to tell the author about is stored in the idea's own transaction:
// an idea is never stored without it.
func TestSubmitStoresTheContactWithTheIdea(t *testing.T) {
	st, _ := newStore(t)
	ctx := t.Context()
	sub := submission(newForum(t, st).ID, "d-contact")
	sub.ParticipantID, sub.ContactChat = "student-c", 515151
	if _, err := st.Submit(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if got := contactOf(t, st, "student-c")["telegram_chat"]; got != float64(515151) {
		t.Fatalf("contact %v", got)
	}
}

// A student's /myideas says why an idea of theirs was not published,
// rather than that it waits to be read.
func TestIdeasOfSaysWhatWasHidden(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	var refs []string
	for _, draft := range []string{"shown", "hidden"} {
		sub := submission(f.ID, draft)
		sub.ParticipantID = "student-a"
		ref, err := st.Submit(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	if _, err := st.Review(ctx, flows.ReviewDecision{Ref: refs[1], Decision: flows.HidePrefix + flows.HidePersonalData}, "staff-1"); err != nil {
		t.Fatal(err)
	}
	ideas, err := st.IdeasOf(ctx, "student-a")
	if err != nil || len(ideas) != 2 {
		t.Fatalf("IdeasOf = %+v, %v", ideas, err)
	}
	hidden := map[string]string{}
	for _, i := range ideas {
		hidden[i.Reference] = i.Hidden
	}
	if hidden[refs[0]] != "" || hidden[refs[1]] != flows.HidePersonalData {
		t.Errorf("hidden reasons %v", hidden)
	}
}
