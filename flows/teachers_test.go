package flows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
)

func newTeacher(t *testing.T) *student {
	s := newStudent(t, "en")
	s.who, s.pid = "teacher", "pid-teacher"
	s.actor = flows.Actor{Role: flows.RoleTeacher, Town: "Kolín"}
	return s
}

// What a teacher sees: setting up a forum, its card, closing it.
func TestTranscriptTeacher(t *testing.T) {
	s := newTeacher(t)
	s.do("opens the invite link", flows.Input{What: flows.InviteOpened{Outcome: flows.InviteOutcome{Result: "accepted", Town: "Kolín"}}})
	s.command(flows.CommandNewForum)
	s.text("8.B – ZŠ Komenského")
	s.do("sends a sticker", flows.Input{What: flows.Media{Kind: "sticker"}})
	s.text("ZŠ Komenského")
	s.tap("Use “Kolín”")
	s.tap(s.label("scope.forum_school"))
	s.text("1.1.2020")
	s.text("15.12.")
	for _, lang := range flows.Languages[2:] { // the forum offers Czech and English only
		s.tap("✅ " + s.label("lang."+lang))
	}
	s.tap(s.label("button.done"))
	s.tap(s.label("button.create_forum"))
	s.stats = flows.ForumStats{Joined: 3, InProgress: 2, Submitted: 1, LastIdea: clock.Add(-4 * time.Minute)}
	s.command(flows.CommandForums)
	s.tap("📋 8.B – ZŠ Komenského")
	s.tap(s.label("button.refresh"))
	s.tap(s.label("button.show_qr"))
	s.tap(s.label("button.close_forum"))
	s.tap(s.label("button.closing_date"))
	s.tap(s.label("button.keep_closing_date"))
	s.tap(s.label("button.closing_date"))
	s.text("soon")
	s.text("20.12.2026")
	golden(t, "teacher.en", s.log.String())

	f := s.forums[0]
	if f.Scope != "school" || !slices.Equal(f.Languages, []string{"cs", "en"}) || f.Phase != flows.PhaseClosed || f.Town != "Kolín" || f.OwnerID != "pid-teacher" {
		t.Errorf("forum %+v", f)
	}
	if want := time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC); !f.ClosesAt.Equal(want) {
		t.Errorf("closes at %v, want %v", f.ClosesAt, want)
	}
}

func TestStudentsCannotUseTeacherCommandsOrButtons(t *testing.T) {
	s := newStudent(t, "en")
	s.join(testForum)
	for _, cmd := range []string{flows.CommandNewForum, flows.CommandForums, flows.CommandInviteTeacher} {
		res := s.command(cmd)
		if len(res.Effects) != 0 || s.state.Setup != nil || s.keys()[0] != "about.help" {
			t.Errorf("/%s by a student: effects %v, replies %v", cmd, res.Effects, s.keys())
		}
	}
	for _, data := range []string{"|fc|7", "|fo|7:0", "|fq|7", "|fd|7", "1|fs|school", "1|fn|create"} {
		res := s.press(data)
		if len(res.Effects) != 0 || s.keys()[0] != "error.stale_button" {
			t.Errorf("%q by a student: effects %v, replies %v", data, res.Effects, s.keys())
		}
	}
	// A teacher may not invite teachers; staff may.
	teacher := newTeacher(t)
	if res := teacher.command(flows.CommandInviteTeacher); len(res.Effects) != 0 {
		t.Error("a teacher created an invite")
	}
	staff := newStudent(t, "cs")
	staff.actor = flows.Actor{Role: flows.RoleStaff}
	staff.do("/invite_teacher", flows.Input{What: flows.CommandSent{Name: flows.CommandInviteTeacher}})
	if staff.keys()[0] != "invite.need_town" {
		t.Errorf("staff without a town: %v", staff.keys())
	}
	res := staff.do("/invite_teacher Kolín", flows.Input{What: flows.CommandSent{Name: flows.CommandInviteTeacher, Arg: "Kolín"}})
	if len(res.Effects) != 1 || res.Effects[0] != flows.Effect(flows.CreateInvite{Town: "Kolín"}) || staff.keys()[0] != "invite.created" {
		t.Errorf("staff invite: %v %v", res.Effects, staff.keys())
	}
}

