package flows_test

import (
	"slices"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
)

// phaseForum is a forum that takes ideas for two more days, with a
// shortlist of three items: one written in Czech and English, one in Czech
// only, one merged from two ideas in English only.
func phaseStudent(t *testing.T, lang string) *student {
	s := newStudent(t, lang)
	f := testForum
	f.ClosesAt, f.VotesPerParticipant, f.ShortlistSize = clock.Add(48*time.Hour), 2, 10
	s.forums = []flows.Forum{f}
	s.items = []flows.ShortlistItem{
		{ID: 101, Position: 1, Language: "cs", Ideas: []string{"N-AAAA"}, Texts: map[string]flows.ItemText{
			"cs": {Title: "Lavičky v parku", Description: "Víc laviček u rybníka."},
			"en": {Title: "Benches in the park", Description: "More benches by the pond."}}},
		{ID: 102, Position: 2, Language: "cs", Ideas: []string{"N-BBBB"}, Texts: map[string]flows.ItemText{
			"cs": {Title: "Pítko na chodbě"}}},
		{ID: 103, Position: 3, Language: "en", Ideas: []string{"N-CCCC", "N-DDDD"}, Texts: map[string]flows.ItemText{
			"en": {Title: "Safer crossing by the school", Description: "Two ideas about the same crossing."}}},
	}
	return s
}

func (s *student) movePhase(phase string) {
	s.forums[0].Phase = phase
	s.log.WriteString("(the forum is now " + phase + ")\n\n")
}

// What a student sees in each phase of a forum, in Czech and English:
// collecting (with the last day for ideas), the end of collecting in the
// middle of an idea, shortlisting, voting (with a double tap, a vote too
// many, a vote taken back, forged buttons), results, and closed.
func TestTranscriptPhases(t *testing.T) {
	for _, lang := range []string{"cs", "en"} {
		t.Run(lang, func(t *testing.T) {
			s := phaseStudent(t, lang)
			s.join(s.forums[0])
			s.tap(s.label("privacy.ok"))
			s.walk(flows.StepReview, nil, map[flows.StepID]string{flows.StepPhoto: "skip"})
			s.tap(s.label("button.submit"))

			s.tap(s.label("button.new_idea"))
			s.walk(flows.StepReview, nil, map[flows.StepID]string{flows.StepPhoto: "skip"})
			s.forums[0].VoteOpensAt = clock.Add(96 * time.Hour)
			s.movePhase(flows.PhaseShortlisting)
			s.tap(s.label("button.submit"))
			if !s.state.InProgress() || len(s.stored) != 1 {
				t.Fatalf("the draft must stay, unsent: %+v, stored %d", s.state, len(s.stored))
			}
			s.join(s.forums[0])
			s.command(flows.CommandCancel)
			s.tap(s.label("button.yes_delete"))
			s.text("hi")

			s.forums[0].VoteClosesAt = clock.Add(120 * time.Hour)
			s.movePhase(flows.PhaseVoting)
			s.text("hi")
			first := s.buttonData(s.render(flows.Msg{Key: "ballot.item_button", Data: map[string]any{"N": 1, "Title": s.items[0].Text(lang).Title}}))
			s.press(first)
			s.press(first) // a double tap, or the same update delivered again
			s.tap(s.render(flows.Msg{Key: "ballot.item_button", Data: map[string]any{"N": 3, "Title": s.items[2].Text(lang).Title}}))
			s.tap(s.render(flows.Msg{Key: "ballot.item_button", Data: map[string]any{"N": 2, "Title": s.items[1].Text(lang).Title}}))
			s.tap(s.render(flows.Msg{Key: "ballot.item_mine_button", Data: map[string]any{"N": 1, "Title": s.items[0].Text(lang).Title}}))
			s.tap(s.render(flows.Msg{Key: "ballot.item_button", Data: map[string]any{"N": 2, "Title": s.items[1].Text(lang).Title}}))
			s.press("|vt|7:999:1") // an item of no ballot of this forum
			s.press("|vt|8:101:1") // another forum's button
			if got := s.ballot(7).Mine; !slices.Equal(got, []int64{102, 103}) {
				t.Errorf("votes %v, want items 102 and 103", got)
			}

			s.movePhase(flows.PhaseResults)
			s.press(first) // a vote after the close
			s.command(flows.CommandResults)
			s.movePhase(flows.PhaseClosed)
			s.join(s.forums[0])
			golden(t, "phases."+lang, s.log.String())
		})
	}
}

func TestVoteButtonsSayWhatTheyMean(t *testing.T) {
	s := phaseStudent(t, "en")
	s.join(s.forums[0])
	s.movePhase(flows.PhaseVoting)
	res := s.command(flows.CommandVote)
	if len(res.Effects) != 2 || res.Effects[1] != flows.Effect(flows.LoadBallot{ForumID: 7}) {
		t.Fatalf("effects %+v", res.Effects)
	}
	vote := s.buttonData("1. Benches in the park")
	res = s.press(vote)
	if res.Effects[0] != flows.Effect(flows.CastVote{ForumID: 7, ItemID: 101, Vote: true}) || !res.Replies[0].Replace {
		t.Errorf("vote: %+v", res)
	}
	unvote := s.buttonData("✅ 1. Benches in the park")
	if res := s.press(unvote); res.Effects[0] != flows.Effect(flows.CastVote{ForumID: 7, ItemID: 101, Vote: false}) {
		t.Errorf("take back: %+v", res.Effects)
	}
	s.press(unvote) // again: still not voted, never voted by a toggle
	if len(s.ballot(7).Mine) != 0 {
		t.Errorf("votes %v", s.ballot(7).Mine)
	}
	for _, forged := range []string{"|vt|7:101", "|vt|7:x:1", "|vt|7:101:2", "|vt|0:101:1"} {
		if res := s.press(forged); len(res.Effects) != 0 || s.keys()[0] != "error.stale_button" {
			t.Errorf("%q: %+v %v", forged, res.Effects, s.keys())
		}
	}
}

