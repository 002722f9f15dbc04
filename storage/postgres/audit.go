package postgres

import (
	"context"
	"encoding/json"
	"fmt"
)

// Audit records a staff or teacher action that is not a change to an idea
// (those are audited with the change itself): a forum created, closed or
// given a closing date, a teacher invited. actor is a participant id.
func (s *Store) Audit(ctx context.Context, actor, action, target string, after any) error {
	var doc []byte
	if after != nil {
		var err error
		if doc, err = json.Marshal(after); err != nil {
			return fmt.Errorf("postgres: audit %s: %w", action, err)
		}
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO audit_log (actor, action, target, after) VALUES ($1, $2, $3, $4)`,
		actor, action, target, doc); err != nil {
		return fmt.Errorf("postgres: audit %s: %w", action, err)
	}
	return nil
}
