package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
)

// The emotional map: the pins students mark (flows/pins.go), a forum's
// area and own feelings, the class's top places, staff checking the pins'
// comments, and the staff export.

// Audit actions written by this file.
const (
	ActionForumMap  = "forum.map"
	ActionPinReview = "pin.review"
)

// MaxMapRadiusKm is the largest area a forum may set: a town, not a region.
const MaxMapRadiusKm = 200

// placeCell is the side of the grid cells pins are grouped by for the top
// places, in degrees of latitude: about 167 m. A cell is as wide (in
// metres) as it is high: its side in degrees of longitude is divided by
// the cosine of its row's latitude, so cells stay square in Norway too.
// Two pins a few metres apart may still fall on either side of a cell's
// edge; the top places are a class's overview, not a survey.
const placeCell = 0.0015

// ownFeelings are the codes of a forum's own feelings, "own1" to "own3",
// by their position in Forum.Feelings.
var ownFeelings = func() []string {
	out := make([]string, flows.MaxOwnFeelings)
	for i := range out {
		out[i] = "own" + strconv.Itoa(i+1)
	}
	return out
}()

// feelingOrder is every feeling code in the order results show them: the
// standard feelings, then the forum's own.
var feelingOrder = slices.Concat(flows.Feelings, ownFeelings)

// ownFeelingNumber is n for "ownN", 0 for a standard feeling.
func ownFeelingNumber(feeling string) int {
	return slices.Index(ownFeelings, feeling) + 1
}

// feelingLabelSQL is the words of the pin p's own feeling from its forum
// f ("" for a standard feeling, or an own feeling the forum no longer has).
const feelingLabelSQL = `coalesce(CASE WHEN p.feeling LIKE 'own_'
	THEN f.map_feelings[substr(p.feeling, 4)::int] END, '')`

