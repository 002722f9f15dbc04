package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthycities/napad/flows"
	"github.com/jackc/pgx/v5"
)

// joinCodeAttempts bounds retries on a join code collision, which with 96
// random bits should never happen; the bound only keeps a bug from looping.
// Codes with the reserved invite prefix (1 in 4096) also use up an attempt.
// A short code's collision does too: with 40 bits and even 100,000 forums,
// one in 11 million attempts collides, so five in a row never do.
const joinCodeAttempts = 5

// maxForumNameLen is in characters; longer names do not fit the bot's messages.
const maxForumNameLen = 200

// forumColumns matches scanForum.
const forumColumns = `id, join_code, short_code, name, school, town, scope, languages, closes_at, owner_id,
	phase, reopens_to, vote_opens_at, vote_closes_at, shortlist_size, votes_per_participant,
	COALESCE(previous_forum_id, 0), map_lat, map_lon, map_radius_km, map_feelings, qr_choice`

func scanForum(row pgx.CollectableRow) (flows.Forum, error) {
	var f flows.Forum
	var closesAt, voteOpensAt, voteClosesAt *time.Time
	var ownerID, reopensTo *string
	var mapLat, mapLon, mapRadius *float64
	err := row.Scan(&f.ID, &f.Code, &f.ShortCode, &f.Name, &f.School, &f.Town,
		&f.Scope, &f.Languages, &closesAt, &ownerID,
		&f.Phase, &reopensTo, &voteOpensAt, &voteClosesAt, &f.ShortlistSize, &f.VotesPerParticipant,
		&f.PreviousID, &mapLat, &mapLon, &mapRadius, &f.Feelings, &f.QRChoice)
	if mapLat != nil && mapLon != nil && mapRadius != nil { // all or none, by forums_map_area_check
		f.Area = flows.MapArea{Lat: *mapLat, Lon: *mapLon, RadiusKm: *mapRadius}
	}
	if len(f.Feelings) == 0 {
		f.Feelings = nil // none, as a forum made in Go has them
	}
	f.ClosesAt, f.VoteOpensAt, f.VoteClosesAt = timeOrZero(closesAt), timeOrZero(voteOpensAt), timeOrZero(voteClosesAt)
	if ownerID != nil {
		f.OwnerID = *ownerID
	}
	if reopensTo != nil {
		f.ReopensTo = *reopensTo
	}
	return f, err
}

// timeOrZero is a nullable timestamp as Go keeps it: NULL is the zero time.
func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// zeroAsNull is the reverse of timeOrZero.
func zeroAsNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// CreateForum stores a new open forum with a fresh random join code and
// returns it as stored. Zero values in spec mean defaults: scope "both" and
// all languages; the languages are stored deduplicated in the order of
// flows.Languages. closesAt is when the forum closes (zero: never), that is
// spec.ClosesOn resolved in the city's time zone, which only the caller
// knows; spec.ClosesOn itself is not read. ownerID is the participant id of
// the teacher creating it, "" from the CLI. A spec with a Key is created once
// per owner and key: calling again returns the forum the first call created.
// spec.Previous makes it follow last year's forum (see SetPreviousForum).
func (s *Store) CreateForum(ctx context.Context, spec flows.ForumSpec, ownerID string, closesAt time.Time) (flows.Forum, error) {
	spec, err := normalizeForumSpec(spec)
	if err != nil {
		return flows.Forum{}, fmt.Errorf("postgres: create forum: %w", err)
	}
	// NULL rather than zero values, so "no closing date" and "no owner" are
	// plain SQL (closes_at IS NULL) and never a year-1 timestamp.
	closes := zeroAsNull(closesAt)
	var owner, creationKey *string
	if ownerID != "" {
		owner = &ownerID
	}
	if spec.Key != "" {
		key := ownerID + ":" + spec.Key // set-up tags are unique per teacher only
		creationKey = &key
		if f, found, err := s.forumWhere(ctx, "creation_key = $1", key); err != nil || found {
			return f, err
		}
	}
	var previous *int64
	if spec.Previous != "" { // a new forum is in no cycle yet: only the town can be wrong
		if previous, err = checkPrevious(ctx, s.pool, 0, spec.Town, spec.Previous); err != nil {
			return flows.Forum{}, fmt.Errorf("postgres: create forum: %w", err)
		}
	}
	for range joinCodeAttempts {
		code, err := s.newCode()
		if err != nil {
			return flows.Forum{}, fmt.Errorf("postgres: create forum: %w", err)
		}
		if strings.HasPrefix(code, flows.InvitePrefix) { // an invite link's parameter
			continue
		}
		short, err := s.newShortCode()
		if err != nil {
			return flows.Forum{}, fmt.Errorf("postgres: create forum: %w", err)
		}
		rows, err := s.pool.Query(ctx, `
			INSERT INTO forums (join_code, short_code, name, school, town, scope, languages, closes_at, owner_id, creation_key, previous_forum_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			RETURNING `+forumColumns,
			code, short, spec.Name, spec.School, spec.Town, spec.Scope, spec.Languages, closes, owner, creationKey, previous,
		)
		if err != nil {
			return flows.Forum{}, fmt.Errorf("postgres: create forum: %w", err)
		}
		f, err := pgx.CollectExactlyOneRow(rows, scanForum)
		if isUniqueViolation(err, "forums_join_code_key") || isUniqueViolation(err, "forums_short_code_key") {
			continue
		}
		if isUniqueViolation(err, "forums_creation_key_key") { // created meanwhile by the same request
			f, _, err := s.forumWhere(ctx, "creation_key = $1", *creationKey)
			return f, err
		}
		if err != nil {
			return flows.Forum{}, fmt.Errorf("postgres: create forum: %w", err)
		}
		return f, nil
	}
	return flows.Forum{}, fmt.Errorf("postgres: create forum: no usable join code after %d attempts", joinCodeAttempts)
}

