package flows_test

import (
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
)

// receive is a message the bot sent by itself (a broadcast), not an answer.
func (s *student) receive(what string, r flows.Reply) {
	s.last = []flows.Reply{r}
	s.all = append(s.all, r)
	s.log.WriteString("(" + what + ")\n")
	s.write(r)
	s.log.WriteString("\n")
}

// A student who wanted to help with an idea carried by a chosen item is
// asked how to reach them: yes, a wrong answer or two, then a way to reach
// them; no; /cancel half-way; and a forged button the bot refuses.
func TestTranscriptHelpOffer(t *testing.T) {
	for _, lang := range []string{"cs", "en"} {
		t.Run(lang, func(t *testing.T) {
			s := phaseStudent(t, lang)
			s.forums[0].Phase = flows.PhaseResults
			s.helpable = []int64{101}
			s.join(s.forums[0])
			offers := flows.HelpOffers(flows.Rank([]flows.ItemResult{{Item: s.items[0], Votes: 5}, {Item: s.items[1], Votes: 1}, {Item: s.items[2]}}),
				[]flows.MyIdea{{Reference: "N-AAAA", Title: "Benches", WantsToHelp: "maybe"}})
			if len(offers) != 1 {
				t.Fatalf("offers %+v, want the one of item 101", offers)
			}
			s.receive("the results broadcast", flows.HelpOfferReply(testForum.ID, offers[0], lang))

			s.tap(s.label("button.help_yes"))
			s.text("   ")
			s.text(strings.Repeat("a", flows.MaxHelpContact+1))
			s.do("sends a photo", flows.Input{What: flows.PhotoSent{FileID: "photo"}})
			res := s.text("  8.B, jana.novakova@zs-komenskeho.cz \u200b ")
			if len(s.helpers) != 1 || s.helpers[0] != (flows.SaveHelpOffer{ForumID: testForum.ID, ItemID: 101, Contact: "8.B, jana.novakova@zs-komenskeho.cz"}) {
				t.Errorf("stored %+v (effects %+v)", s.helpers, res.Effects)
			}
			if s.state.Pending != flows.PendingNone || s.state.Help != nil {
				t.Errorf("the question stays open: %+v", s.state)
			}

			s.tap(s.label("button.help_no"))
			s.tap(s.label("button.help_yes"))
			s.command(flows.CommandCancel)
			if s.state.Pending != flows.PendingNone || s.state.Help != nil {
				t.Errorf("/cancel leaves the question open: %+v", s.state)
			}
			s.text("hi") // an answer to nothing: the forum's results again

			s.press("|hp|7:102:y") // an item with no idea of theirs, or not chosen
			s.text("8.B")
			s.press("|hp|7:x:y")
			s.press("|hp|7:101:maybe")
			if len(s.helpers) != 1 {
				t.Errorf("stored %d offers, want 1", len(s.helpers))
			}
			golden(t, "helper."+lang, s.log.String())
		})
	}
}

// Only chosen items (ranked up to SelectedRanks, ties included) that carry
// an idea whose author would help are offered, one message per item.
func TestHelpOffers(t *testing.T) {
	item := func(id int64, refs ...string) flows.ShortlistItem {
		return flows.ShortlistItem{ID: id, Position: int(id), Language: "en", Ideas: refs, Texts: map[string]flows.ItemText{"en": {Title: "item"}}}
	}
	results := flows.Rank([]flows.ItemResult{
		{Item: item(1, "A"), Votes: 9}, {Item: item(2, "B", "C"), Votes: 7}, {Item: item(3, "D"), Votes: 5},
		{Item: item(4, "E"), Votes: 5}, {Item: item(5, "F"), Votes: 1},
	})
	mine := []flows.MyIdea{
		{Reference: "A", WantsToHelp: "no"}, {Reference: "B", WantsToHelp: "maybe"}, {Reference: "C", WantsToHelp: "yes"},
		{Reference: "E", WantsToHelp: "yes"}, {Reference: "F", WantsToHelp: "yes"}, {Reference: "X", WantsToHelp: "yes"},
	}
	var got []string
	for _, o := range flows.HelpOffers(results, mine) {
		got = append(got, o.Ref)
	}
	if strings.Join(got, ",") != "B,E" { // E shares rank 3; F is fifth; A's author said no
		t.Errorf("offers for %v, want B (once for item 2) and E", got)
	}
	for _, o := range flows.HelpOffers(results, mine) {
		for _, row := range flows.HelpOfferReply(70000000001, o, "en").Buttons {
			for _, b := range row {
				if len(b.Data) > 64 {
					t.Errorf("button data %q is over Telegram's 64 bytes", b.Data)
				}
			}
		}
	}
}