// SavePin stores a pin of the emotional map once per participant and
// DraftID however often asked, and returns how many pins the participant
// has in the pin's forum afterwards: asking again with a stored draft
// stores nothing and returns the same count. The participant is recorded
// (as by Submit) and as joined to the forum. An own feeling ("ownN") needs
// a forum with at least N feelings of its own. Place and comment are
// stored trimmed; "" is none. A zero CreatedAt is the database's current
// time. A forum that does not exist gives an error wrapping
// ErrForumNotFound; whether it is open is the caller's decision.
func (s *Store) SavePin(ctx context.Context, p flows.Pin) (count int, err error) {
	p, err = normalizePin(p)
	if err != nil {
		return 0, fmt.Errorf("postgres: save pin: %w", err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// FOR SHARE: the forum's own feelings cannot change until this pin
		// is committed.
		var own int
		err := tx.QueryRow(ctx, `SELECT cardinality(map_feelings) FROM forums WHERE id = $1 FOR SHARE`,
			p.ForumID).Scan(&own)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("forum %d: %w", p.ForumID, ErrForumNotFound)
		}
		if err != nil {
			return fmt.Errorf("read forum: %w", err)
		}
		if err := upsertParticipant(ctx, tx, p.ParticipantID, p.Language); err != nil {
			return err
		}
		// ON CONFLICT waits for a concurrent transaction inserting the same
		// draft and then does nothing, so exactly one row wins.
		tag, err := tx.Exec(ctx, `
			INSERT INTO pins (participant_id, forum_id, draft_id, latitude, longitude, place_text,
				feeling, comment, language, age_band, flagged, created_at)
			VALUES ($1, $2, $3, $4, $5, nullif($6, ''), $7, nullif($8, ''), $9, nullif($10, ''), $11,
				COALESCE($12, now()))
			ON CONFLICT (participant_id, draft_id) DO NOTHING`,
			p.ParticipantID, p.ForumID, p.DraftID, p.Lat, p.Lon, p.PlaceText,
			p.Feeling, p.Comment, p.Language, p.AgeBand, p.Flagged, zeroAsNull(p.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert pin: %w", err)
		}
		// Checked for a new pin only, so that a stored one is still found
		// after the forum dropped its feeling.
		if n := ownFeelingNumber(p.Feeling); tag.RowsAffected() > 0 && n > own {
			return fmt.Errorf("feeling %s: the forum has %d feelings of its own", p.Feeling, own)
		}
		if err := insertForumParticipant(ctx, tx, p.ForumID, p.ParticipantID); err != nil {
			return err
		}
		// Sees the rows committed before it began (READ COMMITTED),
		// including the winner of a race for the same draft.
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM pins WHERE participant_id = $1 AND forum_id = $2`,
			p.ParticipantID, p.ForumID).Scan(&count); err != nil {
			return fmt.Errorf("count pins: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: save pin: %w", err)
	}
	return count, nil
}

// normalizePin catches what the schema would reject, with a readable
// message instead of a constraint name, and trims the texts.
func normalizePin(p flows.Pin) (flows.Pin, error) {
	switch {
	case p.DraftID == "":
		return p, errors.New("draft id is required")
	case p.ParticipantID == "":
		return p, errors.New("participant id is required")
	case p.ForumID <= 0:
		return p, fmt.Errorf("invalid forum id %d", p.ForumID)
	}
	if err := oneOf("language", p.Language, flows.Languages); err != nil {
		return p, err
	}
	if p.AgeBand != "" {
		if err := oneOf("age band", p.AgeBand, flows.AgeBands); err != nil {
			return p, err
		}
	}
	if err := oneOf("feeling", p.Feeling, feelingOrder); err != nil {
		return p, err
	}
	if (p.Lat == nil) != (p.Lon == nil) {
		return p, errors.New("latitude and longitude must be set together")
	}
	if p.Lat != nil {
		if err := checkLocation(*p.Lat, *p.Lon); err != nil {
			return p, err
		}
	}
	p.PlaceText, p.Comment = strings.TrimSpace(p.PlaceText), strings.TrimSpace(p.Comment)
	if p.Lat == nil && p.PlaceText == "" {
		return p, errors.New("a pin needs a place: on the map or typed")
	}
	if n := utf8.RuneCountInString(p.PlaceText); n > flows.MaxPinPlace {
		return p, fmt.Errorf("the place has %d characters, at most %d allowed", n, flows.MaxPinPlace)
	}
	if n := utf8.RuneCountInString(p.Comment); n > flows.MaxPinComment {
		return p, fmt.Errorf("the comment has %d characters, at most %d allowed", n, flows.MaxPinComment)
	}
	return p, nil
}

// checkLocation accepts a place on Earth, but not 0, 0: what a device
// sends when it knows no place, and no town of ours.
func checkLocation(lat, lon float64) error {
	// The negated comparisons also reject NaN (and the ranges infinities).
	if !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180) {
		return fmt.Errorf("location out of range: %v, %v", lat, lon)
	}
	if lat == 0 && lon == 0 {
		return errors.New("location 0, 0 is no place")
	}
	return nil
}

// SetForumMap sets the emotional map of the forum with join code code:
// its area (nil: as it is; a zero radius: none), and its own feelings
// (nil: as they are; empty: none), trimmed, at most flows.MaxOwnFeelings
// of at most flows.MaxOwnFeeling characters each, none empty or repeated.
// The change is audited (actor: a participant id or CLIActor). Pins keep
// their own feeling's number, so rewording a feeling rewords their label,
// and a pin of a feeling the forum no longer has is exported with its code
// alone and left out of the top places. An unknown forum gives an error
// wrapping ErrForumNotFound.
func (s *Store) SetForumMap(ctx context.Context, code string, area *flows.MapArea, feelings []string, actor string) error {
	if err := s.setForumMap(ctx, code, area, feelings, actor); err != nil {
		return fmt.Errorf("postgres: set forum map: %w", err)
	}
	return nil
}

func (s *Store) setForumMap(ctx context.Context, code string, area *flows.MapArea, feelings []string, actor string) error {
	if strings.TrimSpace(actor) == "" {
		return errors.New("actor is required")
	}
	audit := map[string]any{}
	var lat, lon, radius *float64
	if area != nil {
		audit["area"] = nil
		if area.RadiusKm != 0 {
			if !(area.RadiusKm > 0 && area.RadiusKm <= MaxMapRadiusKm) {
				return fmt.Errorf("the radius must be more than 0 and at most %d km, not %v", MaxMapRadiusKm, area.RadiusKm)
			}
			if err := checkLocation(area.Lat, area.Lon); err != nil {
				return fmt.Errorf("centre: %w", err)
			}
			lat, lon, radius = &area.Lat, &area.Lon, &area.RadiusKm
			audit["area"] = map[string]float64{"lat": area.Lat, "lon": area.Lon, "radius_km": area.RadiusKm}
		}
	}
	var newFeelings any // NULL: as they are
	if feelings != nil {
		clean, err := normalizeOwnFeelings(feelings)
		if err != nil {
			return err
		}
		newFeelings, audit["feelings"] = clean, clean
	}
	if !validJoinCode(code) {
		return ErrForumNotFound
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		id, _, err := lockForum(ctx, tx, code)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE forums SET
				map_lat = CASE WHEN $2 THEN $3::float8 ELSE map_lat END,
				map_lon = CASE WHEN $2 THEN $4::float8 ELSE map_lon END,
				map_radius_km = CASE WHEN $2 THEN $5::float8 ELSE map_radius_km END,
				map_feelings = COALESCE($6::text[], map_feelings)
			WHERE id = $1`,
			id, area != nil, lat, lon, radius, newFeelings); err != nil {
			return fmt.Errorf("update forum: %w", err)
		}
		return auditTx(ctx, tx, actor, ActionForumMap, code, audit)
	})
}

