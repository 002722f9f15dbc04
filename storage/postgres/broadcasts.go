package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
)

// Broadcasts to a whole forum (migration 00010). CreateBroadcast fixes the
// recipients; senders lease pending deliveries (TakeDeliveries) and record
// each outcome (MarkDeliverySent, MarkDeliveryUnreachable, RetryDelivery).

// MaxBroadcastTries is how many failed sends of one delivery are tried
// before it is given up ("failed").
const MaxBroadcastTries = 10

// reachableContact is the SQL condition, on contacts c, of a participant a
// broadcast can be sent to: a chat on record, no /stop, not blocked.
const reachableContact = `(c.chat_id IS NOT NULL OR c.chat_sealed IS NOT NULL) AND NOT c.opted_out AND NOT c.unreachable`

// BroadcastAudience counts the participants of a forum a broadcast would
// reach now.
func (s *Store) BroadcastAudience(ctx context.Context, forumID int64) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
		SELECT count(*) FROM forum_participants fp
		JOIN contacts c ON c.participant_id = fp.participant_id
		WHERE fp.forum_id = $1 AND `+reachableContact, forumID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: broadcast audience: %w", err)
	}
	return n, nil
}

// CreateBroadcast creates a broadcast to every participant of its forum who
// can be reached now, in one transaction: those are its recipients, whoever
// joins later is not. With a key used before it creates nothing and returns
// the earlier broadcast (created false). A forum that does not exist gives
// an error wrapping ErrForumNotFound.
func (s *Store) CreateBroadcast(ctx context.Context, b flows.Broadcast) (id int64, recipients int, created bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		id, recipients, created, err = createBroadcastTx(ctx, tx, b)
		return err
	})
	if err != nil {
		return 0, 0, false, fmt.Errorf("postgres: create broadcast: %w", err)
	}
	return id, recipients, created, nil
}

// createBroadcastTx is CreateBroadcast in a transaction of the caller's: a
// phase move creates its announcement in the move's own transaction, so the
// two happen together or not at all.
func createBroadcastTx(ctx context.Context, tx pgx.Tx, b flows.Broadcast) (id int64, recipients int, created bool, err error) {
	switch {
	case b.Kind == "":
		return 0, 0, false, errors.New("kind is required")
	case b.Key == "":
		return 0, 0, false, errors.New("idempotency key is required")
	}
	payload := b.Payload
	if payload == nil {
		payload = []byte(`{}`)
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO broadcasts (forum_id, kind, payload, created_by, idempotency_key, recipients)
		SELECT f.id, $2, $3, $4, $5, 0 FROM forums f WHERE f.id = $1
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING id`, b.ForumID, b.Kind, payload, b.CreatedBy, b.Key).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		// A repeat, or no such forum.
		err = tx.QueryRow(ctx, `SELECT id, recipients FROM broadcasts WHERE idempotency_key = $1`, b.Key).Scan(&id, &recipients)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, 0, false, fmt.Errorf("forum %d: %w", b.ForumID, ErrForumNotFound)
		}
		return id, recipients, false, err
	}
	if err != nil {
		return 0, 0, false, err
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO broadcast_deliveries (broadcast_id, participant_id)
		SELECT $1, fp.participant_id FROM forum_participants fp
		JOIN contacts c ON c.participant_id = fp.participant_id
		WHERE fp.forum_id = $2 AND `+reachableContact, id, b.ForumID)
	if err != nil {
		return 0, 0, false, fmt.Errorf("recipients: %w", err)
	}
	recipients = int(tag.RowsAffected())
	if _, err := tx.Exec(ctx, `UPDATE broadcasts SET recipients = $2 WHERE id = $1`, id, recipients); err != nil {
		return 0, 0, false, err
	}
	return id, recipients, true, nil
}

// TakeDeliveries leases up to limit pending deliveries to owner until now +
// lease: senders running side by side never get the same one while its
// lease lasts, and one whose sender died is taken again after it. A
// recipient who said /stop or became unreachable since the broadcast was
// created is recorded so on the way and not returned.
func (s *Store) TakeDeliveries(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]flows.BroadcastDelivery, error) {
	if limit <= 0 || owner == "" || lease <= 0 {
		return nil, fmt.Errorf("postgres: take deliveries: owner, a positive limit and lease are required")
	}
	// SKIP LOCKED passes over rows another sender is taking right now; once
	// it committed, their lease no longer matches.
	rows, err := s.pool.Query(ctx, `
		WITH due AS (
			SELECT d.broadcast_id, d.participant_id FROM broadcast_deliveries d
			WHERE d.state = 'pending' AND d.due_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
			ORDER BY d.due_at, d.broadcast_id, d.participant_id
			LIMIT $2
			FOR UPDATE SKIP LOCKED
		), target AS (
			SELECT due.broadcast_id, due.participant_id, c.chat_id, c.chat_sealed,
				CASE WHEN c.opted_out THEN 'opted_out'
					WHEN c.participant_id IS NULL OR NOT (`+reachableContact+`) THEN 'unreachable'
					ELSE 'pending' END AS state
			FROM due LEFT JOIN contacts c ON c.participant_id = due.participant_id
		), taken AS (
			UPDATE broadcast_deliveries d SET
				state = t.state,
				lease_owner = CASE WHEN t.state = 'pending' THEN $3 END,
				lease_until = CASE WHEN t.state = 'pending' THEN $4::timestamptz END
			FROM target t
			WHERE d.broadcast_id = t.broadcast_id AND d.participant_id = t.participant_id
			RETURNING d.broadcast_id, d.participant_id, d.tries, d.state
		)
		SELECT taken.broadcast_id, b.forum_id, b.kind, b.payload, taken.participant_id, p.language,
			t.chat_id, t.chat_sealed, taken.tries
		FROM taken
		JOIN target t ON t.broadcast_id = taken.broadcast_id AND t.participant_id = taken.participant_id
		JOIN broadcasts b ON b.id = taken.broadcast_id
		JOIN participants p ON p.id = taken.participant_id
		WHERE taken.state = 'pending'
		ORDER BY taken.broadcast_id, taken.participant_id`,
		now, limit, owner, now.Add(lease))
	if err != nil {
		return nil, fmt.Errorf("postgres: take deliveries: %w", err)
	}
	var out []flows.BroadcastDelivery
	var d flows.BroadcastDelivery
	var plain *int64
	var sealed []byte
	_, err = pgx.ForEachRow(rows, []any{&d.BroadcastID, &d.ForumID, &d.Kind, &d.Payload, &d.ParticipantID, &d.Language,
		&plain, &sealed, &d.Tries}, func() error {
		// Unopenable: the sender tries again later and says why.
		d.ChatID, _ = s.openChat(d.ParticipantID, plain, sealed)
		d.Payload = append([]byte(nil), d.Payload...)
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: take deliveries: %w", err)
	}
	return out, nil
}

// MarkDeliverySent records that Telegram accepted the broadcast's message
// to the participant at at.
func (s *Store) MarkDeliverySent(ctx context.Context, broadcastID int64, participantID string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE broadcast_deliveries SET state = 'sent', sent_at = $3, lease_owner = NULL, lease_until = NULL
		WHERE broadcast_id = $1 AND participant_id = $2 AND state = 'pending'`,
		broadcastID, participantID, at)
	if err != nil {
		return fmt.Errorf("postgres: mark delivery sent: %w", err)
	}
	return nil
}

