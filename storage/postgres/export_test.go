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
