package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
)

// Students' rights over their data: see it, take it with them, delete it,
// and stop being contacted.

// IdeasOf lists a student's ideas, newest first, with what the city made
// of them, and why staff did not publish those they hid.
func (s *Store) IdeasOf(ctx context.Context, participantID string) ([]flows.MyIdea, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT s.reference, s.title, s.status, s.staff_answer, s.created_at, f.name, s.wants_to_help,
		       coalesce(s.hidden_reason, '')
		FROM suggestions s JOIN forums f ON f.id = s.forum_id
		WHERE s.participant_id = $1
		ORDER BY s.created_at DESC, s.id DESC`, participantID)
	if err != nil {
		return nil, fmt.Errorf("postgres: ideas of participant: %w", err)
	}
	ideas, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (flows.MyIdea, error) {
		var i flows.MyIdea
		err := r.Scan(&i.Reference, &i.Title, &i.Status, &i.Answer, &i.SentAt, &i.Forum, &i.WantsToHelp, &i.Hidden)
		return i, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: ideas of participant: %w", err)
	}
	return ideas, nil
}

// DataOf is everything stored about a student, as indented JSON: their
// pseudonymous record, the forums they joined, every idea and every pin
// of the emotional map with every field (but the ids), the ways to reach them they left for chosen items they would help
// with, and whether they may be contacted. It is what /mydata sends them. Their
// chat is in it opened (it is theirs), or null if it cannot be.
func (s *Store) DataOf(ctx context.Context, participantID string) ([]byte, error) {
	var plain *int64
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT chat_id, chat_sealed FROM contacts WHERE participant_id = $1`,
		participantID).Scan(&plain, &sealed)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: data of participant: contact: %w", err)
	}
	var chat *int64
	if c, err := s.openChat(participantID, plain, sealed); err == nil && c != 0 {
		chat = &c
	}
	var doc []byte
	err = s.pool.QueryRow(ctx, `
		SELECT jsonb_pretty(jsonb_build_object(
			'participant', (SELECT to_jsonb(p) FROM participants p WHERE p.id = $1),
			'forums_joined', COALESCE((
				SELECT jsonb_agg(jsonb_build_object('forum', f.name, 'school', f.school, 'town', f.town, 'joined_at', fp.joined_at) ORDER BY fp.joined_at)
				FROM forum_participants fp JOIN forums f ON f.id = fp.forum_id WHERE fp.participant_id = $1), '[]'::jsonb),
			'ideas', COALESCE((
				SELECT jsonb_agg((to_jsonb(s) - 'id' - 'forum_id' - 'participant_id' - 'draft_id') || jsonb_build_object('forum', f.name) ORDER BY s.id)
				FROM suggestions s JOIN forums f ON f.id = s.forum_id WHERE s.participant_id = $1), '[]'::jsonb),
			'pins', COALESCE((
				SELECT jsonb_agg((to_jsonb(p) - 'id' - 'forum_id' - 'participant_id' - 'draft_id')
					|| jsonb_build_object('forum', f.name, 'feeling_label', NULLIF(`+feelingLabelSQL+`, '')) ORDER BY p.id)
				FROM pins p JOIN forums f ON f.id = p.forum_id WHERE p.participant_id = $1), '[]'::jsonb),
			'help_offers', COALESCE((
				SELECT jsonb_agg(jsonb_build_object('forum', f.name, 'item', i.texts -> i.language ->> 'title', 'contact', h.contact, 'created_at', h.created_at) ORDER BY h.created_at)
				FROM help_offers h JOIN shortlist_items i ON i.id = h.item_id JOIN forums f ON f.id = i.forum_id WHERE h.participant_id = $1), '[]'::jsonb),
			'contact', (SELECT jsonb_build_object('telegram_chat', $2::bigint, 'notifications_stopped', c.opted_out, 'unreachable', c.unreachable)
				FROM contacts c WHERE c.participant_id = $1),
			'role', (SELECT jsonb_build_object('role', r.role, 'town', r.town) FROM roles r WHERE r.participant_id = $1)
		))::text`, participantID, chat).Scan(&doc)
	if err != nil {
		return nil, fmt.Errorf("postgres: data of participant: %w", err)
	}
	return doc, nil
}

// DeleteParticipant erases a student: their record, and with it (by the
// foreign keys) their ideas, pins, forum memberships, help offers and contact. Their role and
// the invites they redeemed lose the link to them. It says whether there
// was anything to delete.
func (s *Store) DeleteParticipant(ctx context.Context, participantID string) (bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: delete participant: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	var ideas, pins int
	if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM suggestions WHERE participant_id = $1),
		(SELECT count(*) FROM pins WHERE participant_id = $1)`, participantID).Scan(&ideas, &pins); err != nil {
		return false, fmt.Errorf("postgres: delete participant: %w", err)
	}
	tag, err := tx.Exec(ctx, `DELETE FROM participants WHERE id = $1`, participantID)
	if err != nil {
		return false, fmt.Errorf("postgres: delete participant: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM roles WHERE participant_id = $1`, participantID); err != nil {
		return false, fmt.Errorf("postgres: delete participant role: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE teacher_invites SET used_by = '' WHERE used_by = $1`, participantID); err != nil {
		return false, fmt.Errorf("postgres: delete participant invites: %w", err)
	}
	// The audit log keeps that a deletion happened, not whose.
	after, _ := json.Marshal(map[string]int{"ideas_deleted": ideas, "pins_deleted": pins})
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (actor, action, after) VALUES ('student', 'participant.delete', $1)`, after); err != nil {
		return false, fmt.Errorf("postgres: delete participant audit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("postgres: delete participant: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// StopContact records /stop (optOut) or a blocked bot (unreachable): the
// student is not messaged again, even if a later idea updates the contact.
// Nothing can be sent to them any more, so their chat is not kept; that
// they said /stop is, for ideas they send after their conversation expired.
// One who blocked the bot and sends another idea is reachable again.
func (s *Store) StopContact(ctx context.Context, participantID string, optOut bool) error {
	col := "unreachable"
	if optOut {
		col = "opted_out"
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO contacts (participant_id, `+col+`)
		SELECT $1, true WHERE EXISTS (SELECT 1 FROM participants WHERE id = $1)
		ON CONFLICT (participant_id) DO UPDATE SET `+col+` = true, chat_id = NULL, chat_sealed = NULL, updated_at = now()`,
		participantID)
	if err != nil {
		return fmt.Errorf("postgres: stop contact: %w", err)
	}
	return nil
}
