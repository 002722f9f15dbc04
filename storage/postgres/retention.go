package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// RetentionActor is the audit log's actor for retention runs.
const RetentionActor = "retention"

// ApplyRetention removes the personal links of everything older than
// cutoff: ideas keep their content (the city still needs them) but lose
// their author and pending notifications, and pins of the emotional map
// lose their student likewise; a contact with no idea left to tell about
// goes (unless it holds a /stop), and so do offers to help; but not while
// its student is a participant of a forum that is still open (they are
// told when voting opens, and the results); old memberships of closed
// forums go, and old broadcasts' records of who got them; and a student
// with nothing left (no idea, no pin, no role, no open forum) is deleted
// with their contact. It returns how many ideas were detached.
func (s *Store) ApplyRetention(ctx context.Context, cutoff time.Time) (ideas int, err error) {
	if cutoff.IsZero() {
		return 0, fmt.Errorf("postgres: retention: a cutoff time is required")
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: retention: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	var pins int
	steps := []string{
		`DELETE FROM notifications WHERE suggestion_id IN (
			SELECT id FROM suggestions WHERE created_at < $1 AND participant_id IS NOT NULL)`,
		// The draft id starts with the participant id, so it goes too.
		`UPDATE suggestions SET participant_id = NULL, draft_id = 'retained:' || id
			WHERE created_at < $1 AND participant_id IS NOT NULL`,
		// The pins of the emotional map, likewise.
		`UPDATE pins SET participant_id = NULL, draft_id = 'retained:' || id
			WHERE created_at < $1 AND participant_id IS NOT NULL`,
		// A way to reach a helper is as personal as an idea's author.
		`DELETE FROM help_offers WHERE created_at < $1`,
		// Not one changed since the cutoff: its idea may be committing now.
		`DELETE FROM contacts c WHERE c.updated_at < $1 AND NOT c.opted_out
			AND NOT EXISTS (SELECT 1 FROM suggestions s WHERE s.participant_id = c.participant_id)
			AND NOT EXISTS (SELECT 1 FROM forum_participants fp JOIN forums f ON f.id = fp.forum_id
				WHERE fp.participant_id = c.participant_id AND f.phase <> 'closed')`,
		`DELETE FROM forum_participants fp WHERE fp.joined_at < $1
			AND NOT EXISTS (SELECT 1 FROM forums f WHERE f.id = fp.forum_id AND f.phase <> 'closed')`,
		`DELETE FROM broadcast_deliveries d USING broadcasts b
			WHERE b.id = d.broadcast_id AND b.created_at < $1 AND d.state <> 'pending'`,
		`DELETE FROM participants p WHERE p.updated_at < $1
			AND NOT EXISTS (SELECT 1 FROM suggestions s WHERE s.participant_id = p.id)
			AND NOT EXISTS (SELECT 1 FROM pins pn WHERE pn.participant_id = p.id)
			AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.participant_id = p.id)
			AND NOT EXISTS (SELECT 1 FROM forum_participants fp WHERE fp.participant_id = p.id)`,
	}
	for i, q := range steps {
		tag, err := tx.Exec(ctx, q, cutoff)
		if err != nil {
			return 0, fmt.Errorf("postgres: retention step %d: %w", i+1, err)
		}
		switch i {
		case 1:
			ideas = int(tag.RowsAffected())
		case 2:
			pins = int(tag.RowsAffected())
		}
	}
	after, _ := json.Marshal(map[string]any{"cutoff": cutoff, "ideas_detached": ideas, "pins_detached": pins})
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (actor, action, after) VALUES ($1, 'retention.apply', $2)`, RetentionActor, after); err != nil {
		return 0, fmt.Errorf("postgres: retention audit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("postgres: retention: %w", err)
	}
	return ideas, nil
}
