package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WebPhotoPrefix starts the photo_file_id of an idea whose photo is in
// web_photos (sent through the web channel): "web:" and the photo's id.
// Any other photo_file_id is a Telegram file id.
const WebPhotoPrefix = "web:"

// PhotoStore keeps the photos students send through the web channel, which
// has no Telegram to keep them: already re-encoded JPEGs without metadata,
// by a random id. It is safe for concurrent use.
type PhotoStore struct{ s *Store }

// Photos is the store's web photos.
func (s *Store) Photos() *PhotoStore { return &PhotoStore{s: s} }

// Put stores a photo under id; putting the same id again changes nothing
// (a retried upload).
func (p *PhotoStore) Put(ctx context.Context, id string, jpeg []byte) error {
	if _, err := p.s.pool.Exec(ctx, `INSERT INTO web_photos (id, jpeg) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, jpeg); err != nil {
		return fmt.Errorf("postgres: put web photo: %w", err)
	}
	return nil
}

// Get is the photo stored under id (found false: none).
func (p *PhotoStore) Get(ctx context.Context, id string) (jpeg []byte, found bool, err error) {
	err = p.s.pool.QueryRow(ctx, `SELECT jpeg FROM web_photos WHERE id = $1`, id).Scan(&jpeg)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgres: get web photo: %w", err)
	}
	return jpeg, true, nil
}

// Delete removes photos (a student deleted their data); ids not stored
// are no error.
func (p *PhotoStore) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := p.s.pool.Exec(ctx, `DELETE FROM web_photos WHERE id = ANY($1)`, ids); err != nil {
		return fmt.Errorf("postgres: delete web photos: %w", err)
	}
	return nil
}

// DeleteUnused removes the photos stored before cutoff that no idea refers
// to: sent for an idea never finished, or whose idea was deleted. The
// cutoff must leave an idea being written time to be sent (the
// conversation's time to live, and the outbox's delay, at least). It
// returns how many went.
func (p *PhotoStore) DeleteUnused(ctx context.Context, cutoff time.Time) (int, error) {
	if cutoff.IsZero() {
		return 0, errors.New("postgres: delete unused web photos: a cutoff time is required")
	}
	tag, err := p.s.pool.Exec(ctx, `
		DELETE FROM web_photos p WHERE p.created_at < $1
			AND NOT EXISTS (SELECT 1 FROM suggestions s WHERE s.photo_file_id = $2 || p.id)`,
		cutoff, WebPhotoPrefix)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete unused web photos: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
