package flows_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
)

// mapForum is the test forum with an area around Kolín and a feeling of its own.
var mapForum = func() flows.Forum {
	f := testForum
	f.Area = flows.MapArea{Lat: 50.0281, Lon: 15.2006, RadiusKm: 5}
	f.Feelings = []string{"🌳 Klidné místo"}
	return f
}()

// pinAt shares a pin moved to a place.
func (s *student) pinAt(lat, lon float64) flows.Result {
	return s.do("shares a pin", flows.Input{What: flows.Location{Lat: lat, Lon: lon}})
}

// A student marks three places in a row (one far from town, one typed),
// then suggests an idea for the last: the idea's place question is not
// asked again.
func TestTranscriptMap(t *testing.T) {
	for _, lang := range []string{"cs", "en", "nb", "uk"} {
		t.Run(lang, func(t *testing.T) {
			s := newStudent(t, lang)
			s.forums = []flows.Forum{mapForum}
			s.join(mapForum)
			s.tap(s.label("privacy.ok"))
			s.counts()
			s.command("map")
			s.pinAt(50.0275, 15.2011)
			s.tap(s.label("feeling.like"))
			s.text("Lavičky u řeky")
			s.pinAt(50.0878, 14.4205) // Prague: about 55 km away
			s.tap(s.label("map.button_far_yes"))
			s.tap("🌳 Klidné místo")
			s.tap(s.label("button.skip"))
			s.text("Nádraží")
			s.tap(s.label("feeling.unsafe"))
			s.tap(s.label("button.skip"))
			s.log.WriteString(s.counts())
			s.tap(s.label("map.button_idea"))
			s.walk(flows.StepReview, nil, map[flows.StepID]string{flows.StepPhoto: "skip"})
			s.tap(s.label("button.submit"))
			golden(t, "map."+lang, s.log.String())

			if len(s.pins) != 3 {
				t.Fatalf("%d pins stored, want 3", len(s.pins))
			}
			first, far, typed := s.pins[0], s.pins[1], s.pins[2]
			if first.Feeling != flows.FeelingLike || first.Comment != "Lavičky u řeky" || first.Lat == nil || *first.Lat != 50.0275 || first.ForumID != mapForum.ID || first.Language != lang {
				t.Errorf("first pin %+v", first)
			}
			if far.Feeling != "own1" || far.Comment != "" || far.Lon == nil || *far.Lon != 14.4205 {
				t.Errorf("far pin %+v", far)
			}
			if typed.PlaceText != "Nádraží" || typed.Lat != nil || typed.Feeling != flows.FeelingUnsafe {
				t.Errorf("typed pin %+v", typed)
			}
			if first.DraftID == far.DraftID || far.DraftID == typed.DraftID {
				t.Errorf("pins share a draft id: %q %q %q", first.DraftID, far.DraftID, typed.DraftID)
			}
			if len(s.stored) != 1 || s.stored[0].PlaceText != "Nádraží" {
				t.Fatalf("stored ideas %+v, want one at Nádraží", s.stored)
			}
			if s.state.Pin != nil {
				t.Errorf("the map is still open after the idea: %+v", s.state.Pin)
			}
		})
	}
}

// About four actions a pin: the place, the feeling, a line (or Skip).
func TestAPinTakesFewActions(t *testing.T) {
	s := newStudent(t, "cs")
	s.forums = []flows.Forum{mapForum}
	s.join(mapForum)
	s.tap(s.label("privacy.ok"))
	s.command("map")
	s.counts()
	for range 5 {
		s.pinAt(50.0275, 15.2011)
		s.tap(s.label("feeling.change"))
		s.text("Chybí tu přechod")
	}
	if len(s.pins) != 5 || s.actions != 15 {
		t.Errorf("%d pins in %d actions, want 5 in 15", len(s.pins), s.actions)
	}
}

