package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// pinFeature is one pin as a GeoJSON feature. There is deliberately no
// field for the student: a pin cannot be tied back to them.
type pinFeature struct {
	Type string `json:"type"`
	// Geometry is null for a place the student typed: RFC 7946 allows a
	// feature without a position, and the text is still worth reading.
	Geometry   *geoPoint     `json:"geometry"`
	Properties pinProperties `json:"properties"`
}

type pinProperties struct {
	ID      int64  `json:"id"`
	Feeling string `json:"feeling"` // the code
	// FeelingLabel is the feeling's words in the file's language, without
	// the emoji, or a forum's own feeling in the teacher's words.
	FeelingLabel string `json:"feeling_label"`
	Comment      string `json:"comment"`
	Forum        string `json:"forum"`
	ForumCode    string `json:"forum_code"`
	Town         string `json:"town"`
	Date         string `json:"date"`
	AgeBand      string `json:"age_band,omitempty"` // the code, when students were asked
	PlaceText    string `json:"place_text"`
	Hidden       *bool  `json:"hidden,omitempty"` // only WithHidden
}

// WritePinsGeoJSON writes pins as a GeoJSON FeatureCollection (RFC 7946):
// a Point [longitude, latitude] for each pin on the map, rounded to 6
// decimals, and a feature with a null geometry for each place a student
// typed. Hidden pins are left out unless WithHidden, which also adds a
// "hidden" property. Dates are days in Europe/Prague unless WithLocation and
// WithTime say otherwise; feeling_label is in the WithLanguage language.
// It returns the number of features written.
func WritePinsGeoJSON(w io.Writer, pins []PinRow, opts ...Option) (int, error) {
	o := buildOptions(opts)
	l, err := pinLabelsFor(o.lang)
	if err != nil {
		return 0, fmt.Errorf("export pins geojson: %w", err)
	}
	bw := bufio.NewWriter(w)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Comments with < or & stay readable; the output is not embedded in HTML.
	enc.SetEscapeHTML(false)
	bw.WriteString(geoStart)
	n := 0
	for _, p := range visiblePins(pins, o.withHidden) {
		f := pinFeature{Type: "Feature", Properties: pinProperties{
			ID:           p.ID,
			Feeling:      p.Feeling,
			FeelingLabel: withoutEmoji(l.feeling(p)),
			Comment:      p.Comment,
			Forum:        p.Forum,
			ForumCode:    p.ForumCode,
			Town:         p.Town,
			Date:         formatDate(p.Date, &o),
			AgeBand:      p.AgeBand,
			PlaceText:    p.PlaceText,
		}}
		if lat, lon, ok := pinPosition(p); ok {
			// RFC 7946 puts longitude first.
			f.Geometry = &geoPoint{Type: "Point", Coordinates: [2]float64{lon, lat}}
		}
		if o.withHidden {
			f.Properties.Hidden = &p.Hidden
		}
		buf.Reset()
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n') // a feature a line, as in the ideas' GeoJSON
		if err := enc.Encode(&f); err != nil {
			return n, fmt.Errorf("export pins geojson: pin %d: %w", p.ID, err)
		}
		bw.Write(buf.Bytes()[:buf.Len()-1]) // without Encode's newline
		n++
	}
	bw.WriteString(geoEnd)
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("export pins geojson: %w", err)
	}
	return n, nil
}