func TestTeacherManagesOnlyOwnForums(t *testing.T) {
	s := newTeacher(t)
	s.forums = []flows.Forum{{ID: 70, Code: "theirs", Name: "Not mine", Phase: flows.PhaseCollecting, OwnerID: "pid-other"}}
	res := s.press("|fo|70:0")
	if len(res.Effects) != 1 || res.Effects[0] != flows.Effect(flows.LoadCard{ForumID: 70}) {
		t.Fatalf("first the forum is loaded: %+v", res.Effects)
	}
	if s.forums[0].Phase == flows.PhaseClosed || s.keys()[0] != "forum.not_yours" {
		t.Errorf("closed another teacher's forum: %+v, replies %v", s.forums[0], s.keys())
	}
	s.actor = flows.Actor{Role: flows.RoleStaff}
	s.press("|fo|70:0")
	if s.forums[0].Phase != flows.PhaseClosed {
		t.Error("staff could not close a forum")
	}
}

func TestForumSettingsShapeTheStudentConversation(t *testing.T) {
	school := testForum
	school.Scope, school.Languages = "school", []string{"cs", "en"}
	s := newStudent(t, "uk")
	s.join(school)
	if s.state.Lang != "cs" {
		t.Errorf("a language the forum does not offer: %s", s.state.Lang)
	}
	var offered []string
	for _, row := range s.last[len(s.last)-1].Buttons {
		for _, b := range row {
			offered = append(offered, s.render(b.Label))
		}
	}
	if slices.Contains(offered, "🇺🇦 Українська") || !slices.Contains(offered, "🇬🇧 English") {
		t.Errorf("language buttons %v", offered)
	}
	if res := s.press(s.state.Draft + "|lang|uk"); len(res.Replies) == 0 || s.keys()[0] != "error.stale_button" {
		t.Errorf("a forged language choice: %v", s.keys())
	}
	s.tap("🇬🇧 English")
	s.tap(s.label("privacy.ok"))
	if s.state.Step != flows.StepWorksWell || s.state.Answers[flows.StepScope].Text != "school" {
		t.Fatalf("scope not skipped: %s %v", s.state.Step, s.state.Answers)
	}
	s.tap(s.label("button.back"))
	if s.state.Step != flows.StepPrivacy {
		t.Errorf("back from the first question goes to %s", s.state.Step)
	}

	// One language only: no language question at all.
	czech := testForum
	czech.ID, czech.Languages = 9, []string{"cs"}
	s2 := newStudent(t, "en")
	s2.join(czech)
	if s2.state.Lang != "cs" || s2.state.Step != flows.StepPrivacy {
		t.Errorf("single-language forum: lang %s step %s", s2.state.Lang, s2.state.Step)
	}

	// Past its closing date, a forum takes no more ideas: the student joins
	// to hear when voting opens.
	past := testForum
	past.ID, past.ClosesAt = 11, clock.Add(-time.Hour)
	s3 := newStudent(t, "en")
	s3.join(past)
	if s3.keys()[0] != "phase.shortlisting" || !s3.state.Joined() || s3.state.InProgress() {
		t.Errorf("past closing date: %v", s3.keys())
	}
}

