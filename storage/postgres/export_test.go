package postgres

import (
	"context"
	"fmt"
)

// MigrateDownAll rolls back every migration; only tests need to go down.
func MigrateDownAll(ctx context.Context, databaseURL string) error {
	db, err := openSQL(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	provider, err := newProvider(db)
	if err != nil {
		return err
	}
	if _, err := provider.DownTo(ctx, 0); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// GrantRole gives a participant role (flows.RoleTeacher or flows.RoleStaff)
// for town, replacing any role they had, as staff are set up by hand.
// grantedBy is the granting participant's id.
func (s *Store) GrantRole(ctx context.Context, participantID, role, town, grantedBy string) error {
	if err := grantRole(ctx, s.pool, participantID, role, town, grantedBy, true); err != nil {
		return fmt.Errorf("postgres: grant role: %w", err)
	}
	return nil
}

// SetContact remembers the chat to tell a student about their ideas, as
// Submit does with the idea. An earlier /stop is kept.
func (s *Store) SetContact(ctx context.Context, participantID string, chatID int64) error {
	if err := s.setContact(ctx, s.pool, participantID, chatID); err != nil {
		return fmt.Errorf("postgres: set contact: %w", err)
	}
	return nil
}

// CountSuggestionsByDraft returns how many rows hold draftID (0 or 1; the
// schema forbids more), so tests can assert idempotency on the rows themselves.
func (s *Store) CountSuggestionsByDraft(ctx context.Context, draftID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx,
		`SELECT count(*) FROM suggestions WHERE draft_id = $1`, draftID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: count suggestions by draft: %w", err)
	}
	return n, nil
}

// NewReference exposes the reference generator to the external tests.
var NewReference = newReference

// SetReferenceGenerator replaces how st makes references, to force collisions.
func SetReferenceGenerator(st *Store, gen func(n int) (string, error)) {
	st.newReference = gen
}

// SetCodeGenerator replaces how st makes join and invite codes, to force
// collisions and the reserved invite prefix.
func SetCodeGenerator(st *Store, gen func() (string, error)) {
	st.newCode = gen
}

// SetShortCodeGenerator replaces how st makes forums' short join codes,
// to force collisions.
func SetShortCodeGenerator(st *Store, gen func() (string, error)) {
	st.newShortCode = gen
}

// MigrateUpTo applies migrations up to version, to test a later migration
// against data written under an earlier schema.
func MigrateUpTo(ctx context.Context, databaseURL string, version int64) error {
	db, err := openSQL(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	provider, err := newProvider(db)
	if err != nil {
		return err
	}
	if _, err := provider.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate up to %d: %w", version, err)
	}
	return nil
}

// MigrateDownTo rolls back to version.
func MigrateDownTo(ctx context.Context, databaseURL string, version int64) error {
	db, err := openSQL(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	provider, err := newProvider(db)
	if err != nil {
		return err
	}
	if _, err := provider.DownTo(ctx, version); err != nil {
		return fmt.Errorf("migrate down to %d: %w", version, err)
	}
	return nil
}
