package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
)

// Telling students what became of their ideas. SetStatus queues a
// notification in its transaction; the bot's notifier takes the due ones
// (DueNotifications), sends them and says how it went (MarkNotified,
// RetryNotification, DropNotification).
//
// There is one row per idea, holding the latest change not yet sent, so a
// student gets at most one message per idea a day, about the newest status.

const (
	// notifyEvery is the least time between two messages about one idea.
	notifyEvery = 24 * time.Hour
	// notifyLease is how long a notification taken by one notifier is left
	// alone by the others; if that notifier dies, another sends it after.
	notifyLease = 5 * time.Minute
	// MaxNotifyAttempts is how many failed sends of one status are tried
	// before giving up on it.
	MaxNotifyAttempts = 10
)

// enqueueNotification queues telling the author of idea id about its
// status and answer, replacing a notification that is still pending. It is
// due now, or a day after the last message about the idea if that is later;
// if a notifier is sending the previous one right now, not before its lease
// ends (MarkNotified then moves it a day further).
func enqueueNotification(ctx context.Context, tx pgx.Tx, id int64, status, answer string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO notifications AS n (suggestion_id, status, answer, due_at)
		VALUES ($1, $2, $3, now())
		ON CONFLICT (suggestion_id) DO UPDATE SET
			status = EXCLUDED.status,
			answer = EXCLUDED.answer,
			sent_at = NULL,
			attempts = 0,
			due_at = greatest(now(), n.last_sent_at + $4::float8 * interval '1 second',
				CASE WHEN n.claimed_at IS NOT NULL THEN n.due_at END),
			claimed_at = NULL`,
		id, status, answer, notifyEvery.Seconds())
	if err != nil {
		return fmt.Errorf("queue notification: %w", err)
	}
	return nil
}

// DueNotifications takes up to limit notifications due at now for sending:
// each is leased to the caller for a few minutes, so notifiers running side
// by side never get the same one. Notifications nobody may get (the student
// said /stop, blocked the bot or has no chat on record; the idea is hidden
// or back to "new") are dropped on the way and not returned. A chat that
// cannot be opened (sealed with a key the store lacks) comes as ChatID 0.
func (s *Store) DueNotifications(ctx context.Context, now time.Time, limit int) ([]flows.Notification, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: due notifications: limit must be positive, got %d", limit)
	}
	// SKIP LOCKED leaves rows another notifier is taking right now; once it
	// committed, their due_at (the lease) or sent_at no longer match.
	rows, err := s.pool.Query(ctx, `
		WITH due AS (
			SELECT suggestion_id FROM notifications
			WHERE sent_at IS NULL AND due_at <= $1
			ORDER BY due_at, suggestion_id
			LIMIT $2
			FOR UPDATE SKIP LOCKED
		), target AS (
			SELECT d.suggestion_id, s.participant_id, s.reference, s.title, p.language,
				c.chat_id, c.chat_sealed,
				coalesce(NOT c.opted_out AND NOT c.unreachable AND (c.chat_id IS NOT NULL OR c.chat_sealed IS NOT NULL), false)
					AND s.hidden_reason IS NULL AND s.status <> $4 AS deliverable
			FROM due d
			JOIN suggestions s ON s.id = d.suggestion_id
			JOIN participants p ON p.id = s.participant_id
			LEFT JOIN contacts c ON c.participant_id = s.participant_id
		)
		UPDATE notifications n SET
			claimed_at = CASE WHEN t.deliverable THEN $1::timestamptz END,
			due_at = CASE WHEN t.deliverable THEN $3 ELSE n.due_at END,
			sent_at = CASE WHEN t.deliverable THEN NULL ELSE $1::timestamptz END
		FROM target t
		WHERE n.suggestion_id = t.suggestion_id
		RETURNING t.deliverable, n.suggestion_id, t.participant_id, t.chat_id, t.chat_sealed, t.language,
			t.reference, t.title, n.status, n.answer`,
		now, limit, now.Add(notifyLease), flows.StatusNew)
	if err != nil {
		return nil, fmt.Errorf("postgres: due notifications: %w", err)
	}
	var out []flows.Notification
	var deliverable bool
	var n flows.Notification
	var plain *int64
	var sealed []byte
	_, err = pgx.ForEachRow(rows, []any{&deliverable, &n.IdeaID, &n.ParticipantID, &plain, &sealed, &n.Language,
		&n.Reference, &n.Title, &n.Status, &n.Answer}, func() error {
		if deliverable {
			// Unopenable: the notifier tries again later and says why.
			n.ChatID, _ = s.openChat(n.ParticipantID, plain, sealed)
			out = append(out, n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: due notifications: %w", err)
	}
	return out, nil
}

// MarkNotified records that the notification about idea id was sent
// at at. If the status changed again while it was being sent, the newer
// notification stays pending, due a day after at.
func (s *Store) MarkNotified(ctx context.Context, ideaID int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE notifications SET
			last_sent_at = $2,
			sent_at = CASE WHEN claimed_at IS NULL THEN sent_at ELSE $2::timestamptz END,
			due_at = CASE WHEN claimed_at IS NULL THEN greatest(due_at, $2::timestamptz + $3::float8 * interval '1 second') ELSE due_at END,
			attempts = CASE WHEN claimed_at IS NULL THEN attempts ELSE 0 END,
			claimed_at = NULL
		WHERE suggestion_id = $1`,
		ideaID, at, notifyEvery.Seconds())
	if err != nil {
		return fmt.Errorf("postgres: mark notified: %w", err)
	}
	return nil
}

// RetryNotification records a failed send of the notification about
// idea id at at: it is tried again later, a minute more for each
// failure, and given up after MaxNotifyAttempts (gaveUp). A notification
// that changed while it was being sent is left as the change made it.
func (s *Store) RetryNotification(ctx context.Context, ideaID int64, at time.Time) (gaveUp bool, err error) {
	err = s.pool.QueryRow(ctx, `
		UPDATE notifications SET
			attempts = CASE WHEN claimed_at IS NULL THEN attempts ELSE attempts + 1 END,
			sent_at = CASE WHEN claimed_at IS NOT NULL AND attempts + 1 >= $3 THEN $2::timestamptz ELSE sent_at END,
			due_at = CASE WHEN claimed_at IS NULL THEN due_at ELSE $2::timestamptz + (attempts + 1) * interval '1 minute' END,
			claimed_at = NULL
		WHERE suggestion_id = $1
		RETURNING sent_at IS NOT NULL`,
		ideaID, at, MaxNotifyAttempts).Scan(&gaveUp)
	if errors.Is(err, pgx.ErrNoRows) {
		return true, nil // the idea was deleted meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("postgres: retry notification: %w", err)
	}
	return gaveUp, nil
}

// DropNotification gives up the notification about idea id without
// sending it, e.g. because Telegram says the student blocked the bot.
func (s *Store) DropNotification(ctx context.Context, ideaID int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE notifications SET sent_at = coalesce(sent_at, $2), claimed_at = NULL
		WHERE suggestion_id = $1`,
		ideaID, at)
	if err != nil {
		return fmt.Errorf("postgres: drop notification: %w", err)
	}
	return nil
}
