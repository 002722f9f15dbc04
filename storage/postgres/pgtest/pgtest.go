// Package pgtest gives tests their own throwaway PostgreSQL database with the
// Nápad schema already applied.
//
// It needs a running PostgreSQL. The admin connection comes from the
// TEST_DATABASE_URL environment variable (default DefaultAdminURL); its role
// must be allowed to create databases. If the server is unreachable the test
// fails: a silently skipped database test would hide broken storage.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/seal"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/jackc/pgx/v5"
)

// DefaultAdminURL is used when TEST_DATABASE_URL is not set.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

const startHint = "Start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, " +
	"or point TEST_DATABASE_URL at a server whose role may create databases"

// NewDatabase creates a fresh, fully migrated database and returns its URL.
// The database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := AdminURL()
	tmpl, err := migratedTemplate(admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return createDatabase(t, admin, tmpl)
}

// NewEmptyDatabase creates a fresh database without any migrations applied
// (from template0) and returns its URL, for testing the migrations
// themselves. The database is dropped when the test ends.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	return createDatabase(t, AdminURL(), "template0")
}

// ContactKeys seal the chats of the stores NewStore opens: the keys a bot
// with ParticipantKey and no contact key of its own would use.
var ContactKeys = func() *seal.Keyring {
	k, err := seal.ContactKeys([]byte(ParticipantKey), nil)
	if err != nil {
		panic("pgtest: contact keys: " + err.Error())
	}
	return k
}()

// ParticipantKey is the participant key ContactKeys come from.
const ParticipantKey = "pgtest-participant-key-0123456789abcdef"

// NewStore opens a Store on a fresh, migrated database and returns it with
// the database URL. The store is closed and the database dropped when the
// test ends.
func NewStore(t testing.TB) (*postgres.Store, string) {
	t.Helper()
	dbURL := NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, dbURL, postgres.WithContactKeys(ContactKeys))
	if err != nil {
		t.Fatalf("pgtest: open store: %v", err)
	}
	// Registered after NewDatabase's drop, so it runs before it.
	t.Cleanup(st.Close)
	databases.Store(st, dbURL)
	t.Cleanup(func() { databases.Delete(st) })
	return st, dbURL
}

// ComposeAdminURL is the PostgreSQL of docker-compose.yml. A newcomer who ran
// `docker compose up` has it on the default port, where DefaultAdminURL's
// role does not exist, so it is tried second.
const ComposeAdminURL = "postgres://napad:napad@127.0.0.1:5432/napad?sslmode=disable"

var resolvedAdmin struct {
	once sync.Once
	url  string
}

// AdminURL returns TEST_DATABASE_URL; when it is unset, DefaultAdminURL or,
// if only that one refuses, ComposeAdminURL.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	resolvedAdmin.once.Do(func() {
		resolvedAdmin.url = DefaultAdminURL
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, u := range []string{DefaultAdminURL, ComposeAdminURL} {
			if conn, err := pgx.Connect(ctx, u); err == nil {
				_ = conn.Close(ctx)
				resolvedAdmin.url = u
				return
			}
		}
	})
	return resolvedAdmin.url
}

func createDatabase(t testing.TB, admin, template string) string {
	t.Helper()
	name := "napad_t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	conn, err := connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)

	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(template)); err != nil {
		t.Fatalf("pgtest: create database %s from %s: %v", name, template, err)
	}
	t.Cleanup(func() { dropDatabase(t, admin, name) })

	dbURL, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dbURL
}

func dropDatabase(t testing.TB, admin, name string) {
	// t.Context() is already cancelled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := connect(ctx, admin)
	if err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	// FORCE (PG13+) ends sessions a test forgot to close.
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
	}
}

type templateEntry struct {
	once sync.Once
	name string
	err  error
}

// templates caches one template per admin URL, so a test that points
// TEST_DATABASE_URL elsewhere cannot spoil the cache for the others.
var templates sync.Map // admin URL -> *templateEntry

// migratedTemplate returns the name of a template database holding the
// current migrations, building it once per process. Copying a template is
// much faster than migrating every test database.
func migratedTemplate(admin string) (string, error) {
	v, _ := templates.LoadOrStore(admin, new(templateEntry))
	e := v.(*templateEntry)
	e.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		e.name, e.err = buildTemplate(ctx, admin)
	})
	return e.name, e.err
}

func buildTemplate(ctx context.Context, admin string) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	// The name changes with the migrations, so a template built from older
	// migrations (by an earlier run or another checkout) is never reused.
	name := "napad_tmpl_" + hex.EncodeToString(sum[:8])

	conn, err := connect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)

	// go test runs several package binaries at once; the session advisory
	// lock lets exactly one of them build the template while the others wait.
	lockKey := int64(binary.BigEndian.Uint64(sum[8:16]))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return "", fmt.Errorf("lock template %s: %w", name, err)
	}
	// Closing the connection would release the lock too; unlocking keeps the
	// wait of the other binaries short.
	defer func() { _, _ = conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockKey) }()

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).
		Scan(&exists); err != nil {
		return "", fmt.Errorf("look for template %s: %w", name, err)
	}
	if exists {
		return name, nil
	}

	// Build under a temporary name and rename when complete, so the final
	// name never refers to a half-migrated database even if this process
	// dies midway. A leftover from such a crash is dropped first; holding
	// the lock means nobody else is using it.
	building := name + "_new"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(building)+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("drop leftover %s: %w", building, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(building)+" TEMPLATE template0"); err != nil {
		return "", fmt.Errorf("create %s: %w", building, err)
	}
	buildingURL, err := withDatabase(admin, building)
	if err != nil {
		return "", err
	}
	if err := postgres.Migrate(ctx, buildingURL); err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(building)+" RENAME TO "+ident(name)); err != nil {
		return "", fmt.Errorf("rename %s: %w", building, err)
	}
	// CREATE DATABASE ... TEMPLATE fails while anyone is connected to the
	// template, so forbid connections to it.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(name)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return "", fmt.Errorf("seal template %s: %w", name, err)
	}
	return name, nil
}

// migrationsHash hashes the names and contents of all migration files.
func migrationsHash() ([]byte, error) {
	h := sha256.New()
	fsys := postgres.Migrations()
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hash migrations: %w", err)
	}
	return h.Sum(nil), nil
}

func connect(ctx context.Context, admin string) (*pgx.Conn, error) {
	// Bound the connect itself: an unreachable host must fail fast, not hang.
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(connectCtx, admin)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to PostgreSQL at %s: %v\nIs PostgreSQL running? %s",
			redact(admin), err, startHint)
	}
	return conn, nil
}

// withDatabase returns admin with its database name replaced by name. Both
// URL and keyword/value ("host=... dbname=...") forms are accepted.
func withDatabase(admin, name string) (string, error) {
	if strings.HasPrefix(admin, "postgres://") || strings.HasPrefix(admin, "postgresql://") {
		u, err := url.Parse(admin)
		if err != nil {
			return "", fmt.Errorf("parse TEST_DATABASE_URL: %w", err)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	// In keyword/value form a later keyword overrides an earlier one.
	return admin + " dbname=" + name, nil
}

var passwordRE = regexp.MustCompile(`password=[^&\s]+`)

// redact hides the password so it does not end up in test logs.
func redact(admin string) string {
	if u, err := url.Parse(admin); err == nil && u.Scheme != "" {
		admin = u.Redacted()
	}
	// Also covers ?password= in a URL's query.
	return passwordRE.ReplaceAllString(admin, "password=xxxxx")
}

func ident(name string) string {
	return pgx.Identifier{name}.Sanitize()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
