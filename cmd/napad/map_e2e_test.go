package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
)

// Students in each language mark places on the forum's map with feelings
// and comments: one from a device without a map (a typed place), one far
// from town (questioned), one turned into an idea. Bad input changes
// nothing. The exports carry the pins without pseudonyms, /mydata shows
// them, and /delete removes them.
func TestE2EEmotionalMap(t *testing.T) {
	a := newApp(t, false)
	f := a.forum("8.B – ZŠ Komenského")
	ctx := context.Background()
	if _, err := a.db.Exec(ctx, `UPDATE forums SET map_lat = 50.0281, map_lon = 15.2006, map_radius_km = 5, map_feelings = '{"🌳 Klidné místo"}' WHERE id = $1`, f.ID); err != nil {
		t.Fatal(err)
	}

	type mark struct {
		lang     string
		typed    string // a place typed instead of a pin
		lat, lon float64
		feeling  string
		comment  string
	}
	marks := []mark{
		{lang: "cs", lat: 50.0275, lon: 15.2011, feeling: "like", comment: "Lavičky u řeky"},
		{lang: "en", lat: 50.0301, lon: 15.1990, feeling: "change", comment: "Needs a crossing"},
		{lang: "nb", lat: 50.0262, lon: 15.2033, feeling: "freetime"},
		{lang: "uk", typed: "Вокзал", feeling: "unsafe", comment: "Темно ввечері"},
	}
	students := map[string]*student{}
	for _, m := range marks {
		s := a.student(m.lang)
		students[m.lang] = s
		s.toFirstQuestion(f.Code, "scope.both")
		s.u.SendText("/map")
		s.expect("map.ask_place")
		if m.typed != "" {
			s.u.SendText(m.typed)
		} else {
			s.u.SendLocation(m.lat, m.lon)
		}
		s.expect("map.ask_feeling")
		s.tap("feeling." + m.feeling)
		s.expect("map.ask_comment")
		if m.comment != "" {
			s.u.SendText(m.comment)
		} else {
			s.tap("button.skip")
		}
		s.expectCount("map.saved", one())
	}

	// Bad input: a venue, a contact, a live location, a sticker and a
	// forged feeling change nothing.
	cs := students["cs"]
	cs.u.SendVenue(50.03, 15.2, "Kino", "Nám. 1")
	cs.u.SendContact("+420777000000", "Eva")
	cs.u.SendLiveLocation(50.03, 15.2, time.Hour)
	cs.u.SendSticker()
	waitCount(t, cs, "map.place_expected", 3)
	cs.expect("map.live_location")
	// A pin far from town is questioned; a forged feeling is refused.
	cs.u.SendLocation(50.0878, 14.4205)
	far := cs.expect("map.far")
	cs.tap("map.button_far_yes")
	question := cs.expect("map.ask_feeling")
	data := cs.buttonData(question, "feeling.like")
	cs.u.TapData(question, strings.Replace(data, "f:like", "f:own3", 1))
	cs.expect("error.stale_button")
	_ = far
	cs.tap("feeling.like")
	cs.tap("button.skip")
	two := 2
	cs.expectCount("map.saved", &two)

	// The English student suggests an idea for the place just marked.
	en := students["en"]
	en.tap("map.button_idea")
	en.expect("map.idea_place_added")
	en.walk(flows.StepWorksWell, flows.StepReview, nil, map[flows.StepID]string{flows.StepPlace: notAsked})
	en.tap("button.submit")
	en.expectCount("submit.thanks", one())

	var pins, typed, commented int
	if err := a.db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE latitude IS NULL), count(comment) FROM pins WHERE forum_id = $1`, f.ID).Scan(&pins, &typed, &commented); err != nil {
		t.Fatal(err)
	}
	if pins != 5 || typed != 1 || commented != 3 {
		t.Errorf("%d pins (%d typed, %d with a comment), want 5 (1, 3)", pins, typed, commented)
	}
	var ideaLat *float64
	if err := a.db.QueryRow(ctx, `SELECT latitude FROM suggestions WHERE forum_id = $1`, f.ID).Scan(&ideaLat); err != nil || ideaLat == nil || *ideaLat != 50.0301 {
		t.Errorf("the idea's place %v (%v), want the pin at 50.0301", ideaLat, err)
	}

	// The exports: GeoJSON and the map page carry the pins and no pseudonym.
	db := database{Store: a.db, loc: time.UTC, lang: "cs"}
	var geo bytes.Buffer
	n, err := db.Export(ctx, "pinsgeojson", f.ID, "en", &geo)
	if err != nil || n != 5 {
		t.Fatalf("GeoJSON export: %d pins, %v", n, err)
	}
	var fc struct {
		Features []struct {
			Geometry   *struct{ Coordinates []float64 }
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(geo.Bytes(), &fc); err != nil {
		t.Fatal(err)
	}
	for _, s := range students {
		if strings.Contains(geo.String(), s.pid()[:12]) {
			t.Errorf("the GeoJSON has a student's pseudonym")
		}
	}
	if got := fc.Features[0].Geometry.Coordinates; len(got) != 2 || got[0] != 15.2011 || got[1] != 50.0275 {
		t.Errorf("first pin at %v, want [15.2011 50.0275] (longitude first)", got)
	}
	var page bytes.Buffer
	if n, err := db.Export(ctx, "map", f.ID, "cs", &page); err != nil || n != 5 || !strings.Contains(page.String(), "Lavičky u řeky") {
		t.Errorf("map page: %d pins, %v", n, err)
	}

	// /mydata shows a student's pins; /delete removes them.
	uk := students["uk"]
	if doc := uk.myData(); !strings.Contains(doc, "Вокзал") || !strings.Contains(doc, "Темно ввечері") {
		t.Errorf("/mydata leaves out the pin:\n%s", doc)
	}
	uk.u.SendText("/delete")
	uk.expect("delete.confirm")
	uk.tap("button.delete_all")
	uk.expect("delete.done")
	if err := a.db.QueryRow(ctx, `SELECT count(*) FROM pins WHERE forum_id = $1`, f.ID).Scan(&pins); err != nil || pins != 4 {
		t.Errorf("%d pins after /delete (%v), want 4", pins, err)
	}
}

// waitCount waits until the bot said key n times to s.
func waitCount(t *testing.T, s *student, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for s.count(key, nil) < n {
		if time.Now().After(deadline) {
			t.Fatalf("said %q %d times, want %d", key, s.count(key, nil), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
