package postgres_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

var tables = []string{"forums", "participants", "suggestions", "roles", "teacher_invites", "forum_participants", "audit_log", "contacts", "notifications", "pins"}

// latestVersion is the number of the newest migration file.
const latestVersion = 18

func gooseVersion(t *testing.T, conn *pgx.Conn) int64 {
	t.Helper()
	var v int64
	err := conn.QueryRow(t.Context(),
		`SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	if err != nil {
		t.Fatalf("read goose version: %v", err)
	}
	return v
}

func TestMigrateTwiceIsIdempotent(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewEmptyDatabase(t)
	conn := connect(t, dbURL)
	if tableExists(t, conn, "forums") {
		t.Fatal("empty database already has forums")
	}
	for i := range 2 {
		if err := postgres.Migrate(t.Context(), dbURL); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	for _, tbl := range tables {
		if !tableExists(t, conn, tbl) {
			t.Errorf("table %s missing after migrate", tbl)
		}
	}
	if v := gooseVersion(t, conn); v != latestVersion {
		t.Errorf("goose version = %d, want %d", v, latestVersion)
	}
	// Each migration is recorded once, not once per call.
	var rows int
	if err := conn.QueryRow(t.Context(),
		`SELECT count(*) FROM goose_db_version WHERE version_id = 1`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("version 1 recorded %d times, want 1", rows)
	}
}

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewEmptyDatabase(t)
	conn := connect(t, dbURL)
	ctx := t.Context()

	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := postgres.MigrateDownAll(ctx, dbURL); err != nil {
		t.Fatalf("down: %v", err)
	}
	for _, tbl := range tables {
		if tableExists(t, conn, tbl) {
			t.Errorf("table %s still exists after down", tbl)
		}
	}
	if v := gooseVersion(t, conn); v != 0 {
		t.Errorf("goose version after down = %d, want 0", v)
	}
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	for _, tbl := range tables {
		if !tableExists(t, conn, tbl) {
			t.Errorf("table %s missing after up again", tbl)
		}
	}

	// The re-created schema works.
	st, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := newForum(t, st)
	if _, err := st.Submit(ctx, submission(f.ID, "d1")); err != nil {
		t.Fatalf("Submit after up/down/up: %v", err)
	}
	if s, err := st.ForumStats(ctx, f.ID); err != nil || s.Joined != 1 {
		t.Errorf("ForumStats after up/down/up = %+v, %v", s, err)
	}
	code, err := st.CreateInvite(ctx, "Kolín", "", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatalf("CreateInvite after up/down/up: %v", err)
	}
	if _, res, err := st.RedeemInvite(ctx, code, "t", time.Now()); err != nil || res != flows.InviteAccepted {
		t.Errorf("RedeemInvite after up/down/up = %v, %v", res, err)
	}
}

// Two processes starting at once must not both try to create the tables.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewEmptyDatabase(t)
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = postgres.Migrate(t.Context(), dbURL) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate #%d: %v", i, err)
		}
	}
	conn := connect(t, dbURL)
	if v := gooseVersion(t, conn); v != latestVersion {
		t.Errorf("goose version = %d, want %d", v, latestVersion)
	}
}

// pgtest databases come from a migrated template; Migrate on them is a no-op.
func TestMigrateOnTemplateCopy(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	conn := connect(t, dbURL)
	if v := gooseVersion(t, conn); v != latestVersion {
		t.Fatalf("template copy at version %d, want %d", v, latestVersion)
	}
	if err := postgres.Migrate(t.Context(), dbURL); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
}

func TestMigrateAndOpenBadURL(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for _, u := range []string{
		"not a url ::",
		"postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", // nothing listens on port 1
	} {
		if err := postgres.Migrate(ctx, u); err == nil {
			t.Errorf("Migrate(%q) succeeded", u)
		} else if !strings.HasPrefix(err.Error(), "postgres: migrate") {
			t.Errorf("Migrate error lacks context: %v", err)
		}
		if st, err := postgres.Open(ctx, u); err == nil {
			st.Close()
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

func TestOpenPingClose(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	if err := st.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	dbURL := pgtest.NewDatabase(t)
	st2, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	st2.Close()
	if err := st2.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

// The schema itself rejects bad rows, not just the Go validation in Submit.
func TestSchemaConstraints(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	f := newForum(t, st)
	conn := connect(t, dbURL)
	ctx := t.Context()
	if _, err := conn.Exec(ctx, `INSERT INTO participants (id, language) VALUES ('p', 'cs')`); err != nil {
		t.Fatal(err)
	}
	insert := func(ref, scope string, lat, lon any) error {
		_, err := conn.Exec(ctx, `
			INSERT INTO suggestions (reference, draft_id, forum_id, participant_id, language,
				scope, title, latitude, longitude, submitted_at)
			VALUES ($1, $1, $2, 'p', 'cs', $3, 't', $4, $5, now())`,
			ref, f.ID, scope, lat, lon)
		return err
	}
	cases := []struct {
		name     string
		scope    string
		lat, lon any
		ok       bool
	}{
		{"no location", "school", nil, nil, true},
		{"location", "town", 49.19, 16.6, true},
		{"edges", "both", -90.0, 180.0, true},
		{"latitude only", "school", 49.19, nil, false},
		{"longitude only", "school", nil, 16.6, false},
		{"latitude out of range", "school", 90.5, 16.6, false},
		{"longitude out of range", "school", 49.19, -180.5, false},
		{"NaN", "school", math.NaN(), 16.6, false},
		{"bad scope", "city", nil, nil, false},
	}
	for i, c := range cases {
		err := insert("R"+string(rune('A'+i)), c.scope, c.lat, c.lon)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
	}
	if _, err := conn.Exec(ctx,
		`INSERT INTO forums (join_code, name) VALUES ('x', '')`); err == nil {
		t.Error("forum with empty name accepted")
	}

	// An idea came through one of the channels there are; one inserted
	// without saying (as before there were channels) came through Telegram.
	for channel, ok := range map[string]bool{"web": true, "telegram": true, "sms": false, "": false, "Web": false} {
		_, err := conn.Exec(ctx, `
			INSERT INTO suggestions (reference, draft_id, forum_id, participant_id, language,
				scope, title, submitted_at, channel)
			VALUES ($1, $1, $2, 'p', 'cs', 'school', 't', now(), $3)`,
			"C-"+channel, f.ID, channel)
		if (err == nil) != ok {
			t.Errorf("channel %q: err = %v, want ok=%v", channel, err, ok)
		}
	}
	var channel string
	if err := conn.QueryRow(ctx, `SELECT channel FROM suggestions WHERE reference = 'RA'`).Scan(&channel); err != nil || channel != "telegram" {
		t.Errorf("channel of an idea inserted without one = %q, %v; want telegram", channel, err)
	}
}
