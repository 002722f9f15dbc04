package postgres_test

import (
	"bytes"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"
)

// exportSeed is a small database of ideas for the export tests: two towns,
// ideas with and without a place and photo, one hidden, two received at
// the same instant, and a student's Telegram chat id in contacts.
type exportSeed struct {
	st     *postgres.Store
	conn   *pgx.Conn
	kolin  flows.Forum
	bergen flows.Forum
	refs   map[string]string // idea key -> reference
}

const seedChatID = 987654321

func seedExport(t *testing.T) *exportSeed {
	t.Helper()
	st, dbURL := newStore(t)
	ctx := t.Context()
	s := &exportSeed{st: st, conn: connect(t, dbURL), refs: map[string]string{}}
	var err error
	if s.kolin, err = pgtest.CreateForum(ctx, st, "8.B – ZŠ Komenského", "ZŠ Komenského", "Kolín"); err != nil {
		t.Fatal(err)
	}
	if s.bergen, err = pgtest.CreateForum(ctx, st, "Ungdomsrådet", "", "Bergen"); err != nil {
		t.Fatal(err)
	}
	ideas := []struct {
		key     string
		forum   flows.Forum
		created time.Time
		edit    func(*flows.Idea)
	}{
		{"bench", s.kolin, time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC), func(sub *flows.Idea) {
			sub.Category, sub.Title, sub.PlaceText = "school", "Lavičky na dvoře", "Školní dvůr"
			sub.Latitude, sub.Longitude = ptr(50.0280631), ptr(15.2001154)
			sub.PhotoFileID = "AgACAgIAAxkBAAIBZ2ZmTelegramFileId"
		}},
		{"bus", s.kolin, time.Date(2026, 3, 5, 7, 0, 0, 0, time.UTC), func(sub *flows.Idea) {
			sub.Category, sub.Language, sub.Scope = "transport", "uk", "town"
			sub.Title, sub.Improve = "Більше автобусів увечері", "Автобуси їздять рідко"
		}},
		{"trees", s.bergen, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), func(sub *flows.Idea) {
			sub.Category, sub.Language, sub.Title = "environment", "nb", "=1+1"
			sub.Latitude, sub.Longitude = ptr(60.39299), ptr(-5.32415)
			sub.Channel = flows.ChannelWeb // sent from a browser
		}},
		{"rude", s.bergen, time.Date(2025, 12, 31, 23, 30, 0, 0, time.UTC), func(sub *flows.Idea) {
			sub.Category, sub.Title = "school", "Something rude"
		}},
		{"skate", s.kolin, time.Date(2026, 3, 5, 7, 0, 0, 0, time.UTC), func(sub *flows.Idea) {
			sub.Category, sub.Title = "leisure", "Skatepark"
		}},
	}
	for _, idea := range ideas {
		sub := submission(idea.forum.ID, "draft-"+idea.key)
		sub.ParticipantID = "0123456789abcdef0123456789ab" + idea.key[:2]
		idea.edit(&sub)
		ref, err := st.Submit(ctx, sub)
		if err != nil {
			t.Fatalf("submit %s: %v", idea.key, err)
		}
		s.refs[idea.key] = ref
		if _, err := s.conn.Exec(ctx, `UPDATE suggestions SET created_at = $1 WHERE reference = $2`,
			idea.created, ref); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.SetStatus(ctx, s.refs["bus"], "selected", "Díky, řešíme s dopravcem.", "staff-1"); err != nil {
		t.Fatal(err)
	}
	if err := st.Hide(ctx, s.refs["rude"], "abusive", "staff-1"); err != nil {
		t.Fatal(err)
	}
	// A way to reach the first student: it must never reach an export.
	if _, err := s.conn.Exec(ctx, `INSERT INTO contacts (participant_id, chat_id) VALUES ($1, $2)`,
		"0123456789abcdef0123456789abbe", seedChatID); err != nil {
		t.Fatal(err)
	}
	return s
}

// export collects the rows ExportIdeas yields for f.
func (s *exportSeed) export(t *testing.T, f postgres.ExportFilter) []export.Row {
	t.Helper()
	var rows []export.Row
	if err := s.st.ExportIdeas(t.Context(), f, func(r export.Row) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatalf("ExportIdeas(%+v): %v", f, err)
	}
	return rows
}

// keys names the exported rows by their seed key, in export order.
func (s *exportSeed) keys(rows []export.Row) string {
	var keys []string
	for _, r := range rows {
		for k, ref := range s.refs {
			if ref == r.Reference {
				keys = append(keys, k)
			}
		}
	}
	return strings.Join(keys, ",")
}