func TestClosingDays(t *testing.T) {
	cases := map[string]string{
		"15.12.2026": "2026-12-15", "15. 12. 2026": "2026-12-15", "2026-12-15": "2026-12-15",
		"15/12/2026": "2026-12-15", "28.11.2026": "2026-11-28", "15.12.": "2026-12-15", "5.1.": "2027-01-05",
		"15.12": "2026-12-15", "15.12.26": "2026-12-15", "15.12.2026.": "2026-12-15", "15 12 2026": "2026-12-15",
		"31.2.2026": "error.date", "tomorrow": "error.date", "": "error.date",
		"27.11.2026": "error.date_past", "1.1.2028": "error.date_far",
	}
	for in, want := range cases {
		s := newTeacher(t)
		s.command(flows.CommandNewForum)
		s.state.Setup.Step = flows.SetupCloses
		s.text(in)
		got := s.state.Setup.ClosesOn
		if got == "" {
			got = s.keys()[0]
		}
		if got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestRemovingAClosingDate(t *testing.T) {
	s := newTeacher(t)
	s.forums = []flows.Forum{{ID: 70, Code: "mine", Name: "Mine", Phase: flows.PhaseCollecting, OwnerID: "pid-teacher", ClosesAt: clock.Add(48 * time.Hour)}}
	s.press("|fd|70")
	if s.state.Pending != flows.PendingClosingDate {
		t.Fatalf("pending %q", s.state.Pending)
	}
	s.tap(s.label("button.no_closing_date"))
	if !s.forums[0].ClosesAt.IsZero() || s.state.Pending != flows.PendingNone {
		t.Errorf("closing date %v, pending %q", s.forums[0].ClosesAt, s.state.Pending)
	}
}

func TestNoNewIdeaOnceTheForumClosed(t *testing.T) {
	s := reviewReady(t)
	s.tap(s.label("button.submit"))
	closed := testForum
	closed.Phase, closed.ReopensTo = flows.PhaseClosed, flows.PhaseCollecting
	s.forums = []flows.Forum{closed}
	res := s.tap(s.label("button.new_idea"))
	if res.Effects[0] != flows.Effect(flows.CheckForum{ForumID: testForum.ID}) || s.keys()[0] != "join.closed" || s.state.InProgress() {
		t.Fatalf("effects %+v replies %v state %+v", res.Effects, s.keys(), s.state)
	}
	s.command(flows.CommandNew)
	if s.keys()[0] != "join.closed" {
		t.Errorf("/new in a closed forum: %v", s.keys())
	}
	s.forums[0].Phase = flows.PhaseCollecting
	s.command(flows.CommandNew)
	if !s.state.InProgress() {
		t.Errorf("/new in a reopened forum: %v", s.keys())
	}
}

func TestUnfinishedSetupDoesNotCatchAnswers(t *testing.T) {
	s := newTeacher(t)
	s.forums = []flows.Forum{{ID: 70, Code: "mine", Name: "Mine", Phase: flows.PhaseCollecting, OwnerID: "pid-teacher"}}
	s.command(flows.CommandNewForum)
	s.press("|fd|70") // the closing date, from a card further up
	s.text("20.12.2026")
	if s.state.Setup != nil || s.forums[0].ClosesAt.IsZero() {
		t.Fatalf("the date went elsewhere: setup %+v, forum %+v", s.state.Setup, s.forums[0])
	}
	s.command(flows.CommandNewForum)
	s.join(testForum) // the teacher tries the students' link
	s.tap(s.label("privacy.ok"))
	s.tap(s.label("scope.town"))
	s.text("The park")
	if s.state.Setup != nil || s.state.Answers[flows.StepWorksWell].Text != "The park" {
		t.Fatalf("an idea's answer went to the set-up: %+v", s.state)
	}
	s.press("|fd|70")
	s.command(flows.CommandForums)
	s.text("hello")
	if s.keys()[0] == "error.date" {
		t.Error("a closing-date question survived /forums")
	}
}

func TestClosingDayInTheCityTimeZone(t *testing.T) {
	for _, zone := range []string{"Europe/Prague", "Europe/Oslo", "America/New_York", "Pacific/Auckland"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		// Late evening: in zones west of UTC it is already tomorrow in UTC.
		now := time.Date(2026, 11, 28, 23, 30, 0, 0, loc)
		s := newTeacher(t)
		s.command(flows.CommandNewForum)
		s.state.Setup.Step = flows.SetupCloses
		st := flows.Handle(s.state, flows.Input{What: flows.Text{Text: "28.11.2026"}, Actor: s.actor, EventID: "9"}, now).State
		if st.Setup.ClosesOn != "2026-11-28" {
			t.Errorf("%s: today was refused (%q)", zone, st.Setup.ClosesOn)
		}
	}
}

func TestHandleDoesNotChangeATeachersState(t *testing.T) {
	s := newTeacher(t)
	s.command(flows.CommandNewForum)
	s.text("Name")
	s.text("School")
	s.text("Town")
	s.tap(s.label("scope.forum_both"))
	s.tap(s.label("button.no_closing_date"))
	before := s.state
	langs := append([]string(nil), before.Setup.Languages...)
	flows.Handle(before, flows.Input{What: flows.Tap{Data: s.buttonData("✅ 🇳🇴 Norsk")}, Actor: s.actor}, clock)
	if !slices.Equal(before.Setup.Languages, langs) || before.Setup.Step != flows.SetupLanguages {
		t.Fatalf("Handle changed the set-up it was given: %+v", before.Setup)
	}
}

func TestOnlyStaffReviewAndExport(t *testing.T) {
	for _, actor := range []flows.Actor{{}, {Role: flows.RoleTeacher, Town: "Kolín"}} {
		s := newStudent(t, "en")
		s.actor = actor
		for _, cmd := range []string{flows.CommandReview, flows.CommandExport} {
			if res := s.command(cmd); len(res.Effects) != 0 || s.keys()[0] != "about.help" {
				t.Errorf("%q /%s: %+v %v", actor.Role, cmd, res.Effects, s.keys())
			}
		}
		for _, data := range []string{"|rv|N-AAAA:accept", "|rv|N-AAAA:hide_abusive", "|ex|csv", "|exf|csv:0"} {
			if res := s.press(data); len(res.Effects) != 0 {
				t.Errorf("%q pressed %q: %+v", actor.Role, data, res.Effects)
			}
		}
	}
	staff := newStudent(t, "en")
	staff.actor = flows.Actor{Role: flows.RoleStaff}
	if res := staff.command(flows.CommandReview); len(res.Effects) != 1 || !isNextReview(res.Effects[0]) {
		t.Errorf("staff /review: %+v", res.Effects)
	}
	if res := staff.press("|rv|N-AAAA:hide_everything"); len(res.Effects) != 0 {
		t.Errorf("an unknown hide reason: %+v", res.Effects)
	}
	if res := staff.press("|exf|pdf:0"); len(res.Effects) != 0 {
		t.Errorf("an unknown format: %+v", res.Effects)
	}
	staff.ideas = []*flows.IdeaView{{Item: flows.ReviewItem{Ref: "N-AAAA"}}, {Item: flows.ReviewItem{Ref: "N-BBBB"}}}
	staff.press("|rv|N-AAAA:dup")
	if res := staff.text("n-bbbb"); len(res.Effects) != 1 || res.Effects[0] != flows.Effect(flows.CheckOriginal{Ref: "N-BBBB"}) {
		t.Errorf("duplicate of: %+v", res.Effects)
	}
	res := staff.text("Both ask for the same benches.")
	want := flows.StoreReview{Decision: flows.ReviewDecision{Ref: "N-AAAA", Decision: flows.DecisionDuplicate, DuplicateOf: "N-BBBB",
		Answer: "Both ask for the same benches."}}
	if len(res.Effects) != 1 || res.Effects[0] != flows.Effect(want) {
		t.Errorf("duplicate: %+v", res.Effects)
	}
}

func TestDuplicateQuestionAnswersBadInput(t *testing.T) {
	staff := newStudent(t, "en")
	staff.actor = flows.Actor{Role: flows.RoleStaff}
	staff.press("|rv|N-AAAA:dup")
	res := staff.do("sends a sticker", flows.Input{What: flows.Media{Kind: "sticker"}})
	if keys := staff.keys(); len(res.Effects) != 0 || len(keys) != 2 || keys[0] != "error.text_expected_formal" || keys[1] != "staffreview.dup_ask" {
		t.Errorf("sticker: %v %+v", keys, res.Effects)
	}
}

func isNextReview(e flows.Effect) bool {
	_, ok := e.(flows.NextReview)
	return ok
}

// The forum card says only roughly when the last idea came: a teacher who
// watched the class must not tell from it who sent what.
func TestForumCardSaysOnlyRoughlyWhenTheLastIdeaCame(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC) // a Thursday
	for last, want := range map[time.Time]string{
		now.Add(-4 * time.Minute):                      "forum.last_today",
		time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC):   "forum.last_today",
		time.Date(2026, 12, 2, 23, 59, 0, 0, time.UTC): "forum.last_week",
		time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC):  "forum.last_week",
		time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC): "forum.last_earlier",
	} {
		card := flows.ForumCard{Forum: flows.Forum{ID: 1, Code: "c", Name: "F", Phase: flows.PhaseCollecting}, Stats: flows.ForumStats{Submitted: 1, LastIdea: last}}
		res := flows.Handle(flows.State{Lang: "en"}, flows.Input{What: flows.CardReloaded{Card: card}}, now)
		if got := res.Replies[0].Text.Data["Last"].(flows.Msg).Key; got != want {
			t.Errorf("last idea at %s: %s, want %s", last, got, want)
		}
	}
}

