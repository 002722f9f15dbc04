package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

func columnExists(t *testing.T, conn *pgx.Conn, table, column string) bool {
	t.Helper()
	var exists bool
	err := conn.QueryRow(t.Context(), `
		SELECT EXISTS (SELECT 1 FROM information_schema.columns
			WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2)`,
		table, column).Scan(&exists)
	if err != nil {
		t.Fatalf("check column %s.%s: %v", table, column, err)
	}
	return exists
}

// 00002 rolls back alone, keeping the data of 00001, and applies again.
func TestMigrateTeachersDownAndUp(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	f, err := st.CreateForum(ctx, flows.ForumSpec{Name: "f", Scope: "town"}, "teacher", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Submit(ctx, submission(f.ID, "d1")); err != nil {
		t.Fatal(err)
	}
	if err := st.GrantRole(ctx, "teacher", "teacher", "Kolín", ""); err != nil {
		t.Fatal(err)
	}

	if err := postgres.MigrateDownTo(ctx, dbURL, 1); err != nil {
		t.Fatalf("down to 1: %v", err)
	}
	if v := gooseVersion(t, conn); v != 1 {
		t.Errorf("goose version = %d, want 1", v)
	}
	for _, tbl := range []string{"roles", "teacher_invites", "forum_participants"} {
		if tableExists(t, conn, tbl) {
			t.Errorf("table %s still exists after down to 1", tbl)
		}
	}
	for _, col := range []string{"scope", "languages", "closes_at", "owner_id"} {
		if columnExists(t, conn, "forums", col) {
			t.Errorf("forums.%s still exists after down to 1", col)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM suggestions`).Scan(&n); err != nil || n != 1 {
		t.Errorf("suggestions after down to 1: %d, %v", n, err)
	}

	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("up again: %v", err)
	}
	// Columns come back with defaults; joins come back from the backfill.
	got, found, err := st.ForumByID(ctx, f.ID)
	if err != nil || !found || got.Scope != "both" || got.OwnerID != "" || len(got.Languages) != 4 {
		t.Errorf("forum after down/up = %+v, %v, %v", got, found, err)
	}
	if s, err := st.ForumStats(ctx, f.ID); err != nil || s.Joined != 1 || s.Submitted != 1 {
		t.Errorf("ForumStats after down/up = %+v, %v", s, err)
	}
}

// Students who submitted before joins were recorded count as joined, from
// their first idea.
func TestMigrateTeachersBackfillsJoins(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewEmptyDatabase(t)
	ctx := t.Context()
	if err := postgres.MigrateUpTo(ctx, dbURL, 1); err != nil {
		t.Fatalf("migrate to 1: %v", err)
	}
	conn := connect(t, dbURL)
	if v := gooseVersion(t, conn); v != 1 {
		t.Fatalf("goose version = %d, want 1", v)
	}
	var forumA, forumB, empty int64
	err := conn.QueryRow(ctx, `
		WITH a AS (INSERT INTO forums (join_code, name) VALUES ('aaaa', 'A') RETURNING id),
		     b AS (INSERT INTO forums (join_code, name) VALUES ('bbbb', 'B') RETURNING id),
		     e AS (INSERT INTO forums (join_code, name) VALUES ('eeee', 'E') RETURNING id)
		SELECT a.id, b.id, e.id FROM a, b, e`).Scan(&forumA, &forumB, &empty)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO participants (id, language) VALUES ('p1', 'cs'), ('p2', 'uk')`); err != nil {
		t.Fatal(err)
	}
	first := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	type row struct {
		forum int64
		who   string
		at    time.Time
	}
	// p1: two ideas in A (the later one inserted first) and one in B; p2: one in A.
	for i, s := range []row{
		{forumA, "p1", first.Add(time.Hour)},
		{forumA, "p1", first},
		{forumB, "p1", first.Add(2 * time.Hour)},
		{forumA, "p2", first.Add(3 * time.Hour)},
	} {
		if _, err := conn.Exec(ctx, `
			INSERT INTO suggestions (reference, draft_id, forum_id, participant_id, language,
				scope, title, submitted_at, created_at)
			VALUES ($1, $1, $2, $3, 'cs', 'school', 't', $4, $4)`,
			fmt.Sprintf("N-%d", i), s.forum, s.who, s.at); err != nil {
			t.Fatal(err)
		}
	}

	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	rows, err := conn.Query(ctx, `
		SELECT forum_id, participant_id, joined_at FROM forum_participants
		ORDER BY forum_id, participant_id`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var j row
		err := r.Scan(&j.forum, &j.who, &j.at)
		return j, err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{forumA, "p1", first},
		{forumA, "p2", first.Add(3 * time.Hour)},
		{forumB, "p1", first.Add(2 * time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("forum_participants = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].forum != want[i].forum || got[i].who != want[i].who || !got[i].at.Equal(want[i].at) {
			t.Errorf("row %d = %v, want %v", i, got[i], want[i])
		}
	}

	st, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := st.ForumStats(ctx, forumA)
	if err != nil || s.Joined != 2 || s.Submitted != 2 || s.InProgress != 0 ||
		!s.LastIdea.Equal(first.Add(3*time.Hour)) {
		t.Errorf("ForumStats(A) = %+v, %v", s, err)
	}
	if s, err := st.ForumStats(ctx, empty); err != nil || s.Joined != 0 {
		t.Errorf("ForumStats(empty) = %+v, %v", s, err)
	}
	// Existing forums get the defaults.
	f, _, err := st.ForumByID(ctx, forumB)
	if err != nil || f.Scope != "both" || len(f.Languages) != 4 || f.OwnerID != "" || !f.ClosesAt.IsZero() {
		t.Errorf("forum B after migration = %+v, %v", f, err)
	}
}

// 00006 rolls back without failing on a forum that offers a language the
// old list lacks (one added to flows.Languages since): the old check is back
// for new forums only.
func TestLanguagesMigrationDownKeepsNewerLanguages(t *testing.T) {
	t.Parallel()
	_, dbURL := newStore(t)
	ctx := t.Context()
	conn := connect(t, dbURL)
	if _, err := conn.Exec(ctx, `INSERT INTO forums (join_code, name, languages) VALUES ('a', 'f', '{cs,pl}')`); err != nil {
		t.Fatal(err)
	}
	if err := postgres.MigrateDownTo(ctx, dbURL, 5); err != nil {
		t.Fatalf("down to 5: %v", err)
	}
	var langs []string
	if err := conn.QueryRow(ctx, `SELECT languages FROM forums WHERE join_code = 'a'`).Scan(&langs); err != nil || len(langs) != 2 {
		t.Errorf("forum languages after down: %v, %v", langs, err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO forums (join_code, name, languages) VALUES ('b', 'f', '{pl}')`); err == nil {
		t.Error("down to 5 took a new forum with a language the old list lacks")
	}
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO forums (join_code, name, languages) VALUES ('b', 'f', '{pl}')`); err != nil {
		t.Errorf("after up again: %v", err)
	}
}
