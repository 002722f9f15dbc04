package flows

import (
	"errors"
	"slices"
	"time"
)

// A forum goes through the phases of the school-forum method, one after
// another: students send ideas (collecting), the class picks a shortlist
// (shortlisting), everyone votes on it (voting), and the ranked shortlist is
// shown (results). Any phase may be closed; reopening returns to the phase
// it was closed from.
const (
	PhaseCollecting   = "collecting"
	PhaseShortlisting = "shortlisting"
	PhaseVoting       = "voting"
	PhaseResults      = "results"
	PhaseClosed       = "closed"
)

// Why a phase move was refused: the stores wrap these, the bot and the
// command line tell them apart.
var (
	// ErrPhaseMove: the move is not one PhaseMove allows.
	ErrPhaseMove = errors.New("this phase move is not allowed")
	// ErrPhaseChanged: the forum is no longer in the phase the move was
	// asked from (someone, or its dates, moved it meanwhile).
	ErrPhaseChanged = errors.New("the forum's phase changed meanwhile")
	// ErrNeedsConfirmation: a move back asked for without confirming it.
	ErrNeedsConfirmation = errors.New("moving back needs confirmation")
	// ErrVoteDaysOrder: voting would close before it opens.
	ErrVoteDaysOrder = errors.New("voting must close after it opens")
	// ErrShortlistEmpty: voting cannot open on an empty shortlist.
	ErrShortlistEmpty = errors.New("the shortlist is empty")
)

// Phases are all phases, in order.
var Phases = []string{PhaseCollecting, PhaseShortlisting, PhaseVoting, PhaseResults, PhaseClosed}

// The bounds of a forum's settings, and their defaults.
const (
	DefaultShortlistSize       = 10
	MaxShortlistSize           = 20
	DefaultVotesPerParticipant = 2
	MaxVotesPerParticipant     = 5
)

// PhaseMove says whether a forum may move from one phase to another, and
// whether that is the one move backwards (results → voting), which must be
// confirmed after a warning: votes may change the results already seen.
// Forward moves go one phase at a time, so no phase is skipped by a slip of
// the finger; closing is allowed from anywhere. Reopening (closed → the
// phase it was closed from) is not a move: see SetForumOpen.
func PhaseMove(from, to string) (allowed, backwards bool) {
	i, j := slices.Index(Phases, from), slices.Index(Phases, to)
	switch {
	case i < 0 || j < 0 || from == PhaseClosed:
		return false, false
	case to == PhaseClosed || j == i+1:
		return true, false
	case from == PhaseResults && to == PhaseVoting:
		return true, true
	}
	return false, false
}

// NextPhase is the phase after p ("" after closed).
func NextPhase(p string) string {
	i := slices.Index(Phases, p)
	if i < 0 || i+1 >= len(Phases) {
		return ""
	}
	return Phases[i+1]
}

// PhaseAt is the phase a forum is in at now, as students see it: ideas
// stop at the closing date even before the bot has moved the forum on (it
// does so within a minute), and votes stop when voting closes.
func (f Forum) PhaseAt(now time.Time) string {
	switch {
	case f.Phase == PhaseCollecting && !f.ClosesAt.IsZero() && !now.Before(f.ClosesAt):
		return PhaseShortlisting
	case f.Phase == PhaseVoting && !f.VoteClosesAt.IsZero() && !now.Before(f.VoteClosesAt):
		return PhaseResults
	}
	return f.Phase
}

// ShortlistEditable reports whether a forum's shortlist may change: while
// ideas come and while it is being picked, never once voting has begun, or
// votes would be cast on a ballot that then changes under the voters.
func ShortlistEditable(phase string) bool {
	return phase == PhaseCollecting || phase == PhaseShortlisting
}

// PhaseMoved is one move of a forum from one phase to another. Voting
// opened and results reached are what announcements to every participant
// hang on.
type PhaseMoved struct {
	ForumID  int64
	Code     string
	From, To string
}

// ItemText is a shortlist item's text in one language, written by staff or
// the teacher (or the one idea's own words); never machine-translated.
type ItemText struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// ShortlistItem is one item of a forum's shortlist: one idea, or several
// near-duplicates merged.
type ShortlistItem struct {
	ID       int64
	Position int
	// Texts by language; Language is the one shown to a student whose own
	// is missing.
	Texts    map[string]ItemText
	Language string
	Ideas    []string // references of the ideas it carries
	// The school's or town's public answer: AnswerStatus is one of
	// ItemStatuses ("" before any answer); Answers are staff's words by
	// language, like Texts.
	AnswerStatus string
	Answers      map[string]string
}

