package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// How to reach students who offered to help with a chosen item.

// HelpOffer is one student's offer to help with a shortlist item: the way
// to reach them they wrote, and when. The student stays pseudonymous.
type HelpOffer struct {
	ItemID    int64
	Contact   string
	CreatedAt time.Time
}

// SaveHelpOffer stores how to reach a participant about an item, once per
// item and participant: a retry or a redelivered update stores nothing
// more, and writing it again replaces what they wrote before.
func (s *Store) SaveHelpOffer(ctx context.Context, participantID string, itemID int64, contact string) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO help_offers (participant_id, item_id, contact) VALUES ($1, $2, $3)
		ON CONFLICT (item_id, participant_id) DO UPDATE SET contact = EXCLUDED.contact`,
		participantID, itemID, contact)
	if err != nil {
		return fmt.Errorf("postgres: save help offer for item %d: %w", itemID, err)
	}
	return nil
}

// HelpOffers are the offers to help with a forum's shortlist items, by
// item position, then oldest first.
func (s *Store) HelpOffers(ctx context.Context, forumID int64) ([]HelpOffer, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT h.item_id, h.contact, h.created_at
		FROM help_offers h JOIN shortlist_items i ON i.id = h.item_id
		WHERE i.forum_id = $1
		ORDER BY i.position, h.created_at, h.participant_id`, forumID)
	if err != nil {
		return nil, fmt.Errorf("postgres: help offers of forum %d: %w", forumID, err)
	}
	offers, err := pgx.CollectRows(rows, pgx.RowToStructByPos[HelpOffer])
	if err != nil {
		return nil, fmt.Errorf("postgres: help offers of forum %d: %w", forumID, err)
	}
	return offers, nil
}
