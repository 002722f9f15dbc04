package bot

import (
	"context"
	"errors"

	"github.com/healthycities/napad/flows"
)

// lastYear looks up what became of the shortlist of the forum a joined
// forum follows, for its welcome. Nothing here may keep a student from
// joining: a failed lookup is logged and the student joins without it.
func (rt *Runtime) lastYear(ctx context.Context, previousID int64) *flows.LastYear {
	if rt.stores.Voting == nil {
		return nil
	}
	previous, found, err := rt.stores.Forums.ForumByID(ctx, previousID)
	if err == nil && !found {
		err = errors.New("no such forum")
	}
	if err != nil {
		rt.log.Warn("last year's forum: joining without it", "forum_id", previousID, "err", err)
		return nil
	}
	results, err := rt.stores.Voting.Results(ctx, previousID)
	if err != nil {
		rt.log.Warn("last year's shortlist: joining without it", "forum_id", previousID, "err", err)
		return nil
	}
	if len(results) == 0 {
		return nil
	}
	return &flows.LastYear{Forum: rt.local(previous), Results: results}
}
