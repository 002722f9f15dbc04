package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/healthycities/napad/flows"
	"github.com/jackc/pgx/v5"
)

// refused is a refusal of a shortlist change, for errors.As.
func refused(reason, ref string) error { return &flows.ShortlistError{Reason: reason, Ref: ref} }

// ShortlistCandidates are the forum's visible ideas, oldest first, each with
// how many ideas staff marked as its duplicates and the item carrying it.
// Hidden ideas are never candidates.
func (s *Store) ShortlistCandidates(ctx context.Context, forumID int64) ([]flows.ShortlistCandidate, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT s.reference, s.title, s.category, s.place_text, s.latitude IS NOT NULL, s.language,
			(SELECT count(*) FROM suggestions d WHERE d.duplicate_of = s.reference AND d.hidden_reason IS NULL),
			COALESCE(m.item_id, 0)
		FROM suggestions s
		LEFT JOIN shortlist_members m ON m.suggestion_id = s.id
		WHERE s.forum_id = $1 AND s.hidden_reason IS NULL
		ORDER BY s.created_at, s.id`, forumID)
	if err != nil {
		return nil, fmt.Errorf("postgres: shortlist candidates: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (flows.ShortlistCandidate, error) {
		var c flows.ShortlistCandidate
		return c, r.Scan(&c.Ref, &c.Title, &c.Category, &c.Place, &c.Pinned, &c.Language, &c.Similar, &c.ItemID)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: shortlist candidates: %w", err)
	}
	return list, nil
}

// Shortlist is the forum's shortlist in order, each item with the
// references of the ideas it carries.
func (s *Store) Shortlist(ctx context.Context, forumID int64) ([]flows.ShortlistItem, error) {
	return shortlist(ctx, s.pool, forumID)
}

func shortlist(ctx context.Context, q queryer, forumID int64) ([]flows.ShortlistItem, error) {
	rows, err := q.Query(ctx, `
		SELECT i.id, i.position, i.texts, i.language, COALESCE(i.answer_status, ''), i.answers,
			COALESCE(array_agg(s.reference ORDER BY s.reference) FILTER (WHERE s.id IS NOT NULL), '{}')
		FROM shortlist_items i
		LEFT JOIN shortlist_members m ON m.item_id = i.id
		LEFT JOIN suggestions s ON s.id = m.suggestion_id
		WHERE i.forum_id = $1
		GROUP BY i.id
		ORDER BY i.position`, forumID)
	if err != nil {
		return nil, fmt.Errorf("postgres: shortlist: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (flows.ShortlistItem, error) {
		var it flows.ShortlistItem
		var texts, answers []byte
		if err := r.Scan(&it.ID, &it.Position, &texts, &it.Language, &it.AnswerStatus, &answers, &it.Ideas); err != nil {
			return it, err
		}
		return it, errors.Join(json.Unmarshal(texts, &it.Texts), json.Unmarshal(answers, &it.Answers))
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: shortlist: %w", err)
	}
	return items, nil
}

// queryer is a pool or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// lockShortlist locks the forum for a change of its shortlist (changes to
// one forum's shortlist, and its phase moves, wait for each other) and
// refuses the change once voting has begun.
func lockShortlist(ctx context.Context, tx pgx.Tx, forumID int64) (code string, size int, err error) {
	var phase string
	err = tx.QueryRow(ctx, `SELECT join_code, phase, shortlist_size FROM forums WHERE id = $1 FOR UPDATE`, forumID).Scan(&code, &phase, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, ErrForumNotFound
	}
	if err != nil {
		return "", 0, err
	}
	if !flows.ShortlistEditable(phase) {
		return "", 0, refused(flows.ShortlistFrozen, "")
	}
	return code, size, nil
}

// AddToShortlist makes one new shortlist item of the forum's ideas refs:
// one idea (text nil: the idea's own title and description, in its
// language) or several merged (text required: title and description in
// the words of staff or the teacher, in lang). Refused, with a
// *flows.ShortlistError: more items than the forum's shortlist size, an idea
// of another forum, a hidden idea, an idea in an item already, once voting
// has begun. Audited in the same transaction.
func (s *Store) AddToShortlist(ctx context.Context, forumID int64, refs []string, lang string, text *flows.ItemText, actor string) (flows.ShortlistItem, error) {
	var item flows.ShortlistItem
	refs = normalizeRefs(refs)
	switch {
	case len(refs) == 0:
		return item, errors.New("postgres: add to shortlist: no idea given")
	case len(refs) > 1 && text == nil:
		return item, fmt.Errorf("postgres: add to shortlist: %w", refused(flows.ShortlistNeedsTitle, ""))
	}
	if text != nil {
		if err := checkItemText(lang, *text); err != nil {
			return item, fmt.Errorf("postgres: add to shortlist: %w", err)
		}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		code, size, err := lockShortlist(ctx, tx, forumID)
		if err != nil {
			return err
		}
		var count, last int
		if err := tx.QueryRow(ctx, `SELECT count(*), COALESCE(max(position), 0) FROM shortlist_items WHERE forum_id = $1`, forumID).Scan(&count, &last); err != nil {
			return err
		}
		if count >= size {
			return refused(flows.ShortlistFull, "")
		}
		ids := make([]int64, len(refs))
		for i, ref := range refs {
			var ideaForum int64
			var hidden bool
			var taken bool
			var title, description, language string
			err := tx.QueryRow(ctx, `
				SELECT s.id, s.forum_id, s.hidden_reason IS NOT NULL, m.item_id IS NOT NULL, s.title, s.description, s.language
				FROM suggestions s LEFT JOIN shortlist_members m ON m.suggestion_id = s.id
				WHERE s.reference = $1 FOR UPDATE OF s`, ref).Scan(&ids[i], &ideaForum, &hidden, &taken, &title, &description, &language)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return refused(flows.ShortlistUnknown, ref)
			case err != nil:
				return err
			case ideaForum != forumID:
				return refused(flows.ShortlistOtherForum, ref)
			case hidden:
				return refused(flows.ShortlistHidden, ref)
			case taken:
				return refused(flows.ShortlistTaken, ref)
			}
			if text == nil { // one idea, in its author's words
				lang = language
				text = &flows.ItemText{Title: title, Description: truncate(description, flows.MaxItemDescription)}
			}
		}
		texts, err := json.Marshal(map[string]flows.ItemText{lang: *text})
		if err != nil {
			return err
		}
		item = flows.ShortlistItem{Position: last + 1, Texts: map[string]flows.ItemText{lang: *text}, Language: lang, Ideas: refs}
		if err := tx.QueryRow(ctx, `INSERT INTO shortlist_items (forum_id, position, texts, language) VALUES ($1, $2, $3, $4) RETURNING id`,
			forumID, item.Position, texts, lang).Scan(&item.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO shortlist_members (item_id, suggestion_id) SELECT $1, unnest($2::bigint[])`, item.ID, ids); err != nil {
			if isUniqueViolation(err, "shortlist_members_suggestion_id_key") { // taken meanwhile
				return refused(flows.ShortlistTaken, "")
			}
			return err
		}
		return auditTx(ctx, tx, actor, "shortlist.add", code, map[string]any{"item": item.ID, "ideas": refs, "texts": item.Texts})
	})
	if err != nil {
		return flows.ShortlistItem{}, fmt.Errorf("postgres: add to shortlist: %w", err)
	}
	return item, nil
}

