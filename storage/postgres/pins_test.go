package postgres_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// The store is the bot's PinStore.
var _ bot.PinStore = (*postgres.Store)(nil)

// kolin is a place in Kolín at the middle of a top places grid cell (a
// multiple of 0.0015° of latitude), so that pins a few metres north of it
// share its cell.
const kolinLat, kolinLon = 50.028, 15.2

// pinAt is a pin on the map.
func pinAt(forumID int64, participant, draft, feeling string, lat, lon float64) flows.Pin {
	return flows.Pin{DraftID: draft, ParticipantID: participant, ForumID: forumID,
		Lat: &lat, Lon: &lon, Feeling: feeling, Language: "cs"}
}

// typedPin is a pin whose place the student typed.
func typedPin(forumID int64, participant, draft, feeling, place string) flows.Pin {
	return flows.Pin{DraftID: draft, ParticipantID: participant, ForumID: forumID,
		PlaceText: place, Feeling: feeling, Language: "cs"}
}

func savePin(t *testing.T, st *postgres.Store, p flows.Pin) int {
	t.Helper()
	n, err := st.SavePin(t.Context(), p)
	if err != nil {
		t.Fatalf("SavePin(%s): %v", p.DraftID, err)
	}
	return n
}

// pinID is the id of a stored pin, read from the table.
func pinID(t *testing.T, conn *pgx.Conn, participant, draft string) int64 {
	t.Helper()
	var id int64
	if err := conn.QueryRow(t.Context(), `SELECT id FROM pins WHERE participant_id = $1 AND draft_id = $2`,
		participant, draft).Scan(&id); err != nil {
		t.Fatalf("pin %s/%s: %v", participant, draft, err)
	}
	return id
}