// normalizeOwnFeelings trims a forum's own feelings and checks them.
func normalizeOwnFeelings(feelings []string) ([]string, error) {
	if len(feelings) > flows.MaxOwnFeelings {
		return nil, fmt.Errorf("%d own feelings, at most %d allowed", len(feelings), flows.MaxOwnFeelings)
	}
	clean := make([]string, 0, len(feelings))
	for _, f := range feelings {
		f = strings.TrimSpace(f)
		switch n := utf8.RuneCountInString(f); {
		case n == 0:
			return nil, errors.New("an own feeling cannot be empty")
		case n > flows.MaxOwnFeeling:
			return nil, fmt.Errorf("own feeling %q has %d characters, at most %d allowed", f, n, flows.MaxOwnFeeling)
		case slices.Contains(clean, f):
			return nil, fmt.Errorf("own feeling %q is given twice", f)
		}
		clean = append(clean, f)
	}
	return clean, nil
}

// TopPlaces are the places where a forum's visible pins of each feeling
// gather, at most perFeeling of each feeling, most pins first (ties: the
// place marked first), the feelings in the order of flows.Feelings and
// then own1 to own3. Pins on the map are grouped by a grid of about 150 m
// (placeCell), typed places by their text in any case and spacing. A
// place's Label is the text most often typed for it ("" when it was only
// pinned), and Lat and Lon the mean of its pins (nil when it was only
// typed). Pins of an own feeling the forum no longer has are left out. A
// forum that does not exist gives an error wrapping ErrForumNotFound.
func (s *Store) TopPlaces(ctx context.Context, forumID int64, perFeeling int) ([]flows.TopPlace, error) {
	if perFeeling < 1 {
		return nil, fmt.Errorf("postgres: top places: perFeeling must be at least 1, not %d", perFeeling)
	}
	rows, err := s.pool.Query(ctx, `
		WITH visible AS (
			SELECT p.id, p.feeling, p.latitude, p.longitude, btrim(p.place_text) AS typed,
				CASE WHEN p.latitude IS NULL THEN 't:' || lower(btrim(p.place_text))
				ELSE 'g:' || c.lat_cell || ':' || round(p.longitude * cos(radians(c.lat_cell * $3::float8)) / $3::float8)::bigint
				END AS place
			FROM pins p
			JOIN forums f ON f.id = p.forum_id
			CROSS JOIN LATERAL (SELECT round(p.latitude / $3::float8)::bigint AS lat_cell) c
			WHERE p.forum_id = $1 AND p.hidden_at IS NULL
				AND array_position($2::text[], p.feeling) <= $4 + cardinality(f.map_feelings)
		), places AS (
			SELECT feeling, count(*) AS pins,
				mode() WITHIN GROUP (ORDER BY typed) AS label,
				avg(latitude) AS lat, avg(longitude) AS lon,
				row_number() OVER (PARTITION BY feeling ORDER BY count(*) DESC, min(id)) AS rank
			FROM visible
			GROUP BY feeling, place
		)
		SELECT feeling, coalesce(label, ''), lat, lon, pins
		FROM places
		WHERE rank <= $5
		ORDER BY array_position($2::text[], feeling), rank`,
		forumID, feelingOrder, placeCell, len(flows.Feelings), perFeeling)
	if err != nil {
		return nil, fmt.Errorf("postgres: top places: %w", err)
	}
	places, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (flows.TopPlace, error) {
		var t flows.TopPlace
		err := r.Scan(&t.Feeling, &t.Label, &t.Lat, &t.Lon, &t.Pins)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: top places: %w", err)
	}
	if len(places) == 0 {
		if _, found, err := s.ForumByID(ctx, forumID); err != nil {
			return nil, fmt.Errorf("postgres: top places: %w", err)
		} else if !found {
			return nil, fmt.Errorf("postgres: top places: forum %d: %w", forumID, ErrForumNotFound)
		}
	}
	return places, nil
}

