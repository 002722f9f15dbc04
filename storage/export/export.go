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

	"github.com/healthycities/napad/flows"
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
	Participant string            // pseudonymous id, e.g. the first 12 characters of the participant hash
	More        map[string]string // answers to the questions of flows.MoreQuestions, by question id
}

// A column is one column of the CSV and XLSX exports and, when
// mapProperties names its key, a property of the GeoJSON features. Exactly
// one of text, date and coord reads its value from a row: text as written,
// a time (shown in the export's time zone; a real date in XLSX) or a
// coordinate (a number, never text).
type column struct {
	key   string  // its name in code, and as a GeoJSON property
	label string  // its header in the CSV and XLSX exports
	width float64 // of the XLSX column, in characters
	text  func(*Row) string
	date  func(*Row) time.Time
	coord func(*Row) *float64
}

// columns are the exports' columns, in order: adding a column to every
// export is one line here. The labels are in English for now: the export is
// for staff, not for students. XLSX widths are wide enough for typical
// content without making the long text columns unwieldy.
var columns = append([]column{
	{key: "reference", label: "Reference", width: 10, text: func(r *Row) string { return r.Reference }},
	{key: "forum", label: "Forum", width: 24, text: func(r *Row) string { return r.Forum }},
	{key: "school", label: "School", width: 22, text: func(r *Row) string { return r.School }},
	{key: "town", label: "Town", width: 14, text: func(r *Row) string { return r.Town }},
	{key: "date", label: "Date", width: 17, date: func(r *Row) time.Time { return r.Date }},
	{key: "language", label: "Language", width: 9, text: func(r *Row) string { return r.Language }},
	{key: "scope", label: "Scope", width: 8, text: func(r *Row) string { return r.Scope }},
	{key: "category", label: "Category", width: 14, text: func(r *Row) string { return r.Category }},
	{key: "works_well", label: "What works", width: 40, text: func(r *Row) string { return r.WorksWell }},
	{key: "improve", label: "What to improve", width: 40, text: func(r *Row) string { return r.Improve }},
	{key: "title", label: "Title", width: 30, text: func(r *Row) string { return r.Title }},
	{key: "description", label: "Description", width: 60, text: func(r *Row) string { return r.Description }},
	{key: "place", label: "Place", width: 24, text: func(r *Row) string { return r.PlaceText }},
	{key: "latitude", label: "Latitude", width: 11, coord: func(r *Row) *float64 { return r.Latitude }},
	{key: "longitude", label: "Longitude", width: 11, coord: func(r *Row) *float64 { return r.Longitude }},
	{key: "photo", label: "Photo", width: 7, text: func(r *Row) string { return yesNo(r.HasPhoto) }},
	{key: "wants_to_help", label: "Wants to help", width: 13, text: func(r *Row) string { return r.WantsToHelp }},
	{key: "status", label: "Status", width: 13, text: func(r *Row) string { return r.Status }},
	{key: "staff_answer", label: "Staff answer", width: 40, text: func(r *Row) string { return r.StaffAnswer }},
	{key: "participant", label: "Participant", width: 14, text: func(r *Row) string { return r.Participant }},
}, moreColumns()...)

// moreColumns are a column for each question whose answers have no field
// of their own (flows.MoreQuestions), headed by the question's id.
func moreColumns() []column {
	var cs []column
	for _, q := range flows.MoreQuestions() {
		id := string(q.ID)
		cs = append(cs, column{key: id, label: id, width: 30, text: func(r *Row) string { return r.More[id] }})
	}
	return cs
}

// mapProperties are the keys of the columns each GeoJSON feature carries as
// properties, in this order: what a map shows about an idea.
var mapProperties = []string{"reference", "title", "category", "status", "forum", "date"}

// Headers are the column titles of the CSV and XLSX exports, in order.
var Headers = func() []string {
	h := make([]string, len(columns))
	for i, c := range columns {
		h[i] = c.label
	}
	return h
}()

// plain is the column's value as text, the form CSV and GeoJSON need: dates
// in ISO 8601 in o's location (the day only unless o asks for the time),
// coordinates with a '.' decimal whatever the locale, and "" for a missing
// value.
func (c *column) plain(r *Row, o *options) string {
	switch {
	case c.date != nil:
		return formatDate(c.date(r), o)
	case c.coord != nil:
		return formatCoord(c.coord(r))
	}
	return c.text(r)
}

// Writer is what every format's writer does. Close finishes the output (for
// XLSX it writes the whole file) but does not close the underlying io.Writer.
type Writer interface {
	Write(Row) error
	Close() error
	// Count is the number of ideas written so far; GeoJSON leaves out ideas
	// without a place, so it may be less than the rows given.
	Count() int
}

// New returns the writer for format (one of flows.ExportFormats), with
// dates in loc (nil means Europe/Prague) and the further options.
func New(format string, w io.Writer, loc *time.Location, opts ...Option) (Writer, error) {
	opts = append([]Option{WithLocation(loc)}, opts...)
	switch strings.ToLower(format) {
	case "xlsx":
		return NewXLSX(w, nil, opts...)
	case "csv":
		return NewCSV(w, opts...)
	case "geojson":
		return NewGeoJSON(w, opts...)
	}
	return nil, fmt.Errorf("export: unknown format %q (want %s)", format, strings.Join(flows.ExportFormats, ", "))
}

// IsFormat reports whether New understands format.
func IsFormat(format string) bool {
	return slices.Contains(flows.ExportFormats, strings.ToLower(format))
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

// Option configures the writers.
type Option func(*options)

type options struct {
	loc      *time.Location
	withTime bool
}

// WithTime, when on, shows the time an idea came, to the second (to the
// minute in XLSX); by default exports show only the day, so that nobody
// who knows when a student was on their phone can tie an idea to them.
func WithTime(on bool) Option {
	return func(o *options) { o.withTime = on }
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
// isoDay is the day alone, the default.
const (
	isoDate = "2006-01-02T15:04:05Z07:00"
	isoDay  = time.DateOnly
)

func formatDate(t time.Time, o *options) string {
	if t.IsZero() {
		return ""
	}
	if !o.withTime {
		return t.In(o.loc).Format(isoDay)
	}
	return t.In(o.loc).Format(isoDate)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
