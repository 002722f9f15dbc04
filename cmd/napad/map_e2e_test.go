package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
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
	sql, err := pgx.Connect(ctx, a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer sql.Close(ctx)
	if _, err := sql.Exec(ctx, `UPDATE forums SET map_lat = 50.0281, map_lon = 15.2006, map_radius_km = 5, map_feelings = '{"🌳 Klidné místo"}' WHERE id = $1`, f.ID); err != nil {
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
		s.toFirstQuestion(f.Code, "both")
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
	// The feeling is asked again, below the explanation.
	like := cs.render("feeling.like")
	again := a.fake.WaitFor(t, cs.u.ID(), func(m telegramtest.SentMessage) bool {
		_, ok := m.Button(like)
		return m.MessageID > question.MessageID && ok
	}, waitLong)
	if far.MessageID != question.MessageID {
		t.Errorf("the feeling question came as a new message, not in place of the far question")
	}
	cs.u.Tap(again, like)
	cs.expect("map.ask_comment")
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
	if err := sql.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE latitude IS NULL), count(comment) FROM pins WHERE forum_id = $1`, f.ID).Scan(&pins, &typed, &commented); err != nil {
		t.Fatal(err)
	}
	if pins != 5 || typed != 1 || commented != 3 {
		t.Errorf("%d pins (%d typed, %d with a comment), want 5 (1, 3)", pins, typed, commented)
	}
	var ideaLat *float64
	if err := sql.QueryRow(ctx, `SELECT latitude FROM suggestions WHERE forum_id = $1`, f.ID).Scan(&ideaLat); err != nil || ideaLat == nil || *ideaLat != 50.0301 {
		t.Errorf("the idea's place %v (%v), want the pin at 50.0301", ideaLat, err)
	}

	// The exports: GeoJSON and the map page carry the pins and no pseudonym.
	db := database{Store: a.db, loc: time.UTC, lang: "cs"}
	var geo bytes.Buffer
	var n int
	n, err = db.Export(ctx, "pinsgeojson", f.ID, "en", &geo)
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
	if err := sql.QueryRow(ctx, `SELECT count(*) FROM pins WHERE forum_id = $1`, f.ID).Scan(&pins); err != nil || pins != 4 {
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

// Staff (and a forum's teacher) see the pin count on the forum card, get
// the map file from it, check the comments with /pins (a hidden pin leaves
// the map file), and `napad map` writes the same page.
func TestE2EMapForStaff(t *testing.T) {
	a := staffApp(t)
	f := a.forum("7.A – ZŠ Kolín")
	staff := &student{a: a, t: t, u: a.fake.NewUser(staffID, "Staff", "en"), lang: "en"}
	for i, comment := range []string{"Great skatepark", "Full of assholes at night"} {
		s := a.student("en")
		s.toFirstQuestion(f.Code, "both")
		s.u.SendText("/map")
		s.expect("map.ask_place")
		s.u.SendLocation(50.03+float64(i)/1000, 15.2)
		s.expect("map.ask_feeling")
		s.tap("feeling.freetime")
		s.expect("map.ask_comment")
		s.u.SendText(comment)
		s.expectCount("map.saved", one())
	}

	staff.u.SendText("/forums")
	list := staff.expectCount("forum.list", one())
	staff.u.Tap(list, "📋 7.A – ZŠ Kolín")
	card := staff.expect("forum.card")
	if !strings.Contains(card.Text, "Places on the feelings map: 2") {
		t.Errorf("card lacks the pins:\n%s", card.Text)
	}
	staff.u.Tap(card, staff.render("mapsetup.button_file"))
	file := a.fake.WaitFor(t, staffID, func(m telegramtest.SentMessage) bool { return m.Document != nil }, waitLong)
	if page := string(file.Document.Data); !strings.HasSuffix(file.Document.Name, ".html") || !strings.Contains(page, "Great skatepark") || !strings.Contains(page, "Full of assholes at night") {
		t.Errorf("map file %q lacks the pins", file.Document.Name)
	}

	// The flagged comment comes first; hidden, it leaves the map.
	staff.u.SendText("/pins")
	first := a.fake.WaitFor(t, staffID, func(m telegramtest.SentMessage) bool { return strings.Contains(m.Text, "💬") }, waitLong)
	if !strings.Contains(first.Text, "assholes") {
		t.Errorf("the flagged comment is not first:\n%s", first.Text)
	}
	staff.u.Tap(first, staff.render("pinreview.button_hide"))
	staff.expect("pinreview.hidden")
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"map", f.Code, "-o", dir + "/map.html"}, a.getenv, &out, &errOut); err != nil {
		t.Fatalf("napad map: %v\n%s", err, errOut.String())
	}
	page, err := os.ReadFile(dir + "/map.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "Great skatepark") || strings.Contains(string(page), "assholes") || !strings.Contains(out.String(), "1 pins") {
		t.Errorf("napad map: %q; the page has the hidden pin or lacks the other", out.String())
	}
	if err := run(t.Context(), []string{"map", f.Code, "-o", dir + "/pins.geojson", "--include-hidden"}, a.getenv, &out, &errOut); err != nil {
		t.Fatalf("napad map geojson: %v", err)
	}
	geo, _ := os.ReadFile(dir + "/pins.geojson")
	if !strings.Contains(string(geo), "assholes") || !strings.Contains(string(geo), `"hidden":true`) {
		t.Errorf("the GeoJSON with --include-hidden lacks the hidden pin:\n%s", geo)
	}
}
