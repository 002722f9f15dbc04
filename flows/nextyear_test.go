package flows_test

import (
	"fmt"
	"testing"

	"github.com/healthycities/napad/flows"
)

// lastYear is last year's forum of the same class with a voted shortlist:
// two items answered (one in Czech and English, one in Czech only), one not
// answered yet, one nobody voted for.
func lastYear() *flows.LastYear {
	f := testForum
	f.ID, f.Code, f.Name, f.Phase = 3, "Lw8RtYZk3xQ9mP2a", "7.B – ZŠ Komenského", flows.PhaseResults
	item := func(id int64, pos int, lang, title string) flows.ShortlistItem {
		return flows.ShortlistItem{ID: id, Position: pos, Language: lang, Texts: map[string]flows.ItemText{lang: {Title: title}}}
	}
	benches := item(31, 2, "cs", "Lavičky na školním dvoře")
	benches.Texts["en"] = flows.ItemText{Title: "Benches in the school yard"}
	benches.AnswerStatus = flows.StatusDone
	benches.Answers = map[string]string{"cs": "Šest laviček stojí od září pod lípou.", "en": "Six benches have stood under the linden tree since September."}
	fountain := item(32, 1, "cs", "Pítko na chodbě")
	fountain.AnswerStatus = flows.StatusInProgress
	fountain.Answers = map[string]string{"cs": "Město ho objednalo, přijde v lednu."}
	bikes := item(33, 3, "en", "Bike racks by the gym")
	nobody := item(34, 4, "cs", "Delší přestávky")
	return &flows.LastYear{Forum: f, Results: flows.Rank([]flows.ItemResult{
		{Item: fountain, Votes: 4}, {Item: benches, Votes: 9}, {Item: bikes, Votes: 1}, {Item: nobody, Votes: 0},
	})}
}

// A student opening the link of a forum that follows last year's sees,
// after the welcome, what became of last year's chosen items: the status
// of each, and the answer in their language when written in it (else as
// written); an item nobody voted for is not listed.
func TestTranscriptLastYear(t *testing.T) {
	for _, lang := range []string{"cs", "en"} {
		t.Run(lang, func(t *testing.T) {
			s := newStudent(t, lang)
			f := testForum
			f.PreviousID = 3
			s.do("opens the join link of “"+f.Name+"”, which follows “7.B – ZŠ Komenského”",
				flows.Input{What: flows.JoinLinkOpened{Found: true, Forum: f, LastYear: lastYear()}})
			golden(t, "lastyear."+lang, s.log.String())
		})
	}
}

// Nothing about last year when its forum had no shortlist.
func TestNoLastYearWithoutShortlist(t *testing.T) {
	s := newStudent(t, "en")
	y := lastYear()
	y.Results = nil
	res := s.do("opens the join link", flows.Input{What: flows.JoinLinkOpened{Found: true, Forum: testForum, LastYear: y}})
	for _, r := range res.Replies {
		if r.Text.Key == "lastyear.intro" {
			t.Fatalf("last year shown without a shortlist: %+v", r.Text)
		}
	}
}

// Chosen: the items with votes, most first, when last year's class voted;
// the whole shortlist in its order when it never did; at most ten.
func TestLastYearChosen(t *testing.T) {
	if got := lastYear().Chosen(); len(got) != 3 || got[0].Item.ID != 31 || got[2].Item.ID != 33 {
		t.Errorf("voted: chosen %+v, want items 31, 32, 33", got)
	}
	var never []flows.ItemResult
	for i := range 12 {
		never = append(never, flows.ItemResult{Item: flows.ShortlistItem{ID: int64(i + 1), Position: i + 1, Texts: map[string]flows.ItemText{"cs": {Title: fmt.Sprint(i)}}}})
	}
	got := flows.LastYear{Results: flows.Rank(never)}.Chosen()
	if len(got) != flows.MaxLastYearItems || got[0].Item.ID != 1 || got[9].Item.ID != 10 {
		t.Errorf("never voted: chosen %d items from %d, want the first %d", len(got), got[0].Item.ID, flows.MaxLastYearItems)
	}
}
