package flows_test

import (
	"slices"
	"testing"

	"github.com/healthycities/napad/flows"
)

func TestNormalJoinCode(t *testing.T) {
	for typed, want := range map[string]string{
		"H4RV-3ST7":            "H4RV3ST7",
		"h4rv3st7":             "H4RV3ST7",
		" h4rv 3st7 ":          "H4RV3ST7",
		"H4RV--3ST7-":          "H4RV3ST7",
		"H4RV – 3ST7":          "H4RV3ST7", // a phone's en dash
		"K7Q2\tM9XD":           "K7Q2M9XD",
		"K7Q2\u00a0M9XD":       "K7Q2M9XD",
		"0O1I-LABC":            "00111ABC", // O as 0, I and L as 1
		"o0i1-l1ab":            "001111AB",
		"К7Q2-М9ХD":            "K7Q2M9XD", // Cyrillic К, М and Х from a Ukrainian keyboard
		"АВЕК-МНРС":            "ABEKMHPC",
		"ahoj ahoj":            "AH0JAH0J", // looks like one: answered as a wrong code
		"K7Q2M9X":              "",         // one short
		"K7Q2M9XDD":            "",         // one too many
		"K7Q2-M9XU":            "",         // U is in no code
		"K7Q2_M9XD":            "",
		"K7Q2-M9XD\u200b":      "",
		"/join K7Q2-M9XD":      "",
		"Ahoj, jak se máš?":    "",
		"ЛЛЛЛ-ЛЛЛЛ":            "",
		"12345678901234567890": "",
		"":                     "",
	} {
		got, ok := flows.NormalJoinCode(typed)
		if got != want || ok != (want != "") {
			t.Errorf("NormalJoinCode(%q) = %q, %v; want %q", typed, got, ok, want)
		}
	}
	if got := flows.FormatJoinCode("K7Q2M9XD"); got != "K7Q2-M9XD" {
		t.Errorf("FormatJoinCode = %q", got)
	}
	// Every character of the alphabet is read as itself.
	code := ""
	for i, r := range flows.JoinCodeAlphabet {
		code += string(r)
		if (i+1)%flows.JoinCodeLen == 0 {
			if got, ok := flows.NormalJoinCode(code); !ok || got != code {
				t.Errorf("NormalJoinCode(%q) = %q, %v", code, got, ok)
			}
			code = ""
		}
	}
}

// Joining by the code from the board: a wrong code, something that is no
// code, /join alone and the code, the bare code before joining, and too
// many wrong codes.
func TestTranscriptJoinCode(t *testing.T) {
	for _, lang := range []string{"cs", "en"} {
		t.Run(lang, func(t *testing.T) {
			s := newStudent(t, lang)
			s.text("hello")
			if s.keys()[0] != "start.how_to_join" {
				t.Errorf("a greeting before joining: %v", s.keys())
			}
			res := s.do("/join ABCD-EFGH", flows.Input{What: flows.CommandSent{Name: flows.CommandJoin, Arg: "ABCD-EFGH"}})
			if !slices.Contains(res.Effects, flows.Effect(flows.LookUpJoinCode{Code: "ABCDEFGH"})) || s.keys()[0] != "joincode.unknown" {
				t.Errorf("a wrong code: effects %v, replies %v", res.Effects, s.keys())
			}
			res = s.do("/join hello", flows.Input{What: flows.CommandSent{Name: flows.CommandJoin, Arg: "hello"}})
			if len(res.Effects) != 0 || s.keys()[0] != "joincode.malformed" {
				t.Errorf("no code at all is looked up: effects %v, replies %v", res.Effects, s.keys())
			}
			s.command(flows.CommandJoin)
			if s.state.Pending != flows.PendingJoinCode || s.keys()[0] != "joincode.ask" {
				t.Errorf("/join alone: %+v, %v", s.state, s.keys())
			}
			s.text("h4rv 3st7")
			if s.state.ForumID != testForum.ID || s.state.Pending != flows.PendingNone || s.keys()[0] != "layout.intro" { // the welcome with the first question
				t.Errorf("the code after /join: %+v, %v", s.state, s.keys())
			}
			if s.wrongCodes != 1 {
				t.Errorf("%d wrong codes counted, want 1 (the code is the bot's to count)", s.wrongCodes)
			}

			// A bare code works before joining only; after, it is an answer.
			late := newStudent(t, lang)
			late.who = "another student"
			late.text("H4RV-3ST7")
			if late.state.ForumID != testForum.ID || late.keys()[0] != "layout.intro" {
				t.Errorf("a bare code: %+v, %v", late.state, late.keys())
			}
			late.tap(late.label("privacy.ok"))
			late.tap(late.label("scope.town"))
			if res := late.text("H4RV-3ST7"); len(res.Effects) != 0 || late.state.Answers[flows.StepWorksWell].Text != "H4RV-3ST7" {
				t.Errorf("a code as the answer to a question: %v, %+v", res.Effects, late.state.Answers)
			}

			// Five wrong codes, and the sixth is not even looked up.
			guesser := newStudent(t, lang)
			guesser.who = "a third student"
			for _, code := range []string{"AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"} {
				guesser.text(code)
			}
			guesser.text("H4RV-3ST7")
			if guesser.state.Joined() || guesser.keys()[0] != "joincode.wait" {
				t.Errorf("the sixth code: %+v, %v", guesser.state, guesser.keys())
			}
			golden(t, "joincode."+lang, s.log.String()+late.log.String()+guesser.log.String())
		})
	}
}

// /join with another forum's code mid-idea asks first, as its link does.
func TestJoinCodeMidIdeaAsksFirst(t *testing.T) {
	other := flows.Forum{ID: 8, Code: "other", ShortCode: "9C9C9C9C", Name: "9.C", Phase: flows.PhaseCollecting}
	s := newStudent(t, "en")
	s.forums = []flows.Forum{other}
	s.join(testForum)
	s.tap(s.label("privacy.ok"))
	s.tap(s.label("scope.town"))
	s.text("The park")
	s.command(flows.CommandJoin)
	s.text("THE PARK IS NICE") // no code: the question is asked again, the idea stays
	if s.state.Pending != flows.PendingNone || s.state.Step != flows.StepImprove || s.keys()[0] != "joincode.malformed" {
		t.Fatalf("no code after /join: %+v, %v", s.state, s.keys())
	}
	s.do("/join 9c9c-9c9c", flows.Input{What: flows.CommandSent{Name: flows.CommandJoin, Arg: "9c9c-9c9c"}})
	if s.state.ForumID != testForum.ID || s.state.Pending != flows.PendingSwitch || s.state.Answers[flows.StepWorksWell].Text != "The park" {
		t.Fatalf("switched without asking: %+v", s.state)
	}
	s.tap(s.label("button.switch_forum"))
	if s.state.ForumID != other.ID {
		t.Fatalf("after switching: %+v", s.state)
	}
}