// MarkDeliveryUnreachable records that the participant cannot be reached
// (they blocked the bot). Their contact is marked by StopContact.
func (s *Store) MarkDeliveryUnreachable(ctx context.Context, broadcastID int64, participantID string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE broadcast_deliveries SET state = 'unreachable', lease_owner = NULL, lease_until = NULL
		WHERE broadcast_id = $1 AND participant_id = $2 AND state = 'pending'`,
		broadcastID, participantID)
	if err != nil {
		return fmt.Errorf("postgres: mark delivery unreachable: %w", err)
	}
	return nil
}

// RetryDelivery records a failed send by owner at at: the delivery is tried
// again later, 10 s more for each failure, and given up ("failed") after
// MaxBroadcastTries (gaveUp). A delivery owner no longer holds (its lease
// ran out and another sender took it) is left alone.
func (s *Store) RetryDelivery(ctx context.Context, broadcastID int64, participantID, owner string, at time.Time) (gaveUp bool, err error) {
	err = s.pool.QueryRow(ctx, `
		UPDATE broadcast_deliveries SET
			tries = tries + 1,
			state = CASE WHEN tries + 1 >= $5 THEN 'failed' ELSE state END,
			due_at = $4::timestamptz + (tries + 1) * interval '10 seconds',
			lease_owner = NULL, lease_until = NULL
		WHERE broadcast_id = $1 AND participant_id = $2 AND state = 'pending' AND lease_owner = $3
		RETURNING state = 'failed'`,
		broadcastID, participantID, owner, at, MaxBroadcastTries).Scan(&gaveUp)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // no longer ours, or deleted meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("postgres: retry delivery: %w", err)
	}
	return gaveUp, nil
}

// PendingDeliveries counts the broadcast messages not sent yet, for the
// metrics.
func (s *Store) PendingDeliveries(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM broadcast_deliveries WHERE state = 'pending'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: pending deliveries: %w", err)
	}
	return n, nil
}
