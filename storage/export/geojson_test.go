package export_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/healthycities/napad/storage/export"
)

type featureCollection struct {
	Type     string `json:"type"`
	Features []struct {
		Type     string `json:"type"`
		Geometry struct {
			Type        string    `json:"type"`
			Coordinates []float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]string `json:"properties"`
	} `json:"features"`
}

func writeGeoJSON(t *testing.T, rows []export.Row) ([]byte, int) {
	t.Helper()
	var buf bytes.Buffer
	w, err := export.NewGeoJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.Count()
}

func decodeGeoJSON(t *testing.T, data []byte) featureCollection {
	t.Helper()
	var fc featureCollection
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		t.Fatalf("not valid GeoJSON: %v\n%s", err, data)
	}
	if dec.More() {
		t.Fatal("data after the FeatureCollection")
	}
	if fc.Type != "FeatureCollection" {
		t.Errorf("type %q", fc.Type)
	}
	return fc
}

func TestExportGeoJSONGolden(t *testing.T) {
	data, _ := writeGeoJSON(t, sampleRows())
	golden(t, "ideas.geojson", data)
}

func TestExportGeoJSONFeatures(t *testing.T) {
	rows := sampleRows()
	data, count := writeGeoJSON(t, rows)
	fc := decodeGeoJSON(t, data)
	var placed []export.Row
	for _, r := range rows {
		if r.Latitude != nil {
			placed = append(placed, r)
		}
	}
	if len(placed) == len(rows) || len(placed) == 0 {
		t.Fatal("the sample needs ideas with and without a place")
	}
	if len(fc.Features) != len(placed) || count != len(placed) {
		t.Fatalf("%d features, Count %d; want only the %d ideas with a place", len(fc.Features), count, len(placed))
	}
	for i, f := range fc.Features {
		r := placed[i]
		if f.Type != "Feature" || f.Geometry.Type != "Point" {
			t.Errorf("feature %d: %s/%s", i, f.Type, f.Geometry.Type)
		}
		// GeoJSON (RFC 7946) is [longitude, latitude].
		if c := f.Geometry.Coordinates; len(c) != 2 || c[0] != *r.Longitude || c[1] != *r.Latitude {
			t.Errorf("%s coordinates %v, want [%v %v]", r.Reference, c, *r.Longitude, *r.Latitude)
		}
		want := map[string]string{
			"reference": r.Reference, "title": r.Title, "category": r.Category,
			"status": r.Status, "forum": r.Forum,
			"date": r.Date.In(prague).Format(time.DateOnly),
			// The channel is its code, with its word in the file's language.
			"channel": r.Channel, "channel_label": csChannel[r.Channel],
		}
		for k, v := range want {
			if f.Properties[k] != v {
				t.Errorf("%s %s = %q, want %q", r.Reference, k, f.Properties[k], v)
			}
		}
	}
}

func TestExportGeoJSONEmpty(t *testing.T) {
	// Only ideas without a place: an empty but valid collection.
	r := sampleRows()[1]
	data, count := writeGeoJSON(t, []export.Row{r})
	if fc := decodeGeoJSON(t, data); len(fc.Features) != 0 || count != 0 {
		t.Errorf("%d features from an idea without a place", len(fc.Features))
	}
	data, _ = writeGeoJSON(t, nil)
	decodeGeoJSON(t, data)
}
