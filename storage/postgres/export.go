package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/export"
)

// PseudonymLen is how many characters of the participant id an export
// shows: enough to tell a class's students apart and see who sent several
// ideas, while the export never carries a full id that other tables key on.
const PseudonymLen = 12

// ExportFilter chooses the ideas to export. Zero values do not restrict.
type ExportFilter struct {
	ForumCode string    // join code of one forum
	Town      string    // the forum's town, exactly as stored
	From, To  time.Time // received at or after From, and before To
	Status    string
	Category  string
	// IncludeHidden also exports ideas staff hid (abusive, off topic,
	// personal data); they are left out by default.
	IncludeHidden bool
}

// ExportIdeas calls each with every idea matching f, oldest first (by
// received time, then id, so the order is stable). It streams: rows are
// read from one query as each consumes them, never collected, so memory
// does not grow with the number of ideas. An error from each stops the
// export and is returned wrapped.
//
// Only what staff may see is selected: the student appears as a short
// pseudonym, and no Telegram id, chat id, photo file id or contact is read.
// A ForumCode that names no forum gives an error wrapping ErrForumNotFound,
// so a mistyped code is not mistaken for a forum without ideas.
func (s *Store) ExportIdeas(ctx context.Context, f ExportFilter, each func(export.Row) error) error {
	w, err := s.exportWhere(ctx, f, "s", `s.hidden_reason IS NULL`)
	if err != nil {
		return fmt.Errorf("postgres: export ideas: %w", err)
	}
	if f.Status != "" {
		w.add(`s.status = $%d`, f.Status)
	}
	if f.Category != "" {
		w.add(`s.category = $%d`, f.Category)
	}
	cond, args := w.sql(), w.args
	args = append(args, PseudonymLen)
	// The columns are listed one by one (no s.*) so nothing identifying can
	// slip into an export when columns are added to the table later.
	rows, err := s.pool.Query(ctx, `
		SELECT s.reference, f.name, f.school, f.town, s.created_at, s.language, s.scope,
			s.category, s.works_well, s.improve, s.title, s.description, s.place_text,
			s.latitude, s.longitude, s.photo_file_id <> '', s.wants_to_help, s.status,
			s.staff_answer, coalesce(left(s.participant_id, $`+fmt.Sprint(len(args))+`), ''), s.more,
			coalesce(s.hidden_reason, ''), s.channel
		FROM suggestions s
		JOIN forums f ON f.id = s.forum_id
		`+cond+`
		ORDER BY s.created_at, s.id`, args...)
	if err != nil {
		return fmt.Errorf("postgres: export ideas: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var r export.Row
		if err := rows.Scan(&r.Reference, &r.Forum, &r.School, &r.Town, &r.Date, &r.Language, &r.Scope,
			&r.Category, &r.WorksWell, &r.Improve, &r.Title, &r.Description, &r.PlaceText,
			&r.Latitude, &r.Longitude, &r.HasPhoto, &r.WantsToHelp, &r.Status,
			&r.StaffAnswer, &r.Participant, &r.More, &r.Hidden, &r.Channel); err != nil {
			return fmt.Errorf("postgres: export ideas: row %d: %w", n+1, err)
		}
		if len(r.More) == 0 {
			r.More = nil
		}
		if err := each(r); err != nil {
			return fmt.Errorf("postgres: export ideas: %s: %w", r.Reference, err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: export ideas: %w", err)
	}
	return nil
}

// exportWhere is the WHERE clause of an export from table t (its
// visible rows: visible) that f selects, once f is valid and its forum
// exists: a mistyped code is not mistaken for a forum with nothing in it.
func (s *Store) exportWhere(ctx context.Context, f ExportFilter, t, visible string) (*conditions, error) {
	if err := validateExportFilter(f); err != nil {
		return nil, err
	}
	if f.ForumCode != "" {
		var found bool
		if validJoinCode(f.ForumCode) {
			_, ok, err := s.forumWhere(ctx, `join_code = $1`, f.ForumCode)
			if err != nil {
				return nil, err
			}
			found = ok
		}
		if !found {
			return nil, fmt.Errorf("forum %q: %w", f.ForumCode, ErrForumNotFound)
		}
	}
	w := &conditions{}
	if !f.IncludeHidden {
		w.where = append(w.where, visible)
	}
	if f.ForumCode != "" {
		w.add(`f.join_code = $%d`, f.ForumCode)
	}
	if f.Town != "" {
		w.add(`f.town = $%d`, f.Town)
	}
	if !f.From.IsZero() {
		w.add(t+`.created_at >= $%d`, f.From)
	}
	if !f.To.IsZero() {
		w.add(t+`.created_at < $%d`, f.To)
	}
	return w, nil
}

// conditions are a WHERE clause's conditions and their arguments.
type conditions struct {
	where []string
	args  []any
}

// add adds cond, whose %d is the placeholder of arg.
func (c *conditions) add(cond string, arg any) {
	c.args = append(c.args, arg)
	c.where = append(c.where, fmt.Sprintf(cond, len(c.args)))
}

func (c *conditions) sql() string {
	if len(c.where) == 0 {
		return ""
	}
	return "WHERE " + strings.Join(c.where, " AND ")
}

// validateExportFilter rejects values that can match nothing, so a typo
// gives an error instead of an empty export that looks like "no ideas".
func validateExportFilter(f ExportFilter) error {
	if f.Status != "" {
		if err := oneOf("status", f.Status, flows.Statuses); err != nil {
			return err
		}
	}
	if f.Category != "" {
		if err := oneOf("category", f.Category, flows.Categories); err != nil {
			return err
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return errors.New("the start of the period must be before its end")
	}
	return nil
}

// ExportShortlists are the ranked shortlists, with their votes, of the
// forums f names (one forum, a town's, or all; the ideas' filters do not
// apply to a shortlist). Forums without a shortlist are left out. Votes are
// counted, never attributed: nothing about who voted is read.
func (s *Store) ExportShortlists(ctx context.Context, f ExportFilter) ([]export.ForumShortlist, error) {
	forums, err := s.AllForums(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: export shortlists: %w", err)
	}
	var out []export.ForumShortlist
	found := false
	for i := len(forums) - 1; i >= 0; i-- { // oldest first, like the ideas
		fo := forums[i]
		if (f.ForumCode != "" && fo.Code != f.ForumCode) || (f.Town != "" && fo.Town != f.Town) {
			continue
		}
		found = true
		results, err := s.Results(ctx, fo.ID)
		if err != nil {
			return nil, fmt.Errorf("postgres: export shortlists: forum %d: %w", fo.ID, err)
		}
		if len(results) == 0 {
			continue
		}
		sl := export.ForumShortlist{Forum: fo.Name, School: fo.School, Town: fo.Town, Phase: fo.Phase}
		for _, r := range results {
			sl.Items = append(sl.Items, export.ShortlistItem{Item: r.Item.Position, Rank: r.Rank, Votes: r.Votes, Texts: r.Item.Texts, Ideas: r.Item.Ideas})
		}
		out = append(out, sl)
	}
	if f.ForumCode != "" && !found {
		return nil, fmt.Errorf("postgres: export shortlists: forum %q: %w", f.ForumCode, ErrForumNotFound)
	}
	return out, nil
}
