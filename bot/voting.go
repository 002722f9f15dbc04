package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/healthycities/napad/flows"
)

// This file is the school forum after its ideas: phase moves (from a forum
// card, or by themselves at the forum's dates), the ballot and the votes,
// and the results.

// phaseScheduleEvery is how often the bot looks for forums whose date has
// come: a phase moves on within this of its date.
const phaseScheduleEvery = 30 * time.Second

// setVoteDay sets the day voting opens (from its first moment) or its last
// day (it closes at the first moment after), in the city's time zone.
func (rt *Runtime) setVoteDay(ctx context.Context, x effect, e flows.SetVoteDay) (flows.Input, bool) {
	at, err := rt.dayEnd(e.Day)
	if err != nil {
		return rt.failed("a voting day", err)
	}
	var opens, closes *time.Time
	if e.Closes {
		closes = &at
	} else {
		if !at.IsZero() {
			at = at.AddDate(0, 0, -1)
		}
		opens = &at
	}
	err = rt.stores.Voting.SetVoteDays(ctx, e.Code, opens, closes, x.pid)
	if errors.Is(err, flows.ErrVoteDaysOrder) {
		return rt.refusedOnCard(ctx, e.ForumID, "forum.vote_days_order")
	}
	if err != nil {
		return rt.failed("changing a voting day failed", err)
	}
	x.written()
	rt.log.Info("voting day changed", "forum_id", e.ForumID, "closes", e.Closes)
	return rt.reloadCard(ctx, e.ForumID)
}

func (rt *Runtime) movePhase(ctx context.Context, x effect, e flows.MovePhase) (flows.Input, bool) {
	moved, err := rt.stores.Voting.MovePhase(ctx, e.Code, e.From, e.To, x.pid, true)
	var reason string
	switch {
	case errors.Is(err, flows.ErrShortlistEmpty):
		reason = "phase.shortlist_empty"
	case errors.Is(err, flows.ErrPhaseChanged):
		reason = "phase.changed"
	case err != nil:
		return rt.failed("moving a forum's phase failed", err)
	}
	if reason != "" {
		return rt.refusedOnCard(ctx, e.ForumID, reason)
	}
	x.written()
	if moved {
		rt.phaseMoved(ctx, flows.PhaseMoved(e))
	}
	return rt.reloadCard(ctx, e.ForumID)
}

// refusedOnCard says why a change of a forum was not made (reason, a
// locale key), with its card as it is.
func (rt *Runtime) refusedOnCard(ctx context.Context, forumID int64, reason string) (flows.Input, bool) {
	card, found, err := rt.card(ctx, forumID)
	if err != nil || !found {
		return rt.failed("reloading a forum card failed", fmt.Errorf("forum %d (found=%v): %w", forumID, found, err))
	}
	return outcome(flows.PhaseRefused{Reason: reason, Card: card})
}

// phaseMoved is where what follows a move hangs: today a log line; voting
// opened and results reached are where announcements to every participant
// will start (Config.OnPhaseMoved).
func (rt *Runtime) phaseMoved(ctx context.Context, m flows.PhaseMoved) {
	rt.log.Info("forum phase moved", "forum_id", m.ForumID, "from", m.From, "to", m.To)
	if rt.cfg.OnPhaseMoved != nil {
		rt.cfg.OnPhaseMoved(ctx, m)
	}
}

func (rt *Runtime) loadBallot(ctx context.Context, x effect, e flows.LoadBallot) (flows.Input, bool) {
	b, err := rt.stores.Voting.Ballot(ctx, e.ForumID, x.pid)
	if err != nil {
		return rt.failed("loading a ballot failed", err)
	}
	b.Forum = rt.local(b.Forum)
	return outcome(flows.BallotLoaded{Ballot: b})
}

func (rt *Runtime) castVote(ctx context.Context, x effect, e flows.CastVote) (flows.Input, bool) {
	result, b, err := rt.stores.Voting.Vote(ctx, e.ForumID, e.ItemID, x.pid, x.st.Lang, e.Vote, rt.now())
	if err != nil {
		return rt.failed("storing a vote failed", err)
	}
	x.written()
	rt.log.Info("vote", "forum_id", e.ForumID, "outcome", result)
	b.Forum = rt.local(b.Forum)
	return outcome(flows.VoteCast{Outcome: result, Ballot: b})
}

func (rt *Runtime) loadResults(ctx context.Context, e flows.LoadResults) (flows.Input, bool) {
	f, found, err := rt.stores.Forums.ForumByID(ctx, e.ForumID)
	if err != nil || !found {
		return rt.failed("loading a forum failed", err)
	}
	results, err := rt.stores.Voting.Results(ctx, e.ForumID)
	if err != nil {
		return rt.failed("loading results failed", err)
	}
	res := flows.ResultsLoaded{Forum: rt.local(f), Results: results}
	if r, ok := rt.topPlaces(ctx, f); ok {
		res.Places = &r
	}
	return outcome(res)
}

