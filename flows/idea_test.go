package flows_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
)

// A whole idea, from the join link to the confirmation, in every language.
func TestTranscriptWholeIdea(t *testing.T) {
	for _, lang := range flows.Languages {
		t.Run(lang, func(t *testing.T) {
			s := newStudent(t, lang)
			s.join(testForum)
			for s.state.Step != flows.StepReview {
				step, _ := flows.StepByID(s.state.Step)
				a := flowtest.AnswerFor(step, lang)
				if text, ok := wholeIdeaTexts[step.ID]; ok {
					a.Text = text
				}
				if a.Photo != "" {
					a.Photo = "AgACAgQAAxkBAAIB"
				}
				s.act(a)
			}
			s.tap(s.label("button.submit"))
			s.log.WriteString(s.counts())
			golden(t, "whole_idea."+lang, s.log.String())

			if len(s.stored) != 1 {
				t.Fatalf("stored %d ideas, want 1", len(s.stored))
			}
			got := s.stored[0]
			want := flows.Idea{
				DraftID: "1001", ForumID: 7, Language: lang, Scope: "both",
				WorksWell:   wholeIdeaTexts[flows.StepWorksWell],
				Improve:     wholeIdeaTexts[flows.StepImprove],
				Title:       wholeIdeaTexts[flows.StepTitle],
				Description: wholeIdeaTexts[flows.StepDescription],
				Category:    "public_space", PhotoFileID: "AgACAgQAAxkBAAIB", WantsToHelp: "yes", SubmittedAt: clock,
			}
			for _, q := range flows.MoreQuestions() { // questions without a field of their own
				if q.ID == flows.StepAge { // not asked without an age rule
					continue
				}
				if want.More == nil {
					want.More = map[string]string{}
				}
				want.More[string(q.ID)] = flowtest.AnswerFor(q, lang).Text
			}
			if got.Latitude == nil || *got.Latitude != 50.0281 || got.Longitude == nil || *got.Longitude != 15.2003 {
				t.Errorf("place = %v, %v", got.Latitude, got.Longitude)
			}
			got.Latitude, got.Longitude = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("stored\n%+v\nwant\n%+v", got, want)
			}
			if s.state.Step != flows.StepDone || s.state.Answers != nil || s.state.LastRef != "N-T001" {
				t.Errorf("after sending: step %q, answers %v, ref %q", s.state.Step, s.state.Answers, s.state.LastRef)
			}
		})
	}
}

// wholeIdeaTexts are what the whole idea's student writes, in every language.
var wholeIdeaTexts = map[flows.StepID]string{
	flows.StepWorksWell:   "The new library and the teachers who listen.",
	flows.StepImprove:     "There is nowhere to sit outside during breaks.",
	flows.StepTitle:       "Benches in the school yard",
	flows.StepDescription: "Put five benches and a little shade under the big linden tree, so we can sit outside between lessons.",
}

