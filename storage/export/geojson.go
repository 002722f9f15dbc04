package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// GeoJSONWriter writes the ideas that have a place as a GeoJSON
// FeatureCollection (RFC 7946) of points, for a map. Ideas without a shared
// pin are left out: a typed place is not a position.
//
// Features are written one by one as they come; only a small buffer is held.
type GeoJSONWriter struct {
	w     *bufio.Writer
	enc   *json.Encoder
	buf   bytes.Buffer
	opts  options
	props []geoProperty
	row   Row    // the row being written, where the columns read it
	str   string // the text being encoded (by pointer: no allocation)
	n     int
	ended bool
}

type geoPoint struct {
	Type string `json:"type"`
	// RFC 7946 puts longitude first.
	Coordinates [2]float64 `json:"coordinates"`
}

// geoProperty is a column mapProperties names, with what precedes its value
// in a feature's properties: `"key":`, after a comma but for the first.
// labels, when set, make it the code's word ("<key>_label") instead.
type geoProperty struct {
	col    *column
	prefix string
	labels *labels
}

// geoProperties are the properties mapProperties names, in its order, each
// coded one followed by its word in l's language.
func geoProperties(l *labels) []geoProperty {
	var out []geoProperty
	add := func(name string, c *column, l *labels) {
		p, _ := json.Marshal(name)
		prefix := string(p) + ":"
		if len(out) > 0 {
			prefix = "," + prefix
		}
		out = append(out, geoProperty{col: c, prefix: prefix, labels: l})
	}
	for _, key := range mapProperties {
		c := columnByKey(key)
		add(key, c, nil)
		if c.coded {
			add(key+"_label", c, l)
		}
	}
	return out
}

const (
	geoStart = `{"type":"FeatureCollection","features":[`
	geoEnd   = "\n]}\n"
)

// NewGeoJSON starts a FeatureCollection on w. Dates are ISO 8601 days in
// Europe/Prague unless WithLocation and WithTime say otherwise. Coded
// properties are codes, each with its word in the WithLanguage language.
func NewGeoJSON(w io.Writer, opts ...Option) (*GeoJSONWriter, error) {
	o := buildOptions(opts)
	l, err := labelsFor(o.lang)
	if err != nil {
		return nil, fmt.Errorf("export geojson: %w", err)
	}
	g := &GeoJSONWriter{w: bufio.NewWriter(w), opts: o, props: geoProperties(l)}
	g.enc = json.NewEncoder(&g.buf)
	// Titles with < or & stay readable; the output is not embedded in HTML.
	g.enc.SetEscapeHTML(false)
	if _, err := g.w.WriteString(geoStart); err != nil {
		return nil, fmt.Errorf("export geojson: %w", err)
	}
	return g, nil
}

// Write adds the idea as a point feature, or skips it when it has no
// coordinates.
func (g *GeoJSONWriter) Write(r Row) error {
	if r.Latitude == nil || r.Longitude == nil {
		return nil
	}
	g.buf.Reset()
	if g.n > 0 {
		g.buf.WriteByte(',')
	}
	g.buf.WriteString("\n" + `{"type":"Feature","geometry":`)
	err := g.encode(geoPoint{Type: "Point", Coordinates: [2]float64{*r.Longitude, *r.Latitude}})
	g.buf.WriteString(`,"properties":{`)
	g.row = r
	for _, p := range g.props {
		g.buf.WriteString(p.prefix)
		g.str = p.col.plain(&g.row, &g.opts)
		if p.labels != nil {
			g.str = p.labels.word(p.col.key, g.str)
		}
		err = errors.Join(err, g.encode(&g.str))
	}
	g.buf.WriteString("}}")
	if err != nil {
		return fmt.Errorf("export geojson: %s: %w", r.Reference, err)
	}
	if _, err := g.w.Write(g.buf.Bytes()); err != nil {
		return fmt.Errorf("export geojson: %w", err)
	}
	g.n++
	return nil
}

// encode appends v as JSON to the feature being written.
func (g *GeoJSONWriter) encode(v any) error {
	if err := g.enc.Encode(v); err != nil {
		return err
	}
	// Encode ends each value with a newline; a feature is one line.
	g.buf.Truncate(g.buf.Len() - 1)
	return nil
}

// Count is the number of features written.
func (g *GeoJSONWriter) Count() int { return g.n }

// Close ends the FeatureCollection and flushes it to the underlying writer.
func (g *GeoJSONWriter) Close() error {
	if g.ended {
		return nil
	}
	g.ended = true
	if _, err := g.w.WriteString(geoEnd); err != nil {
		return fmt.Errorf("export geojson: %w", err)
	}
	if err := g.w.Flush(); err != nil {
		return fmt.Errorf("export geojson: %w", err)
	}
	return nil
}
