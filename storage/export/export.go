// Package export writes ideas for city staff as CSV, XLSX or GeoJSON.
//
// It knows nothing about the database: the store hands it one Row at a time,
// and every writer streams, so exporting 100,000 ideas takes no more memory
// than exporting ten. A Row holds only what staff may see: the student is a
// short pseudonym, never a Telegram id or chat id.
package export

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Prague by default, also where the system has no zoneinfo

	"github.com/healthycities/napad/flows"
)

// Row is one idea as exported. Coded values (language, channel, scope,
// category, status, wants to help, hidden reason) are codes here; the spreadsheets show
// them as words in the file's language, GeoJSON keeps the codes.
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
	Hidden      string            // why staff hid the idea (flows.HideReasons); "" when visible
	More        map[string]string // answers to the questions of flows.MoreQuestions, by question id
	Channel     string            // how the idea came: one of flows.Channels
}

// A column is one column of the CSV and XLSX exports and, when
// mapProperties names its key, a property of the GeoJSON features. Exactly
// one of text, date and coord reads its value from a row: text as written
// (a code, for a coded column), a time (shown in the export's time zone; a
// real date in XLSX) or a coordinate (a number, never text). Its header is
// "sheet.col.<key>" in the file's language.
type column struct {
	key   string  // its name in code, as a GeoJSON property and in the locale files
	width float64 // of the XLSX column, in characters
	text  func(*Row) string
	date  func(*Row) time.Time
	coord func(*Row) *float64
	// coded: text is a code, which the spreadsheets show as a word in the
	// file's language (labels.words[key]).
	coded bool
	// link: text is a web address, a hyperlink in XLSX.
	link bool
	// editable: staff change it and import the file back (its header is
	// marked); hidden: kept out of sight in XLSX (the check code).
	editable, hidden bool
	// withHidden: only in exports that include hidden ideas.
	withHidden bool
}

// Column keys the import reads back.
const (
	colReference = "reference"
	colStatus    = "status"
	colAnswer    = "staff_answer"
	colCheck     = "check"
	colCategory  = "category"
	colScope     = "scope"
	colForum     = "forum"
	colChannel   = "channel"
)

// columns are the exports' columns, in order: adding a column to every
// export is one line here (and its header in locales/*.toml). XLSX widths
// are wide enough for typical content without making the long text
// columns unwieldy.
var columns = append([]column{
	{key: colReference, width: 10, text: func(r *Row) string { return r.Reference }},
	{key: colForum, width: 24, text: func(r *Row) string { return r.Forum }},
	{key: "school", width: 22, text: func(r *Row) string { return r.School }},
	{key: "town", width: 14, text: func(r *Row) string { return r.Town }},
	{key: "date", width: 17, date: func(r *Row) time.Time { return r.Date }},
	{key: "language", width: 12, coded: true, text: func(r *Row) string { return r.Language }},
	{key: colScope, width: 12, coded: true, text: func(r *Row) string { return r.Scope }},
	{key: colCategory, width: 18, coded: true, text: func(r *Row) string { return r.Category }},
	{key: "works_well", width: 40, text: func(r *Row) string { return r.WorksWell }},
	{key: "improve", width: 40, text: func(r *Row) string { return r.Improve }},
	{key: "title", width: 30, text: func(r *Row) string { return r.Title }},
	{key: "desc", width: 60, text: func(r *Row) string { return r.Description }},
	{key: "place", width: 24, text: func(r *Row) string { return r.PlaceText }},
	{key: "latitude", width: 11, coord: func(r *Row) *float64 { return r.Latitude }},
	{key: "longitude", width: 11, coord: func(r *Row) *float64 { return r.Longitude }},
	{key: "map", width: 20, link: true, text: mapLink},
	{key: "photo", width: 9, coded: true, text: func(r *Row) string { return yesNo(r.HasPhoto) }},
	{key: "wants_to_help", width: 13, coded: true, text: func(r *Row) string { return r.WantsToHelp }},
	{key: colStatus, width: 18, coded: true, editable: true, text: func(r *Row) string { return r.Status }},
	{key: colAnswer, width: 40, editable: true, text: func(r *Row) string { return r.StaffAnswer }},
	{key: "participant", width: 14, text: func(r *Row) string { return r.Participant }},
	{key: "hidden", width: 16, coded: true, withHidden: true, text: func(r *Row) string { return r.Hidden }},
	// After the columns that were there before it, so that what staff
	// built on the older files' column positions still finds them.
	{key: colChannel, width: 16, coded: true, text: func(r *Row) string { return r.Channel }},
}, append(moreColumns(),
	// Last, so that staff who add columns of their own are unlikely to
	// put one between it and the rest.
	column{key: colCheck, width: 8, hidden: true, text: func(r *Row) string { return CheckCode(r.Reference) }},
)...)

