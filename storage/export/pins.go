package export

import "time"

// PinRow is one pin of the emotional map as exported: no pseudonym, no way
// back to the student.
type PinRow struct {
	ID        int64
	Forum     string // forum name
	ForumCode string
	Town      string
	Date      time.Time
	Latitude  *float64 // nil: the student typed the place (PlaceText)
	Longitude *float64
	PlaceText string
	// Feeling is a code: one of flows.Feelings, or "own1".."own3" for a
	// forum's own feeling, whose words are FeelingLabel.
	Feeling      string
	FeelingLabel string
	Comment      string
	AgeBand      string // flows age band code, "" when not asked
	Language     string
	Flagged      bool
	Hidden       bool
}
