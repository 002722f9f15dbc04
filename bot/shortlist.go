package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/healthycities/napad/flows"
)

// This file is the shortlist screen's side of the bot: every change is made
// by the store the command line uses (same rules, one implementation), and
// only for someone who may manage the forum: its teacher, or staff. The
// role is checked where every effect is carried out; whose forum it is,
// here, against the forum as it is now.

// shortlistForum is the forum whose shortlist x asks about, if x may
// manage it (false: a teacher and not theirs).
func (rt *Runtime) shortlistForum(ctx context.Context, x effect, forumID int64) (flows.Forum, bool, error) {
	f, found, err := rt.stores.Forums.ForumByID(ctx, forumID)
	if err != nil {
		return flows.Forum{}, false, fmt.Errorf("looking up forum %d: %w", forumID, err)
	}
	if !found {
		return flows.Forum{}, false, fmt.Errorf("forum %d: not found", forumID)
	}
	return rt.local(f), x.in.Actor.MayManage(x.pid, f), nil
}

func (rt *Runtime) loadShortlist(ctx context.Context, x effect, e flows.LoadShortlist) (flows.Input, bool) {
	f, allowed, err := rt.shortlistForum(ctx, x, e.ForumID)
	if err != nil {
		return rt.failed("opening a shortlist failed", err)
	}
	return rt.shortlistScreen(ctx, f, allowed, flows.ShortlistLoaded{})
}

func (rt *Runtime) addShortlistItem(ctx context.Context, x effect, e flows.AddShortlistItem) (flows.Input, bool) {
	f, allowed, err := rt.shortlistForum(ctx, x, e.ForumID)
	if err != nil || !allowed {
		return rt.shortlistAfter(ctx, x, f, allowed, err, "")
	}
	item, err := rt.stores.Shortlist.AddToShortlist(ctx, e.ForumID, e.Refs, e.Lang, e.Text, x.pid)
	done := "shortlist.added"
	if len(e.Refs) > 1 {
		done = "shortlist.merged"
	}
	if err == nil {
		rt.log.Info("shortlist item added", "forum_id", e.ForumID, "item_id", item.ID, "ideas", len(e.Refs))
	}
	return rt.shortlistAfter(ctx, x, f, allowed, err, done)
}

func (rt *Runtime) removeShortlistItem(ctx context.Context, x effect, e flows.RemoveShortlistItem) (flows.Input, bool) {
	f, allowed, err := rt.shortlistForum(ctx, x, e.ForumID)
	if err != nil || !allowed {
		return rt.shortlistAfter(ctx, x, f, allowed, err, "")
	}
	err = rt.stores.Shortlist.RemoveFromShortlist(ctx, e.ForumID, e.ItemID, x.pid)
	if err == nil {
		rt.log.Info("shortlist item removed", "forum_id", e.ForumID, "item_id", e.ItemID)
	}
	return rt.shortlistAfter(ctx, x, f, allowed, err, "shortlist.removed")
}

// shortlistAfter is the screen after a change of the shortlist: with done
// when it was made, with the store's reason when it refused it.
func (rt *Runtime) shortlistAfter(ctx context.Context, x effect, f flows.Forum, allowed bool, err error, done string) (flows.Input, bool) {
	var refusal *flows.ShortlistError
	switch {
	case errors.As(err, &refusal):
		return rt.shortlistScreen(ctx, f, allowed, flows.ShortlistLoaded{Refused: refusal})
	case err != nil:
		return rt.failed("changing a shortlist failed", err)
	}
	if allowed {
		x.written()
	}
	return rt.shortlistScreen(ctx, f, allowed, flows.ShortlistLoaded{Done: done})
}

// shortlistScreen fills in what the screen shows; one who may not manage
// the forum learns nothing of it.
func (rt *Runtime) shortlistScreen(ctx context.Context, f flows.Forum, allowed bool, v flows.ShortlistLoaded) (flows.Input, bool) {
	if !allowed {
		return outcome(flows.ShortlistLoaded{Forum: flows.Forum{ID: f.ID}, Refused: &flows.ShortlistError{Reason: flows.ShortlistNotYours}})
	}
	items, err := rt.stores.Shortlist.Shortlist(ctx, f.ID)
	if err != nil {
		return rt.failed("loading a shortlist failed", err)
	}
	candidates, err := rt.stores.Shortlist.ShortlistCandidates(ctx, f.ID)
	if err != nil {
		return rt.failed("loading shortlist candidates failed", err)
	}
	v.Forum, v.Items, v.Candidates = f, items, candidates
	return outcome(v)
}
