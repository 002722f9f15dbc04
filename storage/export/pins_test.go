package export_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
)

// samplePins: a pin in Prague whose latitude and longitude cannot be taken
// for each other, one with more decimals than a phone knows, one in the
// west (a negative longitude), a typed place, a forum's own feeling, a
// comment that looks like a formula, and a hidden pin.
func samplePins() []export.PinRow {
	day := time.Date(2026, 5, 12, 8, 0, 0, 0, time.UTC)
	return []export.PinRow{
		{
			ID: 1, Forum: "8.B – ZŠ Komenského", ForumCode: "K7Q2M9XD", Town: "Praha", Date: day,
			Latitude: ptr(50.08), Longitude: ptr(14.42), Feeling: "like", Comment: "Nejlepší lavičky", AgeBand: "13-14", Language: "cs",
		},
		{
			ID: 2, Forum: "8.B – ZŠ Komenského", ForumCode: "K7Q2M9XD", Town: "Praha",
			Date:     time.Date(2026, 5, 12, 22, 30, 0, 0, time.UTC), // 13 May in Prague
			Latitude: ptr(50.0812345678), Longitude: ptr(14.4198765432), Feeling: "unsafe", Comment: "=HYPERLINK(\"x\")", Language: "cs",
		},
		{
			ID: 3, Forum: "Ungdomsrådet", ForumCode: "UR4B7C2D", Town: "Galway", Date: day,
			Latitude: ptr(53.2707), Longitude: ptr(-9.0568), Feeling: "own1", FeelingLabel: "🌳 Too little green", AgeBand: "16-17", Language: "en",
		},
		{
			ID: 4, Forum: "8.B – ZŠ Komenského", ForumCode: "K7Q2M9XD", Town: "Praha", Date: day,
			PlaceText: "Park u nádraží", Feeling: "change", Comment: "Víc košů; a lavičky", Language: "cs",
		},
		{
			ID: 5, Forum: "8.B – ZŠ Komenského", ForumCode: "K7Q2M9XD", Town: "Praha", Date: day,
			Latitude: ptr(50.081), Longitude: ptr(14.421), Feeling: "freetime", Comment: "HIDDEN-PIN-COMMENT", Hidden: true, Language: "cs",
		},
	}
}

// Strict types of a pins' GeoJSON file: decoding with DisallowUnknownFields
// fails on any member they do not name, such as a student's pseudonym.
type strictPins struct {
	Type     string          `json:"type"`
	Features []strictFeature `json:"features"`
}

type strictFeature struct {
	Type       string       `json:"type"`
	Geometry   *strictPoint `json:"geometry"`
	Properties struct {
		ID           int64  `json:"id"`
		Feeling      string `json:"feeling"`
		FeelingLabel string `json:"feeling_label"`
		Comment      string `json:"comment"`
		Forum        string `json:"forum"`
		ForumCode    string `json:"forum_code"`
		Town         string `json:"town"`
		Date         string `json:"date"`
		AgeBand      string `json:"age_band"`
		PlaceText    string `json:"place_text"`
		Hidden       *bool  `json:"hidden"`
	} `json:"properties"`
}

type strictPoint struct {
	Type        string    `json:"type"`
	Coordinates []float64 `json:"coordinates"`
}

