package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
)

// Stats is the staff's overview of one forum (forumID) or of all (0): how
// many students joined and sent ideas, and the ideas by category, scope and
// status, per forum (most ideas first) and in total. A student in several
// forums counts in each and once in the total. Hidden ideas are counted
// apart; their authors still count as having sent an idea, as on the
// teacher's card. A forum that does not exist gives an error wrapping
// ErrForumNotFound.
func (s *Store) Stats(ctx context.Context, forumID int64) (flows.Stats, error) {
	// One snapshot for the forums and their counts, so that the forums add
	// up to the total.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return flows.Stats{}, fmt.Errorf("postgres: stats: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	rows, err := tx.Query(ctx, `SELECT `+forumColumns+` FROM forums WHERE $1::bigint = 0 OR id = $1`, forumID)
	if err != nil {
		return flows.Stats{}, fmt.Errorf("postgres: stats: forums: %w", err)
	}
	forums, err := pgx.CollectRows(rows, scanForum)
	if err != nil {
		return flows.Stats{}, fmt.Errorf("postgres: stats: forums: %w", err)
	}
	if forumID != 0 && len(forums) == 0 {
		return flows.Stats{}, fmt.Errorf("postgres: stats: forum %d: %w", forumID, ErrForumNotFound)
	}

	// The empty grouping set gives the totals (forum_id NULL), where a
	// student counts once however many forums they are in.
	rows, err = tx.Query(ctx, `
		SELECT 'joined', forum_id, '', '', '', count(DISTINCT participant_id)
		FROM forum_participants WHERE $1::bigint = 0 OR forum_id = $1
		GROUP BY GROUPING SETS ((forum_id), ())
		UNION ALL
		SELECT 'sent', forum_id, '', '', '', count(DISTINCT participant_id)
		FROM suggestions WHERE $1::bigint = 0 OR forum_id = $1
		GROUP BY GROUPING SETS ((forum_id), ())
		UNION ALL
		SELECT CASE WHEN hidden_reason IS NULL THEN 'ideas' ELSE 'hidden' END, forum_id, category, scope, status, count(*)
		FROM suggestions WHERE $1::bigint = 0 OR forum_id = $1
		GROUP BY 1, 2, 3, 4, 5`, forumID)
	if err != nil {
		return flows.Stats{}, fmt.Errorf("postgres: stats: counts: %w", err)
	}
	total := newStatsBlock()
	blocks := make(map[int64]*flows.StatsBlock, len(forums))
	for _, f := range forums {
		b := newStatsBlock()
		blocks[f.ID] = &b
	}
	var (
		what, category, scope, status string
		forum                         *int64
		n                             int
	)
	_, err = pgx.ForEachRow(rows, []any{&what, &forum, &category, &scope, &status, &n}, func() error {
		b := &total
		if forum != nil {
			if b = blocks[*forum]; b == nil {
				return nil // cannot happen in one snapshot
			}
		}
		switch what {
		case "joined":
			b.Joined = n
		case "sent":
			b.Submitters = n
		case "hidden", "ideas": // always of a forum: ideas have one
			if !slices.Contains(flows.Categories, category) {
				category = flows.CategoryOther
			}
			for _, blk := range []*flows.StatsBlock{b, &total} {
				if what == "hidden" {
					blk.Hidden += n
					continue
				}
				blk.Ideas += n
				blk.ByCategory[category] += n
				blk.ByScope[scope] += n
				blk.ByStatus[status] += n
			}
		}
		return nil
	})
	if err != nil {
		return flows.Stats{}, fmt.Errorf("postgres: stats: counts: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return flows.Stats{}, fmt.Errorf("postgres: stats: commit: %w", err)
	}

	if forumID != 0 {
		f := forums[0]
		return flows.Stats{Forum: &f, Total: *blocks[f.ID]}, nil
	}
	stats := flows.Stats{Total: total, Forums: make([]flows.ForumStatsBlock, 0, len(forums))}
	for _, f := range forums {
		stats.Forums = append(stats.Forums, flows.ForumStatsBlock{Forum: f, StatsBlock: *blocks[f.ID]})
	}
	slices.SortFunc(stats.Forums, func(a, b flows.ForumStatsBlock) int {
		return cmp.Or(cmp.Compare(b.Ideas, a.Ideas), cmp.Compare(b.Submitters, a.Submitters),
			cmp.Compare(a.Forum.Name, b.Forum.Name), cmp.Compare(a.Forum.ID, b.Forum.ID))
	})
	return stats, nil
}

func newStatsBlock() flows.StatsBlock {
	return flows.StatsBlock{ByCategory: map[string]int{}, ByScope: map[string]int{}, ByStatus: map[string]int{}}
}