// Answer is the item's answer for a reader of lang: in lang when written,
// else in the item's language, else in the first language it has.
func (it ShortlistItem) Answer(lang string) string {
	for _, l := range append([]string{lang, it.Language}, Languages...) {
		if a, ok := it.Answers[l]; ok {
			return a
		}
	}
	return ""
}

// Text is the item's text for a reader of lang: in lang when written, else
// in the item's first language.
func (it ShortlistItem) Text(lang string) ItemText {
	if t, ok := it.Texts[lang]; ok {
		return t
	}
	return it.Texts[it.Language]
}

// Ballot is a forum's shortlist as one participant votes on it.
type Ballot struct {
	Forum Forum
	Items []ShortlistItem
	Mine  []int64 // the items they voted for
}

// VotesLeft is how many votes the participant may still give.
func (b Ballot) VotesLeft() int { return max(b.Forum.VotesPerParticipant-len(b.Mine), 0) }

// ItemResult is a shortlist item with its votes and rank; items with as
// many votes share a rank (1, 2, 2, 4).
type ItemResult struct {
	Item  ShortlistItem
	Votes int
	Rank  int
}

// CarriedIdea is one of a participant's ideas and the shortlist item that
// carries it, with the item's rank in the results.
type CarriedIdea struct {
	Ref, Title string
	Item       ShortlistItem
	Rank       int
}

// Rank orders results by votes, most first (equal votes by shortlist
// position), and gives each its rank.
func Rank(results []ItemResult) []ItemResult {
	out := slices.Clone(results)
	slices.SortStableFunc(out, func(a, b ItemResult) int {
		if a.Votes != b.Votes {
			return b.Votes - a.Votes
		}
		return a.Item.Position - b.Item.Position
	})
	for i := range out {
		out[i].Rank = i + 1
		if i > 0 && out[i].Votes == out[i-1].Votes {
			out[i].Rank = out[i-1].Rank
		}
	}
	return out
}

// What became of a vote (VoteCast.Outcome).
const (
	VoteRecorded    = "recorded"     // the vote counts (also when it did already)
	VoteTakenBack   = "taken_back"   // the vote no longer counts (also when it did not)
	VoteNoneLeft    = "none_left"    // every vote is given: take one back first
	VoteClosed      = "closed"       // the forum is not voting (any more)
	VoteUnknownItem = "unknown_item" // no such item in this forum
)

// ShortlistCandidate is an idea that may go on a forum's shortlist, as staff
// and the teacher see it when picking.
type ShortlistCandidate struct {
	Ref, Title, Category, Place, Language string
	Pinned                                bool  // a pin on the map (Place: typed)
	Similar                               int   // ideas marked as duplicates of it
	ItemID                                int64 // the item carrying it; 0: none yet
}

// ShortlistError is why a change of a shortlist was refused (Reason, one of
// the Shortlist* reasons below), about the idea Ref if it is about one.
type ShortlistError struct{ Reason, Ref string }

func (e *ShortlistError) Error() string {
	if e.Ref != "" {
		return "shortlist: " + e.Reason + ": " + e.Ref
	}
	return "shortlist: " + e.Reason
}

// Why a change of a shortlist was refused.
const (
	ShortlistFull       = "full"        // it has ShortlistSize items already
	ShortlistOtherForum = "other_forum" // the idea is another forum's
	ShortlistHidden     = "hidden"      // the idea is hidden by moderation
	ShortlistTaken      = "taken"       // the idea is in another item already
	ShortlistUnknown    = "unknown"     // no such idea, or no such item
	ShortlistFrozen     = "frozen"      // voting has begun: the ballot must not change
	ShortlistNeedsTitle = "needs_title" // merged ideas need a title of their own
	ShortlistBadText    = "bad_text"    // a title or description too long, or a language not offered
)

// The lengths of a shortlist item's texts, in characters.
const (
	MaxItemTitle       = 100
	MaxItemDescription = 300
	MaxItemAnswer      = 500
)