// A bumpy ride: wrong kinds of input, going back, skipping, editing from the
// review, a failed save, and a second idea.
func TestTranscriptBumpy(t *testing.T) {
	s := newStudent(t, "de-DE") // a German phone: English, and the language is asked
	s.text("hello?")
	s.join(flows.Forum{ID: 9, Name: "Old forum", Phase: flows.PhaseClosed, ReopensTo: flows.PhaseCollecting})
	s.do("opens a link with an unknown code", flows.Input{What: flows.JoinLinkOpened{}})
	s.join(testForum)
	s.text("English please")
	s.tap(s.label("lang.en"))
	s.tap(s.label("button.back"))
	s.tap(s.label("lang.en"))
	s.tap(s.label("privacy.ok"))
	s.tap(s.label("scope.school"))
	s.do("sends a sticker", flows.Input{What: flows.Media{Kind: "sticker"}})
	s.tap(s.label("button.skip"))
	s.text("   \u200b  ")
	s.text("More plants in the classrooms")
	s.text(strings.Repeat("A very long title ", 7))
	s.text("Plants 🌱")
	s.do("sends a voice message", flows.Input{What: flows.Media{Kind: "voice"}})
	s.text("Every classroom gets three plants that students water.")
	s.text("environment")
	s.tap(s.label("cat.environment"))
	s.do("shares a live location", flows.Input{What: flows.Location{Lat: 50.1, Lon: 14.4, Live: true}})
	s.text("Classroom 2.14")
	s.text("no photo sorry")
	s.tap(s.label("button.skip"))
	s.tap(s.label("help.maybe"))
	s.tap(s.label("edit.title"))
	s.tap(s.label("button.back"))
	s.tap(s.label("edit.title"))
	s.text("Green classrooms 🌱")
	s.failDB = true
	s.tap(s.label("button.submit"))
	s.failDB = false
	s.tap(s.label("button.try_again"))
	s.tap(s.label("button.new_idea"))
	s.tap(s.label("scope.school"))
	s.text("Quiet room for breaks")
	s.tap(s.label("button.cancel"))
	s.tap(s.label("button.no_continue"))
	s.command("cancel")
	s.tap(s.label("button.yes_delete"))
	s.text("hi again")
	s.command("language")
	s.tap(s.label("lang.cs"))
	s.command("help")
	golden(t, "bumpy.en", s.log.String())

	if len(s.stored) != 1 || s.stored[0].Title != "Green classrooms 🌱" || s.stored[0].PlaceText != "Classroom 2.14" ||
		s.stored[0].WorksWell != "" || s.stored[0].PhotoFileID != "" || s.stored[0].Scope != "school" {
		t.Errorf("stored %+v", s.stored)
	}
}

// Every question but the first has Back; Cancel comes once the student has
// written something (before, there is nothing to throw away); optional
// questions have Skip.
func TestEveryQuestionHasBackAndCancel(t *testing.T) {
	s := newStudent(t, "de") // a phone in a language not offered: every question comes
	s.join(testForum)
	written := false
	for _, step := range flows.IdeaSteps {
		if step.ID == flows.StepAge { // without an age rule (TestAge), not asked
			continue
		}
		if s.state.Step != step.ID {
			t.Fatalf("expected step %s, at %s", step.ID, s.state.Step)
		}
		var labels []string
		for _, r := range s.last {
			for _, row := range r.Buttons {
				for _, b := range row {
					labels = append(labels, s.render(b.Label))
				}
			}
		}
		if step.ID != flows.StepLanguage && !slices.Contains(labels, s.label("button.back")) {
			t.Errorf("step %s has no Back: %v", step.ID, labels)
		}
		if written != slices.Contains(labels, s.label("button.cancel")) {
			t.Errorf("step %s: written=%v but buttons %v", step.ID, written, labels)
		}
		if step.Optional != slices.Contains(labels, s.label("button.skip")) {
			t.Errorf("step %s: optional=%v but buttons %v", step.ID, step.Optional, labels)
		}
		// Answer it to get to the next one.
		switch step.Answer.Kind {
		case flows.ChoiceAnswer:
			s.tap(s.label(string(step.ID) + "." + step.Answer.Choices[0]))
		case flows.TextAnswer:
			s.text("something")
			written = true
		default:
			s.tap(s.label("button.skip"))
		}
	}
	if s.state.Step != flows.StepReview {
		t.Fatalf("after all questions at %s, want review", s.state.Step)
	}
}