// normalizeForumSpec validates spec and fills in its defaults.
func normalizeForumSpec(spec flows.ForumSpec) (flows.ForumSpec, error) {
	if strings.TrimSpace(spec.Name) == "" {
		return spec, errors.New("name is required")
	}
	if n := utf8.RuneCountInString(spec.Name); n > maxForumNameLen {
		return spec, fmt.Errorf("name has %d characters, at most %d allowed", n, maxForumNameLen)
	}
	if spec.Scope == "" {
		spec.Scope = flows.ScopeBoth
	}
	if err := oneOf("scope", spec.Scope, flows.Scopes); err != nil {
		return spec, err
	}
	langs, err := canonicalLanguages(spec.Languages)
	if err != nil {
		return spec, err
	}
	spec.Languages = langs
	return spec, nil
}

// canonicalLanguages returns langs deduplicated in canonical order, or all
// languages when langs is empty. The order is fixed so the bot's language
// buttons do not depend on how a teacher happened to tick them.
func canonicalLanguages(langs []string) ([]string, error) {
	if len(langs) == 0 {
		return slices.Clone(flows.Languages), nil
	}
	for _, l := range langs {
		if err := oneOf("language", l, flows.Languages); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, l := range flows.Languages {
		if slices.Contains(langs, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

// ForumByCode finds a forum by its join code. found is false, with a nil
// error, when there is no such forum. Codes that cannot be join codes are
// reported as not found without asking the database, since they come
// straight from untrusted /start payloads.
func (s *Store) ForumByCode(ctx context.Context, code string) (forum flows.Forum, found bool, err error) {
	if !validJoinCode(code) {
		return flows.Forum{}, false, nil
	}
	forum, found, err = s.forumWhere(ctx, `join_code = $1`, code)
	if err != nil {
		return flows.Forum{}, false, fmt.Errorf("postgres: forum by code: %w", err)
	}
	return forum, found, nil
}

// ForumByShortCode finds a forum by its short join code as someone typed
// it (see flows.NormalJoinCode: any case, dashes and spaces, O for 0, I or
// L for 1). found is false, with a nil error, when there is no such forum;
// typed text that cannot be a code is not looked up.
func (s *Store) ForumByShortCode(ctx context.Context, typed string) (forum flows.Forum, found bool, err error) {
	code, ok := flows.NormalJoinCode(typed)
	if !ok {
		return flows.Forum{}, false, nil
	}
	forum, found, err = s.forumWhere(ctx, `short_code = $1`, code)
	if err != nil {
		return flows.Forum{}, false, fmt.Errorf("postgres: forum by short code: %w", err)
	}
	return forum, found, nil
}

// ForumByID finds a forum by its id. found is false, with a nil error, when
// there is no such forum.
func (s *Store) ForumByID(ctx context.Context, id int64) (forum flows.Forum, found bool, err error) {
	if id <= 0 {
		return flows.Forum{}, false, nil
	}
	forum, found, err = s.forumWhere(ctx, `id = $1`, id)
	if err != nil {
		return flows.Forum{}, false, fmt.Errorf("postgres: forum by id: %w", err)
	}
	return forum, found, nil
}

// forumWhere returns the one forum matching cond, a condition on a unique column.
func (s *Store) forumWhere(ctx context.Context, cond string, arg any) (flows.Forum, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+forumColumns+` FROM forums WHERE `+cond, arg)
	if err != nil {
		return flows.Forum{}, false, err
	}
	f, err := pgx.CollectExactlyOneRow(rows, scanForum)
	if errors.Is(err, pgx.ErrNoRows) {
		return flows.Forum{}, false, nil
	}
	if err != nil {
		return flows.Forum{}, false, err
	}
	return f, true, nil
}

// ForumsByOwner returns the forums a teacher created, newest first.
func (s *Store) ForumsByOwner(ctx context.Context, ownerID string) ([]flows.Forum, error) {
	// "" would mean "created from the CLI", which is no owner to list by.
	if ownerID == "" {
		return nil, errors.New("postgres: forums by owner: owner id is required")
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+forumColumns+` FROM forums
		WHERE owner_id = $1
		ORDER BY created_at DESC, id DESC`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("postgres: forums by owner: %w", err)
	}
	forums, err := pgx.CollectRows(rows, scanForum)
	if err != nil {
		return nil, fmt.Errorf("postgres: forums by owner: %w", err)
	}
	return forums, nil
}

// AllForums returns every forum, newest first, for city staff.
func (s *Store) AllForums(ctx context.Context) ([]flows.Forum, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+forumColumns+` FROM forums
		ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("postgres: all forums: %w", err)
	}
	forums, err := pgx.CollectRows(rows, scanForum)
	if err != nil {
		return nil, fmt.Errorf("postgres: all forums: %w", err)
	}
	return forums, nil
}

// SetForumOpen closes the forum with the given join code (from any phase),
// or reopens it into the phase it was closed from; closing a closed forum,
// or reopening an open one, changes nothing. It returns an error wrapping
// ErrForumNotFound when there is no such forum.
func (s *Store) SetForumOpen(ctx context.Context, code string, open bool) error {
	set := `phase = 'closed', reopens_to = CASE WHEN phase = 'closed' THEN reopens_to ELSE phase END`
	if open {
		set = `phase = COALESCE(reopens_to, phase), reopens_to = NULL`
	}
	return s.updateForum(ctx, "set forum open", code, set)
}

// SetForumClosesAt sets the closing date of the forum with the given join
// code; the zero time removes it. Whether a forum past its closing date still
// takes ideas is the caller's decision. It returns an error wrapping
// ErrForumNotFound when there is no such forum.
func (s *Store) SetForumClosesAt(ctx context.Context, code string, closesAt time.Time) error {
	return s.updateForum(ctx, "set forum closes at", code, `closes_at = $2`, zeroAsNull(closesAt))
}

// SetForumQRChoice sets whether the forum's QR code opens a page offering
// Telegram or the browser (true) or Telegram itself; an unknown code gives
// an error wrapping ErrForumNotFound.
func (s *Store) SetForumQRChoice(ctx context.Context, code string, choice bool) error {
	return s.updateForum(ctx, "set forum QR choice", code, `qr_choice = $2`, choice)
}

// updateForum runs "UPDATE forums SET <set> WHERE join_code = $1" with args as $2...
func (s *Store) updateForum(ctx context.Context, op, code, set string, args ...any) error {
	if !validJoinCode(code) {
		return fmt.Errorf("postgres: %s: %w", op, ErrForumNotFound)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE forums SET `+set+` WHERE join_code = $1`, append([]any{code}, args...)...)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s: %w", op, ErrForumNotFound)
	}
	return nil
}

// RecordJoin notes that a participant opened a forum's join link, so the
// teacher can see who joined but has not sent anything yet, and keeps their
// chat (sealed, as for an idea) so that they can be told what happens in
// the forum (a broadcast) before they send any idea; chat 0 keeps none (they
// said /stop). Joining again changes nothing but the participant's language
// and chat. A forum that does not exist gives an error wrapping
// ErrForumNotFound.
func (s *Store) RecordJoin(ctx context.Context, forumID int64, participantID, language string, chat int64) error {
	switch {
	case forumID <= 0:
		return fmt.Errorf("postgres: record join: invalid forum id %d", forumID)
	case participantID == "":
		return errors.New("postgres: record join: participant id is required")
	}
	if err := oneOf("language", language, flows.Languages); err != nil {
		return fmt.Errorf("postgres: record join: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: record join: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	if err := upsertParticipant(ctx, tx, participantID, language); err != nil {
		return fmt.Errorf("postgres: record join: %w", err)
	}
	err = insertForumParticipant(ctx, tx, forumID, participantID)
	if isForeignKeyViolation(err, "forum_participants_forum_id_fkey") {
		return fmt.Errorf("postgres: record join: forum %d: %w", forumID, ErrForumNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: record join: %w", err)
	}
	if chat != 0 {
		if err := s.setContact(ctx, tx, participantID, chat); err != nil {
			return fmt.Errorf("postgres: record join: contact: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: record join: commit: %w", err)
	}
	return nil
}

// upsertParticipant creates the participant or updates their language.
func upsertParticipant(ctx context.Context, tx pgx.Tx, participantID, language string) error {
	if _, err := tx.Exec(ctx, `
		INSERT INTO participants (id, language)
		VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE
		SET language = EXCLUDED.language, updated_at = now()`,
		participantID, language,
	); err != nil {
		return fmt.Errorf("upsert participant: %w", err)
	}
	return nil
}

// insertForumParticipant records a join; the first one keeps its time.
func insertForumParticipant(ctx context.Context, tx pgx.Tx, forumID int64, participantID string) error {
	if _, err := tx.Exec(ctx, `
		INSERT INTO forum_participants (forum_id, participant_id)
		VALUES ($1, $2)
		ON CONFLICT (forum_id, participant_id) DO NOTHING`,
		forumID, participantID,
	); err != nil {
		return fmt.Errorf("insert forum participant: %w", err)
	}
	return nil
}

// ForumStats counts how far the forum's students got, and the places they
// marked on the emotional map (all of them, hidden or not). A forum that
// does not exist gives an error wrapping ErrForumNotFound.
func (s *Store) ForumStats(ctx context.Context, forumID int64) (flows.ForumStats, error) {
	var exists bool
	var stats flows.ForumStats
	var last *time.Time
	// One statement, so the counts come from a single snapshot and cannot
	// disagree with each other.
	err := s.pool.QueryRow(ctx, `
		SELECT
			EXISTS (SELECT 1 FROM forums WHERE id = $1),
			(SELECT count(*) FROM forum_participants WHERE forum_id = $1),
			(SELECT count(DISTINCT participant_id) FROM votes WHERE forum_id = $1),
			-- Every pin, hidden or not: it counts taking part, not what is shown.
			(SELECT count(*) FROM pins WHERE forum_id = $1),
			count(DISTINCT participant_id),
			max(created_at)
		FROM suggestions
		WHERE forum_id = $1`,
		forumID,
	).Scan(&exists, &stats.Joined, &stats.Voted, &stats.Pins, &stats.Submitted, &last)
	if err != nil {
		return flows.ForumStats{}, fmt.Errorf("postgres: forum stats: %w", err)
	}
	if !exists {
		return flows.ForumStats{}, fmt.Errorf("postgres: forum stats: forum %d: %w", forumID, ErrForumNotFound)
	}
	// Submit records a join too, so submitters are a subset of the joined;
	// max only guards against rows written around the store.
	stats.InProgress = max(stats.Joined-stats.Submitted, 0)
	if last != nil {
		stats.LastIdea = *last
	}
	return stats, nil
}
