package postgres_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// shortCode is what a stored short code looks like: 8 characters of
// Crockford's base32, no dash.
var shortCode = regexp.MustCompile(`^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$`)

// Every forum gets its own short code, found however a student types it.
func TestShortCodes(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	seen := map[string]bool{}
	var forums []flows.Forum
	for i := range 20 {
		f, err := pgtest.CreateForum(ctx, st, "Forum "+string(rune('A'+i)), "", "Kolín")
		if err != nil {
			t.Fatal(err)
		}
		if !shortCode.MatchString(f.ShortCode) || seen[f.ShortCode] {
			t.Fatalf("forum %d has short code %q (seen: %v)", i, f.ShortCode, seen[f.ShortCode])
		}
		seen[f.ShortCode] = true
		forums = append(forums, f)
	}
	f := forums[3]
	shown := flows.FormatJoinCode(f.ShortCode)
	sloppy := strings.NewReplacer("0", "o", "1", "l").Replace(strings.ToLower(f.ShortCode[:4])) + " " + f.ShortCode[4:] + "-"
	for _, typed := range []string{f.ShortCode, shown, strings.ToLower(shown), sloppy} {
		got, found, err := st.ForumByShortCode(ctx, typed)
		if err != nil || !found || !sameForum(got, f) {
			t.Errorf("ForumByShortCode(%q) = %+v, %v, %v; want forum %d", typed, got, found, err, f.ID)
		}
	}
	if got, _, err := st.ForumByCode(ctx, f.Code); err != nil || got.ShortCode != f.ShortCode {
		t.Errorf("ForumByCode gives short code %q, %v; want %q", got.ShortCode, err, f.ShortCode)
	}
	unknown := "ZZZZZZZZ"
	for seen[unknown] {
		unknown = "YYYYYYYY"
	}
	for _, typed := range []string{unknown, "", "K7Q2", "'; DROP TABLE forums; --", f.Code} {
		if got, found, err := st.ForumByShortCode(ctx, typed); err != nil || found {
			t.Errorf("ForumByShortCode(%q) = %+v, %v, %v; want not found", typed, got, found, err)
		}
	}
}

// A short code that is taken already is drawn again; one that is always
// taken gives up instead of looping.
func TestShortCodeCollisionIsRetried(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	postgres.SetShortCodeGenerator(st, codeSequence("AAAA1111"))
	first, err := pgtest.CreateForum(ctx, st, "first", "", "")
	if err != nil || first.ShortCode != "AAAA1111" {
		t.Fatalf("CreateForum = %+v, %v; want short code AAAA1111", first, err)
	}
	postgres.SetShortCodeGenerator(st, codeSequence("AAAA1111", "AAAA1111", "BBBB2222"))
	second, err := pgtest.CreateForum(ctx, st, "second", "", "")
	if err != nil || second.ShortCode != "BBBB2222" {
		t.Fatalf("CreateForum = %+v, %v; want short code BBBB2222", second, err)
	}
	postgres.SetShortCodeGenerator(st, codeSequence("BBBB2222"))
	if third, err := pgtest.CreateForum(ctx, st, "third", "", ""); err == nil {
		t.Errorf("CreateForum with only taken short codes = %+v, want an error", third)
	}
	if all, err := st.AllForums(ctx); err != nil || len(all) != 2 {
		t.Errorf("AllForums = %d forums, %v; want 2", len(all), err)
	}
}

// Forums from before migration 14 get a short code each, unique; a row
// inserted without one gets one too; down removes the column and up again
// works.
func TestMigrationGivesForumsShortCodes(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewEmptyDatabase(t)
	ctx := t.Context()
	if err := postgres.MigrateUpTo(ctx, dbURL, 13); err != nil {
		t.Fatalf("migrate to 13: %v", err)
	}
	conn := connect(t, dbURL)
	if _, err := conn.Exec(ctx, `INSERT INTO forums (join_code, name) SELECT 'old' || i, 'Old ' || i FROM generate_series(1, 50) AS i`); err != nil {
		t.Fatal(err)
	}
	if err := postgres.MigrateUpTo(ctx, dbURL, 14); err != nil {
		t.Fatalf("migrate to 14: %v", err)
	}
	var codes, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(short_code), count(DISTINCT short_code) FROM forums`).Scan(&codes, &distinct); err != nil {
		t.Fatal(err)
	}
	if codes != 50 || distinct != 50 {
		t.Errorf("%d short codes, %d distinct; want 50 of 50", codes, distinct)
	}
	// Up to the newest: the store reads the columns of later migrations too.
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("migrate to the newest: %v", err)
	}
	st, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	old, found, err := st.ForumByCode(ctx, "old7")
	if err != nil || !found || !shortCode.MatchString(old.ShortCode) {
		t.Fatalf("ForumByCode(old7) = %+v, %v, %v", old, found, err)
	}
	if got, found, err := st.ForumByShortCode(ctx, strings.ToLower(flows.FormatJoinCode(old.ShortCode))); err != nil || !found || got.ID != old.ID {
		t.Errorf("the old forum by its short code: %+v, %v, %v", got, found, err)
	}
	// An insert that names no short code (an older replica's) gets one.
	var added string
	if err := conn.QueryRow(ctx, `INSERT INTO forums (join_code, name) VALUES ('added', 'Added') RETURNING short_code`).Scan(&added); err != nil || !shortCode.MatchString(added) {
		t.Errorf("a forum inserted without a short code got %q, %v", added, err)
	}
	for _, bad := range []string{"AAAA111", "AAAA111O", "aaaa1111", "AAAA-111"} {
		if _, err := conn.Exec(ctx, `INSERT INTO forums (join_code, name, short_code) VALUES ('bad', 'Bad', $1)`, bad); err == nil {
			t.Errorf("short code %q accepted", bad)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO forums (join_code, name, short_code) VALUES ('twin', 'Twin', $1)`, old.ShortCode); err == nil {
		t.Error("a second forum with the same short code accepted")
	}

	if err := postgres.MigrateDownTo(ctx, dbURL, 13); err != nil {
		t.Fatalf("down to 13: %v", err)
	}
	if columnExists(t, conn, "forums", "short_code") {
		t.Error("short_code still there after down")
	}
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(DISTINCT short_code) FROM forums`).Scan(&distinct); err != nil || distinct != 51 {
		t.Errorf("after up again: %d distinct short codes, %v; want 51", distinct, err)
	}
}