func TestTextRules(t *testing.T) {
	cases := []struct {
		name    string
		at      flows.StepID
		input   flows.Input
		wantKey string // the problem reported, "" when accepted
		stored  string
	}{
		{"plain", flows.StepTitle, text("Benches"), "", "Benches"},
		{"trimmed", flows.StepTitle, text("  Benches \n"), "", "Benches"},
		{"empty", flows.StepTitle, text(""), "error.empty", ""},
		{"only spaces", flows.StepTitle, text(" \t\n "), "error.empty", ""},
		{"only zero-width", flows.StepTitle, text("\u200b\ufeff"), "error.empty", ""},
		{"control characters removed", flows.StepTitle, text("Ben\x00ch\x1bes"), "", "Benches"},
		{"bidi override removed", flows.StepTitle, text("abc\u202edef"), "", "abcdef"},
		{"direction marks removed", flows.StepTitle, text("\u200eab\u200fc\u061c"), "", "abc"},
		{"invisible operators removed", flows.StepTitle, text("a\u2061b\u2062c\u2063d\u2064"), "", "abcd"},
		{"tag characters removed", flows.StepTitle, text("hi\U000E0041\U000E007F"), "", "hi"},
		{"only tag characters", flows.StepTitle, text("\U000E0068\U000E0069"), "error.empty", ""},
		{"flag of Scotland kept", flows.StepTitle, text("🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F kilt"), "", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F kilt"},
		{"only Hangul fillers", flows.StepTitle, text("\u3164\u3164\u3164"), "error.empty", ""},
		{"only blank Braille", flows.StepTitle, text("\u2800 \u2800"), "error.empty", ""},
		{"Hangul filler is a space", flows.StepTitle, text("a\u3164b"), "", "a b"},
		{"emoji only", flows.StepTitle, text("🌳🪑"), "", "🌳🪑"},
		{"emoji with joiner kept", flows.StepTitle, text("👩‍🎓 club"), "", "👩‍🎓 club"},
		{"decomposed Czech is composed", flows.StepTitle, text("Lavic\u030ce"), "", "Lavičke"[:0] + "Lavič" + "e"},
		{"exactly 100", flows.StepTitle, text(strings.Repeat("č", 100)), "", strings.Repeat("č", 100)},
		{"101 is too long", flows.StepTitle, text(strings.Repeat("č", 101)), "error.too_long", ""},
		{"5000 characters", flows.StepDescription, text(strings.Repeat("x", 5000)), "error.too_long", ""},
		{"2000 fits the description", flows.StepDescription, text(strings.Repeat("x", 2000)), "", strings.Repeat("x", 2000)},
		{"sticker", flows.StepTitle, flows.Input{What: flows.Media{Kind: "sticker"}}, "error.text_expected", ""},
		{"photo for text", flows.StepImprove, flows.Input{What: flows.PhotoSent{FileID: "x"}}, "error.text_expected", ""},
		{"location for text", flows.StepImprove, flows.Input{What: flows.Location{Lat: 1, Lon: 1}}, "error.text_expected", ""},
		{"text for a choice", flows.StepCategory, text("nature"), "error.tap_button", ""},
		{"text for a place", flows.StepPlace, text("By the fountain"), "", "By the fountain"},
		{"sticker for a place", flows.StepPlace, flows.Input{What: flows.Media{Kind: "sticker"}}, "error.place_expected", ""},
		{"impossible coordinates", flows.StepPlace, flows.Input{What: flows.Location{Lat: 91, Lon: 10}}, "error.place_expected", ""},
		{"live location", flows.StepPlace, flows.Input{What: flows.Location{Lat: 50, Lon: 14, Live: true}}, "error.live_location", ""},
		{"text for a photo", flows.StepPhoto, text("here"), "error.photo_expected", ""},
		{"video for a photo", flows.StepPhoto, flows.Input{What: flows.Media{Kind: "video"}}, "error.photo_expected", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := atStep(tc.at)
			res := flows.Handle(st, tc.input, clock)
			if tc.wantKey == "" {
				if res.State.Step == tc.at {
					t.Fatalf("answer not accepted; replies %v", replyKeys(res))
				}
				if got := res.State.Answers[tc.at].Text; got != tc.stored {
					t.Errorf("stored %q, want %q", got, tc.stored)
				}
				return
			}
			if res.State.Step != tc.at {
				t.Fatalf("moved on to %s after a bad answer", res.State.Step)
			}
			if _, ok := res.State.Answers[tc.at]; ok {
				t.Errorf("a bad answer was stored")
			}
			keys := replyKeys(res)
			if len(keys) < 2 || keys[0] != tc.wantKey {
				t.Fatalf("replies %v, want %s then the question again", keys, tc.wantKey)
			}
			step := stepOf(tc.at)
			if !slices.Contains(keys, step.Question) {
				t.Errorf("the question %s was not repeated: %v", step.Question, keys)
			}
		})
	}
}