// moreColumns are a column for each question whose answers have no field
// of their own (flows.MoreQuestions), headed by the question's id.
func moreColumns() []column {
	var cs []column
	for _, q := range flows.MoreQuestions() {
		id := string(q.ID)
		cs = append(cs, column{key: id, width: 30, text: func(r *Row) string { return r.More[id] }})
	}
	return cs
}

// mapProperties are the keys of the columns each GeoJSON feature carries as
// properties, in this order: what a map shows about an idea. A coded one
// is followed by "<key>_label", its word in the file's language.
var mapProperties = []string{"reference", "title", "category", "status", "forum", "date", colChannel}

// columnByKey is the column named key; a key no column has is a mistake
// in this package.
func columnByKey(key string) *column {
	i := slices.IndexFunc(columns, func(c column) bool { return c.key == key })
	if i < 0 {
		panic("export: no column " + key)
	}
	return &columns[i]
}

// columnsFor are the columns of an export with options o.
func columnsFor(o *options) []column {
	cs := make([]column, 0, len(columns))
	for _, c := range columns {
		if !c.withHidden || o.withHidden {
			cs = append(cs, c)
		}
	}
	return cs
}

// Headers are the column titles of the CSV and XLSX exports made with
// opts, in order.
func Headers(opts ...Option) ([]string, error) {
	o := buildOptions(opts)
	l, err := labelsFor(o.lang)
	if err != nil {
		return nil, err
	}
	cs := columnsFor(&o)
	h := make([]string, len(cs))
	for i := range cs {
		h[i] = l.header(&cs[i])
	}
	return h, nil
}

// plain is the column's value as text, the form CSV and GeoJSON need: dates
// in ISO 8601 in o's location (the day only unless o asks for the time),
// coordinates with a '.' decimal whatever the locale, and "" for a missing
// value. Codes stay codes.
func (c *column) plain(r *Row, o *options) string {
	switch {
	case c.date != nil:
		return formatDate(c.date(r), o)
	case c.coord != nil:
		return formatCoord(c.coord(r))
	}
	return c.text(r)
}

// shown is the column's value as a spreadsheet shows it: plain, with a
// code as its word in l's language.
func (c *column) shown(r *Row, o *options, l *labels) string {
	s := c.plain(r, o)
	if c.coded {
		return l.word(c.key, s)
	}
	return s
}

// mapLink is the OpenStreetMap page of the idea's pin, or "" without one.
func mapLink(r *Row) string {
	if r.Latitude == nil || r.Longitude == nil {
		return ""
	}
	lat, lon := formatCoord(r.Latitude), formatCoord(r.Longitude)
	return "https://www.openstreetmap.org/?mlat=" + lat + "&mlon=" + lon + "#map=18/" + lat + "/" + lon
}

// CheckCode is a short code derived from an idea's reference, exported
// next to it: a reference edited in the file no longer matches its code, so
// the import refuses the row instead of deciding about another idea. It
// guards against slips, not forgery: anyone can compute it.
func CheckCode(ref string) string {
	sum := sha256.Sum256([]byte("napad-check:" + strings.ToUpper(strings.TrimSpace(ref))))
	return strings.ToUpper(hex.EncodeToString(sum[:3]))
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
	loc        *time.Location
	withTime   bool
	lang       string
	withHidden bool
}

// WithTime, when on, shows the time an idea came, to the second (to the
// minute in XLSX); by default exports show only the day, so that nobody
// who knows when a student was on their phone can tie an idea to them.
func WithTime(on bool) Option {
	return func(o *options) { o.withTime = on }
}

// WithLanguage writes the headers and the words for codes (statuses,
// categories, ...) in lang, one of flows.Languages; the default is Czech.
// The writers refuse another language.
func WithLanguage(lang string) Option {
	return func(o *options) {
		if lang != "" {
			o.lang = lang
		}
	}
}

// WithHidden adds the "Hidden" column, the reason staff hid an idea: for
// exports that include hidden ideas.
func WithHidden(on bool) Option {
	return func(o *options) { o.withHidden = on }
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
	o := options{loc: DefaultLocation, lang: DefaultLanguage}
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
