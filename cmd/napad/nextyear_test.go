package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
)

// Next year's forum: last year's forum of Kolín has a voted shortlist and
// the school's public answers (from the CLI, in Czech and English); staff
// create this year's forum with --previous; a student opening the new link
// sees, after the welcome, what became of last year's chosen items, the
// answers in their language when written in it, else as written. A forum
// of another town cannot follow it.
func TestE2ENextYear(t *testing.T) {
	a := newApp(t, false)
	ctx := context.Background()
	last := a.forum("7.B – ZŠ Komenského 2025")
	titles := []string{"Lavičky na dvoře", "Pítko na chodbě", "Delší přestávky"}
	var refs []string
	for i, title := range titles {
		ref, err := a.db.Submit(ctx, flows.Idea{
			DraftID: fmt.Sprint("d", i), ParticipantID: fmt.Sprint("p", i), ForumID: last.ID, Language: "cs",
			Scope: flows.ScopeSchool, Improve: "Něco", Title: title, Description: "Popis", Category: "school",
			WantsToHelp: "no", SubmittedAt: time.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	for _, ref := range refs {
		a.cli(t, "forum", "shortlist", last.Code, "add", ref)
	}
	a.cli(t, "forum", "shortlist", last.Code, "text", "1", "--lang", "en", "--title", "Benches in the yard")
	a.cli(t, "forum", "phase", last.Code, flows.PhaseShortlisting)
	a.cli(t, "forum", "phase", last.Code, flows.PhaseVoting)
	items, err := a.db.Shortlist(ctx, last.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Benches 2 votes, the fountain 1, longer breaks none: not listed.
	for voter, item := range map[string]int{"p0": 0, "p1": 0, "p2": 1} {
		if outcome, _, err := a.db.Vote(ctx, last.ID, items[item].ID, voter, "cs", true, time.Now()); err != nil || outcome != flows.VoteRecorded {
			t.Fatalf("vote: %s %v", outcome, err)
		}
	}
	a.cli(t, "forum", "phase", last.Code, flows.PhaseResults)
	a.cli(t, "forum", "shortlist", last.Code, "answer", "1", "--status", flows.StatusDone, "--answer", "Lavičky stojí od září.", "--lang", "cs")
	a.cli(t, "forum", "shortlist", last.Code, "answer", "1", "--status", flows.StatusDone, "--answer", "The benches have stood there since September.", "--lang", "en")
	a.cli(t, "forum", "shortlist", last.Code, "answer", "2", "--status", flows.StatusNotFeasible, "--answer", "Rozvody vody to letos nedovolí.")

	out := a.cli(t, "forum", "create", "--name", "7.B – ZŠ Komenského 2026", "--town", "Kolín", "--previous", last.Code)
	code := strings.TrimSpace(strings.SplitN(strings.SplitN(out, "Join code:", 2)[1], "\n", 2)[0])
	now, _, err := a.db.ForumByCode(ctx, code)
	if err != nil || now.PreviousID != last.ID {
		t.Fatalf("%s follows %d (%v), want %d\n%s", code, now.PreviousID, err, last.ID, out)
	}
	var refused strings.Builder
	if err := run(ctx, []string{"forum", "create", "--name", "8.A", "--town", "Praha", "--previous", last.Code}, a.getenv, &refused, &refused); err == nil {
		t.Error("a forum of Praha follows a forum of Kolín")
	}
	if err := run(ctx, []string{"forum", "set", last.Code, "--previous", code}, a.getenv, &refused, &refused); err == nil {
		t.Error("last year's forum follows this year's: a cycle")
	}

	// Unlinked and linked again with forum set.
	a.cli(t, "forum", "set", code, "--previous", "none")
	if now, _, _ := a.db.ForumByCode(ctx, code); now.PreviousID != 0 {
		t.Errorf("after --previous none it follows %d", now.PreviousID)
	}
	a.cli(t, "forum", "set", code, "--previous", last.Code)

	for lang, want := range map[string][]string{
		"en": {"Benches in the yard – Done ✅", "The benches have stood there since September.", "Pítko na chodbě – Not possible this time", "Rozvody vody to letos nedovolí."},
		"cs": {"Lavičky na dvoře – Hotovo ✅", "Lavičky stojí od září.", "Pítko na chodbě – Tentokrát to nejde"},
	} {
		// The phone speaks lang: the first question is the privacy notice,
		// not the language.
		s := a.student(lang)
		s.u.SendText("/start " + code)
		welcome := s.expect("join.welcome")
		list := s.expect("lastyear.intro")
		ask := s.expect("privacy.notice")
		if sent := a.fake.Sent(s.u.ID()); len(sent) != 3 || sent[0].Text != welcome.Text || sent[1].Text != list.Text || sent[2].Text != ask.Text {
			t.Errorf("%s: want the welcome, last year, then the first question; got %d messages:\n%v", lang, len(sent), sent)
		}
		for _, w := range want {
			if !strings.Contains(list.Text, w) {
				t.Errorf("%s: last year's list lacks %q:\n%s", lang, w, list.Text)
			}
		}
		if strings.Contains(list.Text, titles[2]) || !strings.Contains(list.Text, last.Name) {
			t.Errorf("%s: last year's list:\n%s", lang, list.Text)
		}
	}
}