func TestTooLongSaysByHowMuch(t *testing.T) {
	res := flows.Handle(atStep(flows.StepTitle), text(strings.Repeat("a", 103)), clock)
	m := res.Replies[0].Text
	if m.Key != "error.too_long" || m.Count == nil || *m.Count != 3 || m.Data["Max"] != 100 {
		t.Fatalf("got %+v", m)
	}
}

func TestButtonsAreChecked(t *testing.T) {
	s := newStudent(t, "en")
	s.join(testForum)
	s.tap(s.label("privacy.ok"))
	s.tap(s.label("scope.town"))
	before := s.state

	forged := []string{
		"",
		"garbage",
		"|||",
		s.state.Draft + "|cat|pizza",      // not a choice of that question
		s.state.Draft + "|scope|school",   // a question already answered
		"999|works|x",                     // another idea's button
		s.state.Draft + "|edit|title",     // edit outside the review
		s.state.Draft + "|rev|submit",     // submit before the review
		s.state.Draft + "|cf|yes",         // confirming nothing
		s.state.Draft + "|nav|fly",        // unknown navigation
		"|pl|cs",                          // language pick without /language
		strings.Repeat("x", 65),           // longer than Telegram allows
		s.state.Draft + "|works|<script>", // odd characters
		s.state.Draft + "|nav|skip\n",     // a trailing newline
		s.state.Draft + "|" + string(flows.StepPlace) + "|x", // another question's step
	}
	for _, data := range forged {
		res := flows.Handle(before, flows.Input{What: flows.Tap{Data: data}, EventID: "5"}, clock)
		if res.State.Step != before.Step || len(res.State.Answers) != len(before.Answers) || res.State.Draft != before.Draft {
			t.Errorf("button %q changed the state: %+v", data, res.State)
		}
		if len(res.Effects) != 0 {
			t.Errorf("button %q caused effects", data)
		}
		keys := replyKeys(res)
		if len(keys) < 2 || keys[0] != "error.stale_button" || keys[1] != "works.ask_town" {
			t.Errorf("button %q: replies %v, want a polite note and the current question", data, keys)
		}
	}
}

func TestSubmitTwiceStoresOnce(t *testing.T) {
	s := reviewReady(t)
	submit := s.buttonData(s.label("button.submit"))
	first := s.press(submit)
	if len(first.Effects) != 1 {
		t.Fatalf("first tap: %d effects", len(first.Effects))
	}
	second := s.press(submit)
	if len(second.Effects) != 0 {
		t.Fatalf("second tap stored again")
	}
	if keys := s.keys(); keys[0] != "submit.already" {
		t.Errorf("second tap replies %v", keys)
	}
	if len(s.stored) != 1 {
		t.Errorf("stored %d", len(s.stored))
	}
}

