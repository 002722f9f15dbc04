// Package export writes ideas for city staff as CSV, XLSX or GeoJSON.
//
// It knows nothing about the database: the store hands it one Row at a time,
// and every writer streams, so exporting 100,000 ideas takes no more memory
// than exporting ten. A Row holds only what staff may see: the student is a
// short pseudonym, never a Telegram id or chat id.
package export

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Prague by default, also where the system has no zoneinfo
)

// Row is one idea as exported.
type Row struct {
	Reference   string // like "N-7K2Q", what students and staff quote
	Forum       string // forum name
	School      string
	Town        string
	Date        time.Time // when the idea was received
	Language    string
	Scope       string // "school", "town" or "both"
	Category    string
	WorksWell   string
	Improve     string
	Title       string
	Description string
	PlaceText   string
	Latitude    *float64 // nil when the student shared no pin
	Longitude   *float64
	HasPhoto    bool
	WantsToHelp string // "yes", "maybe" or "no"
	Status      string
	StaffAnswer string
	Participant string // pseudonymous id, e.g. the first 12 characters of the participant hash
}

// Headers are the column titles of the CSV and XLSX exports, in order.
// They are in English for now: the export is for staff, not for students.
var Headers = []string{
	"Reference", "Forum", "School", "Town", "Date", "Language", "Scope", "Category",
	"What works", "What to improve", "Title", "Description", "Place", "Latitude", "Longitude",
	"Photo", "Wants to help", "Status", "Staff answer", "Participant",
}

// Column positions in Headers that are not plain text.
const (
	colDate      = 4
	colLatitude  = 13
	colLongitude = 14
)

// Formats are the export formats New understands.
var Formats = []string{"xlsx", "csv", "geojson"}

// Writer is what every format's writer does. Close finishes the output (for
// XLSX it writes the whole file) but does not close the underlying io.Writer.
type Writer interface {
	Write(Row) error
	Close() error
	// Count is the number of ideas written so far; GeoJSON leaves out ideas
	// without a place, so it may be less than the rows given.
	Count() int
}

// New returns the writer for format ("xlsx", "csv" or "geojson"), with
// dates in loc (nil means Europe/Prague).
func New(format string, w io.Writer, loc *time.Location) (Writer, error) {
	switch strings.ToLower(format) {
	case "xlsx":
		return NewXLSX(w, loc)
	case "csv":
		return NewCSV(w, WithLocation(loc))
	case "geojson":
		return NewGeoJSON(w, WithLocation(loc))
	}
	return nil, fmt.Errorf("export: unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// IsFormat reports whether New understands format.
func IsFormat(format string) bool {
	return slices.Contains(Formats, strings.ToLower(format))
}

// DefaultLocation is where dates are shown when no location is given: the
// programme's cities are Czech and Norwegian, and both use Central European time.
var DefaultLocation = mustLoad("Europe/Prague")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// time/tzdata is linked in, so this only fails for a bad constant.
		panic("export: " + err.Error())
	}
	return loc
}

// Option configures NewCSV and NewGeoJSON.
type Option func(*options)

type options struct {
	loc *time.Location
}

// WithLocation shows dates in loc; nil keeps the default, Europe/Prague.
func WithLocation(loc *time.Location) Option {
	return func(o *options) {
		if loc != nil {
			o.loc = loc
		}
	}
}

func buildOptions(opts []Option) options {
	o := options{loc: DefaultLocation}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// isoDate is ISO 8601 with the offset, to the second: staff read it, and
// spreadsheet programs and scripts parse it without guessing the zone.
const isoDate = "2006-01-02T15:04:05Z07:00"

func formatDate(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(isoDate)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// textCells returns the row's cells in Headers order, all as text: the form
// CSV needs. Coordinates are numbers with a '.' decimal whatever the locale;
// a missing value is an empty cell.
func textCells(r Row, loc *time.Location, dst []string) []string {
	dst = append(dst[:0],
		r.Reference, r.Forum, r.School, r.Town, formatDate(r.Date, loc), r.Language, r.Scope,
		r.Category, r.WorksWell, r.Improve, r.Title, r.Description, r.PlaceText,
		formatCoord(r.Latitude), formatCoord(r.Longitude), yesNo(r.HasPhoto), r.WantsToHelp,
		r.Status, r.StaffAnswer, r.Participant,
	)
	return dst
}
