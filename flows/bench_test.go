package flows_test

import (
	"testing"

	"github.com/healthycities/napad/flows"
)

// Benchmarks of one step of the idea flow, with the state a student really
// has halfway through it. Run with
//
//	go test ./flows -run '^$' -bench . -benchmem

// benchStudent walks the idea flow, as the transcript tests do, up to the
// question with the given id.
func benchStudent(b *testing.B, lang string, until flows.StepID) *student {
	b.Helper()
	s := newStudent(b, lang)
	s.join(testForum)
	steps := []func(){
		func() { s.tap(s.label("privacy.ok")) },
		func() { s.tap(s.label("scope.both")) },
		func() { s.text("The new library and the teachers who listen.") },
		func() { s.text("There is nowhere to sit outside during breaks.") },
		func() { s.text("Benches in the school yard") },
		func() {
			s.text("Put five benches and a little shade under the big linden tree, so we can sit outside between lessons.")
		},
		func() { s.tap(s.label("cat.public_space")) },
	}
	for _, step := range steps {
		if s.state.Step == until {
			break
		}
		step()
	}
	if s.state.Step != until {
		b.Fatalf("walked to step %q, want %q", s.state.Step, until)
	}
	return s
}

// benchStep handles in on st b.N times and checks the flow moved on to want.
func benchStep(b *testing.B, st flows.State, in flows.Input, want flows.StepID) {
	b.Helper()
	if res := flows.Handle(st, in, clock); res.State.Step != want || len(res.Replies) == 0 {
		b.Fatalf("after the input: step %q with %d replies, want step %q", res.State.Step, len(res.Replies), want)
	}
	b.ReportAllocs()
	for b.Loop() {
		flows.Handle(st, in, clock)
	}
}

// BenchmarkHandleText is a typical text answer in the middle of the flow:
// the description, after scope, what works, what to improve and the title.
func BenchmarkHandleText(b *testing.B) {
	s := benchStudent(b, "en", flows.StepDescription)
	in := flows.Input{What: flows.Text{Text: "Put five benches and a little shade under the big linden tree, so we can sit outside between lessons."}, EventID: "2001", LanguageHint: "en", Participant: s.pid}
	benchStep(b, s.state, in, flows.StepCategory)
}

// BenchmarkHandleTextCzech is the same answer in Czech, with diacritics
// (the text is normalised to NFC and checked character by character).
func BenchmarkHandleTextCzech(b *testing.B) {
	s := benchStudent(b, "cs", flows.StepDescription)
	in := flows.Input{What: flows.Text{Text: "Dát pět laviček a trochu stínu pod velkou lípu, abychom mohli o přestávkách sedět venku. Děkujeme!"}, EventID: "2001", LanguageHint: "cs", Participant: s.pid}
	benchStep(b, s.state, in, flows.StepCategory)
}

// BenchmarkHandleButton is a button tap in the middle of the flow: the
// category, which moves on to the place question (two replies, one with the
// location keyboard).
func BenchmarkHandleButton(b *testing.B) {
	s := benchStudent(b, "en", flows.StepCategory)
	in := flows.Input{What: flows.Tap{Data: s.buttonData(s.label("cat.public_space"))}, EventID: "2001", LanguageHint: "en", Participant: s.pid}
	benchStep(b, s.state, in, flows.StepPlace)
}
