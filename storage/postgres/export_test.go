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
