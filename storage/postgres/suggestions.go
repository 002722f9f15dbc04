package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/jackc/pgx/v5"
)

// StoredIdea is a stored submission as read back from the database.
type StoredIdea struct {
	flows.Idea
	ID        int64
	Reference string
	CreatedAt time.Time
}

const (
	// shortReferenceAttempts 4-character references are tried before growing
	// to 5 characters; 32^4 ≈ 1M, so collisions only matter after many
	// thousands of suggestions.
	shortReferenceAttempts = 10
	// referenceAttempts bounds all retries so a bug cannot loop forever.
	referenceAttempts = 20
)

// Submit stores a finished submission and returns its reference (like
// "N-7K2Q"). It is idempotent on s.DraftID: when that draft is already stored,
// even by a concurrent call, it returns the existing reference and changes
// nothing. A zero SubmittedAt is stored as the database's current time. The
// participant is recorded as joined to the forum, as by RecordJoin.
// Submitting to a forum that does not exist returns an error wrapping
// ErrForumNotFound. Whether the forum is open is the caller's decision.
func (s *Store) Submit(ctx context.Context, sub flows.Idea) (reference string, err error) {
	if err := validateIdea(sub); err != nil {
		return "", fmt.Errorf("postgres: submit: %w", err)
	}
	for attempt := range referenceAttempts {
		n := 4
		if attempt >= shortReferenceAttempts {
			n = 5
		}
		ref, err := s.newReference(n)
		if err != nil {
			return "", fmt.Errorf("postgres: submit: %w", err)
		}
		ref, err = s.submitOnce(ctx, sub, ref)
		if isUniqueViolation(err, "suggestions_reference_key") {
			// Someone else holds this reference; the whole transaction was
			// rolled back, so simply try again with a fresh one.
			continue
		}
		if err != nil {
			return "", fmt.Errorf("postgres: submit: %w", err)
		}
		return ref, nil
	}
	return "", fmt.Errorf("postgres: submit: no free reference after %d attempts", referenceAttempts)
}

