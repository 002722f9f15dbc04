package flows_test

import (
	"testing"

	"github.com/healthycities/napad/flows"
)

// Where students must be 15 and their age group is asked: one who is 13
// is told kindly what to do instead and nothing is kept (no join counted,
// the conversation forgotten); one who is 16 takes part, and the age group
// goes with the idea. Where they must be 13 and no group is asked: a yes
// or no.
func TestTranscriptAge(t *testing.T) {
	for _, lang := range []string{"cs", "en"} {
		t.Run(lang, func(t *testing.T) {
			young := newStudent(t, lang)
			young.age = flows.AgeRule{Min: 15, AskBand: true}
			young.join(testForum)
			young.tap(young.label("age.13-14"))
			if young.joins != 0 || !young.forgot || len(young.stored) != 0 {
				t.Errorf("too young: %d joins counted, forgotten %v, %d stored", young.joins, young.forgot, len(young.stored))
			}

			s := newStudent(t, lang)
			s.age = flows.AgeRule{Min: 15, AskBand: true}
			s.join(testForum)
			if s.joins != 0 {
				t.Errorf("a join was counted before the age question")
			}
			s.tap(s.label("age.16-17"))
			if s.joins != 1 {
				t.Errorf("%d joins counted after the age question, want 1", s.joins)
			}
			s.tap(s.label("privacy.ok"))
			s.walk(flows.StepReview, nil, map[flows.StepID]string{flows.StepPhoto: "skip"})
			s.tap(s.label("button.submit"))
			if len(s.stored) != 1 || s.stored[0].More["age"] != "16-17" {
				t.Errorf("stored %+v, want the age group with the idea", s.stored)
			}
			// The next idea asks nothing about age again.
			s.tap(s.label("button.new_idea"))
			if s.state.Step != flows.StepScope {
				t.Errorf("second idea starts at %q", s.state.Step)
			}

			yesNo := newStudent(t, lang)
			yesNo.age = flows.AgeRule{Min: 13}
			yesNo.join(testForum)
			yesNo.tap(yesNo.render(flowsMsg("age.yes", 13)))
			if yesNo.state.Step != flows.StepPrivacy || yesNo.state.AgeBand != "" {
				t.Errorf("after yes: step %q, band %q", yesNo.state.Step, yesNo.state.AgeBand)
			}
			golden(t, "age."+lang, young.log.String()+"\n"+yesNo.log.String())
		})
	}
}

func flowsMsg(key string, min int) flows.Msg {
	return flows.Msg{Key: key, Data: map[string]any{"Min": min}}
}

// A forged age button cannot let a student past the question.
func TestAgeButtonsAreChecked(t *testing.T) {
	s := newStudent(t, "en")
	s.age = flows.AgeRule{Min: 15}
	s.join(testForum)
	draft := s.state.Draft
	for _, data := range []string{draft + "|age|18+", draft + "|age|99", draft + "|age|"} {
		s.press(data)
		if s.state.AgeOK || s.joins != 0 {
			t.Fatalf("%q let the student in: %+v", data, s.state)
		}
	}
}

// A repeat (a redelivered update, a restart) does not show the age question
// without the deployment's rule: no "are you 0 or older?".
func TestRepeatLeavesTheAgeQuestion(t *testing.T) {
	s := newStudent(t, "en")
	s.age = flows.AgeRule{Min: 15}
	s.join(testForum)
	if s.state.Step != flows.StepAge {
		t.Fatalf("at %q, want the age question", s.state.Step)
	}
	if got := flows.Repeat(s.state); len(got) != 0 {
		t.Errorf("repeated %+v", got)
	}
}
