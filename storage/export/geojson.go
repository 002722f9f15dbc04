package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
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
	loc   *time.Location
	n     int
	ended bool
}

type geoFeature struct {
	Type       string      `json:"type"`
	Geometry   geoPoint    `json:"geometry"`
	Properties geoProperty `json:"properties"`
}

type geoPoint struct {
	Type string `json:"type"`
	// RFC 7946 puts longitude first.
	Coordinates [2]float64 `json:"coordinates"`
}

type geoProperty struct {
	Reference string `json:"reference"`
	Title     string `json:"title"`
	Category  string `json:"category"`
	Status    string `json:"status"`
	Forum     string `json:"forum"`
	Date      string `json:"date"`
}

const (
	geoStart = `{"type":"FeatureCollection","features":[`
	geoEnd   = "\n]}\n"
)

// NewGeoJSON starts a FeatureCollection on w. Dates are ISO 8601 in
// Europe/Prague unless WithLocation says otherwise.
func NewGeoJSON(w io.Writer, opts ...Option) (*GeoJSONWriter, error) {
	o := buildOptions(opts)
	g := &GeoJSONWriter{w: bufio.NewWriter(w), loc: o.loc}
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
	g.buf.WriteByte('\n')
	err := g.enc.Encode(geoFeature{
		Type:     "Feature",
		Geometry: geoPoint{Type: "Point", Coordinates: [2]float64{*r.Longitude, *r.Latitude}},
		Properties: geoProperty{
			Reference: r.Reference, Title: r.Title, Category: r.Category, Status: r.Status,
			Forum: r.Forum, Date: formatDate(r.Date, g.loc),
		},
	})
	if err != nil {
		return fmt.Errorf("export geojson: %s: %w", r.Reference, err)
	}
	// Encode ends with a newline; the separator above starts each feature
	// on its own line instead.
	out := bytes.TrimSuffix(g.buf.Bytes(), []byte{'\n'})
	if _, err := g.w.Write(out); err != nil {
		return fmt.Errorf("export geojson: %w", err)
	}
	g.n++
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