func TestComingBackLater(t *testing.T) {
	s := newStudent(t, "cs")
	s.join(testForum)
	s.tap(s.label("privacy.ok"))
	s.tap(s.label("scope.school"))
	s.tap(s.label("button.skip"))
	s.text("Málo laviček")
	saved := s.state
	// Days later, the same link again.
	s.state = saved
	s.join(testForum)
	if s.state.Step != flows.StepTitle || s.state.Answers[flows.StepImprove].Text != "Málo laviček" {
		t.Fatalf("after re-joining: step %s answers %v", s.state.Step, s.state.Answers)
	}
	// The welcome back and the question, in one message.
	if r := s.last; len(r) != 1 || r[0].Text.Key != "layout.intro" || r[0].Text.Data["Intro"].(flows.Msg).Key != "join.welcome_back" ||
		r[0].Text.Data["Text"].(flows.Msg).Key != "title.ask" {
		t.Errorf("replies %+v", r)
	}
	// Or just /start.
	s.command("start")
	// The welcome back and the question, in one message.
	if r := s.last; len(r) != 1 || r[0].Text.Key != "layout.intro" || r[0].Text.Data["Intro"].(flows.Msg).Key != "join.welcome_back" ||
		r[0].Text.Data["Text"].(flows.Msg).Key != "title.ask" {
		t.Errorf("replies %+v", r)
	}
	// /new with an unfinished idea asks first.
	s.command("new")
	if s.state.Pending != flows.PendingRestart {
		t.Fatalf("pending %q", s.state.Pending)
	}
	s.tap(s.label("button.continue"))
	if s.state.Step != flows.StepTitle || s.state.Answers[flows.StepImprove].Text != "Málo laviček" {
		t.Fatalf("continue lost the answers: %+v", s.state)
	}
}

func TestLanguageFromTelegram(t *testing.T) {
	for hint, want := range map[string]string{"cs": "cs", "sk": "cs", "en-US": "en", "nb": "nb", "no": "nb", "nn": "nb", "uk": "uk", "": "cs", "ja": "en", "zh-Hans": "en"} {
		if got := flows.LanguageFor(hint); got != want {
			t.Errorf("LanguageFor(%q) = %q, want %q", hint, got, want)
		}
		// A phone in a language the forum offers is not asked which one.
		res := flows.Handle(flows.State{}, flows.Input{What: flows.JoinLinkOpened{Found: true, Forum: testForum}, LanguageHint: hint, EventID: "1"}, clock)
		wantStep := flows.StepPrivacy
		if hint == "" || hint == "ja" || hint == "zh-Hans" {
			wantStep = flows.StepLanguage
		}
		if res.State.Lang != want || res.State.Step != wantStep {
			t.Errorf("joined with %q: lang %q step %q, want %q %q", hint, res.State.Lang, res.State.Step, want, wantStep)
		}
	}
}

func TestHandleDoesNotChangeItsInput(t *testing.T) {
	s := reviewReady(t)
	before := s.state
	title := before.Answers[flows.StepTitle]
	flows.Handle(before, flows.Input{What: flows.Tap{Data: s.buttonData(s.label("button.submit"))}}, clock)
	flows.Handle(before, flows.Input{What: flows.Tap{Data: s.buttonData(s.label("edit.title"))}}, clock)
	if before.Answers[flows.StepTitle] != title || before.Step != flows.StepReview {
		t.Fatal("Handle modified the state it was given")
	}
}

// --- helpers ---

func text(s string) flows.Input { return flows.Input{What: flows.Text{Text: s}, EventID: "42"} }

func replyKeys(res flows.Result) []string {
	var keys []string
	for _, r := range res.Replies {
		keys = append(keys, r.Text.Key)
	}
	return keys
}

func stepOf(id flows.StepID) flows.Step {
	for _, s := range flows.IdeaSteps {
		if s.ID == id {
			return s
		}
	}
	panic("no step " + id)
}

// atStep is a student who joined and is being asked the question id.
func atStep(id flows.StepID) flows.State {
	return flows.State{Lang: "en", ForumID: 7, ForumName: "8.B", Step: id, Draft: "100", PrivacyOK: true, Answers: map[flows.StepID]flows.Answer{}}
}