// Every exported field is what the database holds.
func TestExportIdeasMatchesDatabase(t *testing.T) {
	t.Parallel()
	s := seedExport(t)
	ctx := t.Context()
	rows := s.export(t, postgres.ExportFilter{})
	// Oldest first; "bus" and "skate" share an instant and go by id.
	if got := s.keys(rows); got != "bench,bus,skate,trees" {
		t.Fatalf("exported %s, want bench,bus,skate,trees (hidden rude left out)", got)
	}
	for _, r := range rows {
		sug, found, err := s.st.IdeaByReference(ctx, r.Reference)
		if err != nil || !found {
			t.Fatalf("%s: %v %v", r.Reference, found, err)
		}
		forum, _, err := s.st.ForumByID(ctx, sug.ForumID)
		if err != nil {
			t.Fatal(err)
		}
		var status, answer string
		if err := s.conn.QueryRow(ctx, `SELECT status, staff_answer FROM suggestions WHERE reference = $1`,
			r.Reference).Scan(&status, &answer); err != nil {
			t.Fatal(err)
		}
		want := export.Row{
			Reference: sug.Reference, Forum: forum.Name, School: forum.School, Town: forum.Town,
			Date: sug.CreatedAt, Language: sug.Language, Scope: sug.Scope, Category: sug.Category,
			WorksWell: sug.WorksWell, Improve: sug.Improve, Title: sug.Title, Description: sug.Description,
			PlaceText: sug.PlaceText, Latitude: sug.Latitude, Longitude: sug.Longitude,
			HasPhoto: sug.PhotoFileID != "", WantsToHelp: sug.WantsToHelp, Status: status,
			StaffAnswer: answer, Participant: sug.ParticipantID[:postgres.PseudonymLen], Channel: sug.Channel,
		}
		if !sameRow(r, want) {
			t.Errorf("exported\n%+v\nwant\n%+v", r, want)
		}
	}
	bench := rows[0]
	if !bench.HasPhoto || bench.Latitude == nil || *bench.Longitude != 15.2001154 {
		t.Errorf("bench: photo %v, place %v/%v", bench.HasPhoto, bench.Latitude, bench.Longitude)
	}
	if bus := rows[1]; bus.Status != "selected" || bus.StaffAnswer != "Díky, řešíme s dopravcem." || bus.Latitude != nil {
		t.Errorf("bus: %+v", bus)
	}
	// Sent from a browser, or with no channel named: Telegram's.
	for i, want := range []string{flows.ChannelTelegram, flows.ChannelTelegram, flows.ChannelTelegram, flows.ChannelWeb} {
		if rows[i].Channel != want {
			t.Errorf("%s: channel %q, want %q", rows[i].Reference, rows[i].Channel, want)
		}
	}
	if len(rows[0].Participant) != 12 || rows[0].Participant != "0123456789ab" {
		t.Errorf("participant pseudonym %q", rows[0].Participant)
	}
}

func sameRow(a, b export.Row) bool {
	if !a.Date.Equal(b.Date) || !sameFloat(a.Latitude, b.Latitude) || !sameFloat(a.Longitude, b.Longitude) {
		return false
	}
	a.Date, b.Date = time.Time{}, time.Time{}
	a.Latitude, a.Longitude, b.Latitude, b.Longitude = nil, nil, nil, nil
	return reflect.DeepEqual(a, b)
}

