package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Role is a teacher's or staff member's role, as `napad role list` shows
// it: the pseudonym (its first PseudonymLen characters), never a name.
type Role struct {
	Pseudonym string
	Role      string
	Town      string
	GrantedAt time.Time
	Forums    int // forums the person created
}

// Roles lists every role, oldest first.
func (s *Store) Roles(ctx context.Context) ([]Role, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT left(r.participant_id, $1), r.role, r.town, r.granted_at,
			(SELECT count(*) FROM forums f WHERE f.owner_id = r.participant_id)
		FROM roles r ORDER BY r.granted_at, r.participant_id`, PseudonymLen)
	if err != nil {
		return nil, fmt.Errorf("postgres: roles: %w", err)
	}
	roles, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Role, error) {
		var r Role
		err := row.Scan(&r.Pseudonym, &r.Role, &r.Town, &r.GrantedAt, &r.Forums)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: roles: %w", err)
	}
	return roles, nil
}

// ErrRoleNotFound means no role matches a pseudonym; ErrRoleAmbiguous that
// more than one does (give more of it).
var (
	ErrRoleNotFound  = errors.New("no role for that pseudonym")
	ErrRoleAmbiguous = errors.New("more than one role starts with that pseudonym")
)

// RevokeRole takes the role of the person whose pseudonym starts with
// pseudonym (at least 8 characters) and records who did it (actor: a
// participant id, or "cli"), in one transaction. Their forums stay.
func (s *Store) RevokeRole(ctx context.Context, pseudonym, actor string) (Role, error) {
	if len(pseudonym) < 8 {
		return Role{}, fmt.Errorf("postgres: revoke role: give at least 8 characters of the pseudonym: %w", ErrRoleNotFound)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Role{}, fmt.Errorf("postgres: revoke role: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rows, err := tx.Query(ctx, `
		DELETE FROM roles WHERE participant_id IN (
			SELECT participant_id FROM roles WHERE starts_with(participant_id, $1) FOR UPDATE)
		RETURNING participant_id, role, town, granted_at`, pseudonym)
	if err != nil {
		return Role{}, fmt.Errorf("postgres: revoke role: %w", err)
	}
	type revoked struct {
		pid string
		Role
	}
	gone, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (revoked, error) {
		var r revoked
		err := row.Scan(&r.pid, &r.Role.Role, &r.Town, &r.GrantedAt)
		return r, err
	})
	switch {
	case err != nil:
		return Role{}, fmt.Errorf("postgres: revoke role: %w", err)
	case len(gone) == 0:
		return Role{}, ErrRoleNotFound
	case len(gone) > 1: // rolled back
		return Role{}, ErrRoleAmbiguous
	}
	r := gone[0]
	r.Pseudonym = r.pid[:min(PseudonymLen, len(r.pid))]
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (actor, action, target, after) VALUES ($1, 'role.revoke', $2, NULL)`,
		actor, r.Pseudonym); err != nil {
		return Role{}, fmt.Errorf("postgres: revoke role: audit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return Role{}, fmt.Errorf("postgres: revoke role: %w", err)
	}
	return r.Role, nil
}
