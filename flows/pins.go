package flows

import "time"

// The emotional map ("pocitová mapa"): students mark places with a feeling
// and maybe one line about them. This file holds what a pin is; the
// conversation that marks one is in mapflow.go.

// The standard feelings, in the order of their buttons.
const (
	FeelingLike     = "like"     // 😊 I like it here
	FeelingUnsafe   = "unsafe"   // 😟 I feel unsafe here
	FeelingChange   = "change"   // 🛠️ this should change
	FeelingFreeTime = "freetime" // 🏀 I spend my free time here
)

// Feelings are the standard feelings every forum offers.
var Feelings = []string{FeelingLike, FeelingUnsafe, FeelingChange, FeelingFreeTime}

// MaxOwnFeelings is how many feelings of its own a forum may add; they are
// coded "own1" to "own3", in the order of Forum.Feelings.
const MaxOwnFeelings = 3

// MaxOwnFeeling is how long a forum's own feeling may be, in characters.
const MaxOwnFeeling = 40

// MaxPinComment is how long the one line about a place may be.
const MaxPinComment = 200

// MaxPinPlace is how long a typed place may be.
const MaxPinPlace = 120

// MapArea is a forum's town on the map: a centre and a radius. A zero
// radius means no area is set.
type MapArea struct {
	Lat, Lon float64
	RadiusKm float64
}

// Set reports whether the area is set.
func (a MapArea) Set() bool { return a.RadiusKm > 0 }

// Pin is one place a student marked, ready to be stored. DraftID makes
// storing it idempotent: the same pin is stored once.
type Pin struct {
	DraftID       string
	ParticipantID string
	ForumID       int64
	// Lat and Lon: the pin on the map; nil when the student typed the
	// place (PlaceText) because their device could not send a pin.
	Lat, Lon  *float64
	PlaceText string
	Feeling   string // one of Feelings, or "own1".."own3"
	Comment   string // optional, one line
	Language  string
	AgeBand   string // the student's age group, when asked
	// Flagged: the comment may contain offensive words, so staff see it first.
	Flagged   bool
	CreatedAt time.Time
}

// TopPlace is a place where a forum's pins of one feeling gather, for the
// class's results.
type TopPlace struct {
	Feeling string
	// Label is the place as a student typed it ("" when it was only pinned).
	Label    string
	Lat, Lon *float64
	Pins     int
}

// PinReview is a pin comment for staff to check.
type PinReview struct {
	ID      int64
	Forum   string
	Feeling string
	// FeelingLabel is a forum's own feeling in the teacher's words.
	FeelingLabel string
	PlaceText    string
	Comment      string
	Flagged      bool
}
