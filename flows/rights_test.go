package flows_test

import (
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
)

// A student's hidden idea says in /myideas that it was not published, and
// why, rather than that it waits to be read; the others say what became
// of them.
func TestMyIdeasSayWhyAHiddenIdeaIsNotPublished(t *testing.T) {
	ideas := []flows.MyIdea{{Reference: "N-AAAA", Title: "Benches", Status: flows.StatusSelected, SentAt: clock}}
	for _, reason := range flows.HideReasons {
		ideas = append(ideas, flows.MyIdea{Reference: "N-BBBB", Title: "Tom", Status: flows.StatusNew, SentAt: clock, Hidden: reason})
	}
	for _, lang := range flows.Languages {
		s := newStudent(t, lang)
		s.state.Lang = lang
		res := flows.Handle(s.state, flows.Input{What: flows.MyIdeasListed{Ideas: ideas}}, clock)
		if len(res.Replies) != len(ideas)+1 || res.Replies[1].Text.Key != "myideas.item" {
			t.Fatalf("%s: %+v", lang, res.Replies)
		}
		for i, reason := range flows.HideReasons {
			r := res.Replies[i+2]
			text := s.render(r.Text)
			if r.Text.Key != "myideas.hidden.item" || !strings.Contains(text, s.render(flows.Msg{Key: "myideas.hidden." + reason})) ||
				strings.Contains(text, s.render(flows.Msg{Key: "status.new"})) || !strings.Contains(text, "N-BBBB") {
				t.Errorf("%s: hidden (%s) as %q", lang, reason, text)
			}
		}
	}
}