func writePinsGeoJSON(t *testing.T, pins []export.PinRow, opts ...export.Option) strictPins {
	t.Helper()
	var buf bytes.Buffer
	n, err := export.WritePinsGeoJSON(&buf, pins, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var fc strictPins
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		t.Fatalf("not the GeoJSON expected: %v\n%s", err, buf.Bytes())
	}
	if dec.More() {
		t.Fatal("data after the FeatureCollection")
	}
	if n != len(fc.Features) {
		t.Errorf("returned %d, wrote %d features", n, len(fc.Features))
	}
	// Every feature has a geometry member (RFC 7946 3.2), null or not, and
	// no property that could name a student.
	var raw struct {
		Features []map[string]json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for i, f := range raw.Features {
		if _, ok := f["geometry"]; !ok {
			t.Errorf("feature %d has no geometry member", i)
		}
		var props map[string]any
		if err := json.Unmarshal(f["properties"], &props); err != nil {
			t.Fatal(err)
		}
		for k := range props {
			for _, bad := range []string{"participant", "pseudonym", "student", "telegram", "chat", "user"} {
				if strings.Contains(strings.ToLower(k), bad) {
					t.Errorf("feature %d has the property %q", i, k)
				}
			}
		}
	}
	if fc.Type != "FeatureCollection" {
		t.Errorf("type %q", fc.Type)
	}
	for i, f := range fc.Features {
		if f.Type != "Feature" {
			t.Errorf("feature %d: type %q", i, f.Type)
		}
		if g := f.Geometry; g != nil {
			if g.Type != "Point" || len(g.Coordinates) != 2 {
				t.Errorf("feature %d: geometry %+v, want a Point of 2 numbers", i, g)
				continue
			}
			if lon, lat := g.Coordinates[0], g.Coordinates[1]; lon < -180 || lon > 180 || lat < -90 || lat > 90 {
				t.Errorf("feature %d: [%v, %v] out of range", i, lon, lat)
			}
		}
	}
	return fc
}

func TestPinsGeoJSON(t *testing.T) {
	fc := writePinsGeoJSON(t, samplePins(), export.WithLanguage("en"))
	var ids []int64
	for _, f := range fc.Features {
		ids = append(ids, f.Properties.ID)
	}
	if want := []int64{1, 2, 3, 4}; !slices.Equal(ids, want) {
		t.Fatalf("features %v, want %v (the hidden pin left out)", ids, want)
	}
	prague, rounded, galway, typed := fc.Features[0], fc.Features[1], fc.Features[2], fc.Features[3]

	if c := prague.Geometry.Coordinates; c[0] != 14.42 || c[1] != 50.08 {
		t.Errorf("Prague at %v, want [14.42 50.08]: longitude first", c)
	}
	if c := rounded.Geometry.Coordinates; c[0] != 14.419877 || c[1] != 50.081235 {
		t.Errorf("coordinates %v, want 6 decimals [14.419877 50.081235]", c)
	}
	if c := galway.Geometry.Coordinates; c[0] != -9.0568 || c[1] != 53.2707 {
		t.Errorf("Galway at %v, want [-9.0568 53.2707]", c)
	}
	if typed.Geometry != nil {
		t.Errorf("a typed place has the geometry %+v, want null", typed.Geometry)
	}
	if typed.Properties.PlaceText != "Park u nádraží" {
		t.Errorf("place_text %q", typed.Properties.PlaceText)
	}

	p := prague.Properties
	if p.Feeling != "like" || p.FeelingLabel != "I like it here" || p.Comment != "Nejlepší lavičky" ||
		p.Forum != "8.B – ZŠ Komenského" || p.ForumCode != "K7Q2M9XD" || p.Town != "Praha" ||
		p.Date != "2026-05-12" || p.AgeBand != "13-14" || p.Hidden != nil {
		t.Errorf("properties %+v", p)
	}
	if rounded.Properties.Date != "2026-05-13" {
		t.Errorf("22:30 UTC on 12 May is %q, want 2026-05-13 in Prague", rounded.Properties.Date)
	}
	if rounded.Properties.AgeBand != "" {
		t.Errorf("age_band %q for a pin without one", rounded.Properties.AgeBand)
	}
	if g := galway.Properties; g.Feeling != "own1" || g.FeelingLabel != "Too little green" {
		t.Errorf("a forum's own feeling: %q, %q", g.Feeling, g.FeelingLabel)
	}

	// The words in the file's language; Czech by default.
	cs := writePinsGeoJSON(t, samplePins())
	if got := cs.Features[0].Properties.FeelingLabel; got != "Líbí se mi tu" {
		t.Errorf("Czech feeling_label %q", got)
	}
}

func TestPinsGeoJSONWithHidden(t *testing.T) {
	fc := writePinsGeoJSON(t, samplePins(), export.WithHidden(true))
	if len(fc.Features) != 5 {
		t.Fatalf("%d features, want all 5", len(fc.Features))
	}
	for _, f := range fc.Features {
		want := f.Properties.ID == 5
		if f.Properties.Hidden == nil || *f.Properties.Hidden != want {
			t.Errorf("pin %d: hidden %v, want %v", f.Properties.ID, f.Properties.Hidden, want)
		}
	}
}

func TestPinsGeoJSONEmptyAndWrongLanguage(t *testing.T) {
	if fc := writePinsGeoJSON(t, nil); len(fc.Features) != 0 {
		t.Errorf("%d features of no pins", len(fc.Features))
	}
	var buf bytes.Buffer
	if _, err := export.WritePinsGeoJSON(&buf, samplePins(), export.WithLanguage("de")); err == nil {
		t.Error("a language without a locale file was accepted")
	}
}

func writePinsCSV(t *testing.T, pins []export.PinRow, opts ...export.Option) [][]string {
	t.Helper()
	var buf bytes.Buffer
	n, err := export.WritePinsCSV(&buf, pins, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("\r\n")) {
		t.Error("lines do not end with CRLF")
	}
	records := readCSV(t, buf.Bytes())
	if n != len(records)-1 {
		t.Errorf("returned %d, wrote %d rows", n, len(records)-1)
	}
	return records
}

func TestPinsCSV(t *testing.T) {
	cs := writePinsCSV(t, samplePins())
	wantCS := []string{
		"Č. špendlíku", "Datum", "Fórum", "Město", "Pocit", "Komentář", "Místo",
		"Zeměpisná šířka", "Zeměpisná délka", "Věková skupina",
	}
	if !slices.Equal(cs[0], wantCS) {
		t.Errorf("Czech header\n%q\nwant\n%q", cs[0], wantCS)
	}
	rows := map[string][]string{}
	for _, r := range cs[1:] {
		rows[r[0]] = r
	}
	if len(rows) != 4 || rows["5"] != nil {
		t.Errorf("rows %q: want pins 1 to 4, not the hidden one", cs[1:])
	}
	want := map[string][]string{
		"1": {"1", "2026-05-12", "8.B – ZŠ Komenského", "Praha", "Líbí se mi tu", "Nejlepší lavičky", "", "50.08", "14.42", "13–14"},
		// A formula is text; coordinates to 6 decimals; the day in Prague.
		"2": {"2", "2026-05-13", "8.B – ZŠ Komenského", "Praha", "Necítím se tu bezpečně", `'=HYPERLINK("x")`, "", "50.081235", "14.419877", ""},
		// A negative longitude stays a number.
		"3": {"3", "2026-05-12", "Ungdomsrådet", "Galway", "Too little green", "", "", "53.2707", "-9.0568", "16–17"},
		// A typed place has no coordinates.
		"4": {"4", "2026-05-12", "8.B – ZŠ Komenského", "Praha", "Chtělo by to změnu", "Víc košů; a lavičky", "Park u nádraží", "", "", ""},
	}
	for id, w := range want {
		if !slices.Equal(rows[id], w) {
			t.Errorf("pin %s\n%q\nwant\n%q", id, rows[id], w)
		}
	}

	en := writePinsCSV(t, samplePins(), export.WithLanguage("en"), export.WithHidden(true))
	wantEN := []string{
		"Pin no.", "Date", "Forum", "Town", "Feeling", "Comment", "Place",
		"Latitude", "Longitude", "Age group", "Hidden",
	}
	if !slices.Equal(en[0], wantEN) {
		t.Errorf("English header\n%q\nwant\n%q", en[0], wantEN)
	}
	if len(en) != 6 {
		t.Fatalf("%d records with hidden pins, want header + 5", len(en))
	}
	for _, r := range en[1:] {
		hidden := "No"
		if r[0] == "5" {
			hidden = "Yes"
		}
		if r[10] != hidden {
			t.Errorf("pin %s: Hidden %q, want %q", r[0], r[10], hidden)
		}
		if r[0] == "1" && (r[4] != "I like it here" || r[9] != "13–14") {
			t.Errorf("English words %q", r)
		}
	}
}

func TestPinsCSVHeadersInEveryLanguage(t *testing.T) {
	for _, lang := range flows.Languages {
		h := writePinsCSV(t, nil, export.WithLanguage(lang))[0]
		if len(h) != 10 {
			t.Errorf("%s: %d headers", lang, len(h))
		}
		for _, s := range h {
			if s == "" || strings.ContainsAny(s, ",;") || strings.Contains(s, "pincol.") {
				t.Errorf("%s: header %q", lang, s)
			}
		}
	}
	var buf bytes.Buffer
	if _, err := export.WritePinsCSV(&buf, nil, export.WithLanguage("xx")); err == nil {
		t.Error("a language without a locale file was accepted")
	}
}