// A teacher sets the days voting opens and closes from the card, typed as
// the closing date is: a day that is no day is asked again, the days in
// the wrong order are refused, "keep" and "no date" do what they say.
func TestTeacherSetsVotingDaysFromTheCard(t *testing.T) {
	s := newTeacher(t)
	s.forums = []flows.Forum{{ID: 70, Code: "mine", Name: "Mine", Phase: flows.PhaseShortlisting, OwnerID: "pid-teacher", ShortlistSize: 10, VotesPerParticipant: 2}}
	s.press("|fc|70")
	s.tap(s.label("button.vote_opens"))
	if s.keys()[0] != "forum.vote_opens_ask" {
		t.Fatalf("asks: %v", s.keys())
	}
	s.text("32.12.")
	if s.keys()[0] != "error.date" || s.state.Pending != flows.PendingVoteOpens {
		t.Fatalf("a wrong day: %v %q", s.keys(), s.state.Pending)
	}
	s.text("16.12.")
	f := &s.forums[0]
	if want := time.Date(2026, 12, 16, 0, 0, 0, 0, time.UTC); !f.VoteOpensAt.Equal(want) || s.keys()[0] != "forum.card" {
		t.Fatalf("opens %v, want %v; %v", f.VoteOpensAt, want, s.keys())
	}
	s.tap(s.label("button.vote_closes"))
	s.text("10.12.2026")
	if s.keys()[0] != "forum.vote_days_order" || !f.VoteClosesAt.IsZero() {
		t.Errorf("closing before opening: %v %v", s.keys(), f.VoteClosesAt)
	}
	s.tap(s.label("button.vote_closes"))
	s.text("20.12.2026")
	if want := time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC); !f.VoteClosesAt.Equal(want) {
		t.Errorf("closes %v, want %v", f.VoteClosesAt, want)
	}
	s.tap(s.label("button.vote_opens"))
	s.tap(s.label("button.keep_closing_date"))
	if s.keys()[0] != "forum.vote_day_unchanged" || f.VoteOpensAt.IsZero() {
		t.Errorf("keep: %v", s.keys())
	}
	s.tap(s.label("button.vote_opens"))
	s.tap(s.label("button.no_vote_date"))
	if !f.VoteOpensAt.IsZero() {
		t.Errorf("no date: %v", f.VoteOpensAt)
	}
	// In results no voting day changes; a student's forged button does nothing.
	f.Phase = flows.PhaseResults
	s.press("|fc|70")
	if slices.ContainsFunc(s.last[0].Buttons, func(r []flows.Button) bool { return strings.Contains(r[0].Data, "|fv|") }) {
		t.Error("voting days offered in results")
	}
	s.actor = flows.Actor{}
	if res := s.press("|fv|70:c"); len(res.Effects) != 0 || s.keys()[0] != "error.stale_button" {
		t.Errorf("a student: %+v %v", res.Effects, s.keys())
	}
}