func TestRanksShareTies(t *testing.T) {
	item := func(id int64, pos int) flows.ShortlistItem { return flows.ShortlistItem{ID: id, Position: pos} }
	got := flows.Rank([]flows.ItemResult{{Item: item(1, 1), Votes: 3}, {Item: item(2, 2), Votes: 5}, {Item: item(3, 3), Votes: 3}, {Item: item(4, 4)}})
	var ids []int64
	var ranks []int
	for _, r := range got {
		ids, ranks = append(ids, r.Item.ID), append(ranks, r.Rank)
	}
	if !slices.Equal(ids, []int64{2, 1, 3, 4}) || !slices.Equal(ranks, []int{1, 2, 2, 4}) {
		t.Errorf("ids %v ranks %v", ids, ranks)
	}
}

func TestPhaseMoves(t *testing.T) {
	type move struct{ from, to string }
	allowed := map[move]bool{}
	for _, m := range []move{
		{"collecting", "shortlisting"}, {"shortlisting", "voting"}, {"voting", "results"}, {"results", "closed"},
		{"collecting", "closed"}, {"shortlisting", "closed"}, {"voting", "closed"}, {"results", "voting"},
	} {
		allowed[m] = true
	}
	for _, from := range flows.Phases {
		for _, to := range append(flows.Phases, "nonsense") {
			ok, back := flows.PhaseMove(from, to)
			if ok != allowed[move{from, to}] || back != (from == "results" && to == "voting") {
				t.Errorf("%s → %s: allowed %v backwards %v", from, to, ok, back)
			}
		}
	}
}

// A teacher moves a forum on from its card: every move asks first, a stale
// confirmation moves nothing, and going back from results warns.
func TestTeacherMovesThePhaseFromTheCard(t *testing.T) {
	s := newTeacher(t)
	s.forums = []flows.Forum{{ID: 70, Code: "mine", Name: "Mine", Phase: flows.PhaseCollecting, OwnerID: "pid-teacher"}}
	s.press("|fc|70")
	res := s.tap(s.label("button.phase_shortlisting"))
	if len(res.Effects) != 1 || s.keys()[0] != "phase.confirm_shortlisting" {
		t.Fatalf("asks first: %+v %v", res.Effects, s.keys())
	}
	s.tap(s.label("button.phase_no"))
	if s.forums[0].Phase != flows.PhaseCollecting || s.keys()[0] != "phase.unchanged" {
		t.Fatalf("no: %s %v", s.forums[0].Phase, s.keys())
	}
	yes := s.buttonData
	s.tap(s.label("button.phase_shortlisting"))
	confirm := yes(s.label("button.phase_yes"))
	s.press(confirm)
	if s.forums[0].Phase != flows.PhaseShortlisting {
		t.Fatalf("phase %s", s.forums[0].Phase)
	}
	s.press(confirm) // the same confirmation again: the forum has moved on
	if s.forums[0].Phase != flows.PhaseShortlisting || s.keys()[0] != "phase.changed" {
		t.Errorf("stale confirmation: %s %v", s.forums[0].Phase, s.keys())
	}
	s.forums[0].Phase = flows.PhaseResults
	s.press("|fc|70")
	s.tap(s.label("button.phase_back"))
	if s.keys()[0] != "phase.confirm_back" {
		t.Errorf("going back warns: %v", s.keys())
	}
	s.tap(s.label("button.phase_yes"))
	if s.forums[0].Phase != flows.PhaseVoting {
		t.Errorf("back to voting: %s", s.forums[0].Phase)
	}
	// Skipping a phase, or a student's forged button, moves nothing.
	s.press("|fp|70:voting:closed:yes")
	s.actor = flows.Actor{}
	s.press("|fp|70:voting:results:yes")
	if s.forums[0].Phase != flows.PhaseVoting {
		t.Errorf("phase %s", s.forums[0].Phase)
	}
}

// The results picture is for the forum's teacher (and staff), from the card
// in the results phase; another teacher or a student gets nothing.
func TestResultsPictureFromTheCard(t *testing.T) {
	s := newTeacher(t)
	s.forums = []flows.Forum{
		{ID: 70, Code: "mine", Name: "Mine", Phase: flows.PhaseResults, OwnerID: "pid-teacher"},
		{ID: 71, Code: "theirs", Name: "Theirs", Phase: flows.PhaseResults, OwnerID: "someone-else"},
	}
	s.press("|fc|70")
	res := s.tap(s.label("button.results_picture"))
	if len(res.Replies) != 1 || res.Replies[0].File == nil || s.keys()[0] != "results.picture_caption" {
		t.Fatalf("the teacher's picture: replies %v", s.keys())
	}
	if _, ok := res.Effects[len(res.Effects)-1].(flows.MakeResultsPicture); !ok { // after loading the card
		t.Errorf("effects %+v", res.Effects)
	}
	if res := s.press("|fr|71"); len(res.Effects) != 1 || s.keys()[0] != "forum.not_yours" { // the card's loading only
		t.Errorf("another teacher's forum: effects %+v, %v", res.Effects, s.keys())
	}
	s.actor = flows.Actor{}
	if res := s.press("|fr|70"); len(res.Effects) != 0 {
		t.Errorf("a student's forged button: effects %+v", res.Effects)
	}
}
