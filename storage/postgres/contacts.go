package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/seal"
)

// How to reach a student is the one Telegram-side number the database
// keeps, and it is kept sealed (package seal): encrypted with the contact
// key and bound to the student's participant id, so that a copy of the
// database alone tells nobody whom to message. Only a store opened with the
// keys (WithContactKeys) writes or reads a chat.

// contactPlace binds a sealed chat to the contacts table.
const contactPlace = "contacts"

var errNoContactKeys = errors.New("no contact keys (the store was opened without WithContactKeys)")

// Option is a setting of a Store, given to Open.
type Option func(*Store)

// WithContactKeys gives the store the keys that seal students' chats.
func WithContactKeys(k *seal.Keyring) Option {
	return func(s *Store) { s.contactKeys = k }
}

// setContact remembers the chat to tell a student about their ideas. One
// who had blocked the bot and writes again is reachable again; one who said
// /stop stays opted out, and their chat is not kept.
func (s *Store) setContact(ctx context.Context, db execer, participantID string, chat int64) error {
	if s.contactKeys == nil {
		return errNoContactKeys
	}
	_, err := db.Exec(ctx, `
		INSERT INTO contacts (participant_id, chat_sealed) VALUES ($1, $2)
		ON CONFLICT (participant_id) DO UPDATE SET
			chat_sealed = CASE WHEN contacts.opted_out THEN NULL ELSE EXCLUDED.chat_sealed END,
			chat_id = NULL, unreachable = false, updated_at = now()`,
		participantID, s.contactKeys.SealChat(contactPlace, participantID, chat))
	return err
}

// openChat is a contact's chat: a plain one, from before chats were sealed,
// or the sealed one; 0 when there is neither.
func (s *Store) openChat(participantID string, plain *int64, sealed []byte) (int64, error) {
	switch {
	case plain != nil:
		return *plain, nil
	case sealed == nil:
		return 0, nil
	case s.contactKeys == nil:
		return 0, errNoContactKeys
	}
	return s.contactKeys.OpenChat(contactPlace, participantID, sealed)
}

// ContactSealing counts the chats in contacts by how they are kept.
type ContactSealing struct {
	Plain int            // not sealed yet: written before migration 00008
	ByKey map[string]int // sealed, by the id of the key (seal.KeyIDOf)
}

// ContactSealing says how the stored chats are kept: whether any is plain,
// and which keys sealed them, so that a key is removed only once no chat
// needs it.
func (s *Store) ContactSealing(ctx context.Context) (ContactSealing, error) {
	out := ContactSealing{ByKey: map[string]int{}}
	rows, err := s.pool.Query(ctx, `
		SELECT substring(chat_sealed FROM 1 FOR $1), count(chat_sealed), count(chat_id)
		FROM contacts GROUP BY 1`, seal.HeaderSize)
	if err != nil {
		return out, fmt.Errorf("postgres: contact sealing: %w", err)
	}
	var header []byte
	var sealed, plain int
	_, err = pgx.ForEachRow(rows, []any{&header, &sealed, &plain}, func() error {
		out.Plain += plain
		if sealed > 0 {
			out.ByKey[seal.KeyIDOf(header)] += sealed
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("postgres: contact sealing: %w", err)
	}
	return out, nil
}

// Sealed is what sealing the stored chats did.
type Sealed struct {
	Plain   int // plain chats sealed
	OldKeys int // chats sealed again with the current key
	// Unreadable chats are sealed with a key the store does not have (or
	// were changed); they stay as they are.
	Unreadable int
}

// SealPlainContacts seals the chats stored before they were sealed (and by
// a bot not yet upgraded) and empties their plain column. The bot does it
// when it starts; chats sealed with an older key are left alone, so that
// replicas started with different keys during a change of key do not seal
// the same rows back and forth.
func (s *Store) SealPlainContacts(ctx context.Context, actor string) (Sealed, error) {
	return s.sealContacts(ctx, actor, false)
}

// ResealContacts seals every stored chat with the current contact key: the
// plain ones and those sealed with an older key. Afterwards the older keys
// are no longer needed, unless some chats were Unreadable. It is audited.
func (s *Store) ResealContacts(ctx context.Context, actor string) (Sealed, error) {
	return s.sealContacts(ctx, actor, true)
}

// sealBatch is how many contacts are sealed per statement.
const sealBatch = 500

func (s *Store) sealContacts(ctx context.Context, actor string, oldKeys bool) (Sealed, error) {
	var done Sealed
	if s.contactKeys == nil {
		return done, fmt.Errorf("postgres: seal contacts: %w", errNoContactKeys)
	}
	// One pass in participant order, a batch at a time, so no lock is held
	// long; a row changed meanwhile is left as the change made it (sealed).
	after := ""
	for {
		rows, err := s.pool.Query(ctx, `
			SELECT participant_id, chat_id, chat_sealed FROM contacts
			WHERE participant_id > $1 AND (chat_id IS NOT NULL OR ($2 AND chat_sealed IS NOT NULL))
			ORDER BY participant_id LIMIT $3`, after, oldKeys, sealBatch)
		if err != nil {
			return done, fmt.Errorf("postgres: seal contacts: %w", err)
		}
		var pids []string
		var plains []*int64
		var olds, news [][]byte
		var pid string
		var plain *int64
		var old []byte
		n, err := pgx.ForEachRow(rows, []any{&pid, &plain, &old}, func() error {
			after = pid
			if plain == nil && s.contactKeys.Current(old) {
				return nil
			}
			chat, err := s.openChat(pid, plain, old)
			if err != nil {
				done.Unreadable++
				return nil
			}
			if plain != nil {
				done.Plain++
			} else {
				done.OldKeys++
			}
			pids, plains, olds = append(pids, pid), append(plains, plain), append(olds, old)
			news = append(news, s.contactKeys.SealChat(contactPlace, pid, chat))
			return nil
		})
		if err != nil {
			return done, fmt.Errorf("postgres: seal contacts: %w", err)
		}
		if len(pids) > 0 {
			if _, err := s.pool.Exec(ctx, `
				UPDATE contacts c SET chat_sealed = v.sealed, chat_id = NULL
				FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bytea[]) AS v(pid, plain, old, sealed)
				WHERE c.participant_id = v.pid
					AND c.chat_id IS NOT DISTINCT FROM v.plain AND c.chat_sealed IS NOT DISTINCT FROM v.old`,
				pids, plains, olds, news); err != nil {
				return done, fmt.Errorf("postgres: seal contacts: %w", err)
			}
		}
		if n.RowsAffected() < sealBatch {
			break
		}
	}
	if done == (Sealed{}) {
		return done, nil
	}
	audit, _ := json.Marshal(map[string]any{"key_id": s.contactKeys.KeyID(), "plain": done.Plain,
		"old_keys": done.OldKeys, "unreadable": done.Unreadable})
	if _, err := s.pool.Exec(ctx, `INSERT INTO audit_log (actor, action, after) VALUES ($1, 'contacts.seal', $2)`, actor, audit); err != nil {
		return done, fmt.Errorf("postgres: seal contacts audit: %w", err)
	}
	return done, nil
}