func countRows(t *testing.T, conn *pgx.Conn, query string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestSavePinOnceAndCounts(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	conn := connect(t, dbURL)
	ctx := t.Context()
	a, b := newForum(t, st), newForum(t, st)

	p := pinAt(a.ID, "student-a", "d1", flows.FeelingLike, kolinLat, kolinLon)
	p.Comment, p.AgeBand, p.Flagged = "  Hezky tu je  ", "13-14", true
	p.CreatedAt = time.Date(2025, 5, 14, 9, 30, 0, 0, time.UTC)
	if n := savePin(t, st, p); n != 1 {
		t.Errorf("first save: count %d, want 1", n)
	}
	// Saved again (a retry), even with another comment: nothing changes.
	again := p
	again.Comment = "something else"
	if n := savePin(t, st, again); n != 1 {
		t.Errorf("second save of the draft: count %d, want 1", n)
	}
	if n := countRows(t, conn, `SELECT count(*) FROM pins WHERE draft_id = 'd1'`); n != 1 {
		t.Fatalf("%d rows for one draft", n)
	}
	var comment, ageBand string
	var place *string
	var lat, lon float64
	var flagged bool
	var created time.Time
	if err := conn.QueryRow(ctx, `SELECT comment, age_band, place_text, latitude, longitude, flagged, created_at FROM pins WHERE draft_id = 'd1'`).
		Scan(&comment, &ageBand, &place, &lat, &lon, &flagged, &created); err != nil {
		t.Fatal(err)
	}
	if comment != "Hezky tu je" || ageBand != "13-14" || place != nil || lat != kolinLat || lon != kolinLon || !flagged || !created.Equal(p.CreatedAt) {
		t.Errorf("stored %q %q %v %v %v %v %v", comment, ageBand, place, lat, lon, flagged, created)
	}

	if n := savePin(t, st, typedPin(a.ID, "student-a", "d2", flows.FeelingUnsafe, "Nádraží")); n != 2 {
		t.Errorf("second pin: count %d, want 2", n)
	}
	// Counted per forum and per student.
	if n := savePin(t, st, typedPin(b.ID, "student-a", "d3", flows.FeelingUnsafe, "Nádraží")); n != 1 {
		t.Errorf("first pin in another forum: count %d, want 1", n)
	}
	if n := savePin(t, st, typedPin(a.ID, "student-b", "d1", flows.FeelingChange, "Park")); n != 1 {
		t.Errorf("another student's first pin (same draft id): count %d, want 1", n)
	}
	if n := savePin(t, st, p); n != 2 {
		t.Errorf("retry after more pins: count %d, want 2", n)
	}

	// A pinner has joined the forum; every pin counts.
	stats, err := st.ForumStats(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Pins != 3 || stats.Joined != 2 || stats.Submitted != 0 {
		t.Errorf("ForumStats = %+v, want 3 pins, 2 joined", stats)
	}

	// Many retries at once still store one pin.
	var wg sync.WaitGroup
	counts := make([]int, 4)
	errs := make([]error, 4)
	race := typedPin(a.ID, "student-c", "race", flows.FeelingFreeTime, "Hřiště")
	for i := range counts {
		wg.Go(func() { counts[i], errs[i] = st.SavePin(ctx, race) })
	}
	wg.Wait()
	for i := range counts {
		if errs[i] != nil || counts[i] != 1 {
			t.Errorf("concurrent save #%d: %d, %v", i, counts[i], errs[i])
		}
	}
	if n := countRows(t, conn, `SELECT count(*) FROM pins WHERE draft_id = 'race'`); n != 1 {
		t.Errorf("%d rows for one draft saved concurrently", n)
	}
}

func TestSavePinRejectsBadPins(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	conn := connect(t, dbURL)
	ctx := t.Context()
	f := newForum(t, st)
	if err := st.SetForumMap(ctx, f.Code, nil, []string{"🌳 Quiet place"}, postgres.CLIActor); err != nil {
		t.Fatal(err)
	}
	good := func() flows.Pin { return pinAt(f.ID, "student", "draft", flows.FeelingLike, kolinLat, kolinLon) }
	cases := map[string]func(p *flows.Pin){
		"NaN latitude":          func(p *flows.Pin) { p.Lat = ptr(math.NaN()) },
		"NaN longitude":         func(p *flows.Pin) { p.Lon = ptr(math.NaN()) },
		"infinite longitude":    func(p *flows.Pin) { p.Lon = ptr(math.Inf(1)) },
		"latitude out of range": func(p *flows.Pin) { p.Lat = ptr(90.5) },
		"longitude too small":   func(p *flows.Pin) { p.Lon = ptr(-180.5) },
		"0, 0":                  func(p *flows.Pin) { p.Lat, p.Lon = ptr(0.0), ptr(0.0) },
		"latitude only":         func(p *flows.Pin) { p.Lon = nil },
		"no place":              func(p *flows.Pin) { p.Lat, p.Lon = nil, nil },
		"blank place":           func(p *flows.Pin) { p.Lat, p.Lon, p.PlaceText = nil, nil, "   " },
		"place too long":        func(p *flows.Pin) { p.PlaceText = strings.Repeat("ž", flows.MaxPinPlace+1) },
		"unknown feeling":       func(p *flows.Pin) { p.Feeling = "angry" },
		"own feeling 4":         func(p *flows.Pin) { p.Feeling = "own4" },
		"own2 of one":           func(p *flows.Pin) { p.Feeling = "own2" },
		"comment too long":      func(p *flows.Pin) { p.Comment = strings.Repeat("ž", flows.MaxPinComment+1) },
		"no draft":              func(p *flows.Pin) { p.DraftID = "" },
		"no participant":        func(p *flows.Pin) { p.ParticipantID = "" },
		"no forum":              func(p *flows.Pin) { p.ForumID = 0 },
		"unknown language":      func(p *flows.Pin) { p.Language = "xx" },
		"unknown age band":      func(p *flows.Pin) { p.AgeBand = "99" },
	}
	for name, spoil := range cases {
		p := good()
		spoil(&p)
		if n, err := st.SavePin(ctx, p); err == nil {
			t.Errorf("%s: saved (count %d)", name, n)
		} else if !strings.HasPrefix(err.Error(), "postgres: save pin: ") {
			t.Errorf("%s: error without context: %v", name, err)
		}
	}
	p := good()
	p.ForumID = f.ID + 1000
	if _, err := st.SavePin(ctx, p); !errors.Is(err, postgres.ErrForumNotFound) {
		t.Errorf("unknown forum: %v, want ErrForumNotFound", err)
	}
	if n := countRows(t, conn, `SELECT count(*) FROM pins`); n != 0 {
		t.Fatalf("%d bad pins stored", n)
	}
	if n := countRows(t, conn, `SELECT count(*) FROM participants`); n != 0 {
		t.Errorf("%d participants stored for bad pins", n)
	}

	// The edges are fine: the longest texts (in characters, not bytes) and
	// the forum's one own feeling.
	p = good()
	p.Feeling, p.Comment, p.PlaceText = "own1", strings.Repeat("ž", flows.MaxPinComment), strings.Repeat("ř", flows.MaxPinPlace)
	p.Lat, p.Lon = ptr(-90.0), ptr(180.0)
	if n, err := st.SavePin(ctx, p); err != nil || n != 1 {
		t.Errorf("edge pin: %d, %v", n, err)
	}
	// The forum drops its feeling: the pin stays stored, so a retry of it
	// still succeeds; a new pin of that feeling does not.
	if err := st.SetForumMap(ctx, f.Code, nil, []string{}, postgres.CLIActor); err != nil {
		t.Fatal(err)
	}
	if n, err := st.SavePin(ctx, p); err != nil || n != 1 {
		t.Errorf("retry after the feeling went: %d, %v", n, err)
	}
	p.DraftID = "another"
	if n, err := st.SavePin(ctx, p); err == nil {
		t.Errorf("a new pin of a feeling the forum dropped: count %d", n)
	}
}

// The schema itself rejects bad pins, not just SavePin.
func TestPinSchemaConstraints(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	f := newForum(t, st)
	conn := connect(t, dbURL)
	ctx := t.Context()
	if _, err := conn.Exec(ctx, `INSERT INTO participants (id, language) VALUES ('p', 'cs')`); err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	cases := []struct {
		name           string
		lat, lon       any
		place, feeling any
		comment        any
		ok             bool
		violates       string
	}{
		{"pinned", 50.03, 15.2, nil, "like", nil, true, ""},
		{"typed", nil, nil, "Park", "own3", "Hezky", true, ""},
		{"NaN latitude", nan, 15.2, nil, "like", nil, false, "pins_location_check"},
		{"NaN longitude", 50.03, nan, nil, "like", nil, false, "pins_location_check"},
		{"NaN with a place", nan, nan, "Park", "like", nil, false, "pins_location_check"},
		{"latitude only", 50.03, nil, nil, "like", nil, false, "pins_location_check"},
		{"out of range", 91.0, 15.2, nil, "like", nil, false, "pins_location_check"},
		{"0, 0", 0.0, 0.0, "Park", "like", nil, false, "pins_location_check"},
		{"nowhere", nil, nil, nil, "like", nil, false, "pins_place_check"},
		{"empty place", nil, nil, " ", "like", nil, false, "pins_place_text_check"},
		{"unknown feeling", 50.03, 15.2, nil, "own4", nil, false, "pins_feeling_check"},
		{"empty comment", 50.03, 15.2, nil, "like", "", false, "pins_comment_check"},
		{"long comment", 50.03, 15.2, nil, "like", strings.Repeat("ž", flows.MaxPinComment+1), false, "pins_comment_check"},
	}
	for i, c := range cases {
		_, err := conn.Exec(ctx, `
			INSERT INTO pins (participant_id, forum_id, draft_id, latitude, longitude, place_text, feeling, comment, language)
			VALUES ('p', $1, $2, $3, $4, $5, $6, $7, 'cs')`,
			f.ID, fmt.Sprint("d", i), c.lat, c.lon, c.place, c.feeling, c.comment)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
		if !c.ok && (err == nil || !strings.Contains(err.Error(), c.violates)) {
			t.Errorf("%s: err = %v, want a violation of %s", c.name, err, c.violates)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO pins (participant_id, forum_id, draft_id, latitude, longitude, feeling, language, hidden_at)
		VALUES ('p', $1, 'hidden-unreviewed', 50.03, 15.2, 'like', 'cs', now())`, f.ID); err == nil {
		t.Error("a pin hidden without a review was accepted")
	}

	for name, set := range map[string]string{
		"NaN centre":       `map_lat = 'NaN', map_lon = 15.2, map_radius_km = 5`,
		"centre only":      `map_lat = 50, map_lon = 15.2`,
		"zero radius":      `map_lat = 50, map_lon = 15.2, map_radius_km = 0`,
		"too large":        `map_lat = 50, map_lon = 15.2, map_radius_km = 200.5`,
		"NaN radius":       `map_lat = 50, map_lon = 15.2, map_radius_km = 'NaN'`,
		"four feelings":    `map_feelings = '{a,b,c,d}'`,
		"an empty feeling": `map_feelings = '{a,""}'`,
	} {
		if _, err := conn.Exec(ctx, `UPDATE forums SET `+set+` WHERE id = $1`, f.ID); err == nil {
			t.Errorf("forum map %s accepted", name)
		}
	}
	if _, err := conn.Exec(ctx, `UPDATE forums SET map_lat = 50, map_lon = 15.2, map_radius_km = 200, map_feelings = '{a,b,c}' WHERE id = $1`, f.ID); err != nil {
		t.Errorf("largest forum map: %v", err)
	}
}

func TestSetForumMap(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	if f.Area.Set() || f.Feelings != nil {
		t.Fatalf("a new forum has a map: %+v %q", f.Area, f.Feelings)
	}
	read := func() flows.Forum {
		t.Helper()
		got, found, err := st.ForumByCode(ctx, f.Code)
		if err != nil || !found {
			t.Fatalf("ForumByCode: %v %v", found, err)
		}
		return got
	}

	area := flows.MapArea{Lat: 50.028, Lon: 15.2, RadiusKm: 4.5}
	if err := st.SetForumMap(ctx, f.Code, &area, []string{" 🌳 Quiet place ", "Dobré jídlo"}, "staff-1"); err != nil {
		t.Fatal(err)
	}
	got := read()
	if got.Area != area || !slices.Equal(got.Feelings, []string{"🌳 Quiet place", "Dobré jídlo"}) {
		t.Fatalf("after set: %+v %q", got.Area, got.Feelings)
	}
	want := f
	want.Area, want.Feelings = area, got.Feelings
	if !sameForum(got, want) {
		t.Errorf("other fields changed: %+v, want %+v", got, want)
	}
	log, err := pgtest.AuditLog(ctx, st, 1)
	if err != nil || len(log) != 1 || log[0].Action != postgres.ActionForumMap || log[0].Actor != "staff-1" || log[0].Target != f.Code ||
		!strings.Contains(string(log[0].After), "Quiet place") || !strings.Contains(string(log[0].After), "4.5") {
		t.Errorf("audit %+v, %v", log, err)
	}

	// nil keeps what is there.
	if err := st.SetForumMap(ctx, f.Code, nil, []string{"Jen jeden"}, "staff-1"); err != nil {
		t.Fatal(err)
	}
	if got := read(); got.Area != area || !slices.Equal(got.Feelings, []string{"Jen jeden"}) {
		t.Errorf("after new feelings: %+v %q", got.Area, got.Feelings)
	}
	moved := flows.MapArea{Lat: 69.65, Lon: 18.96, RadiusKm: 200}
	if err := st.SetForumMap(ctx, f.Code, &moved, nil, "staff-1"); err != nil {
		t.Fatal(err)
	}
	if got := read(); got.Area != moved || !slices.Equal(got.Feelings, []string{"Jen jeden"}) {
		t.Errorf("after new area: %+v %q", got.Area, got.Feelings)
	}
	// Empty feelings and a zero area remove them.
	if err := st.SetForumMap(ctx, f.Code, &flows.MapArea{}, []string{}, "staff-1"); err != nil {
		t.Fatal(err)
	}
	if got := read(); got.Area.Set() || got.Feelings != nil || !sameForum(got, f) {
		t.Errorf("after removing: %+v", got)
	}

	bad := map[string]struct {
		area     *flows.MapArea
		feelings []string
	}{
		"negative radius":   {&flows.MapArea{Lat: 50, Lon: 15, RadiusKm: -1}, nil},
		"radius too large":  {&flows.MapArea{Lat: 50, Lon: 15, RadiusKm: 200.1}, nil},
		"NaN radius":        {&flows.MapArea{Lat: 50, Lon: 15, RadiusKm: math.NaN()}, nil},
		"NaN centre":        {&flows.MapArea{Lat: math.NaN(), Lon: 15, RadiusKm: 5}, nil},
		"centre 0, 0":       {&flows.MapArea{RadiusKm: 5}, nil},
		"centre off Earth":  {&flows.MapArea{Lat: 50, Lon: 181, RadiusKm: 5}, nil},
		"four feelings":     {nil, []string{"a", "b", "c", "d"}},
		"empty feeling":     {nil, []string{"a", "  "}},
		"long feeling":      {nil, []string{strings.Repeat("ž", flows.MaxOwnFeeling+1)}},
		"repeated feelings": {nil, []string{"a", " a"}},
	}
	for name, c := range bad {
		if err := st.SetForumMap(ctx, f.Code, c.area, c.feelings, "staff-1"); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "postgres: set forum map: ") {
			t.Errorf("%s: error without context: %v", name, err)
		}
	}
	if err := st.SetForumMap(ctx, f.Code, nil, []string{strings.Repeat("ž", flows.MaxOwnFeeling)}, ""); err == nil {
		t.Error("no actor: accepted")
	}
	if err := st.SetForumMap(ctx, f.Code, nil, []string{strings.Repeat("ž", flows.MaxOwnFeeling)}, "staff-1"); err != nil {
		t.Errorf("longest feeling: %v", err)
	}
	for _, code := range []string{"AAAAAAAAAAAAAAAA", "no such code!"} {
		if err := st.SetForumMap(ctx, code, &area, nil, "staff-1"); !errors.Is(err, postgres.ErrForumNotFound) {
			t.Errorf("forum %q: %v, want ErrForumNotFound", code, err)
		}
	}
}

func TestTopPlaces(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	conn := connect(t, dbURL)
	ctx := t.Context()
	f := newForum(t, st)
	if err := st.SetForumMap(ctx, f.Code, nil, []string{"Klid", "Jídlo"}, postgres.CLIActor); err != nil {
		t.Fatal(err)
	}
	if places, err := st.TopPlaces(ctx, f.ID, 3); err != nil || len(places) != 0 {
		t.Fatalf("no pins: %v, %v", places, err)
	}

	north30m := kolinLat + 30/111_200.0 // 30 m north: the same place
	north2km := kolinLat + 2/111.2      // 2 km north: another
	pins := []flows.Pin{
		// Saved in an order unlike the results', which follow the feelings.
		pinAt(f.ID, "s1", "own2", "own2", kolinLat, kolinLon),
		pinAt(f.ID, "s1", "own1", "own1", kolinLat, kolinLon),
		typedPin(f.ID, "s1", "unsafe-1", flows.FeelingUnsafe, "Podchod"),
		typedPin(f.ID, "s2", "unsafe-2", flows.FeelingUnsafe, "Nádraží"),
		pinAt(f.ID, "s1", "square-1", flows.FeelingLike, kolinLat, kolinLon),
		pinAt(f.ID, "s2", "square-2", flows.FeelingLike, north30m, kolinLon),
		pinAt(f.ID, "s3", "far", flows.FeelingLike, north2km, kolinLon),
		typedPin(f.ID, "s1", "park-1", flows.FeelingLike, "Park "),
		typedPin(f.ID, "s2", "park-2", flows.FeelingLike, "park"),
		typedPin(f.ID, "s3", "park-3", flows.FeelingLike, "Park"),
		// Hidden: without them "far" would have the most pins.
		pinAt(f.ID, "s4", "far-hidden-1", flows.FeelingLike, north2km, kolinLon),
		pinAt(f.ID, "s5", "far-hidden-2", flows.FeelingLike, north2km, kolinLon),
		pinAt(f.ID, "s6", "far-hidden-3", flows.FeelingLike, north2km, kolinLon),
	}
	pins[5].PlaceText = "Náměstí" // pinned and named
	for _, p := range pins {
		savePin(t, st, p)
	}
	for i, who := range []string{"s4", "s5", "s6"} {
		if found, err := st.ReviewPin(ctx, pinID(t, conn, who, fmt.Sprint("far-hidden-", i+1)), true, "staff-1"); err != nil || !found {
			t.Fatalf("hide: %v %v", found, err)
		}
	}
	// The forum's second feeling is dropped: its pin stays out.
	if err := st.SetForumMap(ctx, f.Code, nil, []string{"Klid"}, postgres.CLIActor); err != nil {
		t.Fatal(err)
	}

	places, err := st.TopPlaces(ctx, f.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	meanLat := (kolinLat + north30m) / 2
	want := []flows.TopPlace{
		// Typed three times, "Park" twice (once with a space trimmed).
		{Feeling: flows.FeelingLike, Label: "Park", Pins: 3},
		{Feeling: flows.FeelingLike, Label: "Náměstí", Lat: &meanLat, Lon: ptr(kolinLon), Pins: 2},
		{Feeling: flows.FeelingLike, Label: "", Lat: ptr(north2km), Lon: ptr(kolinLon), Pins: 1},
		{Feeling: flows.FeelingUnsafe, Label: "Podchod", Pins: 1},
		{Feeling: flows.FeelingUnsafe, Label: "Nádraží", Pins: 1},
		{Feeling: "own1", Label: "", Lat: ptr(kolinLat), Lon: ptr(kolinLon), Pins: 1},
	}
	if len(places) != len(want) {
		t.Fatalf("places:\n%s\nwant:\n%s", showPlaces(places), showPlaces(want))
	}
	for i := range want {
		if !samePlace(places[i], want[i]) {
			t.Errorf("place %d:\n%s\nwant:\n%s", i, showPlaces(places), showPlaces(want))
			break
		}
	}

	top1, err := st.TopPlaces(ctx, f.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	var feelings []string
	for _, p := range top1 {
		feelings = append(feelings, p.Feeling+":"+p.Label)
	}
	if !slices.Equal(feelings, []string{"like:Park", "unsafe:Podchod", "own1:"}) {
		t.Errorf("one per feeling: %q", feelings)
	}

	if _, err := st.TopPlaces(ctx, f.ID+1000, 3); !errors.Is(err, postgres.ErrForumNotFound) {
		t.Errorf("unknown forum: %v", err)
	}
	if _, err := st.TopPlaces(ctx, f.ID, 0); err == nil {
		t.Error("0 per feeling: no error")
	}
}

func samePlace(a, b flows.TopPlace) bool {
	near := func(x, y *float64) bool {
		return (x == nil) == (y == nil) && (x == nil || math.Abs(*x-*y) < 1e-9)
	}
	return a.Feeling == b.Feeling && a.Label == b.Label && a.Pins == b.Pins && near(a.Lat, b.Lat) && near(a.Lon, b.Lon)
}

func showPlaces(places []flows.TopPlace) string {
	var b strings.Builder
	for _, p := range places {
		fmt.Fprintf(&b, "  %s %q %d", p.Feeling, p.Label, p.Pins)
		if p.Lat != nil {
			fmt.Fprintf(&b, " at %.6f, %.6f", *p.Lat, *p.Lon)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestPinReview(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	conn := connect(t, dbURL)
	ctx := t.Context()
	f := newForum(t, st)
	if err := st.SetForumMap(ctx, f.Code, nil, []string{"🌳 Quiet place"}, postgres.CLIActor); err != nil {
		t.Fatal(err)
	}
	silent := pinAt(f.ID, "s1", "silent", flows.FeelingLike, kolinLat, kolinLon)
	older := pinAt(f.ID, "s1", "older", flows.FeelingUnsafe, kolinLat, kolinLon)
	older.Comment = "Tma"
	own := typedPin(f.ID, "s2", "own", "own1", "Zahrada")
	own.Comment = "Ticho"
	flagged := pinAt(f.ID, "s3", "flagged", flows.FeelingChange, kolinLat, kolinLon)
	flagged.Comment, flagged.Flagged = "sprosté slovo", true
	for _, p := range []flows.Pin{silent, older, own, flagged} {
		savePin(t, st, p)
	}
	ids := map[string]int64{}
	for who, draft := range map[string]string{"s1": "older", "s2": "own", "s3": "flagged"} {
		ids[draft] = pinID(t, conn, who, draft)
	}

	next := func(skip ...int64) flows.PinReview {
		t.Helper()
		pin, found, err := st.NextPinForReview(ctx, skip)
		if err != nil || !found {
			t.Fatalf("NextPinForReview(%v): %v %v", skip, found, err)
		}
		return pin
	}
	// Flagged first, then the oldest; a pin without a comment never.
	if got, want := next(), (flows.PinReview{ID: ids["flagged"], Forum: f.Name, Feeling: flows.FeelingChange,
		Comment: "sprosté slovo", Flagged: true}); got != want {
		t.Errorf("first: %+v, want %+v", got, want)
	}
	if got := next(ids["flagged"]); got.ID != ids["older"] {
		t.Errorf("skipping the flagged one: %+v", got)
	}
	if got, want := next(ids["flagged"], ids["older"]), (flows.PinReview{ID: ids["own"], Forum: f.Name, Feeling: "own1",
		FeelingLabel: "🌳 Quiet place", PlaceText: "Zahrada", Comment: "Ticho"}); got != want {
		t.Errorf("own feeling: %+v, want %+v", got, want)
	}
	if _, found, err := st.NextPinForReview(ctx, []int64{ids["flagged"], ids["older"], ids["own"]}); err != nil || found {
		t.Errorf("all skipped: %v %v", found, err)
	}

	if found, err := st.ReviewPin(ctx, ids["flagged"], true, "staff-1"); err != nil || !found {
		t.Fatalf("hide: %v %v", found, err)
	}
	if found, err := st.ReviewPin(ctx, ids["older"], false, "staff-1"); err != nil || !found {
		t.Fatalf("keep: %v %v", found, err)
	}
	if got := next(); got.ID != ids["own"] {
		t.Errorf("after two reviews: %+v", got)
	}
	if found, err := st.ReviewPin(ctx, ids["own"], false, "staff-1"); err != nil || !found {
		t.Fatal(found, err)
	}
	if _, found, err := st.NextPinForReview(ctx, nil); err != nil || found {
		t.Errorf("all reviewed: %v %v", found, err)
	}
	if found, err := st.ReviewPin(ctx, ids["flagged"]+1000, true, "staff-1"); err != nil || found {
		t.Errorf("no such pin: %v %v", found, err)
	}
	if _, err := st.ReviewPin(ctx, ids["older"], true, ""); err == nil {
		t.Error("a review without an actor")
	}

	hidden := func(draft string) bool {
		var h bool
		if err := conn.QueryRow(ctx, `SELECT hidden_at IS NOT NULL FROM pins WHERE id = $1`, ids[draft]).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	if !hidden("flagged") || hidden("older") || hidden("own") {
		t.Errorf("hidden: flagged %v, older %v, own %v", hidden("flagged"), hidden("older"), hidden("own"))
	}
	// A hidden pin is out of the results but still counts as taking part.
	places, err := st.TopPlaces(ctx, f.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range places {
		if p.Feeling == flows.FeelingChange {
			t.Errorf("hidden pin in the top places: %+v", p)
		}
	}
	if stats, err := st.ForumStats(ctx, f.ID); err != nil || stats.Pins != 4 {
		t.Errorf("ForumStats = %+v, %v; want 4 pins", stats, err)
	}
	// Shown again.
	if found, err := st.ReviewPin(ctx, ids["flagged"], false, "staff-2"); err != nil || !found || hidden("flagged") {
		t.Errorf("show again: %v %v hidden=%v", found, err, hidden("flagged"))
	}

	log, err := pgtest.AuditLog(ctx, st, 2)
	if err != nil || len(log) != 2 {
		t.Fatalf("audit %v %v", log, err)
	}
	target := fmt.Sprint("pin:", ids["flagged"])
	if log[0].Action != postgres.ActionPinReview || log[0].Actor != "staff-2" || log[0].Target != target ||
		string(log[0].Before) != `{"hidden": true, "reviewed": true}` || string(log[0].After) != `{"hidden": false, "reviewed": true}` {
		t.Errorf("audit of showing again: %+v before %s after %s", log[0], log[0].Before, log[0].After)
	}
	if log[1].Target != fmt.Sprint("pin:", ids["own"]) || string(log[1].Before) != `{"hidden": false, "reviewed": false}` {
		t.Errorf("audit of the first review: %+v before %s", log[1], log[1].Before)
	}
}

func TestExportPins(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	conn := connect(t, dbURL)
	ctx := t.Context()
	kolin, err := pgtest.CreateForum(ctx, st, "7.B", "ZŠ Kolín", "Kolín")
	if err != nil {
		t.Fatal(err)
	}
	tromso, err := pgtest.CreateForum(ctx, st, "8A", "Skole", "Tromsø")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetForumMap(ctx, kolin.Code, nil, []string{"Klid"}, postgres.CLIActor); err != nil {
		t.Fatal(err)
	}
	may := time.Date(2025, 5, 14, 10, 0, 0, 0, time.UTC)
	p1 := pinAt(kolin.ID, "student-secret-1", "draft-secret-1", "own1", kolinLat, kolinLon)
	p1.Comment, p1.AgeBand, p1.CreatedAt, p1.Flagged = "Ticho", "13-14", may, true
	p2 := typedPin(kolin.ID, "student-secret-2", "draft-secret-2", flows.FeelingUnsafe, "Nádraží")
	p2.CreatedAt, p2.Language = may.AddDate(0, 1, 0), "uk"
	p3 := pinAt(tromso.ID, "student-secret-3", "draft-secret-3", flows.FeelingLike, 69.65, 18.96)
	p3.CreatedAt, p3.Language = may.AddDate(0, 0, 1), "nb"
	p4 := pinAt(kolin.ID, "student-secret-1", "draft-secret-4", flows.FeelingChange, kolinLat, kolinLon)
	p4.Comment, p4.CreatedAt = "hidden one", may.AddDate(0, 0, 2)
	for _, p := range []flows.Pin{p1, p2, p3, p4} {
		savePin(t, st, p)
	}
	hiddenID := pinID(t, conn, "student-secret-1", "draft-secret-4")
	if found, err := st.ReviewPin(ctx, hiddenID, true, "staff-1"); err != nil || !found {
		t.Fatal(found, err)
	}

	exportPins := func(f postgres.ExportFilter) []export.PinRow {
		t.Helper()
		var rows []export.PinRow
		if err := st.ExportPins(ctx, f, func(r export.PinRow) error { rows = append(rows, r); return nil }); err != nil {
			t.Fatalf("ExportPins(%+v): %v", f, err)
		}
		return rows
	}
	all := exportPins(postgres.ExportFilter{IncludeHidden: true})
	if len(all) != 4 {
		t.Fatalf("%d rows, want 4: %+v", len(all), all)
	}
	first := all[0]
	first.Date = first.Date.UTC()
	wantFirst := export.PinRow{ID: pinID(t, conn, "student-secret-1", "draft-secret-1"), Forum: "7.B", ForumCode: kolin.Code,
		Town: "Kolín", Date: may, Latitude: ptr(kolinLat), Longitude: ptr(kolinLon), Feeling: "own1", FeelingLabel: "Klid",
		Comment: "Ticho", AgeBand: "13-14", Language: "cs", Flagged: true}
	if !reflect.DeepEqual(first, wantFirst) {
		t.Errorf("first row %+v\nwant %+v", first, wantFirst)
	}
	if r := all[1]; r.Latitude != nil || r.PlaceText != "Nádraží" || r.FeelingLabel != "" || r.Language != "uk" || r.Hidden {
		t.Errorf("typed row %+v", r)
	}
	if r := all[3]; r.ID != hiddenID || !r.Hidden {
		t.Errorf("hidden row %+v", r)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Errorf("not in the order stored: %d after %d", all[i].ID, all[i-1].ID)
		}
	}
	// Nothing leads back to the student.
	for _, r := range all {
		if s := fmt.Sprintf("%+v", r); strings.Contains(s, "secret") {
			t.Errorf("a row holds the student's id or draft: %s", s)
		}
	}

	ids := func(rows []export.PinRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.Forum+"/"+r.Feeling)
		}
		return out
	}
	for name, c := range map[string]struct {
		f    postgres.ExportFilter
		want []string
	}{
		"visible only": {postgres.ExportFilter{}, []string{"7.B/own1", "7.B/unsafe", "8A/like"}},
		"forum":        {postgres.ExportFilter{ForumCode: tromso.Code}, []string{"8A/like"}},
		"town":         {postgres.ExportFilter{Town: "Kolín", IncludeHidden: true}, []string{"7.B/own1", "7.B/unsafe", "7.B/change"}},
		"from":         {postgres.ExportFilter{From: may.Add(time.Hour)}, []string{"7.B/unsafe", "8A/like"}},
		"to":           {postgres.ExportFilter{To: may.AddDate(0, 0, 3), IncludeHidden: true}, []string{"7.B/own1", "8A/like", "7.B/change"}},
		"ideas' filters do not apply": {postgres.ExportFilter{Status: flows.StatusDone, Category: flows.CategoryOther},
			[]string{"7.B/own1", "7.B/unsafe", "8A/like"}},
	} {
		if got := ids(exportPins(c.f)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}

	if err := st.ExportPins(ctx, postgres.ExportFilter{ForumCode: "AAAAAAAAAAAAAAAA"}, func(export.PinRow) error { return nil }); !errors.Is(err, postgres.ErrForumNotFound) {
		t.Errorf("unknown forum: %v", err)
	}
	if err := st.ExportPins(ctx, postgres.ExportFilter{From: may, To: may}, func(export.PinRow) error { return nil }); err == nil {
		t.Error("an empty period: no error")
	}
	stop := errors.New("disk full")
	n := 0
	err = st.ExportPins(ctx, postgres.ExportFilter{}, func(export.PinRow) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 || !strings.HasPrefix(err.Error(), "postgres: export pins: ") {
		t.Errorf("a failing writer: %v after %d rows", err, n)
	}
}

func TestPinsAreTheStudentsData(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	conn := connect(t, dbURL)
	ctx := t.Context()
	f := newForum(t, st)
	if err := st.SetForumMap(ctx, f.Code, nil, []string{"Klid"}, postgres.CLIActor); err != nil {
		t.Fatal(err)
	}
	mine := pinAt(f.ID, "student-a", "draft-a1", flows.FeelingUnsafe, kolinLat, kolinLon)
	mine.Comment = "Tma pod mostem"
	typed := typedPin(f.ID, "student-a", "draft-a2", "own1", "Zahrada")
	other := typedPin(f.ID, "student-b", "draft-b1", flows.FeelingLike, "Someone else's park")
	for _, p := range []flows.Pin{mine, typed, other} {
		savePin(t, st, p)
	}

	raw, err := st.DataOf(ctx, "student-a")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Pins []map[string]any `json:"pins"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, raw)
	}
	if len(doc.Pins) != 2 {
		t.Fatalf("pins in /mydata:\n%s", raw)
	}
	p := doc.Pins[0]
	if p["forum"] != f.Name || p["feeling"] != "unsafe" || p["comment"] != "Tma pod mostem" || p["latitude"] != kolinLat ||
		p["longitude"] != kolinLon || p["place_text"] != nil || p["created_at"] == nil {
		t.Errorf("first pin in /mydata: %v", p)
	}
	if p := doc.Pins[1]; p["place_text"] != "Zahrada" || p["feeling_label"] != "Klid" || p["latitude"] != nil {
		t.Errorf("second pin in /mydata: %v", p)
	}
	for _, key := range []string{"id", "forum_id", "participant_id", "draft_id"} {
		if _, ok := p[key]; ok {
			t.Errorf("/mydata shows a pin's %s", key)
		}
	}
	if strings.Contains(string(raw), "Someone else's") {
		t.Error("another student's pin is in the data")
	}

	if deleted, err := st.DeleteParticipant(ctx, "student-a"); err != nil || !deleted {
		t.Fatalf("delete: %v %v", deleted, err)
	}
	if n := countRows(t, conn, `SELECT count(*) FROM pins WHERE participant_id = 'student-a'`); n != 0 {
		t.Errorf("%d pins of the deleted student left", n)
	}
	if n := countRows(t, conn, `SELECT count(*) FROM pins`); n != 1 {
		t.Errorf("%d pins left, want the other student's one", n)
	}
	var audit string
	if err := conn.QueryRow(ctx, `SELECT after::text FROM audit_log WHERE action = 'participant.delete'`).Scan(&audit); err != nil ||
		!strings.Contains(audit, `"pins_deleted": 2`) || strings.Contains(audit, "student-a") {
		t.Errorf("audit %q, %v", audit, err)
	}
}

func TestRetentionDetachesPins(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	conn := connect(t, dbURL)
	ctx := t.Context()
	f := newForum(t, st)
	old := typedPin(f.ID, "student-old", "student-old:1", flows.FeelingLike, "Park")
	savePin(t, st, old)
	// A recent pin keeps its student, even one last seen long ago who is
	// in no forum any more.
	savePin(t, st, typedPin(f.ID, "student-new", "student-new:1", flows.FeelingLike, "Park"))
	for _, q := range []string{
		`UPDATE pins SET created_at = now() - interval '3 years' WHERE participant_id = 'student-old'`,
		`UPDATE participants SET updated_at = now() - interval '3 years'`,
		`UPDATE forum_participants SET joined_at = now() - interval '3 years' WHERE participant_id = 'student-old'`,
		`DELETE FROM forum_participants WHERE participant_id = 'student-new'`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetForumOpen(ctx, f.Code, false); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyRetention(ctx, time.Now().AddDate(-2, 0, 0)); err != nil {
		t.Fatal(err)
	}
	var participant *string
	var draft string
	if err := conn.QueryRow(ctx, `SELECT participant_id, draft_id FROM pins WHERE place_text = 'Park' ORDER BY id LIMIT 1`).
		Scan(&participant, &draft); err != nil {
		t.Fatal(err)
	}
	if participant != nil || strings.Contains(draft, "student-old") {
		t.Errorf("the old pin keeps its student: %v %q", participant, draft)
	}
	if n := countRows(t, conn, `SELECT count(*) FROM participants WHERE id = 'student-old'`); n != 0 {
		t.Error("the old student is kept")
	}
	if n := countRows(t, conn, `SELECT count(*) FROM pins WHERE participant_id = 'student-new'`); n != 1 {
		t.Error("the recent pin lost its student")
	}
	if n := countRows(t, conn, `SELECT count(*) FROM participants WHERE id = 'student-new'`); n != 1 {
		t.Error("the student of a recent pin was deleted")
	}
	// The city keeps the place.
	if places, err := st.TopPlaces(ctx, f.ID, 1); err != nil || len(places) != 1 || places[0].Pins != 2 {
		t.Errorf("top places after retention: %+v, %v", places, err)
	}
	log, err := pgtest.AuditLog(ctx, st, 1)
	if err != nil || len(log) != 1 || !strings.Contains(string(log[0].After), `"pins_detached": 1`) {
		t.Errorf("audit %+v, %v", log, err)
	}
}

// The migration goes down and up again over forums made before it.
func TestEmotionalMapMigrationDownUp(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewEmptyDatabase(t)
	conn := connect(t, dbURL)
	ctx := t.Context()
	if err := postgres.MigrateUpTo(ctx, dbURL, 14); err != nil {
		t.Fatal(err)
	}
	var forumID int64
	if err := conn.QueryRow(ctx, `INSERT INTO forums (join_code, name) VALUES ('AAAAAAAAAAAAAAAA', 'Before') RETURNING id`).Scan(&forumID); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f, found, err := st.ForumByID(ctx, forumID)
	if err != nil || !found || f.Area.Set() || f.Feelings != nil {
		t.Fatalf("a forum from before: %+v %v %v", f, found, err)
	}
	savePin(t, st, typedPin(forumID, "s", "d", flows.FeelingLike, "Park"))

	if err := postgres.MigrateDownTo(ctx, dbURL, 14); err != nil {
		t.Fatalf("down: %v", err)
	}
	if tableExists(t, conn, "pins") {
		t.Error("pins still exist after down")
	}
	if n := countRows(t, conn, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'forums' AND column_name LIKE 'map\_%'`); n != 0 {
		t.Errorf("%d map columns left on forums", n)
	}
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("up again: %v", err)
	}
	// The pool's connections cached the old plans; a fresh store reads the new schema.
	st2, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if n, err := st2.SavePin(ctx, typedPin(forumID, "s", "d", flows.FeelingLike, "Park")); err != nil || n != 1 {
		t.Errorf("save after down and up: %d, %v", n, err)
	}
	if err := st2.SetForumMap(ctx, "AAAAAAAAAAAAAAAA", &flows.MapArea{Lat: 50, Lon: 15, RadiusKm: 3}, []string{"Klid"}, postgres.CLIActor); err != nil {
		t.Errorf("forum map after down and up: %v", err)
	}
}
