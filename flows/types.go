package flows

import "time"

// Forum is a place students join through a link: a class, a school or a town.
type Forum struct {
	ID        int64
	Code      string // join code used in https://t.me/<bot>?start=<code>
	ShortCode string // typed instead of the link (/join K7Q2-M9XD, see joincode.go); stored without the dash
	Name      string
	School    string
	Town      string
	Scope     string    // ideas it asks for: one of Scopes
	Languages []string  // offered languages: a subset of Languages, in that order
	ClosesAt  time.Time // zero when there is no closing date; collecting ends then
	OwnerID   string    // participant id of the teacher who created it; "" when created from the CLI
	// Phase is where the forum is in the school-forum method (one of
	// Phases); ReopensTo, for a closed forum, the phase reopening returns to.
	Phase     string
	ReopensTo string
	// When voting opens and closes by itself (zero: when someone moves it).
	VoteOpensAt, VoteClosesAt time.Time
	ShortlistSize             int // at most this many shortlist items
	VotesPerParticipant       int // votes each participant has, at most one per item
	// PreviousID is last year's forum, which this one follows (0: none).
	PreviousID int64
	// Area is the forum's town on the emotional map (zero: not set); pins
	// far outside it are questioned.
	Area MapArea
	// Feelings are the forum's own feelings on the map, beside the
	// standard ones (at most MaxOwnFeelings, in the teacher's words).
	Feelings []string
	// QRChoice: its QR code opens a page that offers Telegram or the
	// browser (the web channel), not Telegram itself.
	QRChoice bool
}

// ForumStats is how far a forum's students got, for its teacher. It holds
// counts only, so a teacher never learns who sent what.
type ForumStats struct {
	Joined     int       // opened the join link (or submitted)
	InProgress int       // joined but sent nothing yet
	Submitted  int       // sent at least one idea; several ideas count once
	LastIdea   time.Time // zero if none
	Voted      int       // gave at least one vote
	Pins       int       // places marked on the emotional map
}

// Idea is one finished idea, ready to be stored for the city.
// DraftID makes storing it idempotent: the same draft is stored once.
type Idea struct {
	DraftID       string
	ParticipantID string // keyed hash of the Telegram user id, never the id itself
	ForumID       int64
	Language      string
	Scope         string // one of Scopes
	WorksWell     string // optional
	Improve       string
	Title         string
	Description   string
	Category      string
	PlaceText     string   // typed place, optional
	Latitude      *float64 // shared pin, optional
	Longitude     *float64
	PhotoFileID   string // Telegram file id, optional; the photo itself is never copied
	WantsToHelp   string // "yes", "maybe" or "no"
	// More are the answers to questions without a field of their own (see
	// MoreQuestions), by step id: a new question needs no new field.
	More map[string]string `json:",omitempty"`
	// Flagged: it may contain offensive words, so staff see it first.
	Flagged     bool
	SubmittedAt time.Time
	// ContactChat is where to tell the student what became of the idea
	// (set by the bot; 0: nowhere). It is stored with the idea, in one go.
	ContactChat int64
	// Quiet: the student said /stop, so no ContactChat.
	Quiet bool
	// Channel is how the idea came (one of Channels), set by the bot that
	// stores it: the conversation is the same in every channel. "" is
	// stored as ChannelTelegram, where ideas came from before there was
	// another way.
	Channel string
}
