package export

import (
	"errors"
	"math"
	"strings"
	"sync"
	"unicode"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

// catalog is the locale files, read once, for the words of the pins'
// exports and the map page.
var catalog = sync.OnceValues(locales.Load)

// pinLabels are the words of the pins' exports and the map page in one
// language: the ideas' labels (shared headers such as Forum, Date and Place),
// the feelings' words ([feeling], the buttons students tap), the age groups'
// words ([age], the buttons of the age question), and the texts of [pincol],
// [mappage] and [format].
type pinLabels struct {
	*labels
	feelings map[string]string // standard feeling → its words, emoji first
	ages     map[string]string // age band code → its words
	texts    map[string]string // by locale key
}

// pinTexts are the keys pinLabels.texts holds.
var pinTexts = []string{
	"pincol.pin", "pincol.feeling", "pincol.comment", "sheet.yes", "sheet.no",
	"format.date", "format.datetime",
	"mappage.title", "mappage.pins", "mappage.legend", "mappage.legend_hint", "mappage.forum",
	"mappage.all_forums", "mappage.heat", "mappage.typed", "mappage.no_pins",
	"mappage.attribution", "mappage.offline",
}

// pinLabelsFor are lang's words for pins; a language without a locale file
// is an error.
func pinLabelsFor(lang string) (*pinLabels, error) {
	l, err := labelsFor(lang)
	if err != nil {
		return nil, err
	}
	cat, err := catalog()
	if err != nil {
		return nil, err
	}
	var errs []error
	words := func(prefix string, keys []string) map[string]string {
		m := make(map[string]string, len(keys))
		for _, k := range keys {
			s, err := cat.Text(lang, prefix+k, nil, nil)
			errs = append(errs, err)
			m[k] = s
		}
		return m
	}
	p := &pinLabels{
		labels:   l,
		feelings: words("feeling.", flows.Feelings),
		ages:     words("age.", flows.AgeBands),
		texts:    words("", pinTexts),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// text is one of pinTexts.
func (l *pinLabels) text(key string) string {
	if s, ok := l.texts[key]; ok {
		return s
	}
	panic("export: no pin text " + key) // a key missing from pinTexts
}

// feeling is the pin's feeling in words, as on the chat's button (emoji
// first): a forum's own feeling in the teacher's words; a code the locale
// files do not know stays as it is.
func (l *pinLabels) feeling(p *PinRow) string {
	if w, ok := l.feelings[p.Feeling]; ok {
		return w
	}
	if isOwnFeeling(p.Feeling) && p.FeelingLabel != "" {
		return p.FeelingLabel
	}
	return p.Feeling
}

// age is an age band's words, "" for no band.
func (l *pinLabels) age(band string) string {
	if w, ok := l.ages[band]; ok {
		return w
	}
	return band
}

// isOwnFeeling reports whether code is one of a forum's own feelings,
// "own1" to "own<flows.MaxOwnFeelings>".
func isOwnFeeling(code string) bool {
	n, ok := strings.CutPrefix(code, "own")
	return ok && len(n) == 1 && n[0] >= '1' && int(n[0]-'0') <= flows.MaxOwnFeelings
}

// withoutEmoji is a feeling's words without the emoji before them, as files
// of data show them: "😊 Líbí se mi tu" is "Líbí se mi tu".
func withoutEmoji(s string) string {
	t := strings.TrimLeftFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsPunct(r)
	})
	if t == "" {
		return s // only emoji: better than nothing
	}
	return t
}

// visiblePins are the pins an export shows: hidden ones only withHidden.
func visiblePins(pins []PinRow, withHidden bool) []*PinRow {
	out := make([]*PinRow, 0, len(pins))
	for i := range pins {
		if !pins[i].Hidden || withHidden {
			out = append(out, &pins[i])
		}
	}
	return out
}

// roundCoord is v to 6 decimals (about 10 cm), nil for nil: more digits
// only pretend to a precision no phone has.
func roundCoord(v *float64) *float64 {
	if v == nil {
		return nil
	}
	r := math.Round(*v*1e6) / 1e6
	return &r
}

// pinPosition is the pin's rounded latitude and longitude, ok when it has both.
func pinPosition(p *PinRow) (lat, lon float64, ok bool) {
	if p.Latitude == nil || p.Longitude == nil {
		return 0, 0, false
	}
	return *roundCoord(p.Latitude), *roundCoord(p.Longitude), true
}
