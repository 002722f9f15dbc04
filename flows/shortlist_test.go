package flows_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
)

// shortlistTeacher is a teacher (in lang) whose forum, picking its
// shortlist of at most three items, has ten ideas: two pages on the screen.
func shortlistTeacher(t *testing.T, lang string) *student {
	s := newTeacher(t)
	s.hint = lang
	s.forums = []flows.Forum{{ID: 70, Code: "mine", ShortCode: "M1NE8B70", Name: "8.B – ZŠ Komenského", Phase: flows.PhaseShortlisting, OwnerID: "pid-teacher", ShortlistSize: 3, VotesPerParticipant: 2},
		{ID: 71, Code: "theirs", Name: "9.A", Phase: flows.PhaseShortlisting, OwnerID: "pid-other", ShortlistSize: 10}}
	titles := []string{"Benches by the pond", "Shade in the schoolyard", "Trees for shade", "More shade, please", "Water fountain",
		"Bike racks", "Quiet room", "Safer crossing", "Longer lunch break", "Recycling bins"}
	categories := []string{"environment", "environment", "environment", "environment", "public_space", "transport", "school", "transport", "school", "environment"}
	for i, title := range titles {
		c := flows.ShortlistCandidate{Ref: fmt.Sprintf("N-%04d", i+1), Title: title, Category: categories[i], Language: "en"}
		switch i % 3 {
		case 0:
			c.Place = "Park by the pond"
		case 1:
			c.Pinned = true
		}
		if i == 1 {
			c.Similar = 2
		}
		if i == 3 {
			c.Similar = 1
		}
		s.candidates = append(s.candidates, c)
	}
	return s
}

// A teacher picks the shortlist in the chat, in Czech and English: the
// screen from the card, an idea added with one tap, the next page and
// back, three ideas picked and one unpicked, merged under a typed title
// (one too long first) and description, a fourth item refused (the
// shortlist is full), an item removed after asking, the merged title's
// description skipped on another merge, a button of another teacher's
// forum, and the screen once voting has begun.
func TestTranscriptShortlist(t *testing.T) {
	for _, lang := range []string{"cs", "en"} {
		t.Run(lang, func(t *testing.T) {
			s := shortlistTeacher(t, lang)
			s.command(flows.CommandLanguage)
			s.tap(s.label("lang." + lang))
			s.press("|fc|70:new")
			s.tap(s.label("button.shortlist"))
			s.tap("➕ N-0001")
			s.tap(s.label("button.page_next"))
			s.tap(s.label("button.page_previous"))
			s.tap("☐ N-0002")
			s.tap("☐ N-0003")
			s.tap("☐ N-0004")
			s.tap("☑️ N-0004")
			s.tap(s.render(flows.Msg{Key: "shortlist.merge_button", Count: &[]int{2}[0]}))
			s.text(strings.Repeat("Shade ", 20))
			s.text("Shade in the schoolyard")
			s.text("Trees and sails over the benches.")
			s.tap("➕ N-0005")
			s.tap("➕ N-0006") // a fourth item: the shortlist is full
			s.tap("🗑 1")
			s.tap(s.label("shortlist.remove_no"))
			s.tap("🗑 1")
			s.tap(s.label("shortlist.remove_yes"))
			s.tap("☐ N-0006")
			s.tap("☐ N-0007")
			s.tap(s.render(flows.Msg{Key: "shortlist.merge_button", Count: &[]int{2}[0]}))
			s.text("A calm corner")
			s.tap(s.label("button.skip"))
			s.press("|sl|71:o") // another teacher's forum
			s.forums[0].Phase = flows.PhaseVoting
			s.press("|fc|70:new")
			s.tap(s.label("button.shortlist"))
			golden(t, "shortlist."+lang, s.log.String())

			var got []string
			for _, it := range s.items {
				got = append(got, fmt.Sprintf("%d:%s:%v", it.Position, it.Text(lang).Title, it.Ideas))
			}
			want := []string{"1:Shade in the schoolyard:[N-0002 N-0003]", "2:Water fountain:[N-0005]", "3:A calm corner:[N-0006 N-0007]"}
			if !slices.Equal(got, want) {
				t.Errorf("shortlist %q, want %q", got, want)
			}
			if it := s.items[0]; it.Language != lang || it.Texts[lang].Description != "Trees and sails over the benches." {
				t.Errorf("the merged item is in the teacher's words and language: %+v", it)
			}
		})
	}
}

// Every button of the screen is the teacher's and staff's only, for
// forums they may manage; a screen's buttons do nothing for another forum's
// screen, and stray text while no question is asked is not taken as a title.
func TestShortlistButtonsAreCheckedEveryTime(t *testing.T) {
	s := shortlistTeacher(t, "en")
	s.press("|sl|70:o")
	for _, forged := range []string{"|sl|70", "|sl|x:o", "|sl|70:o:-1", "|sl|70:m", "|sl|70:r:x", "|sl|70:s", "|sl|70:zz", "|sl|72:t:N-0001"} {
		if res := s.press(forged); len(res.Effects) != 0 || s.keys()[0] != "error.stale_button" {
			t.Errorf("%q: effects %+v, replies %v", forged, res.Effects, s.keys())
		}
	}
	if res := s.press("|sl|71:a:N-0001"); len(s.items) != 0 || s.keys()[0] != "forum.not_yours" || len(res.Effects) != 1 {
		t.Errorf("another teacher's forum: items %v, replies %v", s.items, s.keys())
	}
	s.state.Shortlist = nil

	student := shortlistTeacher(t, "en")
	student.actor = flows.Actor{}
	for _, data := range []string{"|sl|70:o", "|sl|70:a:N-0001", "|sl|70:y:201"} {
		if res := student.press(data); len(res.Effects) != 0 || student.keys()[0] != "error.stale_button" {
			t.Errorf("%q by a student: %+v %v", data, res.Effects, student.keys())
		}
	}

	staff := shortlistTeacher(t, "en")
	staff.actor, staff.pid = flows.Actor{Role: flows.RoleStaff}, "pid-staff"
	staff.press("|sl|71:a:N-0001")
	if len(staff.items) != 1 {
		t.Errorf("staff may shortlist in any forum: %v", staff.keys())
	}

	// A teacher who lost the role mid-title is told so; the title is not taken.
	s.press("|sl|70:o")
	s.press("|sl|70:t:N-0001")
	s.press("|sl|70:t:N-0002")
	s.press("|sl|70:m")
	s.actor = flows.Actor{}
	s.text("A title")
	if s.keys()[0] != "error.not_allowed" || s.state.Shortlist != nil || s.state.Pending != flows.PendingNone || len(s.items) != 0 {
		t.Errorf("after the role ended: %v %+v", s.keys(), s.state)
	}
	// A merge left at its description: Skip on it is stale once another
	// button of the screen was tapped.
	s.actor = flows.Actor{Role: flows.RoleTeacher}
	s.press("|sl|70:o")
	s.press("|sl|70:t:N-0001")
	s.press("|sl|70:t:N-0002")
	s.press("|sl|70:m")
	s.text("Two in one")
	s.press("|sl|70:o:1")
	if res := s.press("|sl|70:s"); len(res.Effects) != 0 || len(s.items) != 0 || s.keys()[0] != "error.stale_button" {
		t.Errorf("a stale Skip: %+v %v", res.Effects, s.keys())
	}
	for _, data := range []string{"|sl|70:o:0", "|sl|70:t:N-0009", "|sl|70:a:N-0009"} {
		if len(data) > 64 {
			t.Errorf("%q is over Telegram's 64 bytes", data)
		}
	}
}