// What cannot be a place, a feeling or a comment gets a clear answer and
// changes nothing; forged and old buttons are refused.
func TestMapRefusesBadInput(t *testing.T) {
	s := newStudent(t, "en")
	s.forums = []flows.Forum{mapForum}
	s.join(mapForum)
	s.tap(s.label("privacy.ok"))
	s.command("map")
	atPlace := s.state.Pin.ID

	for _, bad := range []struct {
		name string
		in   flows.Happened
		key  string
	}{
		{"live location", flows.Location{Lat: 50.03, Lon: 15.2, Live: true}, "map.live_location"},
		{"venue", flows.Media{Kind: "venue"}, "map.place_expected"},
		{"contact", flows.Media{Kind: "contact"}, "map.place_expected"},
		{"sticker", flows.Media{Kind: "sticker"}, "map.place_expected"},
		{"photo", flows.PhotoSent{FileID: "ph"}, "map.place_expected"},
		{"NaN", flows.Location{Lat: math.NaN(), Lon: 15.2}, "map.place_expected"},
		{"out of range", flows.Location{Lat: 91, Lon: 15.2}, "map.place_expected"},
		{"infinite", flows.Location{Lat: 50, Lon: math.Inf(1)}, "map.place_expected"},
		{"null island", flows.Location{}, "map.place_expected"},
		{"too long", flows.Text{Text: string(make([]rune, 5000))}, "error.empty"},
	} {
		s.do(bad.name, flows.Input{What: bad.in})
		if keys := s.keys(); len(keys) == 0 || keys[0] != bad.key {
			t.Errorf("%s: answered %v, want %s first", bad.name, keys, bad.key)
		}
		if p := s.state.Pin; p == nil || p.Step != "place" || p.Lat != nil || p.Place != "" || p.ID != atPlace {
			t.Errorf("%s changed the pin: %+v", bad.name, p)
		}
	}
	long := ""
	for range 5000 {
		long += "a"
	}
	s.text(long)
	if keys := s.keys(); keys[0] != "error.too_long" || s.state.Pin.Place != "" {
		t.Errorf("5,000 characters: %v, place %q", keys, s.state.Pin.Place)
	}

	// A feeling before the place, and one no forum has, are refused.
	s.press(atPlace + "|mp|f:like")
	if s.keys()[0] != "error.stale_button" || s.state.Pin.Feeling != "" {
		t.Errorf("feeling before the place: %v", s.keys())
	}
	s.pinAt(50.0275, 15.2011)
	for _, forged := range []string{atPlace + "|mp|f:own2", atPlace + "|mp|f:hate", "other|mp|f:like", atPlace + "|mp|f:"} {
		s.press(forged)
		if keys := s.keys(); keys[0] != "error.stale_button" || keys[1] != "map.ask_feeling" || s.state.Pin.Feeling != "" {
			t.Errorf("forged %q: %v, feeling %q", forged, s.keys(), s.state.Pin.Feeling)
		}
	}
	s.text("a feeling typed")
	if s.keys()[0] != "error.tap_button" || s.state.Pin.Step != "feeling" {
		t.Errorf("text for a feeling: %v", s.keys())
	}
	s.tap(s.label("feeling.like"))
	before := len(s.all)
	s.press(atPlace + "|mp|f:like") // a double tap
	if len(s.all) != before || s.state.Pin.Step != "comment" {
		t.Errorf("double tap answered %v", s.keys())
	}
	s.do("sends a sticker", flows.Input{What: flows.Media{Kind: "sticker"}})
	if s.keys()[0] != "error.text_expected" || len(s.pins) != 0 {
		t.Errorf("sticker as comment: %v", s.keys())
	}
}

// A pin the database cannot take now stays with the student until it can.
func TestPinIsKeptWhenTheDatabaseIsDown(t *testing.T) {
	s := newStudent(t, "cs")
	s.forums = []flows.Forum{mapForum}
	s.join(mapForum)
	s.tap(s.label("privacy.ok"))
	s.command("map")
	s.pinAt(50.0275, 15.2011)
	s.tap(s.label("feeling.like"))
	s.failPins = true
	s.text("Hřiště")
	if s.keys()[len(s.keys())-1] != "map.not_saved" || s.state.Pin.Comment != "Hřiště" {
		t.Fatalf("database down: %v, pin %+v", s.keys(), s.state.Pin)
	}
	s.text("again?")
	if s.keys()[0] != "map.saving" || s.state.Pin.Comment != "Hřiště" {
		t.Errorf("text while the pin waits: %v", s.keys())
	}
	s.failPins = false
	s.tap(s.label("button.try_again"))
	if len(s.pins) != 1 || s.pins[0].Comment != "Hřiště" || s.state.Pin.Saved != 1 || s.state.Pin.Step != "place" {
		t.Errorf("after trying again: %d pins, %v", len(s.pins), s.keys())
	}
}

// The map waits while it is open: an idea being written goes on after it,
// and another command leaves the map.
func TestMapInTheMiddleOfAnIdea(t *testing.T) {
	s := newStudent(t, "en")
	s.forums = []flows.Forum{mapForum}
	s.join(mapForum)
	s.tap(s.label("privacy.ok"))
	s.walk(flows.StepTitle, nil, nil)
	s.command("map")
	s.text("School yard")
	s.tap(s.label("feeling.freetime"))
	s.tap(s.label("button.skip"))
	s.tap(s.label("map.button_done"))
	if s.state.Pin != nil || s.state.Step != flows.StepTitle || s.keys()[0] != "map.finished_back" {
		t.Errorf("after Done: pin %+v, step %q, %v", s.state.Pin, s.state.Step, s.keys())
	}
	s.command("map")
	s.command("new")
	if s.state.Pin != nil {
		t.Errorf("/new left the map open")
	}
}

