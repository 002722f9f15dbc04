package flows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
)

// staffEffect is the bot's and the store's side of staff decisions, in
// memory: a decision changes the idea and adds to its history, as the
// store does.
func (s *student) staffEffect(e flows.Effect) flows.Happened {
	find := func(ref string) *flows.IdeaView {
		i := slices.IndexFunc(s.ideas, func(v *flows.IdeaView) bool { return v.Item.Ref == ref })
		if i < 0 {
			return nil
		}
		return s.ideas[i]
	}
	next := func(skip []string) *flows.ReviewItem {
		for _, v := range s.ideas {
			if v.Item.Status == flows.StatusNew && v.Item.HiddenReason == "" && !slices.Contains(skip, v.Item.Ref) {
				item := v.Item
				return &item
			}
		}
		return nil
	}
	loaded := func(ref string, d *flows.ReviewDecision) flows.IdeaLoaded {
		out := flows.IdeaLoaded{Ref: ref, Decided: d}
		if v := find(ref); v != nil {
			c := *v
			c.History = slices.Clone(v.History)
			out.Idea = &c
		}
		return out
	}
	switch e := e.(type) {
	case flows.NextReview:
		return flows.ReviewNext{Item: next(e.Skip)}
	case flows.LoadIdea:
		return loaded(e.Ref, nil)
	case flows.CheckOriginal:
		return flows.OriginalChecked{Ref: e.Ref, Found: find(e.Ref) != nil}
	case flows.StoreReview:
		if s.failDB {
			return flows.StoreFailed{}
		}
		d := e.Decision
		v := find(d.Ref)
		if v == nil || d.Decision == flows.DecisionDuplicate && find(d.DuplicateOf) == nil {
			return flows.ReviewRefUnknown{Ref: d.Ref}
		}
		change := flows.IdeaChange{At: clock.Add(time.Duration(len(v.History)+1) * time.Minute), By: s.pid}
		status := map[string]string{flows.DecisionAccept: flows.StatusUnderReview, flows.DecisionDuplicate: flows.StatusDuplicate}[d.Decision]
		switch {
		case d.Decision == flows.DecisionStatus:
			status = d.Status
		case d.Decision == flows.DecisionUnhide:
			v.Item.HiddenReason, change.Kind = "", flows.ChangeUnhide
		case strings.HasPrefix(d.Decision, flows.HidePrefix):
			v.Item.HiddenReason = strings.TrimPrefix(d.Decision, flows.HidePrefix)
			change.Kind, change.Reason = flows.ChangeHide, v.Item.HiddenReason
		}
		if status != "" {
			v.Item.Status, v.Item.DuplicateOf = status, d.DuplicateOf
			change.Kind, change.Status, change.Answered = flows.ChangeStatus, status, d.Answer != ""
			if d.Answer != "" {
				v.Item.Answer = d.Answer
			}
		}
		v.History = append(v.History, change)
		if e.FromIdea {
			return loaded(d.Ref, &d)
		}
		return flows.ReviewNext{Item: next(s.state.ReviewSkip), Decided: &d}
	}
	s.t.Fatalf("not a staff effect: %T", e)
	return nil
}

func reviewIdeas() []*flows.IdeaView {
	lat, lon := 50.02812, 15.20034
	return []*flows.IdeaView{
		{Item: flows.ReviewItem{Ref: "N-7K2Q", Forum: testForum.Name, Title: "A skate park", Description: "Behind the sports hall.",
			Improve: "Nowhere to skate", Scope: flows.ScopeTown, Category: "leisure", PhotoID: "photo-1", Lat: &lat, Lon: &lon,
			SentAt: clock.Add(-48 * time.Hour), Language: "cs", WantsToHelp: "yes", Status: flows.StatusNew}},
		{Item: flows.ReviewItem{Ref: "N-BBBB", Forum: testForum.Name, Title: "Tom from 8.B is stupid", Description: "Tom Novák, 8.B",
			Improve: "Tom", Scope: flows.ScopeSchool, Category: "misc", PlaceText: "8.B", SentAt: clock.Add(-24 * time.Hour),
			Language: "uk", WantsToHelp: "no", Status: flows.StatusNew, Flagged: true}},
		{Item: flows.ReviewItem{Ref: "N-CCCC", Forum: testForum.Name, Title: "Skating in the park", Description: "A ramp.",
			Improve: "Nothing to do", Scope: flows.ScopeTown, Category: "leisure", SentAt: clock.Add(-2 * time.Hour),
			Language: "en", WantsToHelp: "maybe", Status: flows.StatusNew}},
	}
}