// NextPinForReview is the pin comment staff should check next: one no
// staff member has checked, possibly offensive ones first, then the
// oldest, passing over the pins skip (those passed over in this round).
// Pins without a comment need no check. found is false, with a nil error,
// when there is none.
func (s *Store) NextPinForReview(ctx context.Context, skip []int64) (pin flows.PinReview, found bool, err error) {
	if skip == nil {
		skip = []int64{}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT p.id, f.name, p.feeling, `+feelingLabelSQL+`, coalesce(p.place_text, ''), p.comment, p.flagged
		FROM pins p JOIN forums f ON f.id = p.forum_id
		WHERE p.reviewed_at IS NULL AND p.comment IS NOT NULL AND NOT (p.id = ANY($1))
		ORDER BY p.flagged DESC, p.id
		LIMIT 1`, skip)
	if err != nil {
		return flows.PinReview{}, false, fmt.Errorf("postgres: next pin for review: %w", err)
	}
	pin, err = pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) (flows.PinReview, error) {
		var p flows.PinReview
		err := r.Scan(&p.ID, &p.Forum, &p.Feeling, &p.FeelingLabel, &p.PlaceText, &p.Comment, &p.Flagged)
		return p, err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return flows.PinReview{}, false, nil
	}
	if err != nil {
		return flows.PinReview{}, false, fmt.Errorf("postgres: next pin for review: %w", err)
	}
	return pin, true, nil
}

// pinReviewState is a pin as the audit log keeps its review.
type pinReviewState struct {
	Reviewed bool `json:"reviewed"`
	Hidden   bool `json:"hidden"`
}

// ReviewPin records that staff checked the comment of pin id: the pin is
// hidden (out of the top places and the teacher's map, exported only on
// request) or, if it was hidden, shown again. Hiding a hidden pin keeps
// when it was first hidden. The change and its audit row (target
// "pin:<id>", actor a participant id or CLIActor) are one transaction.
// found is false, with a nil error, when there is no such pin.
func (s *Store) ReviewPin(ctx context.Context, id int64, hide bool, actor string) (found bool, err error) {
	if strings.TrimSpace(actor) == "" {
		return false, errors.New("postgres: review pin: actor is required")
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// FOR UPDATE: a concurrent review waits, so "before" in the audit
		// log is really what this one replaced.
		var before pinReviewState
		err := tx.QueryRow(ctx, `SELECT reviewed_at IS NOT NULL, hidden_at IS NOT NULL FROM pins WHERE id = $1 FOR UPDATE`,
			id).Scan(&before.Reviewed, &before.Hidden)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read pin %d: %w", id, err)
		}
		found = true
		if _, err := tx.Exec(ctx, `
			UPDATE pins SET reviewed_at = now(),
				hidden_at = CASE WHEN $2 THEN coalesce(hidden_at, now()) END
			WHERE id = $1`, id, hide); err != nil {
			return fmt.Errorf("update pin %d: %w", id, err)
		}
		beforeJSON, err := json.Marshal(before)
		if err != nil {
			return err
		}
		afterJSON, err := json.Marshal(pinReviewState{Reviewed: true, Hidden: hide})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_log (actor, action, target, before, after) VALUES ($1, $2, $3, $4, $5)`,
			actor, ActionPinReview, "pin:"+strconv.FormatInt(id, 10), beforeJSON, afterJSON); err != nil {
			return fmt.Errorf("audit pin %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: review pin: %w", err)
	}
	return found, nil
}

// ExportPins calls each with every pin matching f, in the order they were
// stored (by id), as ExportIdeas does with ideas: streamed, an error from
// each stops the export and is returned wrapped, and a ForumCode that names
// no forum gives an error wrapping ErrForumNotFound. The ideas' Status and
// Category do not apply to pins. Hidden pins are exported only with
// f.IncludeHidden, marked Hidden. Nothing about the student but their age
// band is read: no pseudonym, no draft id.
func (s *Store) ExportPins(ctx context.Context, f ExportFilter, each func(export.PinRow) error) error {
	f.Status, f.Category = "", ""
	w, err := s.exportWhere(ctx, f, "p", `p.hidden_at IS NULL`)
	if err != nil {
		return fmt.Errorf("postgres: export pins: %w", err)
	}
	cond, args := w.sql(), w.args
	// The columns are listed one by one (no p.*) so nothing identifying can
	// slip into an export when columns are added to the table later.
	rows, err := s.pool.Query(ctx, `
		SELECT p.id, f.name, f.join_code, f.town, p.created_at, p.latitude, p.longitude,
			coalesce(p.place_text, ''), p.feeling, `+feelingLabelSQL+`, coalesce(p.comment, ''),
			coalesce(p.age_band, ''), p.language, p.flagged, p.hidden_at IS NOT NULL
		FROM pins p
		JOIN forums f ON f.id = p.forum_id
		`+cond+`
		ORDER BY p.id`, args...)
	if err != nil {
		return fmt.Errorf("postgres: export pins: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r export.PinRow
		if err := rows.Scan(&r.ID, &r.Forum, &r.ForumCode, &r.Town, &r.Date, &r.Latitude, &r.Longitude,
			&r.PlaceText, &r.Feeling, &r.FeelingLabel, &r.Comment,
			&r.AgeBand, &r.Language, &r.Flagged, &r.Hidden); err != nil {
			return fmt.Errorf("postgres: export pins: %w", err)
		}
		if err := each(r); err != nil {
			return fmt.Errorf("postgres: export pins: pin %d: %w", r.ID, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: export pins: %w", err)
	}
	return nil
}
