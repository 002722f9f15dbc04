package locales

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/BurntSushi/toml"
	i18ntemplate "github.com/nicksnyder/go-i18n/v2/i18n/template"
)

// How each language writes dates, times and numbers. The [format] table of
// each locale file is where a language's formats live; this is the overview,
// after CLDR (Unicode's locale data) and each language's own usage:
//
//	lang  date        date and time          decimal  thousands       coordinates
//	cs    2. 1. 2026  2. 1. 2026 15:04       3,5      12 345, 2000    50.02810, 15.20030
//	en    2 Jan 2026  2 Jan 2026, 15:04      3.5      12,345, 2,000   50.02810, 15.20030
//	nb    2.1.2026    2.1.2026 kl. 15:04     3,5      12 345, 2000    50.02810, 15.20030
//	uk    02.01.2026  02.01.2026, 15:04      3,5      12 345, 2000    50.02810, 15.20030
//
//   - cs: CLDR's medium date and time, the way Czech is written by hand.
//   - en: CLDR's en-GB medium forms, for a European reader: day before month,
//     the month abbreviated in English (never 1/2/2026, 1 February to a
//     European and 2 January to an American), 24-hour clock. Go abbreviates
//     September as Sep where CLDR now has Sept.
//   - nb: Språkrådet's numeric date without leading zeros, "kl." before the
//     time; CLDR's colon in the time.
//   - uk: CLDR's numeric date with a four-digit year (as in ДСТУ 4163), and
//     CLDR's ", " between date and time.
//   - Go writes the hour with two digits (09:05; CLDR's Czech has 9:05).
//   - Only English groups four-digit numbers (2,000). Czech, Norwegian and
//     Ukrainian leave them whole (2000, as their style guides allow and their
//     readers write) and group from five digits with a no-break space (12 345).
//   - Coordinates are written as maps write them, with a decimal point in
//     every language: a decimal comma would run into the comma between
//     latitude and longitude, and a point can be pasted into any map.
//
// Months are numbers in cs, nb and uk, so no month name ever needs a case
// ending. Times are shown as they are given: the bot has already put them in
// the city's time zone, and nothing here converts them.
//
// In a template, a time is written with {{date .X}} or {{datetime .X}} (a
// bare {{.X}} gives the date and time), a coordinate with {{coord .X}}.
// Whole numbers and decimals need nothing: Render and Text write them in the
// language's way, {{.Count}} too.

// formats is the [format] table of a locale file. Layouts are Go's
// (2 = day, 1 = month, 2006 = year, 15:04 = time, Jan = English month).
type formats struct {
	Date     string `toml:"date"`     // a day: the last day of a forum
	DateTime string `toml:"datetime"` // a moment: when an idea was sent
	Decimal  string `toml:"decimal"`  // decimal separator
	Group    string `toml:"group"`    // separator of thousands
	// GroupFrom is the smallest number whose thousands are separated.
	GroupFrom string `toml:"group_from"`

	groupFrom int64
}

// formatKeys are the keys every locale file's [format] table must define.
var formatKeys = []string{"date", "datetime", "decimal", "group", "group_from"}