// Staff decide in /review and on /idea: a status the student must hear a
// reason for is asked for the answer first, a duplicate for its original
// and then the answer; questions can be cancelled; /idea shows the card,
// what became of the idea and its history. The student then sees in
// /myideas why a hidden idea was not published.
func TestTranscriptStaffDecisions(t *testing.T) {
	for _, lang := range []string{"en", "cs"} {
		s := newStaff(t, lang)
		s.ideas = reviewIdeas()
		s.command(flows.CommandReview)
		s.tap(s.label("staffbutton.not_feasible"))
		s.text("  ")
		s.text(strings.Repeat("x", flows.MaxStaffAnswer+1))
		s.text("The town has no land for it this year; we will ask again in spring.")
		s.tap(s.label("staffbutton.hide"))
		s.tap(s.label("button.hide_personal_data"))
		s.tap(s.label("button.review_duplicate"))
		s.text("n-cccc") // itself
		s.text("N-ZZZZ") // no such idea
		s.tap(s.label("button.cancel"))
		s.tap(s.label("button.review_duplicate"))
		s.text("7k2q")
		s.command(flows.CommandCancel)
		s.tap(s.label("button.review_duplicate"))
		s.text("7k2q")
		s.text("The same idea came first from N-7K2Q; we look at both together.")
		s.command(flows.CommandIdea)
		s.text("n-7k2q")
		s.tap(s.label("staffbutton.selected"))
		var mine []flows.MyIdea // what the students' /myideas say now
		for _, v := range s.ideas {
			mine = append(mine, flows.MyIdea{Reference: v.Item.Ref, Title: v.Item.Title, Status: v.Item.Status,
				Answer: v.Item.Answer, Forum: v.Item.Forum, SentAt: v.Item.SentAt, Hidden: v.Item.HiddenReason})
		}
		s.do("/idea N-BBBB", flows.Input{What: flows.CommandSent{Name: flows.CommandIdea, Arg: "N-BBBB"}})
		s.tap(s.label("staffbutton.unhide"))
		s.do("/idea N-ZZZZ", flows.Input{What: flows.CommandSent{Name: flows.CommandIdea, Arg: "N-ZZZZ"}})
		s.do("/idea what?", flows.Input{What: flows.CommandSent{Name: flows.CommandIdea, Arg: "what?"}})

		pupil := newStudent(t, lang)
		pupil.state.ForumID, pupil.state.ForumName = testForum.ID, testForum.Name
		pupil.mine = mine
		pupil.command(flows.CommandMyIdeas)
		golden(t, "decisions."+lang, s.log.String()+pupil.log.String())

		want := map[string]flows.ReviewItem{
			"N-7K2Q": {Status: flows.StatusSelected, Answer: "The town has no land for it this year; we will ask again in spring."},
			"N-BBBB": {Status: flows.StatusNew},
			"N-CCCC": {Status: flows.StatusDuplicate, DuplicateOf: "N-7K2Q", Answer: "The same idea came first from N-7K2Q; we look at both together."},
		}
		for _, v := range s.ideas {
			w := want[v.Item.Ref]
			if v.Item.Status != w.Status || v.Item.Answer != w.Answer || v.Item.DuplicateOf != w.DuplicateOf || v.Item.HiddenReason != "" {
				t.Errorf("%s: %s is %+v, want %+v", lang, v.Item.Ref, v.Item, w)
			}
		}
		if s.state.Pending != flows.PendingNone || s.state.Reviewing != "" || s.state.Deciding != nil {
			t.Errorf("%s: a question is left open: %+v", lang, s.state)
		}
	}
}

// No decision the student must hear a reason for is taken without one,
// whatever staff tap or send: the answer question comes first.
func TestNoReasonlessDecision(t *testing.T) {
	s := newStaff(t, "en")
	s.ideas = reviewIdeas()
	check := func(res flows.Result, what string) {
		t.Helper()
		for _, e := range res.Effects {
			if sr, ok := e.(flows.StoreReview); ok {
				d := sr.Decision
				status := d.Status
				if d.Decision == flows.DecisionDuplicate {
					status = flows.StatusDuplicate
				}
				if flows.StatusNeedsAnswer(status) && strings.TrimSpace(d.Answer) == "" {
					t.Errorf("%s: %+v without an answer", what, d)
				}
			}
		}
	}
	for _, kind := range []string{"rv", "ri"} {
		for _, what := range []string{"st_not_feasible", "st_duplicate", "dup", "duplicate", "status", "st_new", "st_"} {
			data := "|" + kind + "|N-7K2Q:" + what
			res := s.press(data)
			check(res, data)
			check(s.text("N-CCCC"), data+" and a reference")
			s.command(flows.CommandCancel)
		}
	}
	// A forged status or kind is stale and changes nothing.
	for _, data := range []string{"|rv|N-7K2Q:st_new", "|rv|N-7K2Q:st_duplicate", "|rv|N-7K2Q:st_nonsense", "|ri|N-7K2Q:skip",
		"|rv|N-7K2Q:cancel", "|rv|7K2Q:accept", "|rv|N-7K2Q-X:accept", "|rv|N-ABCDEFGHIJKLM:accept", "|rv|N-7K2Q", "|rv|:accept",
		"|rv|N-7k2q:accept", "|rv|N-7K2Q:hide_everything"} {
		if res := s.press(data); len(res.Effects) != 0 || s.keys()[0] != "error.stale_button" {
			t.Errorf("%q: %+v %v", data, res.Effects, s.keys())
		}
	}
}

