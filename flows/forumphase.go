package flows

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is what a student gets from a forum after its ideas: a word on
// what happens next while the shortlist is picked, the ballot while voting,
// the ranked shortlist once results are in. What they get depends on the
// forum's phase as it is now, looked up when they open the link, write
// between ideas, or ask (/vote, /results).

// Buttons of the ballot.
const buttonVote = "vt" // vote (1) or take a vote back (0): "<forum>:<item>:<1|0>"

// withForum runs then with the student's forum as it is now: first the bot
// looks it up (CheckForum), then the input is handled again with it.
func (c *conversation) withForum(then func(Forum)) {
	if c.in.Current == nil {
		c.do(CheckForum{ForumID: c.st.ForumID})
		return
	}
	then(*c.in.Current)
}

// nextStep says what happens after the ideas, with the last day for ideas
// if there is one. No promise that any idea gets money: the class chooses.
func nextStep(closesAt time.Time) Msg {
	if closesAt.IsZero() {
		return Msg{Key: "phase.next"}
	}
	// It closes at the first moment after its last day.
	return Msg{Key: "phase.next_until", Data: map[string]any{"Closes": closesAt.Add(-time.Second)}}
}

// phaseView shows the student what fits the forum's phase after the ideas;
// in collecting (asked for with /vote or /results) it says when voting comes.
func (c *conversation) phaseView(f Forum) {
	data := map[string]any{"Forum": f.Name}
	switch f.PhaseAt(c.now) {
	case PhaseCollecting:
		data["Next"] = nextStep(f.ClosesAt)
		c.say("phase.collecting", data, c.restRow())
	case PhaseShortlisting:
		data["Opens"] = Msg{Key: "phase.opens_soon"}
		if !f.VoteOpensAt.IsZero() && c.now.Before(f.VoteOpensAt) {
			data["Opens"] = Msg{Key: "phase.opens_on", Data: map[string]any{"Day": f.VoteOpensAt}}
		}
		c.say("phase.shortlisting", data)
	case PhaseVoting:
		c.do(LoadBallot{ForumID: f.ID})
	case PhaseResults:
		c.do(LoadResults{ForumID: f.ID})
	default:
		c.say("join.closed", data)
	}
	if c.st.InProgress() && f.PhaseAt(c.now) != PhaseCollecting {
		// Nothing written is thrown away: the student may still read it.
		c.say("phase.draft_kept", nil)
	}
}

// atRest answers a student between ideas (idle, or after sending one): in
// collecting as ever (collecting), else what the phase brings.
func (c *conversation) atRest(collecting func()) {
	c.withForum(func(f Forum) {
		if f.PhaseAt(c.now) == PhaseCollecting {
			collecting()
			return
		}
		c.phaseView(f)
	})
}

// voteCommand and resultsCommand: the ballot or the results, or what the
// forum is doing instead.
func (c *conversation) voteCommand(CommandSent) {
	if c.joined() {
		c.withForum(c.phaseView)
	}
}

// voteButton handles a tap on the ballot. The button says what the student
// meant (vote, or take the vote back), not "toggle": the same tap delivered
// twice does the same thing twice, which the store makes no change at all.
func (c *conversation) voteButton(b buttonData) {
	forumID, itemID, choice, ok := parseItemButton(b.value, "1", "0")
	if !ok {
		c.stale()
		return
	}
	if forumID != c.st.ForumID {
		c.say("vote.other_forum", nil)
		return
	}
	c.do(CastVote{ForumID: forumID, ItemID: itemID, Vote: choice == "1"})
}

// parseItemButton reads the value of a button about a shortlist item,
// "<forum>:<item>:<choice>", the choice one of choices.
func parseItemButton(value string, choices ...string) (forumID, itemID int64, choice string, ok bool) {
	parts := strings.Split(value, ":")
	if len(parts) != 3 || !slices.Contains(choices, parts[2]) {
		return 0, 0, "", false
	}
	forumID, err1 := strconv.ParseInt(parts[0], 10, 64)
	itemID, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || forumID <= 0 || itemID <= 0 {
		return 0, 0, "", false
	}
	return forumID, itemID, parts[2], true
}