func reviewReady(t *testing.T) *student {
	s := newStudent(t, "en")
	s.join(testForum)
	s.tap(s.label("privacy.ok"))
	s.walk(flows.StepReview, map[flows.StepID]string{
		flows.StepWorksWell: "Parks", flows.StepImprove: "Bus stops", flows.StepTitle: "Roof at the bus stop",
		flows.StepDescription: "A roof at the stop by the school.", flows.StepPlace: "Bus stop Nádražní",
	}, map[flows.StepID]string{flows.StepScope: "town", flows.StepCategory: "transport", flows.StepPhoto: "skip", flows.StepHelp: "no"})
	return s
}

func TestDoubleTapIsIgnored(t *testing.T) {
	s := newStudent(t, "en")
	s.join(testForum)
	s.tap(s.label("privacy.ok"))
	scope := s.buttonData(s.label("scope.town"))
	s.tap(s.label("scope.town"))
	before := s.state
	res := s.press(scope) // the same button again, before the next question arrived
	if len(res.Replies) != 0 || len(res.Effects) != 0 || s.state.Step != before.Step {
		t.Fatalf("a double tap answered %v and moved to %s", replyKeys(res), s.state.Step)
	}
	// "Add another idea" twice keeps one draft, so the first question's buttons still work.
	s.command("cancel")
	s.tap(s.label("button.yes_delete"))
	newIdea := s.buttonData(s.label("button.new_idea"))
	s.press(newIdea)
	draft := s.state.Draft
	s.press(newIdea)
	if s.state.Draft != draft || s.state.Step != flows.StepScope {
		t.Fatalf("second tap replaced the draft: %+v", s.state)
	}
	s.tap(s.label("scope.school"))
	if s.state.Step != flows.StepWorksWell {
		t.Fatalf("scope button stale after a double tap on new idea: %s", s.state.Step)
	}
}

func TestAnotherForumLinkMidIdeaAsksFirst(t *testing.T) {
	other := flows.Forum{ID: 8, Code: "other", Name: "9.C", Phase: flows.PhaseCollecting}
	s := newStudent(t, "en")
	s.join(testForum)
	s.tap(s.label("privacy.ok"))
	s.tap(s.label("scope.town"))
	s.text("The park")
	s.join(other)
	if s.state.ForumID != testForum.ID || s.state.Pending != flows.PendingSwitch || s.state.Answers[flows.StepWorksWell].Text != "The park" {
		t.Fatalf("switched without asking: %+v", s.state)
	}
	s.tap(s.label("button.continue"))
	if s.state.ForumID != testForum.ID || s.state.Step != flows.StepImprove || s.state.SwitchForum != nil {
		t.Fatalf("after continue: %+v", s.state)
	}
	s.join(other)
	s.tap(s.label("button.switch_forum"))
	if s.state.ForumID != other.ID || s.state.Step != flows.StepScope || len(s.state.Answers) != 0 {
		t.Fatalf("after switching: %+v", s.state)
	}
	// With nothing written, a new link just switches.
	s.join(testForum)
	if s.state.ForumID != testForum.ID || s.state.Pending != flows.PendingNone {
		t.Fatalf("empty draft: %+v", s.state)
	}
}

func TestBackStopsAtTheFirstQuestionOfALaterIdea(t *testing.T) {
	s := reviewReady(t)
	s.tap(s.label("button.submit"))
	s.tap(s.label("button.new_idea"))
	for _, r := range s.last {
		for _, row := range r.Buttons {
			for _, b := range row {
				if s.render(b.Label) == s.label("button.back") {
					t.Fatal("a later idea's first question offers Back into the privacy notice")
				}
			}
		}
	}
}

func TestEditedMessageIsExplained(t *testing.T) {
	res := flows.Handle(atStep(flows.StepTitle), flows.Input{What: flows.Edited{}}, clock)
	if keys := replyKeys(res); len(keys) != 1 || keys[0] != "error.edited" || res.State.Step != flows.StepTitle {
		t.Fatalf("replies %v step %s", keys, res.State.Step)
	}
}