// Every decision button fits in Telegram's 64 bytes, even with the longest
// reference a button may carry.
func TestDecisionButtonsFit(t *testing.T) {
	s := newStaff(t, "en")
	long := "N-" + strings.Repeat("W", 12)
	hidden := &flows.IdeaView{Item: flows.ReviewItem{Ref: long, Title: "x", Scope: "town", Category: "misc", Status: flows.StatusNotFeasible,
		Answer: "No.", HiddenReason: flows.HideAbusive, Language: "xx", WantsToHelp: ""}}
	s.ideas = []*flows.IdeaView{hidden}
	s.do("/idea", flows.Input{What: flows.CommandSent{Name: flows.CommandIdea, Arg: long}})
	s.tap(s.label("staffbutton.not_feasible"))
	shown := hidden.Item
	shown.HiddenReason = ""
	s.do("/review", flows.Input{What: flows.ReviewNext{Item: &shown}})
	s.tap(s.label("staffbutton.hide"))
	for _, r := range s.all {
		for _, row := range r.Buttons {
			for _, b := range row {
				if len(b.Data) > 64 {
					t.Errorf("%q is %d bytes", b.Data, len(b.Data))
				}
			}
		}
	}
	if len(s.all) < 4 {
		t.Fatalf("replies: %v", s.keys())
	}
}

// Only staff look ideas up and decide; anyone else is answered as if
// /idea did not exist, and a staff member whose role ended mid-question is
// not taken at their word.
func TestOnlyStaffDecide(t *testing.T) {
	for _, actor := range []flows.Actor{{}, {Role: flows.RoleTeacher, Town: "Kolín"}} {
		s := newStudent(t, "en")
		s.actor = actor
		if res := s.do("/idea N-7K2Q", flows.Input{What: flows.CommandSent{Name: flows.CommandIdea, Arg: "N-7K2Q"}}); len(res.Effects) != 0 || s.keys()[0] != "about.help" {
			t.Errorf("%q /idea: %+v %v", actor.Role, res.Effects, s.keys())
		}
		for _, data := range []string{"|ri|N-7K2Q:accept", "|ri|N-7K2Q:st_done", "|rv|N-7K2Q:st_not_feasible", "|ri|N-7K2Q:dup"} {
			if res := s.press(data); len(res.Effects) != 0 || s.state.Reviewing != "" {
				t.Errorf("%q pressed %q: %+v", actor.Role, data, res.Effects)
			}
		}
	}
	s := newStaff(t, "en")
	s.ideas = reviewIdeas()
	s.press("|ri|N-7K2Q:st_not_feasible")
	s.actor = flows.Actor{}
	if !flows.NeedsActor(s.state, flows.Input{What: flows.Text{Text: "No."}}) {
		t.Error("an answer to a staff question does not need the actor")
	}
	if res := s.text("No."); len(res.Effects) != 0 || s.keys()[0] != "error.not_allowed" || s.state.Reviewing != "" {
		t.Errorf("after the role ended: %+v %v %+v", res.Effects, s.keys(), s.state)
	}
	s = newStaff(t, "en")
	s.command(flows.CommandIdea)
	if !flows.NeedsActor(s.state, flows.Input{What: flows.Text{Text: "N-7K2Q"}}) {
		t.Error("the reference asked by /idea does not need the actor")
	}
	s.actor = flows.Actor{}
	if res := s.text("N-7K2Q"); len(res.Effects) != 0 || s.state.Pending != flows.PendingNone {
		t.Errorf("a former staff member's reference: %+v %+v", res.Effects, s.state)
	}
}