// Without the privacy notice read, the map waits for it; a closed forum
// takes no pins.
func TestMapNeedsPrivacyAndAnOpenForum(t *testing.T) {
	s := newStudent(t, "en")
	s.forums = []flows.Forum{mapForum}
	s.join(mapForum)
	s.command("map")
	if s.keys()[0] != "map.privacy_first" || s.state.Pin != nil {
		t.Errorf("before privacy: %v", s.keys())
	}
	s.tap(s.label("privacy.ok"))
	s.forums[0].Phase = flows.PhaseClosed
	s.command("map")
	if s.keys()[0] != "join.closed" || s.state.Pin != nil {
		t.Errorf("closed forum: %v", s.keys())
	}
}

// A teacher sets the forum's area and own feelings from its card, and gets
// the map file; students then see the forum's feeling.
func TestTranscriptTeacherSetsUpTheMap(t *testing.T) {
	s := newTeacher(t)
	s.forums = []flows.Forum{{ID: 70, Code: "code0000ForumXYZ", ShortCode: "F0000070", Name: "8.B", Town: "Kolín", Phase: flows.PhaseCollecting, OwnerID: "pid-teacher"}}
	s.stats = flows.ForumStats{Joined: 3, Pins: 12}
	s.command(flows.CommandForums)
	s.tap("📋 8.B")
	s.tap(s.label("mapsetup.button_area"))
	s.text("Kolín")
	s.do("shares a pin", flows.Input{What: flows.Location{Lat: 50.0281, Lon: 15.2006}})
	s.tap("5 km")
	s.tap(s.label("mapsetup.button_feelings"))
	s.text("🌳 Tady je klid\n🎨 Graffiti\n🚌 Zastávka\n🐕 Psi")
	s.text("🌳 Tady je klid\n\n🎨 Graffiti  ")
	s.tap(s.label("mapsetup.button_file"))
	golden(t, "mapsetup.en", s.log.String())

	f := s.forums[0]
	if f.Area != (flows.MapArea{Lat: 50.0281, Lon: 15.2006, RadiusKm: 5}) || len(f.Feelings) != 2 || f.Feelings[1] != "🎨 Graffiti" {
		t.Errorf("forum map %+v %q", f.Area, f.Feelings)
	}
	// A radius button forged, or tapped with no centre sent, changes nothing.
	s.press("|fa|70:7")
	s.press("|fa|70:5")
	if s.forums[0].Area.RadiusKm != 5 {
		t.Errorf("forged radius changed the area: %+v", s.forums[0].Area)
	}

	// A student of another teacher's forum cannot.
	st := newStudent(t, "en")
	st.forums = s.forums
	st.press("|fa|70")
	if st.keys()[0] != "error.stale_button" {
		t.Errorf("student tapped a map setting: %v", st.keys())
	}
}

// pinReviewEffect answers /pins from s.pins: each with a comment, flagged
// first, until decided (Flagged false and Comment "" once decided here).
func (s *student) pinReviewEffect(e flows.Effect) flows.PinReviewNext {
	var out flows.PinReviewNext
	skip := []int64{}
	switch e := e.(type) {
	case flows.StorePinReview:
		skip = e.Skip
		out.Decided = "gone"
		if i := int(e.ID) - 1; i >= 0 && i < len(s.pins) && s.pins[i].Comment != "" {
			out.Decided = map[bool]string{true: "hidden", false: "kept"}[e.Hide]
			s.pins[i].Comment = "" // checked
		}
	case flows.NextPinReview:
		skip = e.Skip
	}
	best := -1
	for i, p := range s.pins {
		if p.Comment == "" || slices.Contains(skip, int64(i+1)) {
			continue
		}
		if best < 0 || (p.Flagged && !s.pins[best].Flagged) {
			best = i
		}
	}
	if best >= 0 {
		p := s.pins[best]
		out.Pin = &flows.PinReview{ID: int64(best + 1), Forum: "8.B – ZŠ Komenského", Feeling: p.Feeling, PlaceText: p.PlaceText, Comment: p.Comment, Flagged: p.Flagged}
	}
	return out
}

// Staff check the map's comments, the flagged one first; students cannot.
func TestTranscriptPinReview(t *testing.T) {
	s := newStudent(t, "en")
	s.who, s.pid = "staff", "pid-staff"
	s.actor = flows.Actor{Role: flows.RoleStaff}
	s.pins = []flows.Pin{
		{Feeling: flows.FeelingLike, Comment: "Nice benches"},
		{Feeling: flows.FeelingUnsafe, PlaceText: "Nádraží", Comment: "idiots everywhere", Flagged: true},
		{Feeling: flows.FeelingChange, Comment: "Needs a crossing"},
	}
	s.command(flows.CommandPins)
	s.tap(s.label("pinreview.button_hide"))
	s.tap(s.label("pinreview.button_skip"))
	s.tap(s.label("pinreview.button_keep"))
	golden(t, "pinreview.en", s.log.String())
	if s.pins[1].Comment != "" || s.pins[0].Comment == "" || s.pins[2].Comment != "" {
		t.Errorf("decided %+v", s.pins)
	}
	st := newStudent(t, "en")
	st.press("|pr|2:keep")
	if st.keys()[0] != "error.stale_button" {
		t.Errorf("a student decided on a pin: %v", st.keys())
	}
}

