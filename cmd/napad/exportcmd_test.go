package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
	"github.com/healthycities/napad/storage/export"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// exportCLI is the program run as `napad export|status` against its own
// database, with ideas in two towns.
type exportCLI struct {
	t      *testing.T
	db     *postgres.Store
	conn   *pgx.Conn
	env    map[string]string
	kolin  flows.Forum
	bergen flows.Forum
	refs   map[string]string // seed key -> reference
	dir    string
}

const cliChatID = 5550001234

func newExportCLI(t *testing.T) *exportCLI {
	t.Helper()
	db, dbURL := pgtest.NewStore(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	c := &exportCLI{t: t, db: db, conn: conn, refs: map[string]string{}, dir: t.TempDir(),
		env: map[string]string{"DATABASE_URL": dbURL, "TIMEZONE": "Europe/Prague", "LOG_LEVEL": "error",
			"STAFF_LANGUAGE": "en"}}
	if c.kolin, err = pgtest.CreateForum(ctx, db, "8.B – ZŠ Komenského", "ZŠ Komenského", "Kolín"); err != nil {
		t.Fatal(err)
	}
	if c.bergen, err = pgtest.CreateForum(ctx, db, "Ungdomsrådet", "", "Bergen"); err != nil {
		t.Fatal(err)
	}
	for _, idea := range []struct {
		key, category, title string
		forum                flows.Forum
		created              time.Time
		lat, lon             float64
	}{
		// 2026-01-31 23:30 UTC is already 1 February in Prague.
		{"bench", "school", "Lavičky na dvoře", c.kolin, time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC), 50.0280631, 15.2001154},
		{"bus", "transport", "Більше автобусів увечері", c.kolin, time.Date(2026, 3, 5, 7, 0, 0, 0, time.UTC), 0, 0},
		{"trees", "environment", "=HYPERLINK(\"x\")", c.bergen, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), 60.39299, -5.32415},
		{"rude", "misc", "Something rude", c.bergen, time.Date(2026, 6, 2, 12, 0, 0, 0, time.UTC), 60.4, 5.3},
	} {
		sub := flows.Idea{
			DraftID: "draft-" + idea.key, ParticipantID: "fedcba9876543210fedcba98765432" + idea.key[:2],
			ForumID: idea.forum.ID, Language: "cs", Scope: "both", Improve: "Něco, \"v uvozovkách\"\na nový řádek",
			Title: idea.title, Description: "Popis: " + idea.title, Category: idea.category, WantsToHelp: "yes",
			PhotoFileID: "AgACAgIAAxkBAAIBTelegramPhoto" + idea.key,
		}
		if idea.lat != 0 {
			sub.Latitude, sub.Longitude = &idea.lat, &idea.lon
		}
		if idea.key == "trees" {
			sub.Channel = flows.ChannelWeb // sent from a browser; the others through Telegram
		}
		ref, err := db.Submit(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		c.refs[idea.key] = ref
		if _, err := conn.Exec(ctx, `UPDATE suggestions SET created_at = $1 WHERE reference = $2`, idea.created, ref); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO contacts (participant_id, chat_id) VALUES ($1, $2)`,
			sub.ParticipantID, cliChatID); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Hide(ctx, c.refs["rude"], "abusive", "staff"); err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs napad with args and returns its output, failing the test on error.
func (c *exportCLI) run(args ...string) string {
	c.t.Helper()
	out, err := c.try(args...)
	if err != nil {
		c.t.Fatalf("napad %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *exportCLI) try(args ...string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return c.env[k] }, &out, &out)
	return out.String(), err
}

// stored is an idea as the database holds it, for comparing with exports.
type stored struct {
	postgres.StoredIdea
	forum  flows.Forum
	status string
	answer string
}

func (c *exportCLI) stored(ref string) stored {
	c.t.Helper()
	ctx := c.t.Context()
	sug, found, err := c.db.IdeaByReference(ctx, ref)
	if err != nil || !found {
		c.t.Fatalf("%s: %v %v", ref, found, err)
	}
	f, _, err := c.db.ForumByID(ctx, sug.ForumID)
	if err != nil {
		c.t.Fatal(err)
	}
	s := stored{StoredIdea: sug, forum: f}
	if err := c.conn.QueryRow(ctx, `SELECT status, staff_answer FROM suggestions WHERE reference = $1`, ref).
		Scan(&s.status, &s.answer); err != nil {
		c.t.Fatal(err)
	}
	return s
}

// keys names references by their seed key, sorted, for comparisons.
func (c *exportCLI) keys(refs []string) string {
	var keys []string
	for _, ref := range refs {
		found := false
		for k, r := range c.refs {
			if r == ref {
				keys, found = append(keys, k), true
			}
		}
		if !found {
			keys = append(keys, "?"+ref)
		}
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

var prague = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		panic(err)
	}
	return loc
}()

// readCSVExport returns the data rows of a CSV export keyed by header.
func readCSVExport(t *testing.T, path string) []map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, ok := bytes.CutPrefix(data, []byte("\uFEFF"))
	if !ok {
		t.Fatal("CSV export without a byte order mark")
	}
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("CSV export does not parse: %v", err)
	}
	return byHeader(t, records)
}

func readXLSXExport(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("XLSX export does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(export.IdeasSheetName("en"), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows { // GetRows leaves out trailing empty cells
		for len(rows[i]) < len(rows[0]) {
			rows[i] = append(rows[i], "")
		}
	}
	return byHeader(t, rows)
}

// byHeader are the rows of an export in English (STAFF_LANGUAGE=en), each
// keyed by its header.
func byHeader(t *testing.T, records [][]string) []map[string]string {
	t.Helper()
	want, err := export.Headers(export.WithLanguage("en"))
	if err != nil {
		t.Fatal(err)
	}
	// With --include-hidden there is a "Hidden" column too.
	withHidden, err := export.Headers(export.WithLanguage("en"), export.WithHidden(true))
	if err != nil {
		t.Fatal(err)
	}
	if len(records) == 0 || (!slices.Equal(records[0], want) && !slices.Equal(records[0], withHidden)) {
		t.Fatalf("header %v", records)
	}
	var out []map[string]string
	for _, rec := range records[1:] {
		m := map[string]string{}
		for i, h := range records[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

// enWord is a code's word in English exports: key is the locale key's
// table under "sheet", e.g. "status" or "cat".
func enWord(t *testing.T, key, code string) string {
	t.Helper()
	cat, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	k := "sheet." + key + "." + code
	if key == "status" {
		k = "staffstatus." + code // the same words as in the chat
	}
	w, err := cat.Text("en", k, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

type geoJSON struct {
	Type     string `json:"type"`
	Features []struct {
		Geometry struct {
			Type        string     `json:"type"`
			Coordinates [2]float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]string `json:"properties"`
	} `json:"features"`
}

func readGeoJSONExport(t *testing.T, path string) geoJSON {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g geoJSON
	if err := json.Unmarshal(data, &g); err != nil || g.Type != "FeatureCollection" {
		t.Fatalf("GeoJSON export does not parse: %v\n%s", err, data)
	}
	return g
}

// Each format, read back, holds what the database holds, in order.
func TestExportCommandFormats(t *testing.T) {
	t.Parallel()
	c := newExportCLI(t)
	if _, _, err := c.db.SetStatus(t.Context(), c.refs["bus"], "selected", "Díky!", "staff"); err != nil {
		t.Fatal(err)
	}
	order := []string{c.refs["bench"], c.refs["bus"], c.refs["trees"]}

	for _, format := range []string{"csv", "xlsx"} {
		path := filepath.Join(c.dir, "ideas."+format)
		// With the time, which TestExportCommandTime shows is not there by default.
		out := c.run("export", "--format", format, "--time", "-o", path)
		if want := "Wrote 3 ideas to " + path + " (" + format + ", hidden ideas left out).\n"; out != want {
			t.Errorf("%s summary %q, want %q", format, out, want)
		}
		var rows []map[string]string
		if format == "csv" {
			rows = readCSVExport(t, path)
		} else {
			rows = readXLSXExport(t, path)
		}
		if len(rows) != len(order) {
			t.Fatalf("%s: %d rows, want %d", format, len(rows), len(order))
		}
		for i, row := range rows {
			s := c.stored(order[i])
			title := s.Title
			if format == "csv" && strings.HasPrefix(title, "=") {
				title = "'" + title // neutralized against formula injection
			}
			want := map[string]string{
				"Reference": s.Reference, "Forum": s.forum.Name, "School": s.forum.School, "Town": s.forum.Town,
				"Language": enWord(t, "lang", s.Language), "About": enWord(t, "scope", s.Scope),
				"Category": enWord(t, "cat", s.Category), "What works": s.WorksWell,
				"What to improve": s.Improve, "Title": title, "Description": s.Description,
				"Place": s.PlaceText, "Photo": "Yes", "Wants to help": "Yes", "Status": enWord(t, "status", s.status),
				"Answer to the student": s.answer, "Student (pseudonym)": s.ParticipantID[:12],
				"Channel": enWord(t, "channel", s.Channel), "Check code": export.CheckCode(s.Reference),
			}
			for h, v := range want {
				if row[h] != v {
					t.Errorf("%s %s %s = %q, want %q", format, s.Reference, h, row[h], v)
				}
			}
			for h, p := range map[string]*float64{"Latitude": s.Latitude, "Longitude": s.Longitude} {
				if p == nil {
					if row[h] != "" {
						t.Errorf("%s %s %s = %q, want empty", format, s.Reference, h, row[h])
					}
				} else if got, err := strconv.ParseFloat(row[h], 64); err != nil || got != *p {
					t.Errorf("%s %s %s = %q, want %v", format, s.Reference, h, row[h], *p)
				}
			}
			var date time.Time
			if format == "csv" {
				date, _ = time.Parse(time.RFC3339, row["Date"])
			} else if serial, err := strconv.ParseFloat(row["Date"], 64); err == nil {
				wall, _ := excelize.ExcelDateToTime(serial, false)
				date = time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(),
					wall.Second()+int(wall.Nanosecond()/5e8), 0, prague) // round to the second
			}
			if !date.Equal(s.CreatedAt.Truncate(time.Second)) {
				t.Errorf("%s %s Date %q = %v, want %v", format, s.Reference, row["Date"], date, s.CreatedAt)
			}
		}
	}
	if rows := readCSVExport(t, filepath.Join(c.dir, "ideas.csv")); rows[0]["Date"] != "2026-02-01T00:30:00+01:00" {
		t.Errorf("CSV date in TIMEZONE: %q", rows[0]["Date"])
	}

	// GeoJSON: only ideas with a place, [lon, lat]. The format comes from the extension.
	path := filepath.Join(c.dir, "map.geojson")
	out := c.run("export", "-o", path)
	if want := "Wrote 2 ideas to " + path + " (geojson; 1 without a place left out, hidden ideas left out).\n"; out != want {
		t.Errorf("geojson summary %q, want %q", out, want)
	}
	g := readGeoJSONExport(t, path)
	if len(g.Features) != 2 {
		t.Fatalf("%d features, want 2", len(g.Features))
	}
	for i, ref := range []string{c.refs["bench"], c.refs["trees"]} {
		s, f := c.stored(ref), g.Features[i]
		if f.Geometry.Type != "Point" || f.Geometry.Coordinates != [2]float64{*s.Longitude, *s.Latitude} {
			t.Errorf("%s geometry %+v, want [%v %v]", ref, f.Geometry, *s.Longitude, *s.Latitude)
		}
		if f.Properties["reference"] != ref || f.Properties["title"] != s.Title || f.Properties["status"] != s.status ||
			f.Properties["category"] != s.Category || f.Properties["forum"] != s.forum.Name || f.Properties["channel"] != s.Channel {
			t.Errorf("%s properties %v", ref, f.Properties)
		}
	}

	// Exports hold minors' words: only the owner may read them.
	for _, name := range []string{"ideas.csv", "ideas.xlsx", "map.geojson"} {
		if fi, err := os.Stat(filepath.Join(c.dir, name)); err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s mode %v (%v), want owner-only", name, fi.Mode(), err)
		}
	}
}

// Exports give the day an idea came, in TIMEZONE, unless --time asks for
// the time too; so does /export in the chat.
func TestExportCommandTime(t *testing.T) {
	t.Parallel()
	c := newExportCLI(t)
	// bench came 2026-01-31 23:30 UTC, 1 February 00:30 in Prague.
	csvPath, xlsxPath, geoPath := filepath.Join(c.dir, "day.csv"), filepath.Join(c.dir, "day.xlsx"), filepath.Join(c.dir, "day.geojson")
	c.run("export", "-o", csvPath)
	c.run("export", "-o", xlsxPath)
	c.run("export", "-o", geoPath)
	if got := readCSVExport(t, csvPath)[0]["Date"]; got != "2026-02-01" {
		t.Errorf("CSV date %q, want the day 2026-02-01", got)
	}
	if got := readGeoJSONExport(t, geoPath).Features[0].Properties["date"]; got != "2026-02-01" {
		t.Errorf("GeoJSON date %q, want the day 2026-02-01", got)
	}
	serial, err := strconv.ParseFloat(readXLSXExport(t, xlsxPath)[0]["Date"], 64)
	if err != nil {
		t.Fatalf("XLSX date is not a date: %v", err)
	}
	if wall, _ := excelize.ExcelDateToTime(serial, false); !wall.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("XLSX date %v (%v), want the day 2026-02-01 with no time", wall, serial)
	}
	var buf bytes.Buffer
	if _, err := (database{Store: c.db, loc: prague}).Export(t.Context(), "csv", 0, "", &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "00:30") || !strings.Contains(buf.String(), ",2026-02-01,") {
		t.Errorf("/export in the chat gives the time or not the day:\n%s", buf.String())
	}

	timed := filepath.Join(c.dir, "time.csv")
	c.run("export", "--time", "-o", timed)
	if got := readCSVExport(t, timed)[0]["Date"]; got != "2026-02-01T00:30:00+01:00" {
		t.Errorf("CSV date with --time %q", got)
	}
}

func (c *exportCLI) exportedRefs(args ...string) string {
	c.t.Helper()
	path := filepath.Join(c.dir, "filtered.csv")
	c.run(append([]string{"export", "-o", path}, args...)...)
	var refs []string
	for _, row := range readCSVExport(c.t, path) {
		refs = append(refs, row["Reference"])
	}
	return c.keys(refs)
}

func TestExportCommandFilters(t *testing.T) {
	t.Parallel()
	c := newExportCLI(t)
	if _, _, err := c.db.SetStatus(t.Context(), c.refs["trees"], "done", "", "staff"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "bench,bus,trees"},
		{[]string{"--include-hidden"}, "bench,bus,rude,trees"},
		{[]string{"--forum", c.kolin.Code}, "bench,bus"},
		{[]string{"--town", "Bergen", "--include-hidden"}, "rude,trees"},
		{[]string{"--town", "Bergen"}, "trees"},
		// Days are in TIMEZONE, and --to includes its whole day.
		{[]string{"--from", "2026-02-01", "--to", "2026-03-05"}, "bench,bus"},
		{[]string{"--to", "2026-01-31"}, ""},
		{[]string{"--from", "2026-03-06"}, "trees"},
		{[]string{"--status", "done"}, "trees"},
		{[]string{"--status", "new", "--category", "transport"}, "bus"},
		{[]string{"--category", "misc", "--include-hidden"}, "rude"},
	} {
		if got := c.exportedRefs(tc.args...); got != tc.want {
			t.Errorf("export %v: %q, want %q", tc.args, got, tc.want)
		}
	}
}

// Nothing that leads to a student's Telegram account is exported.
func TestExportCommandNoTelegramIDs(t *testing.T) {
	t.Parallel()
	c := newExportCLI(t)
	for _, format := range flows.ExportFormats {
		path := filepath.Join(c.dir, "all."+format)
		c.run("export", "--format", format, "--include-hidden", "-o", path)
		var text string
		if format == "xlsx" {
			for _, row := range readXLSXExport(t, path) {
				for _, v := range row {
					text += v + "\n"
				}
			}
		} else {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			text = string(data)
		}
		if !strings.Contains(text, c.refs["bench"]) {
			t.Fatalf("%s export lacks %s", format, c.refs["bench"])
		}
		for _, secret := range []string{strconv.Itoa(cliChatID), "AgACAgIAAxkBAAIBTelegramPhoto", "fedcba9876543210fedcba"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s export contains %q", format, secret)
			}
		}
	}
}

func TestExportCommandErrors(t *testing.T) {
	t.Parallel()
	c := newExportCLI(t)
	path := filepath.Join(c.dir, "never.csv")
	for _, args := range [][]string{
		{"export", "--format", "csv"},
		{"export", "--format", "pdf", "-o", path},
		{"export", "-o", filepath.Join(c.dir, "never.txt")},
		{"export", "-o", path, "--from", "1.2.2026"},
		{"export", "-o", path, "--to", "2026-02-30"},
		{"export", "-o", path, "--from", "2026-03-01", "--to", "2026-02-01"},
		{"export", "-o", path, "--status", "finished"},
		{"export", "-o", path, "--category", "school_yard"},
		{"export", "-o", path, "stray"},
	} {
		if _, err := c.try(args...); !errors.Is(err, errUsage) {
			t.Errorf("napad %v: %v, want a usage error", args, err)
		}
	}
	_, err := c.try("export", "-o", path, "--forum", "NoSuchForumCode1")
	if err == nil || !strings.Contains(err.Error(), "NoSuchForumCode1") {
		t.Errorf("unknown forum: %v", err)
	}
	if _, err := c.try("export", "-o", filepath.Join(c.dir, "missing", "dir.csv")); err == nil {
		t.Error("export into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(c.dir)
	if len(entries) != 0 {
		t.Errorf("failed exports left files: %v", entries)
	}
	delete(c.env, "DATABASE_URL")
	if _, err := c.try("export", "-o", path); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("without DATABASE_URL: %v", err)
	}
}

func TestStatusCommand(t *testing.T) {
	t.Parallel()
	c := newExportCLI(t)
	ctx := t.Context()
	bench, bus, trees := c.refs["bench"], c.refs["bus"], c.refs["trees"]

	// Bulk: repeated and comma-separated, any case.
	out := c.run("status", "set", "--ref", strings.ToLower(bench)+","+bus, "--ref", trees,
		"--status", "under_review", "--answer", "Díváme se na to.")
	if want := "Set 3 ideas to under_review: " + bench + ", " + bus + ", " + trees + "\n"; out != want {
		t.Errorf("summary %q, want %q", out, want)
	}
	for _, ref := range []string{bench, bus, trees} {
		if s := c.stored(ref); s.status != "under_review" || s.answer != "Díváme se na to." {
			t.Errorf("%s: %s %q", ref, s.status, s.answer)
		}
	}
	entries, err := pgtest.AuditLog(ctx, c.db, 10)
	if err != nil {
		t.Fatal(err)
	}
	var cli int
	for _, e := range entries {
		if e.Actor == "cli" && e.Action == postgres.ActionSetStatus {
			cli++
		}
	}
	if cli != 3 {
		t.Errorf("%d audit entries by cli, want 3: %+v", cli, entries)
	}

	// Without --answer the answer stays; a status already set is counted.
	out = c.run("status", "set", bench, "--status", "under_review")
	if want := "Set 1 idea to under_review (1 already had it): " + bench + "\n"; out != want {
		t.Errorf("summary %q, want %q", out, want)
	}
	out = c.run("status", "set", "--ref", bench, "--status", "done")
	if s := c.stored(bench); s.status != "done" || s.answer != "Díváme se na to." || !strings.HasPrefix(out, "Set 1 idea to done: ") {
		t.Errorf("after set done: %s %q; %q", s.status, s.answer, out)
	}
	if got := c.exportedRefs("--status", "done"); got != "bench" {
		t.Errorf("export by the new status: %q", got)
	}

	// Not feasible needs an answer: trees has one, the hidden rude idea none.
	out = c.run("status", "set", "--ref", trees, "--status", "not_feasible")
	if s := c.stored(trees); s.status != "not_feasible" || s.answer != "Díváme se na to." {
		t.Errorf("not feasible keeping the answer: %s %q; %q", s.status, s.answer, out)
	}
	_, err = c.try("status", "set", "--ref", c.refs["rude"], "--status", "not_feasible")
	if err == nil || !strings.Contains(err.Error(), "--answer") || c.stored(c.refs["rude"]).status != "new" {
		t.Errorf("not feasible without an answer: %v", err)
	}
	c.run("status", "set", "--ref", trees, "--status", "under_review")

	// One unknown reference: nothing changes.
	_, err = c.try("status", "set", "--ref", bus+",N-ZZZZ", "--status", "selected")
	if err == nil || !strings.Contains(err.Error(), "N-ZZZZ") || !strings.Contains(err.Error(), "nothing changed") {
		t.Errorf("unknown reference: %v", err)
	}
	if s := c.stored(bus); s.status != "under_review" {
		t.Errorf("%s changed to %s despite the unknown reference", bus, s.status)
	}

	// Hide and unhide.
	if out := c.run("status", "hide", "--ref", bus, "--reason", "personal_data"); out != "Hid 1 idea (personal_data): "+bus+"\n" {
		t.Errorf("hide summary %q", out)
	}
	if got := c.exportedRefs(); got != "bench,trees" {
		t.Errorf("export after hide: %q", got)
	}
	if out := c.run("status", "unhide", "--ref", bus); out != "Unhid 1 idea: "+bus+"\n" {
		t.Errorf("unhide summary %q", out)
	}
	if got := c.exportedRefs(); got != "bench,bus,trees" {
		t.Errorf("export after unhide: %q", got)
	}

	// Every idea of one student, by pseudonym, in one action: a pseudonym
	// that fits several students hides nothing.
	if _, err := c.try("status", "hide", "--participant", "fedcba9876543210", "--reason", "abusive"); err == nil || !strings.Contains(err.Error(), "give more") {
		t.Errorf("an ambiguous pseudonym: %v", err)
	}
	if got := c.exportedRefs(); got != "bench,bus,trees" {
		t.Errorf("export after an ambiguous hide: %q", got)
	}
	if out := c.run("status", "hide", "--participant", "fedcba9876543210fedcba98765432bu", "--reason", "abusive"); !strings.HasPrefix(out, "Hid 1 idea of ") || !strings.Contains(out, bus) {
		t.Errorf("hide by pseudonym: %q", out)
	}
	if got := c.exportedRefs(); got != "bench,trees" {
		t.Errorf("export after hiding a student's ideas: %q", got)
	}

	for _, args := range [][]string{
		{"status"},
		{"status", "close", "--ref", bus},
		{"status", "set", "--status", "done"},
		{"status", "set", "--ref", bus},
		{"status", "set", "--ref", bus, "--status", "finished"},
		{"status", "hide", "--ref", bus},
		{"status", "hide", "--ref", bus, "--reason", "boring"},
		{"status", "hide", "--ref", bus, "--participant", "fedcba9876543210fedcba98765432be", "--reason", "abusive"},
		{"status", "set", "--participant", "fedcba9876543210fedcba98765432be", "--status", "done"},
	} {
		if _, err := c.try(args...); !errors.Is(err, errUsage) {
			t.Errorf("napad %v: %v, want a usage error", args, err)
		}
	}
}

// Exports are in --lang, else STAFF_LANGUAGE, else Czech; /export in the
// chat is in the staff member's language.
func TestExportCommandLanguage(t *testing.T) {
	t.Parallel()
	c := newExportCLI(t)
	header := func(path string) string {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		line, _, _ := strings.Cut(strings.TrimPrefix(string(data), "\uFEFF"), "\r\n")
		return line
	}
	path := filepath.Join(c.dir, "lang.csv")
	c.run("export", "--lang", "nb", "-o", path)
	if got := header(path); !strings.HasPrefix(got, "Referanse,Forum,Skole,Kommune,Dato,Språk,") {
		t.Errorf("--lang nb: %q", got)
	}
	c.run("export", "-o", path) // STAFF_LANGUAGE=en
	if got := header(path); !strings.HasPrefix(got, "Reference,Forum,School,Town,") {
		t.Errorf("STAFF_LANGUAGE=en: %q", got)
	}
	delete(c.env, "STAFF_LANGUAGE")
	c.run("export", "-o", path)
	if got := header(path); !strings.HasPrefix(got, "Kód,Fórum,Škola,Město,Datum,Jazyk,") {
		t.Errorf("default: %q", got)
	}
	if _, err := c.try("export", "--lang", "de", "-o", path); !errors.Is(err, errUsage) {
		t.Errorf("--lang de: %v, want a usage error", err)
	}
	c.env["STAFF_LANGUAGE"] = "de"
	if _, err := c.try("export", "-o", path); err == nil || !strings.Contains(err.Error(), "STAFF_LANGUAGE") {
		t.Errorf("STAFF_LANGUAGE=de: %v", err)
	}

	var buf bytes.Buffer
	if _, err := (database{Store: c.db, loc: prague, lang: "cs"}).Export(t.Context(), "csv", 0, "uk", &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "\uFEFFКод,Форум,Школа,Місто,") {
		t.Errorf("/export by a staff member speaking Ukrainian:\n%s", buf.String())
	}
}