// readFormats reads and checks the [format] table of a locale file.
func readFormats(lang string, raw []byte) (*formats, error) {
	var file struct {
		Format formats `toml:"format"`
	}
	md, err := toml.Decode(string(raw), &file)
	if err != nil {
		return nil, fmt.Errorf("parse locale %s: %w", lang, err)
	}
	for _, k := range formatKeys {
		if !md.IsDefined("format", k) {
			return nil, fmt.Errorf("locale %s: no format.%s", lang, k)
		}
	}
	f := &file.Format
	if f.Decimal == "" {
		return nil, fmt.Errorf("locale %s: empty format.decimal", lang)
	}
	if f.groupFrom, err = strconv.ParseInt(f.GroupFrom, 10, 64); err != nil || f.groupFrom < 1000 {
		return nil, fmt.Errorf("locale %s: format.group_from %q is not a number from 1000", lang, f.GroupFrom)
	}
	// A layout that misses the day, month or year (or in a date and time,
	// the hour or minute) would show two moments the same.
	base := time.Date(2026, 1, 2, 15, 4, 0, 0, time.UTC)
	apart := map[string][]time.Time{
		"date":     {base.AddDate(0, 0, 1), base.AddDate(0, 1, 0), base.AddDate(1, 0, 0)},
		"datetime": {base.AddDate(0, 0, 1), base.AddDate(0, 1, 0), base.AddDate(1, 0, 0), base.Add(time.Hour), base.Add(time.Minute)},
	}
	for key, layout := range map[string]string{"date": f.Date, "datetime": f.DateTime} {
		for _, t := range apart[key] {
			if t.Format(layout) == base.Format(layout) {
				return nil, fmt.Errorf("locale %s: format.%s %q shows %s and %s the same", lang, key, layout, base, t)
			}
		}
	}
	return f, nil
}

// integer writes a whole number with the language's thousands separator.
func (f *formats) integer(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < f.groupFrom && n > -f.groupFrom {
		return s
	}
	return f.group(s)
}

// number writes a decimal number, with as many decimals as it has.
func (f *formats) number(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	whole, frac, hasFrac := strings.Cut(s, ".")
	if math.Abs(x) >= float64(f.groupFrom) {
		whole = f.group(whole)
	}
	if hasFrac {
		return whole + f.Decimal + frac
	}
	return whole
}

// group puts the separator between each three digits of s, counted from the
// right; s is digits with an optional minus sign.
func (f *formats) group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(f.Group)
		}
		b.WriteRune(d)
	}
	return b.String()
}

// moment is a time in a message's data, to be written in its language.
type moment struct {
	t time.Time
	f *formats
}

// String is what a bare {{.X}} gives: the date and time.
func (m moment) String() string { return m.t.Format(m.f.DateTime) }

// decimal is a decimal number in a message's data.
type decimal struct {
	x float64
	f *formats
}

func (d decimal) String() string { return d.f.number(d.x) }

// noValue is what a template writes for data that is not there. Keeping it
// lets callers match a message whatever fills it in.
const noValue = "<no value>"

// funcs are the template functions of every locale file. They take what
// Render put in the data, so they need not know the language.
var funcs = template.FuncMap{
	"date": func(v any) string {
		if m, ok := v.(moment); ok {
			return m.t.Format(m.f.Date)
		}
		return plain(v)
	},
	"datetime": func(v any) string {
		if m, ok := v.(moment); ok {
			return m.t.Format(m.f.DateTime)
		}
		return plain(v)
	},
	"coord": func(v any) string {
		switch v := v.(type) {
		case decimal:
			return strconv.FormatFloat(v.x, 'f', 5, 64)
		case float64:
			return strconv.FormatFloat(v, 'f', 5, 64)
		}
		return plain(v)
	},
}

// plain writes a value that is not what the function formats (a rendered
// message such as "no closing date") as the template would.
func plain(v any) string {
	if v == nil {
		return noValue
	}
	return fmt.Sprint(v)
}

// parser parses templates with funcs. The functions are the same for every
// message and language, so go-i18n may keep each parsed template.
type parser struct{ i18ntemplate.TextParser }

func (parser) Cacheable() bool { return true }

var templateParser = &parser{i18ntemplate.TextParser{Funcs: funcs}}

// value turns one value of a message's data into what its template gets in
// lang: times and decimals carry the language's formats, whole numbers are
// written out.
func (f *formats) value(v any) any {
	switch v := v.(type) {
	case time.Time:
		return moment{v, f}
	case float64:
		return decimal{v, f}
	case float32:
		return decimal{float64(v), f}
	case int:
		return f.integer(int64(v))
	case int64:
		return f.integer(v)
	case int32:
		return f.integer(int64(v))
	}
	return v
}
