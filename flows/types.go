package flows

import "time"

// Forum is a place students join through a link: a class, a school or a town.
type Forum struct {
	ID     int64
	Code   string // join code used in https://t.me/<bot>?start=<code>
	Name   string
	School string
	Town   string
	Open   bool
}

// Submission is one finished idea, ready to be stored for the city.
// DraftID makes storing it idempotent: the same draft is stored once.
type Submission struct {
	DraftID       string
	ParticipantID string // keyed hash of the Telegram user id, never the id itself
	ForumID       int64
	Language      string
	Scope         string // "school", "town" or "both"
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
	SubmittedAt   time.Time
}
