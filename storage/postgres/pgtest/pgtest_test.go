package pgtest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(t.Context(),
		`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

func TestNewDatabaseIsFreshMigratedAndDropped(t *testing.T) {
	var names []string
	t.Run("use", func(t *testing.T) {
		seen := map[string]bool{}
		for range 2 {
			dbURL := NewDatabase(t)
			conn, err := pgx.Connect(t.Context(), dbURL)
			if err != nil {
				t.Fatalf("connect to new database: %v", err)
			}
			var name string
			var forums int
			err = conn.QueryRow(t.Context(),
				`SELECT current_database(), (SELECT count(*) FROM forums)`).Scan(&name, &forums)
			conn.Close(context.Background())
			if err != nil {
				t.Fatalf("query new database (migrated?): %v", err)
			}
			if !strings.HasPrefix(name, "napad_t_") || seen[name] || forums != 0 {
				t.Fatalf("database %q (forums %d) is not fresh", name, forums)
			}
			seen[name] = true
			names = append(names, name)
		}
		st, _ := NewStore(t)
		if _, err := CreateForum(t.Context(), st, "f", "", ""); err != nil {
			t.Fatalf("store on new database: %v", err)
		}
	})
	for _, name := range names {
		if databaseExists(t, name) {
			t.Errorf("database %s still exists after the test ended", name)
		}
	}
}

// fakeTB records how a helper ends a test instead of ending the real one.
type fakeTB struct {
	testing.TB
	fatal   string
	skipped bool
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any)                { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) Skipf(format string, args ...any) { f.SkipNow() }
func (f *fakeTB) Skip(args ...any)                 { f.SkipNow() }
func (f *fakeTB) SkipNow() {
	f.skipped = true
	runtime.Goexit()
}

// Without a server the test must fail and say how to fix it, never skip.
func TestUnreachableServerFailsLoudly(t *testing.T) {
	const dead = "postgres://postgres:secret@127.0.0.1:1/test?sslmode=disable"
	t.Setenv("TEST_DATABASE_URL", dead)
	for name, helper := range map[string]func(testing.TB){
		"NewDatabase":      func(tb testing.TB) { NewDatabase(tb) },
		"NewEmptyDatabase": func(tb testing.TB) { NewEmptyDatabase(tb) },
		"NewStore":         func(tb testing.TB) { NewStore(tb) },
	} {
		fake := &fakeTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			helper(fake)
		}()
		<-done
		if fake.skipped {
			t.Errorf("%s skipped the test", name)
		}
		for _, want := range []string{"127.0.0.1:1", "pg_ctlcluster", "TEST_DATABASE_URL"} {
			if !strings.Contains(fake.fatal, want) {
				t.Errorf("%s: failure message %q lacks %q", name, fake.fatal, want)
			}
		}
		if strings.Contains(fake.fatal, "secret") {
			t.Errorf("%s: failure message leaks the password: %q", name, fake.fatal)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"postgres://u:p@h:5432/test?sslmode=disable": "postgres://u:p@h:5432/napad_t_x?sslmode=disable",
		"postgresql://h/":           "postgresql://h/napad_t_x",
		"host=h user=u dbname=test": "host=h user=u dbname=test dbname=napad_t_x",
	}
	for in, want := range cases {
		got, err := withDatabase(in, "napad_t_x")
		if err != nil || got != want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	cfg, err := pgx.ParseConfig("host=h user=u dbname=test dbname=napad_t_x")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != "napad_t_x" {
		t.Errorf("keyword/value override: database %q", cfg.Database)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"postgres://u:hunter2@h/db",
		"postgres://u@h/db?password=hunter2&sslmode=disable",
		"host=h password=hunter2 user=u",
	} {
		if got := redact(in); strings.Contains(got, "hunter2") {
			t.Errorf("redact(%q) = %q", in, got)
		}
	}
}
