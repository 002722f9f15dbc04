// Package postgres is the durable store of Nápad: forums, the suggestions
// students send to them, and the teachers and staff who run forums.
//
// The people writing suggestions are minors, so the schema holds no names and
// no Telegram ids in the clear: a participant is only a keyed hash computed
// by the caller, and the chat to tell them about their ideas is sealed
// (contacts.go).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/healthycities/napad/seal"
)

// ErrForumNotFound is returned (wrapped) when an operation names a forum that
// does not exist.
var ErrForumNotFound = errors.New("forum not found")

// Store reads and writes the bot's durable data. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// newReference is a field so tests can force reference collisions.
	newReference func(n int) (string, error)
	// newCode makes join and invite codes; a field so tests can force
	// collisions and the reserved invite prefix.
	newCode func() (string, error)
	// newShortCode makes forums' short join codes; a field so tests can
	// force collisions.
	newShortCode func() (string, error)
	// contactKeys seal students' chats (contacts.go); nil: none are
	// written or read.
	contactKeys *seal.Keyring
}

// Open connects to the database at databaseURL and checks that it answers.
// It does not migrate; call Migrate first.
func Open(ctx context.Context, databaseURL string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s/%s: %w",
			cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	s := &Store{pool: pool, newReference: newReference, newCode: newCode, newShortCode: newShortCode}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Close waits for in-flight queries and closes all connections.
func (s *Store) Close() {
	s.pool.Close()
}

// Ping checks that the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// isUniqueViolation reports whether err is a unique violation of constraint.
func isUniqueViolation(err error, constraint string) bool {
	return isConstraintError(err, "23505", constraint)
}

// isForeignKeyViolation reports whether err is a foreign key violation of constraint.
func isForeignKeyViolation(err error, constraint string) bool {
	return isConstraintError(err, "23503", constraint)
}

// oneOf checks that value is one of allowed (a list from flows), and says
// which values are allowed when it is not.
func oneOf(what, value string, allowed []string) error {
	if slices.Contains(allowed, value) {
		return nil
	}
	return fmt.Errorf("invalid %s %q (want %s)", what, value, strings.Join(allowed, ", "))
}

func isConstraintError(err error, code, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code && pgErr.ConstraintName == constraint
}