// RunPhaseSchedule moves forums on at their dates until ctx ends: ideas
// close at the closing date, voting opens and closes at its dates. Every
// replica may run it: each move is made (and handed to phaseMoved) once.
func (rt *Runtime) RunPhaseSchedule(ctx context.Context, every time.Duration) {
	if rt.stores.Voting == nil {
		return
	}
	if every <= 0 {
		every = phaseScheduleEvery
	}
	for {
		storeCtx, cancel := context.WithTimeout(ctx, storeTimeout)
		moves, err := rt.stores.Voting.AdvanceDuePhases(storeCtx, rt.now())
		cancel()
		if err != nil && ctx.Err() == nil {
			rt.log.Warn("moving forums on at their dates: will try again", "err", err)
		}
		for _, m := range moves {
			rt.phaseMoved(ctx, m)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// renderVotingOpen is everyone's ballot when voting opens. A participant who
// voted already (voting reopened, or quick) sees their votes marked; once
// voting has closed again the message is the forum as it is now.
func (rt *Runtime) renderVotingOpen(ctx context.Context, d flows.BroadcastDelivery) ([]flows.Reply, error) {
	b, err := rt.stores.Voting.Ballot(ctx, d.ForumID, d.ParticipantID)
	if err != nil {
		return nil, fmt.Errorf("voting opened: %w", err)
	}
	b.Forum = rt.local(b.Forum)
	if b.Forum.PhaseAt(rt.now()) != flows.PhaseVoting {
		return rt.renderResultsIfOut(ctx, d, b.Forum)
	}
	return []flows.Reply{flows.BallotReply(b, d.Language)}, nil
}

// renderResults is the ranked results for everyone, and for the authors of
// merged ideas which item carries theirs.
func (rt *Runtime) renderResults(ctx context.Context, d flows.BroadcastDelivery) ([]flows.Reply, error) {
	f, found, err := rt.stores.Forums.ForumByID(ctx, d.ForumID)
	if err != nil || !found {
		return nil, fmt.Errorf("results: forum %d (found=%v): %w", d.ForumID, found, err)
	}
	return rt.renderResultsIfOut(ctx, d, rt.local(f))
}

func (rt *Runtime) renderResultsIfOut(ctx context.Context, d flows.BroadcastDelivery, f flows.Forum) ([]flows.Reply, error) {
	if f.PhaseAt(rt.now()) != flows.PhaseResults {
		// Moved on (or back) since: a later broadcast says what is true then;
		// this one has nothing left to say.
		return nil, nil
	}
	results, mine, err := rt.resultsAndMine(ctx, d.ForumID, d.ParticipantID)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	replies := []flows.Reply{flows.ResultsReply(f, results, d.Language)}
	if r, ok := rt.topPlaces(ctx, f); ok {
		replies = append(replies, r)
	}
	var carried []flows.CarriedIdea
	for _, r := range results {
		for _, idea := range mine {
			if slices.Contains(r.Item.Ideas, idea.Reference) {
				carried = append(carried, flows.CarriedIdea{Ref: idea.Reference, Title: idea.Title, Item: r.Item, Rank: r.Rank})
			}
		}
	}
	if r, ok := flows.CarriedIdeasReply(carried, d.Language); ok {
		replies = append(replies, r)
	}
	for _, ci := range flows.HelpOffers(results, mine) {
		replies = append(replies, flows.HelpOfferReply(f.ID, ci, d.Language))
	}
	return replies, nil
}

// resultsAndMine are a forum's ranked results and a participant's ideas
// (of every forum: the results' items name theirs by reference).
func (rt *Runtime) resultsAndMine(ctx context.Context, forumID int64, participantID string) ([]flows.ItemResult, []flows.MyIdea, error) {
	results, err := rt.stores.Voting.Results(ctx, forumID)
	if err != nil {
		return nil, nil, err
	}
	mine, err := rt.stores.People.IdeasOf(ctx, participantID)
	if err != nil {
		return nil, nil, fmt.Errorf("the participant's ideas: %w", err)
	}
	return results, mine, nil
}

// saveHelpOffer stores how to reach a student about a chosen item, after
// checking again what the button only claimed: the forum shows its results,
// the item is a chosen one, and it carries an idea of theirs whose author
// would help. The contact is never logged.
func (rt *Runtime) saveHelpOffer(ctx context.Context, x effect, e flows.SaveHelpOffer) (flows.Input, bool) {
	f, found, err := rt.stores.Forums.ForumByID(ctx, e.ForumID)
	if err != nil {
		return rt.failed("loading a forum for a help offer failed", err)
	}
	shown := f.PhaseAt(rt.now()) == flows.PhaseResults || (f.Phase == flows.PhaseClosed && f.ReopensTo == flows.PhaseResults)
	if !found || !shown {
		rt.log.Info("a help offer refused: the forum shows no results", "forum_id", e.ForumID)
		return outcome(flows.HelpOfferSaved{})
	}
	results, mine, err := rt.resultsAndMine(ctx, e.ForumID, x.pid)
	if err != nil {
		return rt.failed("checking a help offer failed", err)
	}
	offered := slices.ContainsFunc(flows.HelpOffers(results, mine), func(ci flows.CarriedIdea) bool { return ci.Item.ID == e.ItemID })
	if !offered {
		rt.log.Info("a help offer refused: not a chosen item with the participant's idea", "forum_id", e.ForumID, "item_id", e.ItemID)
		return outcome(flows.HelpOfferSaved{})
	}
	if err := rt.stores.Voting.SaveHelpOffer(ctx, x.pid, e.ItemID, e.Contact); err != nil {
		return rt.failed("storing a help offer failed", err)
	}
	x.written()
	rt.log.Info("help offer stored", "forum_id", e.ForumID, "item_id", e.ItemID)
	return outcome(flows.HelpOfferSaved{Stored: true})
}