// RemoveFromShortlist removes an item of the forum's shortlist (its ideas
// may go into another), and closes the gap in the positions. Refused once
// voting has begun.
func (s *Store) RemoveFromShortlist(ctx context.Context, forumID, itemID int64, actor string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		code, _, err := lockShortlist(ctx, tx, forumID)
		if err != nil {
			return err
		}
		var position int
		err = tx.QueryRow(ctx, `DELETE FROM shortlist_items WHERE id = $1 AND forum_id = $2 RETURNING position`, itemID, forumID).Scan(&position)
		if errors.Is(err, pgx.ErrNoRows) {
			return refused(flows.ShortlistUnknown, "")
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE shortlist_items SET position = position - 1 WHERE forum_id = $1 AND position > $2`, forumID, position); err != nil {
			return err
		}
		return auditTx(ctx, tx, actor, "shortlist.remove", code, map[string]any{"item": itemID})
	})
	if err != nil {
		return fmt.Errorf("postgres: remove from shortlist: %w", err)
	}
	return nil
}

// SetItemText writes an item's text in lang (a language the staff member or
// teacher wrote it in; replacing any text in lang). Refused once voting has
// begun: voters must see what they voted for.
func (s *Store) SetItemText(ctx context.Context, forumID, itemID int64, lang string, text flows.ItemText, actor string) error {
	if err := checkItemText(lang, text); err != nil {
		return fmt.Errorf("postgres: shortlist text: %w", err)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		code, _, err := lockShortlist(ctx, tx, forumID)
		if err != nil {
			return err
		}
		doc, err := json.Marshal(text)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE shortlist_items SET texts = jsonb_set(texts, ARRAY[$3::text], $4) WHERE id = $1 AND forum_id = $2`,
			itemID, forumID, lang, doc)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return refused(flows.ShortlistUnknown, "")
		}
		return auditTx(ctx, tx, actor, "shortlist.text", code, map[string]any{"item": itemID, "language": lang, "text": text})
	})
	if err != nil {
		return fmt.Errorf("postgres: shortlist text: %w", err)
	}
	return nil
}

func checkItemText(lang string, t flows.ItemText) error {
	switch {
	case !slices.Contains(flows.Languages, lang),
		utf8.RuneCountInString(t.Title) > flows.MaxItemTitle,
		utf8.RuneCountInString(t.Description) > flows.MaxItemDescription:
		return refused(flows.ShortlistBadText, "")
	case strings.TrimSpace(t.Title) == "":
		return refused(flows.ShortlistNeedsTitle, "")
	}
	return nil
}

// normalizeRefs are references as stored, each once, in the order given.
func normalizeRefs(refs []string) []string {
	var out []string
	for _, r := range refs {
		if r = NormalizeReference(r); r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// auditTx records a teacher's or staff member's action in tx, so the change
// and its audit row are committed together.
func auditTx(ctx context.Context, tx pgx.Tx, actor, action, target string, after any) error {
	doc, err := json.Marshal(after)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (actor, action, target, after) VALUES ($1, $2, $3, $4)`, actor, action, target, doc)
	return err
}
