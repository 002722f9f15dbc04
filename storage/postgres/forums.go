package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/healthycities/napad/flows"
	"github.com/jackc/pgx/v5"
)

// joinCodeAttempts bounds retries on a join code collision, which with 96
// random bits should never happen; the bound only keeps a bug from looping.
const joinCodeAttempts = 5

// CreateForum stores a new open forum with a fresh random join code.
func (s *Store) CreateForum(ctx context.Context, name, school, town string) (flows.Forum, error) {
	if strings.TrimSpace(name) == "" {
		return flows.Forum{}, errors.New("postgres: create forum: name is required")
	}
	for range joinCodeAttempts {
		code, err := newJoinCode()
		if err != nil {
			return flows.Forum{}, fmt.Errorf("postgres: create forum: %w", err)
		}
		f := flows.Forum{Code: code, Name: name, School: school, Town: town}
		err = s.pool.QueryRow(ctx, `
			INSERT INTO forums (join_code, name, school, town)
			VALUES ($1, $2, $3, $4)
			RETURNING id, is_open`,
			code, name, school, town,
		).Scan(&f.ID, &f.Open)
		if isUniqueViolation(err, "forums_join_code_key") {
			continue
		}
		if err != nil {
			return flows.Forum{}, fmt.Errorf("postgres: create forum: %w", err)
		}
		return f, nil
	}
	return flows.Forum{}, fmt.Errorf("postgres: create forum: no unique join code after %d attempts", joinCodeAttempts)
}

// ForumByCode finds a forum by its join code. found is false, with a nil
// error, when there is no such forum. Codes that cannot be join codes are
// reported as not found without asking the database, since they come
// straight from untrusted /start payloads.
func (s *Store) ForumByCode(ctx context.Context, code string) (forum flows.Forum, found bool, err error) {
	if !validJoinCode(code) {
		return flows.Forum{}, false, nil
	}
	err = s.pool.QueryRow(ctx, `
		SELECT id, join_code, name, school, town, is_open
		FROM forums
		WHERE join_code = $1`,
		code,
	).Scan(&forum.ID, &forum.Code, &forum.Name, &forum.School, &forum.Town, &forum.Open)
	if errors.Is(err, pgx.ErrNoRows) {
		return flows.Forum{}, false, nil
	}
	if err != nil {
		return flows.Forum{}, false, fmt.Errorf("postgres: forum by code: %w", err)
	}
	return forum, true, nil
}

// SetForumOpen opens or closes the forum with the given join code. It returns
// an error wrapping ErrForumNotFound when there is no such forum.
func (s *Store) SetForumOpen(ctx context.Context, code string, open bool) error {
	if !validJoinCode(code) {
		return fmt.Errorf("postgres: set forum open: %w", ErrForumNotFound)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE forums SET is_open = $2 WHERE join_code = $1`, code, open)
	if err != nil {
		return fmt.Errorf("postgres: set forum open: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: set forum open: %w", ErrForumNotFound)
	}
	return nil
}