func (s *Store) submitOnce(ctx context.Context, sub flows.Idea, ref string) (string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("begin: %w", err)
	}
	// Rolls back unless committed; also undoes the participant upsert when
	// the draft turns out to be stored already.
	defer func() { _ = tx.Rollback(ctx) }()

	if err := upsertParticipant(ctx, tx, sub.ParticipantID, sub.Language); err != nil {
		return "", err
	}

	var submittedAt *time.Time
	if !sub.SubmittedAt.IsZero() {
		submittedAt = &sub.SubmittedAt
	}
	// ON CONFLICT (draft_id) waits for a concurrent transaction inserting the
	// same draft and then does nothing, so exactly one row wins. A clash on
	// the reference is not covered and surfaces as an error to retry.
	err = tx.QueryRow(ctx, `
		INSERT INTO suggestions (
			reference, draft_id, forum_id, participant_id, language, scope,
			works_well, improve, title, description, category, place_text,
			latitude, longitude, photo_file_id, wants_to_help, submitted_at, flagged, more, channel)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
			COALESCE($17, now()), $18, $19, $20)
		ON CONFLICT (draft_id) DO NOTHING
		RETURNING reference`,
		ref, sub.DraftID, sub.ForumID, sub.ParticipantID, sub.Language, sub.Scope,
		sub.WorksWell, sub.Improve, sub.Title, sub.Description, sub.Category, sub.PlaceText,
		sub.Latitude, sub.Longitude, sub.PhotoFileID, sub.WantsToHelp, submittedAt, sub.Flagged, moreAnswers(sub.More),
		ideaChannel(sub.Channel),
	).Scan(&ref)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// The draft is already stored. This statement sees rows committed
		// after the INSERT began (READ COMMITTED), including the winner of a race.
		var existing string
		err := tx.QueryRow(ctx, `SELECT reference FROM suggestions WHERE draft_id = $1`,
			sub.DraftID).Scan(&existing)
		if err != nil {
			return "", fmt.Errorf("find stored draft: %w", err)
		}
		return existing, nil
	case isForeignKeyViolation(err, "suggestions_forum_id_fkey"):
		return "", fmt.Errorf("forum %d: %w", sub.ForumID, ErrForumNotFound)
	case err != nil:
		return "", fmt.Errorf("insert suggestion: %w", err)
	}
	// A submitter always counts as joined, even if the join itself was never
	// recorded. After the suggestion, so an unknown forum is reported by its
	// foreign key above.
	if err := insertForumParticipant(ctx, tx, sub.ForumID, sub.ParticipantID); err != nil {
		return "", err
	}
	// How to reach the author, in the same transaction: an idea is never
	// stored without it (the student would never hear what became of it).
	if sub.ContactChat != 0 {
		if err := s.setContact(ctx, tx, sub.ParticipantID, sub.ContactChat); err != nil {
			return "", fmt.Errorf("store contact: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	return ref, nil
}

// validateIdea catches what the schema would reject, with a readable
// message instead of a constraint name.
func validateIdea(sub flows.Idea) error {
	switch {
	case sub.DraftID == "":
		return errors.New("draft id is required")
	case sub.ParticipantID == "":
		return errors.New("participant id is required")
	case strings.TrimSpace(sub.Title) == "":
		return errors.New("title is required")
	case sub.ForumID <= 0:
		return fmt.Errorf("invalid forum id %d", sub.ForumID)
	}
	if err := oneOf("scope", sub.Scope, flows.Scopes); err != nil {
		return err
	}
	if err := oneOf("channel", ideaChannel(sub.Channel), flows.Channels); err != nil {
		return err
	}
	if (sub.Latitude == nil) != (sub.Longitude == nil) {
		return errors.New("latitude and longitude must be set together")
	}
	if sub.Latitude != nil {
		lat, lon := *sub.Latitude, *sub.Longitude
		// The negated comparisons also reject NaN.
		if !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180) {
			return fmt.Errorf("location out of range: %v, %v", lat, lon)
		}
	}
	return nil
}

// moreAnswers is what the more column holds for answers: an object, never null.
func moreAnswers(more map[string]string) map[string]string {
	if more == nil {
		return map[string]string{}
	}
	return more
}

// ideaChannel is the channel stored for an idea that names channel: ""
// is Telegram's, as for the ideas stored before ideas had channels (and
// the column its default).
func ideaChannel(channel string) string {
	if channel == "" {
		return flows.ChannelTelegram
	}
	return channel
}

// ideaColumns matches scanIdea.
const ideaColumns = `
	id, reference, created_at, draft_id, coalesce(participant_id, ''), forum_id, language, scope,
	works_well, improve, title, description, category, place_text,
	latitude, longitude, photo_file_id, wants_to_help, submitted_at, flagged, more, channel`

func scanIdea(row pgx.CollectableRow) (StoredIdea, error) {
	var s StoredIdea
	err := row.Scan(
		&s.ID, &s.Reference, &s.CreatedAt, &s.DraftID, &s.ParticipantID, &s.ForumID,
		&s.Language, &s.Scope, &s.WorksWell, &s.Improve, &s.Title, &s.Description,
		&s.Category, &s.PlaceText, &s.Latitude, &s.Longitude, &s.PhotoFileID,
		&s.WantsToHelp, &s.SubmittedAt, &s.Flagged, &s.More, &s.Channel,
	)
	if len(s.More) == 0 {
		s.More = nil // as the idea had it
	}
	return s, err
}

// IdeaByReference finds a suggestion by its reference. found is false,
// with a nil error, when there is none.
func (s *Store) IdeaByReference(ctx context.Context, ref string) (StoredIdea, bool, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+ideaColumns+` FROM suggestions WHERE reference = $1`, ref)
	if err != nil {
		return StoredIdea{}, false, fmt.Errorf("postgres: suggestion by reference: %w", err)
	}
	sug, err := pgx.CollectExactlyOneRow(rows, scanIdea)
	if errors.Is(err, pgx.ErrNoRows) {
		return StoredIdea{}, false, nil
	}
	if err != nil {
		return StoredIdea{}, false, fmt.Errorf("postgres: suggestion by reference: %w", err)
	}
	return sug, true, nil
}

// IdeasSince counts the ideas a participant sent to a forum since a time,
// leaving out the one of draftID: the daily limit per student.
func (s *Store) IdeasSince(ctx context.Context, participantID string, forumID int64, since time.Time, draftID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM suggestions
		WHERE participant_id = $1 AND forum_id = $2 AND created_at >= $3 AND draft_id <> $4`,
		participantID, forumID, since, draftID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: ideas since: %w", err)
	}
	return n, nil
}