// An idea being written takes the place just marked, if it has none yet.
func TestPinGoesToTheIdeaBeingWritten(t *testing.T) {
	s := newStudent(t, "en")
	s.forums = []flows.Forum{mapForum}
	s.join(mapForum)
	s.tap(s.label("privacy.ok"))
	s.walk(flows.StepTitle, nil, nil)
	s.command("map")
	s.pinAt(50.0275, 15.2011)
	s.tap(s.label("feeling.change"))
	s.tap(s.label("button.skip"))
	s.tap(s.label("map.button_idea"))
	if s.keys()[0] != "map.idea_place_added" || s.state.Step != flows.StepTitle || s.state.Answers[flows.StepPlace].Lat == nil {
		t.Fatalf("%v at %q with place %+v", s.keys(), s.state.Step, s.state.Answers[flows.StepPlace])
	}
	s.walk(flows.StepReview, nil, map[flows.StepID]string{flows.StepPhoto: "skip"})
	s.tap(s.label("button.submit"))
	if len(s.stored) != 1 || s.stored[0].Latitude == nil || *s.stored[0].Latitude != 50.0275 {
		t.Errorf("stored %+v", s.stored)
	}
}

// Staff get the map's pins from /export; a pins file is not one to send back.
func TestStaffExportThePins(t *testing.T) {
	s := newStudent(t, "en")
	s.who, s.pid = "staff", "pid-staff"
	s.actor = flows.Actor{Role: flows.RoleStaff}
	s.command(flows.CommandExport)
	res := s.tap(s.label("button.export_map"))
	if len(res.Effects) != 1 || res.Effects[0] != (flows.ListExportForums{Format: "map"}) {
		t.Fatalf("asked for %+v", res.Effects)
	}
	s.press("|exf|pinscsv:0")
	if got := s.state; got.Pending != flows.PendingNone {
		t.Errorf("pending %q", got.Pending)
	}
	out := flows.Handle(s.state, flows.Input{What: flows.Exported{File: flows.File{Name: "napad-pins.csv"}, Count: 3, Format: "pinscsv"}, Actor: s.actor}, clock)
	if len(out.Replies) != 1 || out.Replies[0].Text.Key != "export.ready_pins" {
		t.Errorf("pins exported: %+v", out.Replies)
	}
	out = flows.Handle(s.state, flows.Input{What: flows.Exported{File: flows.File{Name: "napad-ideas.csv"}, Count: 3, Format: "csv"}, Actor: s.actor}, clock)
	if len(out.Replies) != 2 || out.Replies[1].Text.Key != "export.send_back" {
		t.Errorf("ideas exported: %+v", out.Replies)
	}
}

// The class's results name the map's most marked places per feeling: a
// typed place by its name, a pin by a link to the map, a forum's own
// feeling in its words.
func TestTopPlacesInTheResults(t *testing.T) {
	s := newStudent(t, "cs")
	lat, lon := 50.0275, 15.2011
	reply, ok := flows.TopPlacesReply([]flows.TopPlace{
		{Feeling: flows.FeelingLike, Label: "Park u řeky", Pins: 5},
		{Feeling: flows.FeelingUnsafe, Lat: &lat, Lon: &lon, Pins: 3},
		{Feeling: "own1", Label: "Zahrada", Pins: 2},
	}, []string{"🌳 Klid"})
	if !ok {
		t.Fatal("no reply")
	}
	text := s.render(reply.Text)
	for _, want := range []string{"😊 Líbí se mi tu: Park u řeky (5×)", "https://www.openstreetmap.org/?mlat=50.02750&mlon=15.20110", "🌳 Klid: Zahrada (2×)"} {
		if !strings.Contains(text, want) {
			t.Errorf("results lack %q:\n%s", want, text)
		}
	}
	if _, ok := flows.TopPlacesReply(nil, nil); ok {
		t.Error("a map without pins gives a reply")
	}
	// The results in the chat carry them.
	out := flows.Handle(flows.State{Lang: "cs"}, flows.Input{What: flows.ResultsLoaded{Forum: testForum, Places: &reply}}, clock)
	if n := len(out.Replies); n != 2 || out.Replies[1].Text.Key != "map.top_places" {
		t.Errorf("results replies %+v", out.Replies)
	}
}