func sameFloat(a, b *float64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func TestExportIdeasHidden(t *testing.T) {
	t.Parallel()
	s := seedExport(t)
	if got := s.keys(s.export(t, postgres.ExportFilter{})); strings.Contains(got, "rude") {
		t.Errorf("hidden idea exported: %s", got)
	}
	all := s.export(t, postgres.ExportFilter{IncludeHidden: true})
	if got := s.keys(all); got != "rude,bench,bus,skate,trees" {
		t.Errorf("with hidden: %s", got)
	}
	// Each says why it is hidden, or that it is not.
	for _, r := range all {
		if want := map[bool]string{true: flows.HideAbusive}[r.Reference == s.refs["rude"]]; r.Hidden != want {
			t.Errorf("%s hidden %q, want %q", r.Reference, r.Hidden, want)
		}
	}
	// Shown again once unhidden.
	if err := s.st.Unhide(t.Context(), s.refs["rude"], "staff-1"); err != nil {
		t.Fatal(err)
	}
	if got := s.keys(s.export(t, postgres.ExportFilter{})); got != "rude,bench,bus,skate,trees" {
		t.Errorf("after unhide: %s", got)
	}
}

func TestExportIdeasFilters(t *testing.T) {
	t.Parallel()
	s := seedExport(t)
	prague, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		t.Fatal(err)
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, prague) }
	for _, c := range []struct {
		name string
		f    postgres.ExportFilter
		want string
	}{
		{"forum", postgres.ExportFilter{ForumCode: s.kolin.Code}, "bench,bus,skate"},
		{"town", postgres.ExportFilter{Town: "Bergen"}, "trees"},
		{"town with hidden", postgres.ExportFilter{Town: "Bergen", IncludeHidden: true}, "rude,trees"},
		{"town is exact", postgres.ExportFilter{Town: "bergen"}, ""},
		{"from", postgres.ExportFilter{From: day(2026, 3, 5)}, "bus,skate,trees"},
		{"to is exclusive", postgres.ExportFilter{To: day(2026, 3, 5)}, "bench"},
		{"period", postgres.ExportFilter{From: day(2026, 3, 1), To: day(2026, 4, 1)}, "bus,skate"},
		// 2025-12-31 23:30 UTC is already 2026 in Prague.
		{"new year in Prague", postgres.ExportFilter{From: day(2026, 1, 1), To: day(2026, 1, 2), IncludeHidden: true}, "rude"},
		{"status", postgres.ExportFilter{Status: "selected"}, "bus"},
		{"status new", postgres.ExportFilter{Status: "new"}, "bench,skate,trees"},
		{"category", postgres.ExportFilter{Category: "school"}, "bench"},
		{"category with hidden", postgres.ExportFilter{Category: "school", IncludeHidden: true}, "rude,bench"},
		{"combined", postgres.ExportFilter{ForumCode: s.kolin.Code, Status: "new", Category: "leisure"}, "skate"},
		{"nothing matches", postgres.ExportFilter{Town: "Kolín", Category: "culture"}, ""},
	} {
		if got := s.keys(s.export(t, c.f)); got != c.want {
			t.Errorf("%s: exported %q, want %q", c.name, got, c.want)
		}
	}
}

func TestExportIdeasRejectsBadFilters(t *testing.T) {
	t.Parallel()
	s := seedExport(t)
	ctx := t.Context()
	none := func(export.Row) error { t.Error("a row was exported"); return nil }
	for _, code := range []string{"NoSuchForum123", "not a code!"} {
		err := s.st.ExportIdeas(ctx, postgres.ExportFilter{ForumCode: code}, none)
		if !errors.Is(err, postgres.ErrForumNotFound) {
			t.Errorf("forum %q: %v, want ErrForumNotFound", code, err)
		}
	}
	now := time.Now()
	for name, f := range map[string]postgres.ExportFilter{
		"status":   {Status: "finished"},
		"category": {Category: "school_yard"},
		"period":   {From: now, To: now},
		"reversed": {From: now, To: now.Add(-time.Hour)},
	} {
		if err := s.st.ExportIdeas(ctx, f, none); err == nil {
			t.Errorf("%s filter %+v accepted", name, f)
		}
	}
}

// An error from the callback stops the export and comes back wrapped.
func TestExportIdeasCallbackError(t *testing.T) {
	t.Parallel()
	s := seedExport(t)
	stop := errors.New("disk full")
	calls := 0
	err := s.st.ExportIdeas(t.Context(), postgres.ExportFilter{}, func(export.Row) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err %v after %d calls, want disk full after 1", err, calls)
	}
	// The connection went back to the pool in a usable state.
	if got := s.keys(s.export(t, postgres.ExportFilter{})); got != "bench,bus,skate,trees" {
		t.Errorf("export after a failed one: %s", got)
	}
}

// No format carries a Telegram id, a chat id, a photo file id or a full
// participant id.
func TestExportIdeasNoTelegramIDs(t *testing.T) {
	t.Parallel()
	s := seedExport(t)
	ctx := t.Context()
	secrets := []string{strconv.Itoa(seedChatID), "AgACAgIAAxkBAAIBZ2ZmTelegramFileId", "0123456789abcdef"}
	for _, format := range flows.ExportFormats {
		var buf bytes.Buffer
		w, err := export.New(format, &buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.st.ExportIdeas(ctx, postgres.ExportFilter{IncludeHidden: true}, w.Write); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		text := buf.String()
		if format == "xlsx" {
			text = xlsxText(t, buf.Bytes())
		}
		if !strings.Contains(text, s.refs["bench"]) {
			t.Fatalf("%s export does not contain %s; the check below would prove nothing", format, s.refs["bench"])
		}
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s export contains %q", format, secret)
			}
		}
	}
}

// xlsxText is every cell of the export's sheet, for searching.
func xlsxText(t *testing.T, data []byte) string {
	t.Helper()
	rows, err := readXLSX(data)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, row := range rows {
		b.WriteString(strings.Join(row, "\t"))
		b.WriteByte('\n')
	}
	return b.String()
}

func readXLSX(data []byte) ([][]string, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.GetRows(export.IdeasSheetName(export.DefaultLanguage), excelize.Options{RawCellValue: true})
}