// A state with a decision question whose subject is missing or forged
// (another version, a damaged store) asks nothing rather than crash.
func TestBrokenDecisionStatesAreRepaired(t *testing.T) {
	for _, st := range []flows.State{
		{Lang: "en", Pending: flows.PendingStaffAnswer, Reviewing: "N-7K2Q"},
		{Lang: "en", Pending: flows.PendingStaffAnswer, Deciding: &flows.Deciding{Status: flows.StatusNotFeasible}},
		{Lang: "en", Pending: flows.PendingDuplicate, Reviewing: strings.Repeat("N-", 40)},
	} {
		res := flows.Handle(st, flows.Input{What: flows.Text{Text: "No."}, Actor: flows.Actor{Role: flows.RoleStaff}}, clock)
		if len(res.Effects) != 0 || res.State.Pending != flows.PendingNone || res.State.Reviewing != "" {
			t.Errorf("%+v: %+v, state %+v", st, res.Effects, res.State)
		}
	}
	// A duplicate question from before decisions had a Deciding still works.
	old := flows.State{Lang: "en", Pending: flows.PendingDuplicate, Reviewing: "N-CCCC"}
	res := flows.Handle(old, flows.Input{What: flows.OriginalChecked{Ref: "N-7K2Q", Found: true}, Actor: flows.Actor{Role: flows.RoleStaff}}, clock)
	if res.State.Pending != flows.PendingStaffAnswer || res.State.Deciding == nil || res.State.Deciding.Of != "N-7K2Q" {
		t.Errorf("an old duplicate question: %+v", res.State)
	}
}

// Every status, hide reason, answer to "would you help?" and kind of
// change renders on a card, in its history and in /myideas in every
// language, with nothing left unfilled.
func TestDecisionTextsRenderInEveryLanguage(t *testing.T) {
	var history []flows.IdeaChange
	var mine []flows.MyIdea
	for _, status := range flows.Statuses {
		history = append(history, flows.IdeaChange{At: clock, By: "0123456789ab", Kind: flows.ChangeStatus, Status: status, Answered: status == flows.StatusNotFeasible})
		mine = append(mine, flows.MyIdea{Reference: "N-AAAA", Title: "x", Status: status, SentAt: clock})
	}
	for _, reason := range flows.HideReasons {
		history = append(history, flows.IdeaChange{At: clock, Kind: flows.ChangeHide, Reason: reason})
		mine = append(mine, flows.MyIdea{Reference: "N-AAAA", Title: "x", Status: flows.StatusNew, SentAt: clock, Hidden: reason})
	}
	history = append(history, flows.IdeaChange{At: clock, Kind: flows.ChangeAnswer}, flows.IdeaChange{At: clock, Kind: flows.ChangeUnhide})
	var inputs []flows.Happened
	step, _ := flows.StepByID(flows.StepHelp)
	for i, help := range step.Answer.Choices {
		item := reviewIdeas()[0].Item
		item.WantsToHelp, item.Status, item.Answer, item.HiddenReason = help, flows.StatusDuplicate, "Same.", flows.HideReasons[i%len(flows.HideReasons)]
		item.DuplicateOf = "N-BBBB"
		inputs = append(inputs, flows.IdeaLoaded{Ref: item.Ref, Idea: &flows.IdeaView{Item: item, History: history, Earlier: 3 + i}})
	}
	inputs = append(inputs, flows.MyIdeasListed{Ideas: mine})
	for _, lang := range flows.Languages {
		s := newStaff(t, lang)
		for _, in := range inputs {
			res := flows.Handle(flows.State{Lang: lang}, flows.Input{What: in, Actor: s.actor}, clock)
			if len(res.Replies) == 0 {
				t.Fatalf("%s: %T said nothing", lang, in)
			}
			for _, r := range res.Replies {
				if text := s.render(r.Text); strings.Contains(text, "<no value>") {
					t.Errorf("%s: %s renders as %q", lang, r.Text.Key, text)
				}
			}
		}
	}
}

// An answer whose decision could not be stored is not lost: the question
// stays open, and the answer sent again takes the decision.
func TestAnswerKeptWhenTheDecisionFails(t *testing.T) {
	s := newStaff(t, "en")
	s.ideas = reviewIdeas()
	s.press("|rv|N-7K2Q:st_not_feasible")
	s.failDB = true
	s.text("No land this year.")
	if s.keys()[0] != "error.store_formal" || s.state.Pending != flows.PendingStaffAnswer || s.state.Reviewing != "N-7K2Q" {
		t.Fatalf("after a failed store: %v %+v", s.keys(), s.state)
	}
	s.failDB = false
	s.text("No land this year.")
	if s.keys()[0] != "staffdecide.status_answered" || s.state.Pending != flows.PendingNone || s.state.Deciding != nil ||
		s.ideas[0].Item.Status != flows.StatusNotFeasible || s.ideas[0].Item.Answer != "No land this year." {
		t.Errorf("sent again: %v %+v %+v", s.keys(), s.state, s.ideas[0].Item)
	}
	// An idea gone meanwhile closes the question.
	s.press("|rv|N-GONE:st_not_feasible")
	s.text("No.")
	if s.keys()[0] != "staffdecide.gone" || s.state.Pending != flows.PendingNone || s.state.Reviewing != "" {
		t.Errorf("a gone idea: %v %+v", s.keys(), s.state)
	}
}