func TestStudentDataCommands(t *testing.T) {
	s := newStudent(t, "en")
	s.command(flows.CommandDelete) // works before joining too
	if s.state.Pending != flows.PendingDelete || s.keys()[0] != "delete.confirm" {
		t.Fatalf("/delete: %v", s.keys())
	}
	s.tap(s.label("button.keep_data"))
	if s.keys()[0] != "delete.kept" || s.state.Pending != flows.PendingNone {
		t.Errorf("keep: %v", s.keys())
	}
	s.join(testForum)
	s.command(flows.CommandDelete)
	res := s.tap(s.label("button.delete_all"))
	if len(res.Effects) != 1 || res.Effects[0] != flows.Effect(flows.DeleteMe{}) {
		t.Fatalf("effects %+v", res.Effects)
	}
	if after := flows.Handle(s.state, flows.Input{What: flows.Deleted{}}, clock); !after.Forget || after.State.Joined() {
		t.Errorf("after deletion: forget=%v state %+v", after.Forget, after.State)
	}
	// A forged or stale delete button does nothing.
	if res := s.press("|del|yes"); len(res.Effects) != 0 {
		t.Error("a delete button without the question deleted")
	}
	res = s.command(flows.CommandStop)
	if len(res.Effects) != 1 || res.Effects[0] != flows.Effect(flows.StopMessages{}) || s.keys()[0] != "stop.done" {
		t.Errorf("/stop: %+v %v", res.Effects, s.keys())
	}
	res = s.command(flows.CommandMyIdeas)
	if len(res.Effects) != 1 || res.Effects[0] != flows.Effect(flows.ListMyIdeas{}) {
		t.Errorf("/myideas: %+v", res.Effects)
	}
	my := flows.Handle(s.state, flows.Input{What: flows.MyIdeasListed{Ideas: []flows.MyIdea{{Reference: "N-AAAA", Title: "Benches", Status: "selected", SentAt: clock}}}}, clock)
	if len(my.Replies) != 2 || my.Replies[1].Text.Data["Status"].(flows.Msg).Key != "status.selected" {
		t.Errorf("/myideas replies %+v", my.Replies)
	}
}

func TestIdeaKeptWhileTheDatabaseIsDown(t *testing.T) {
	s := reviewReady(t)
	submit := s.buttonData(s.label("button.submit"))
	res := flows.Handle(s.state, flows.Input{What: flows.SubmitQueued{}}, clock)
	if res.State.Step != flows.StepDone || res.State.Answers != nil || res.State.LastRef != "" || res.State.Submitted != 1 ||
		replyKeys(res)[0] != "submit.queued" {
		t.Fatalf("queued: %+v %v", res.State, replyKeys(res))
	}
	again := flows.Handle(res.State, flows.Input{What: flows.Tap{Data: submit}}, clock)
	if len(again.Effects) != 0 || replyKeys(again)[0] != "submit.queued" {
		t.Errorf("Submit again: %+v %v", again.Effects, replyKeys(again))
	}
	// Between ideas, the forum's phase is looked up first: it may have moved on.
	if looked := flows.Handle(res.State, flows.Input{What: flows.Text{Text: "hi"}}, clock); len(looked.Effects) != 1 || looked.Effects[0] != flows.Effect(flows.CheckForum{ForumID: testForum.ID}) {
		t.Errorf("text after queueing: %+v", looked.Effects)
	}
	current := testForum
	if keys := replyKeys(flows.Handle(res.State, flows.Input{What: flows.Text{Text: "hi"}, Current: &current}, clock)); keys[0] != "idle.hint" {
		t.Errorf("text after queueing: %v", keys)
	}
}

