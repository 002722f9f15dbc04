package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded goose migration files (the *.sql files at
// its root). pgtest hashes them to know when a cached template is stale.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		// fs.Sub only fails for an invalid path; "migrations" is a constant.
		panic("postgres: embedded migrations: " + err.Error())
	}
	return sub
}

// Migrate applies all pending migrations to the database at databaseURL.
// It is safe to call repeatedly and from several processes at once: goose
// holds a PostgreSQL session advisory lock while it migrates.
func Migrate(ctx context.Context, databaseURL string) error {
	db, err := openSQL(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer db.Close()

	provider, err := newProvider(db)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate up: %w", err)
	}
	return nil
}

// openSQL opens a database/sql handle, which is what goose needs, and checks
// that the server answers so a bad URL fails here with a clear message.
func openSQL(ctx context.Context, databaseURL string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s/%s: %w", cfg.Host, cfg.Database, err)
	}
	return db, nil
}

// newProvider builds the goose provider used by Migrate (and by tests, which
// also need to migrate down).
func newProvider(db *sql.DB) (*goose.Provider, error) {
	// Poll every second instead of goose's default 5s so a second process
	// waiting for the lock is not needlessly slow; give up after 5 minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("create migration lock: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, Migrations(),
		goose.WithSessionLocker(locker),
		// Only our embedded files: ignore Go migrations registered globally
		// by any other package linked into the binary.
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return nil, fmt.Errorf("create migration provider: %w", err)
	}
	return provider, nil
}
