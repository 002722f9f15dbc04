package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
	"github.com/healthycities/napad/storage/export"
	"github.com/jackc/pgx/v5"
)

// tapLabel presses the button labelled label on the latest message that has it.
func (s *student) tapLabel(label string) {
	s.t.Helper()
	sent := s.a.fake.Sent(s.u.ID())
	for i := len(sent) - 1; i >= 0; i-- {
		if _, ok := sent[i].Button(label); ok {
			s.u.Tap(sent[i], label)
			return
		}
	}
	s.t.Fatalf("no message with a button %q; chat:\n%v", label, sent)
}

// waitText waits for a message (or an edit) of the chat that contains text.
func (s *student) waitText(text string) telegramtest.SentMessage {
	s.t.Helper()
	return s.a.fake.WaitFor(s.t, s.u.ID(), func(m telegramtest.SentMessage) bool { return strings.Contains(m.Text, text) }, waitLong)
}

// A teacher picks the shortlist in the chat: from the forum card, one idea
// as its own item, two merged under a typed title and description, an
// item removed after asking, the idea added again; a student's forged
// shortlist button changes nothing, nor does another teacher's; the ballot then
// shows the teacher's items, and the exports have them with their votes.
func TestE2ETeacherShortlistsInTheChat(t *testing.T) {
	a := staffApp(t)
	staff, teacher := a.invitedTeacher("en", "en")
	otherTeacher := staff.inviteTeacher("cs")

	f := a.forum("8.B – ZŠ Komenského")
	conn, err := pgx.Connect(context.Background(), a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `UPDATE forums SET owner_id = $1 WHERE id = $2`, teacher.pid(), f.ID); err != nil {
		t.Fatal(err)
	}

	var students []*student
	for i := range 3 {
		s := a.student("en")
		want := flowtest.AnswersIn("en")
		want[flows.StepTitle] = fmt.Sprintf("Idea %d", i+1)
		s.toReview(f.Code, want)
		s.tap("button.submit")
		s.expectCount("submit.thanks", one())
		students = append(students, s)
	}
	var refs []string
	for _, idea := range a.suggestions(f) {
		refs = append(refs, idea.Reference)
	}
	teacher.movePhase(f, flows.PhaseShortlisting)

	teacher.tap("button.shortlist")
	if first := teacher.expect("shortlist.screen"); !strings.Contains(first.Text, "📍 "+teacher.render("shortlist.pin")) {
		t.Errorf("a candidate with a pin on the map:\n%s", first.Text)
	}
	teacher.tapLabel("➕ " + refs[0])
	teacher.waitText(teacher.render("shortlist.added"))
	teacher.tapLabel("☐ " + refs[1])
	a.fake.WaitFor(t, teacher.u.ID(), func(m telegramtest.SentMessage) bool { _, ok := m.Button("☑️ " + refs[1]); return ok }, waitLong)
	teacher.tapLabel("☐ " + refs[2])
	merge, err := a.catalog.Render("en", flows.Msg{Key: "shortlist.merge_button", Count: &[]int{2}[0]})
	if err != nil {
		t.Fatal(err)
	}
	a.fake.WaitFor(t, teacher.u.ID(), func(m telegramtest.SentMessage) bool { _, ok := m.Button(merge); return ok }, waitLong)
	teacher.tapLabel(merge)
	teacher.expect("shortlist.title_ask")
	teacher.u.SendText("Shade and benches")
	teacher.expect("shortlist.description_ask")
	teacher.u.SendText("Two ideas about shade in one")
	screen := teacher.waitText(teacher.render("shortlist.merged"))
	if !strings.Contains(screen.Text, "2. Shade and benches") || strings.Contains(screen.Text, refs[1]) {
		t.Errorf("the merged item:\n%s", screen.Text)
	}
	teacher.tapLabel("🗑 1")
	teacher.expectCount("shortlist.remove_confirm", one())
	teacher.tap("shortlist.remove_yes")
	teacher.waitText(teacher.render("shortlist.removed"))
	teacher.tapLabel("➕ " + refs[0])
	teacher.waitText("2. Idea 1")

	// A student's forged shortlist button: the role is checked first.
	forger := students[0]
	sent := a.fake.Sent(forger.u.ID())
	forger.u.TapData(sent[len(sent)-1], fmt.Sprintf("|sl|%d:a:%s", f.ID, refs[2]))
	forger.expect("error.stale_button")
	// Another teacher's forged button: the bot checks whose forum it is.
	sent = a.fake.Sent(otherTeacher.u.ID())
	otherTeacher.u.TapData(sent[len(sent)-1], fmt.Sprintf("|sl|%d:a:%s", f.ID, refs[2]))
	otherTeacher.expect("forum.not_yours")

	items, err := a.db.Shortlist(context.Background(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || !slices.Equal(items[0].Ideas, slices.Sorted(slices.Values(refs[1:]))) || items[0].Texts["en"] != (flows.ItemText{Title: "Shade and benches", Description: "Two ideas about shade in one"}) ||
		!slices.Equal(items[1].Ideas, refs[:1]) {
		t.Fatalf("shortlist %+v", items)
	}

	teacher.movePhase(f, flows.PhaseVoting)
	for _, s := range students {
		s.u.SendText("/vote")
		ballot := s.expectCount("ballot.intro", &[]int{2}[0])
		if !strings.Contains(ballot.Text, "1. Shade and benches – Two ideas about shade in one") || !strings.Contains(ballot.Text, "2. Idea 1") {
			t.Errorf("ballot:\n%s", ballot.Text)
		}
	}
	voter := students[0]
	voter.u.Tap(a.fake.Sent(voter.u.ID())[len(a.fake.Sent(voter.u.ID()))-1], "1. Shade and benches")
	voter.expectCount("ballot.intro", one())

	// The exports have the shortlist with its votes: a second XLSX sheet,
	// and CSV and JSON of their own; counts only, no participant.
	dir := t.TempDir()
	a.cli(t, "export", "-o", filepath.Join(dir, "ideas.xlsx"), "--forum", f.Code)
	book, err := excelize.OpenFile(filepath.Join(dir, "ideas.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	rows, err := book.GetRows(export.ShortlistSheetName)
	if err != nil || len(rows) != 3 || rows[1][slices.Index(export.ShortlistHeaders, "Title (en)")] != "Shade and benches" ||
		rows[1][slices.Index(export.ShortlistHeaders, "Votes")] != "1" {
		t.Errorf("the shortlist sheet: %q %v", rows, err)
	}
	if out := a.cli(t, "export", "--what", "shortlist", "-o", filepath.Join(dir, "shortlist.csv"), "--forum", f.Code); !strings.Contains(out, "Wrote 2 shortlist items") {
		t.Errorf("export --what shortlist: %s", out)
	}
	a.cli(t, "export", "--what", "shortlist", "-o", filepath.Join(dir, "results.json"))
	raw, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var results struct{ Forums []export.ForumShortlist }
	if err := json.Unmarshal(raw, &results); err != nil || len(results.Forums) != 1 || results.Forums[0].Items[0].Votes != 1 ||
		results.Forums[0].Items[0].Rank != 1 || results.Forums[0].Items[1].Votes != 0 {
		t.Errorf("results JSON %s (%v)", raw, err)
	}
	for _, s := range append(students, teacher) {
		if strings.Contains(string(raw), s.pid()) {
			t.Errorf("a participant id in the results JSON")
		}
	}
}