// Repeat says again what the student last heard: the question they are at,
// or the confirmation of the idea they just sent; it changes nothing.
func TestRepeatSaysTheCurrentQuestionAgain(t *testing.T) {
	s := newStudent(t, "en")
	if got := flows.Repeat(s.state); len(got) != 0 {
		t.Fatalf("a new conversation repeats %v", got)
	}
	s.join(testForum)
	s.tap(s.label("privacy.ok"))
	s.tap(s.label("scope.school"))
	res := s.text("The library")
	before := s.state
	again := flows.Repeat(s.state)
	if len(again) != 1 || again[0].Text.Key != res.Replies[len(res.Replies)-1].Text.Key || again[0].Text.Key != "improve.ask_school" {
		t.Fatalf("repeated %+v, last said %+v", again, res.Replies)
	}
	if !reflect.DeepEqual(before, s.state) {
		t.Fatal("Repeat changed the state")
	}
	s.walk(flows.StepReview, map[flows.StepID]string{
		flows.StepImprove: "Nowhere to sit", flows.StepTitle: "Benches", flows.StepDescription: "Five benches under the lime tree",
	}, map[flows.StepID]string{flows.StepPhoto: "skip", flows.StepHelp: "no"})
	s.tap(s.label("button.submit"))
	again = flows.Repeat(s.state)
	if len(again) != 1 || again[0].Text.Key != "submit.thanks" || again[0].Text.Data["Ref"] != s.state.LastRef || s.state.LastRef == "" ||
		again[0].Text.Data["Title"] != "Benches" || strings.Contains(s.render(again[0].Text), "<no value>") {
		t.Fatalf("after submitting, repeated %+v (ref %q)", again, s.state.LastRef)
	}
}

// The shortest way through, in every language: the first idea with only
// what must be answered, then a second idea, which asks neither what works
// nor what to improve. Each ends with how many actions it took and how
// many messages the bot sent and edited.
func TestTranscriptShortest(t *testing.T) {
	for _, lang := range flows.Languages {
		t.Run(lang, func(t *testing.T) {
			s := newStudent(t, lang)
			s.join(testForum)
			s.tap(s.label("privacy.ok"))
			s.tap(s.label("scope.school"))
			s.tap(s.label("button.skip"))
			s.text(flowtest.AnswersIn(lang)[flows.StepImprove])
			s.text(flowtest.AnswersIn(lang)[flows.StepTitle])
			for _, tap := range []string{"button.skip", "cat.school", "button.skip", "button.skip", "help.no", "button.submit"} {
				s.tap(s.label(tap))
			}
			s.log.WriteString(s.counts() + "\n")
			s.tap(s.label("button.new_idea"))
			s.tap(s.label("scope.town"))
			s.text("Wi-fi")
			for _, tap := range []string{"button.skip", "cat.misc", "button.skip", "button.skip", "help.maybe", "button.submit"} {
				s.tap(s.label(tap))
			}
			s.log.WriteString(s.counts())
			golden(t, "shortest."+lang, s.log.String())
			if len(s.stored) != 2 || s.stored[1].WorksWell != "" || s.stored[1].Improve != "" || s.stored[1].Description != "" {
				t.Errorf("stored %+v", s.stored)
			}
		})
	}
}

// Back and Skip on an earlier question's message, further up the chat, act
// on nothing and change no old message: the student is shown where they are.
func TestBackOnAnEarlierMessageIsStale(t *testing.T) {
	s := newStudent(t, "en")
	s.join(testForum)
	s.tap(s.label("privacy.ok"))
	s.tap(s.label("scope.school"))
	oldSkip := s.buttonData(s.label("button.skip")) // on "what works"
	s.text("The library")                           // now at "what to improve", a new message
	before := s.state
	res := s.press(oldSkip)
	if s.state.Step != before.Step || len(s.state.Answers) != len(before.Answers) {
		t.Errorf("an old Skip moved the student to %q", s.state.Step)
	}
	for _, r := range res.Replies {
		if r.Replace {
			t.Errorf("an old message was edited: %+v", r.Text)
		}
	}
	if keys := replyKeys(res); len(keys) != 2 || keys[0] != "error.stale_button" || keys[1] != "improve.ask_school" {
		t.Errorf("replies %v", keys)
	}
}