// voteCast shows what became of a vote, and the ballot as it is now.
func (c *conversation) voteCast(v VoteCast) {
	switch v.Outcome {
	case VoteRecorded, VoteTakenBack:
		c.showBallot(v.Ballot, true)
	case VoteNoneLeft:
		votes := v.Ballot.Forum.VotesPerParticipant
		c.sayCount("vote.none_left", votes, nil)
		c.showBallot(v.Ballot, false)
	case VoteUnknownItem:
		c.say("vote.unknown_item", nil)
		c.showBallot(v.Ballot, false)
	default: // VoteClosed
		c.say("vote.closed", nil)
		if v.Ballot.Forum.ID != 0 {
			c.phaseView(v.Ballot.Forum)
		}
	}
}

// showBallot is the shortlist to vote on: every item, the student's votes
// marked, how many are left, and a button per item that votes for it or
// takes the vote back.
func (c *conversation) showBallot(b Ballot, replace bool) {
	if b.Forum.PhaseAt(c.now) != PhaseVoting {
		c.phaseView(b.Forum)
		return
	}
	r := BallotReply(b, c.st.Lang)
	r.Replace = replace
	c.replies = append(c.replies, r)
}

// BallotReply is the ballot as its participant sees it, in lang: in the
// chat, and when everyone is told that voting opened.
func BallotReply(b Ballot, lang string) Reply {
	var lines Lines
	var buttons []Button
	for _, it := range b.Items {
		text := it.Text(lang)
		mine := slices.Contains(b.Mine, it.ID)
		data := map[string]any{"N": it.Position, "Title": text.Title, "Description": text.Description}
		key, vote := "ballot.item", "1"
		if mine {
			key, vote = "ballot.item_mine", "0"
		}
		lines = append(lines, Msg{Key: key, Data: data})
		value := strconv.FormatInt(b.Forum.ID, 10) + ":" + strconv.FormatInt(it.ID, 10) + ":" + vote
		buttons = append(buttons, Button{Label: Msg{Key: key + "_button", Data: data}, Data: encodeButton("", buttonVote, value)})
	}
	until := Msg{Key: "ballot.until_open"}
	if !b.Forum.VoteClosesAt.IsZero() {
		until = Msg{Key: "ballot.until", Data: map[string]any{"Closes": b.Forum.VoteClosesAt}}
	}
	left := b.VotesLeft()
	return Reply{
		Text: Msg{Key: "ballot.intro", Count: &left, Data: map[string]any{
			"Forum": b.Forum.Name, "Items": lines, "Votes": b.Forum.VotesPerParticipant, "Until": until,
		}},
		Buttons: chunks(buttons, 1),
	}
}

// showResults is the ranked shortlist with the votes of each item.
func (c *conversation) showResults(r ResultsLoaded) {
	c.replies = append(c.replies, ResultsReply(r.Forum, r.Results, c.st.Lang))
	if r.Places != nil {
		c.replies = append(c.replies, *r.Places)
	}
}

// ResultsReply is the ranked shortlist with the votes of each item, in
// lang: in the chat, and when everyone is told the results.
func ResultsReply(f Forum, results []ItemResult, lang string) Reply {
	var lines Lines
	for _, res := range results {
		votes := res.Votes
		lines = append(lines, Msg{Key: "results.item", Count: &votes, Data: map[string]any{
			"Rank": res.Rank, "Title": res.Item.Text(lang).Title,
		}})
	}
	return Reply{Text: Msg{Key: "results.intro", Data: map[string]any{"Forum": f.Name, "Items": lines}}}
}

// CarriedIdeasReply tells the author of ideas merged into shortlist items
// which item carries each (ideas on the shortlist as they were sent need
// no telling: the student sees their own title).
func CarriedIdeasReply(carried []CarriedIdea, lang string) (Reply, bool) {
	var lines Lines
	for _, ci := range carried {
		if len(ci.Item.Ideas) < 2 {
			continue
		}
		lines = append(lines, Msg{Key: "results.carried_item", Data: map[string]any{
			"Ref": ci.Ref, "Idea": ci.Title, "Rank": ci.Rank, "Item": ci.Item.Text(lang).Title,
		}})
	}
	if len(lines) == 0 {
		return Reply{}, false
	}
	return Reply{Text: Msg{Key: "results.carried", Data: map[string]any{"Items": lines}}}, true
}
