package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/healthycities/napad/flows"
)

// execer is what both the pool and a transaction offer, so a grant can be
// part of a redemption's transaction or stand alone.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// RoleOf returns the role and town of a participant; role is "" (with a nil
// error) for a student.
func (s *Store) RoleOf(ctx context.Context, participantID string) (role, town string, err error) {
	if participantID == "" {
		return "", "", errors.New("postgres: role of: participant id is required")
	}
	err = s.pool.QueryRow(ctx,
		`SELECT role, town FROM roles WHERE participant_id = $1`, participantID,
	).Scan(&role, &town)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("postgres: role of: %w", err)
	}
	return role, town, nil
}

// grantRole upserts a role. With replaceStaff false an existing staff role is
// kept, so staff opening a teacher invite are not demoted.
func grantRole(ctx context.Context, db execer, participantID, role, town, grantedBy string, replaceStaff bool) error {
	if participantID == "" {
		return errors.New("participant id is required")
	}
	if err := oneOf("role", role, []string{flows.RoleTeacher, flows.RoleStaff}); err != nil {
		return err
	}
	sql := `
		INSERT INTO roles (participant_id, role, town, granted_by)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (participant_id) DO UPDATE
		SET role = EXCLUDED.role, town = EXCLUDED.town,
			granted_by = EXCLUDED.granted_by, granted_at = now()`
	args := []any{participantID, role, town, grantedBy}
	if !replaceStaff {
		sql += ` WHERE roles.role <> $5`
		args = append(args, flows.RoleStaff)
	}
	if _, err := db.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("upsert role: %w", err)
	}
	return nil
}

// inviteAttempts bounds retries on an invite code collision, which with 96
// random bits should never happen.
const inviteAttempts = 5

// CreateInvite stores a one-time invite making its redeemer a teacher for
// town, and returns its code (16 URL-safe characters) for the link
// ?start=<flows.InvitePrefix><code>. createdBy is the inviting staff member's participant id,
// "" from the CLI.
func (s *Store) CreateInvite(ctx context.Context, town, createdBy string, expiresAt time.Time) (code string, err error) {
	switch {
	case strings.TrimSpace(town) == "":
		return "", errors.New("postgres: create invite: town is required")
	case expiresAt.IsZero():
		return "", errors.New("postgres: create invite: expiry is required")
	}
	for range inviteAttempts {
		code, err := s.newCode()
		if err != nil {
			return "", fmt.Errorf("postgres: create invite: %w", err)
		}
		_, err = s.pool.Exec(ctx, `
			INSERT INTO teacher_invites (code, town, created_by, expires_at)
			VALUES ($1, $2, $3, $4)`,
			code, town, createdBy, expiresAt)
		if isUniqueViolation(err, "teacher_invites_pkey") {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("postgres: create invite: %w", err)
		}
		return code, nil
	}
	return "", fmt.Errorf("postgres: create invite: no unique code after %d attempts", inviteAttempts)
}

// RedeemInvite uses the invite code for participantID at time now: when it
// is unused and not expired it is marked used and the participant becomes a
// teacher for its town (staff keep their role), all in one transaction.
// result is one of flows.InviteAccepted, InviteUnknown (no such invite, or
// not even a possible code), InviteUsed (someone, possibly the same person,
// already redeemed it) and InviteExpired; of concurrent redemptions of one
// code exactly one is accepted. town is set only when accepted. err is for
// failures, never for a bad code.
func (s *Store) RedeemInvite(ctx context.Context, code, participantID string, now time.Time) (town, result string, err error) {
	switch {
	case participantID == "":
		return "", "", errors.New("postgres: redeem invite: participant id is required")
	case now.IsZero():
		return "", "", errors.New("postgres: redeem invite: time is required")
	}
	// Codes arrive from untrusted /start payloads.
	if !validJoinCode(code) {
		return "", flows.InviteUnknown, nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", "", fmt.Errorf("postgres: redeem invite: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	// A concurrent redeemer of the same code waits on the row lock, then
	// re-checks used_by against the committed row and matches nothing.
	var createdBy string
	err = tx.QueryRow(ctx, `
		UPDATE teacher_invites SET used_by = $2, used_at = $3
		WHERE code = $1 AND used_by IS NULL AND expires_at > $3
		RETURNING town, created_by`,
		code, participantID, now,
	).Scan(&town, &createdBy)
	if errors.Is(err, pgx.ErrNoRows) {
		result, err := inviteState(ctx, tx, code)
		if err != nil {
			return "", "", fmt.Errorf("postgres: redeem invite: %w", err)
		}
		return "", result, nil
	}
	if err != nil {
		return "", "", fmt.Errorf("postgres: redeem invite: %w", err)
	}
	if err := grantRole(ctx, tx, participantID, flows.RoleTeacher, town, createdBy, false); err != nil {
		return "", "", fmt.Errorf("postgres: redeem invite: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", "", fmt.Errorf("postgres: redeem invite: commit: %w", err)
	}
	return town, flows.InviteAccepted, nil
}

// inviteState tells why an invite could not be redeemed. Under READ
// COMMITTED it sees a concurrent winner's committed row.
func inviteState(ctx context.Context, tx pgx.Tx, code string) (string, error) {
	var used bool
	err := tx.QueryRow(ctx,
		`SELECT used_by IS NOT NULL FROM teacher_invites WHERE code = $1`, code,
	).Scan(&used)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return flows.InviteUnknown, nil
	case err != nil:
		return "", fmt.Errorf("look up invite: %w", err)
	case used:
		return flows.InviteUsed, nil
	default:
		// Unused, yet the update did not match: only expiry is left.
		return flows.InviteExpired, nil
	}
}
