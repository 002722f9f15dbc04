package postgres_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

func newStore(t *testing.T) (*postgres.Store, string) {
	t.Helper()
	return pgtest.NewStore(t)
}

// connect opens a raw connection for asserting on rows and tables directly.
func connect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func newForum(t *testing.T, st *postgres.Store) flows.Forum {
	t.Helper()
	f, err := pgtest.CreateForum(t.Context(), st, "7.B", "ZŠ Komenského", "Brno")
	if err != nil {
		t.Fatalf("CreateForum: %v", err)
	}
	return f
}

func submission(forumID int64, draftID string) flows.Idea {
	return flows.Idea{
		DraftID:       draftID,
		ParticipantID: "p-" + draftID,
		ForumID:       forumID,
		Language:      "cs",
		Scope:         "school",
		Improve:       "More benches",
		Title:         "Benches in the yard",
		Description:   "We have nowhere to sit during breaks.",
		Category:      "school_yard",
		WantsToHelp:   "maybe",
		SubmittedAt:   time.Date(2025, 5, 14, 9, 30, 15, 123456000, time.UTC),
	}
}

func tableExists(t *testing.T, conn *pgx.Conn, name string) bool {
	t.Helper()
	var exists bool
	err := conn.QueryRow(t.Context(), `SELECT to_regclass($1) IS NOT NULL`, "public."+name).Scan(&exists)
	if err != nil {
		t.Fatalf("check table %s: %v", name, err)
	}
	return exists
}

// sameForum compares forums field by field, ClosesAt by instant: PostgreSQL
// keeps microseconds and pgx returns local times.
func sameForum(a, b flows.Forum) bool {
	if !a.ClosesAt.Equal(b.ClosesAt) {
		return false
	}
	a.ClosesAt, b.ClosesAt = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

// codeSequence returns a code generator yielding codes in turn, then
// repeating the last one forever.
func codeSequence(codes ...string) func() (string, error) {
	var mu sync.Mutex
	next := 0
	return func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		c := codes[min(next, len(codes)-1)]
		next++
		return c, nil
	}
}
