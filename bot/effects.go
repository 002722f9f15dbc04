package bot

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

// inviteValidFor is how long a teacher invite link works.
const inviteValidFor = 7 * 24 * time.Hour

// runEffects does what the flow asked for and feeds each outcome back to it,
// until nothing is left to do. in is the input that started it all.
func (rt *Runtime) runEffects(ctx context.Context, pid string, chatID int64, in flows.Input, res flows.Result) flows.Result {
	for len(res.Effects) > 0 {
		effect := res.Effects[0]
		res.Effects = res.Effects[1:]
		next, ok := rt.do(ctx, pid, chatID, in, res.State, effect)
		if !ok {
			continue
		}
		next.EventID, next.LanguageHint, next.Participant, next.Actor = in.EventID, in.LanguageHint, in.Participant, in.Actor
		out := flows.Handle(res.State, next, rt.now())
		res.State = out.State
		res.Forget = res.Forget || out.Forget
		res.Replies = append(res.Replies, out.Replies...)
		res.Effects = append(res.Effects, out.Effects...)
	}
	return res
}

// do carries out one effect; ok says whether there is an outcome to hand back.
func (rt *Runtime) do(ctx context.Context, pid string, chatID int64, in flows.Input, st flows.State, e flows.Effect) (next flows.Input, ok bool) {
	// Each store call has its own deadline: a hanging database must leave
	// time to save the conversation and answer.
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	failed := func(what string, err error) (flows.Input, bool) {
		rt.log.Error(what, "err", err)
		return flows.Input{Kind: flows.InputStoreFailed}, true
	}
	switch {
	case e.Submit != nil:
		sub := *e.Submit
		sub.ParticipantID = pid
		if !sub.Quiet {
			sub.ContactChat = chatID
		}
		sub.DraftID = pid + ":" + sub.DraftID // update ids are unique per bot only
		sub.Flagged = locales.MayBeProfane(sub.Title, sub.Description, sub.WorksWell, sub.Improve, sub.PlaceText)
		ref, err := rt.stores.Ideas.Submit(ctx, sub)
		if err != nil {
			rt.log.Error("storing an idea failed", "forum_id", sub.ForumID, "err", err)
			if rt.queue(ctx, sub, chatID, st.Lang) {
				rt.metrics.submissions.WithLabelValues("queued").Inc()
				return flows.Input{Kind: flows.InputSubmitQueued}, true
			}
			rt.metrics.submissions.WithLabelValues("failed").Inc()
			return flows.Input{Kind: flows.InputSubmitFailed}, true // the draft stays in the conversation
		}
		rt.metrics.submissions.WithLabelValues("stored").Inc()
		rt.log.Info("idea stored", "reference", ref, "forum_id", sub.ForumID, "language", sub.Language)
		return flows.Input{Kind: flows.InputSubmitted, Reference: ref}, true

	case e.Joined != nil:
		// Only the teacher's count depends on it; the student goes on.
		if err := rt.stores.Forums.RecordJoin(ctx, e.Joined.ID, pid, st.Lang); err != nil {
			rt.log.Warn("recording a join failed", "forum_id", e.Joined.ID, "err", err)
		}
		return flows.Input{}, false

	case e.CreateForum != nil:
		closes, err := rt.dayEnd(e.CreateForum.ClosesOn)
		if err != nil {
			return failed("forum closing date", err)
		}
		f, err := rt.stores.Forums.CreateForum(ctx, *e.CreateForum, pid, closes)
		if err != nil {
			return failed("creating a forum failed", err)
		}
		rt.log.Info("forum created", "forum_id", f.ID)
		rt.audit(ctx, pid, "forums.create", f.Code, map[string]any{"name": f.Name, "school": f.School, "town": f.Town,
			"scope": f.Scope, "languages": f.Languages, "closes_at": f.ClosesAt})
		f = rt.local(f)
		return flows.Input{Kind: flows.InputForumCreated, Created: &f}, true

	case e.CheckForum != 0:
		f, found, err := rt.stores.Forums.ForumByID(ctx, e.CheckForum)
		if err != nil {
			return failed("checking a forum failed", err)
		}
		if !found {
			f = flows.Forum{ID: e.CheckForum} // gone: it takes no ideas
		}
		f = rt.local(f)
		again := in
		again.Current = &f
		return again, true

	case e.ListForums:
		var forums []flows.Forum
		var err error
		if in.Actor.Role == flows.RoleStaff {
			forums, err = rt.stores.Forums.AllForums(ctx)
		} else {
			forums, err = rt.stores.Forums.ForumsByOwner(ctx, pid)
		}
		if err != nil {
			return failed("listing forums failed", err)
		}
		return flows.Input{Kind: flows.InputForumList, Forums: forums}, true

	case e.LoadCard != 0:
		card, found, err := rt.card(ctx, e.LoadCard)
		if err != nil || !found {
			return failed("loading a forum card failed", fmt.Errorf("forum %d (found=%v): %w", e.LoadCard, found, err))
		}
		again := in // the same tap, now with the forum loaded
		again.Card = &card
		return again, true

	case e.SetOpen != nil:
		if err := rt.stores.Forums.SetForumOpen(ctx, e.SetOpen.Code, e.SetOpen.Open); err != nil {
			return failed("closing or reopening a forum failed", err)
		}
		rt.log.Info("forum open changed", "forum_id", e.SetOpen.ForumID, "open", e.SetOpen.Open)
		rt.audit(ctx, pid, map[bool]string{true: "forums.reopen", false: "forums.close"}[e.SetOpen.Open], e.SetOpen.Code, nil)
		return rt.cardInput(ctx, e.SetOpen.ForumID)

	case e.SetClosesOn != nil:
		closes, err := rt.dayEnd(e.SetClosesOn.Day)
		if err != nil {
			return failed("forum closing date", err)
		}
		if err := rt.stores.Forums.SetForumClosesAt(ctx, e.SetClosesOn.Code, closes); err != nil {
			return failed("changing a closing date failed", err)
		}
		rt.audit(ctx, pid, "forums.closing_date", e.SetClosesOn.Code, map[string]any{"closes_at": closes})
		return rt.cardInput(ctx, e.SetClosesOn.ForumID)

	case e.StopMessages:
		if err := rt.stores.People.StopContact(ctx, pid, chatID, true); err != nil {
			return failed("stopping messages failed", err)
		}
		return flows.Input{}, false

	case e.ListMyIdeas:
		ideas, err := rt.stores.People.IdeasOf(ctx, pid)
		if err != nil {
			return failed("listing a student's ideas failed", err)
		}
		for i := range ideas {
			ideas[i].SentAt = ideas[i].SentAt.In(rt.cfg.Location)
		}
		return flows.Input{Kind: flows.InputMyIdeas, MyIdeas: ideas}, true

	case e.ExportMyData:
		data, err := rt.stores.People.DataOf(ctx, pid)
		if err != nil {
			return failed("exporting a student's data failed", err)
		}
		return flows.Input{Kind: flows.InputMyData, MyData: &flows.File{Name: "napad-my-data.json", Data: data}}, true

	case e.DeleteMe:
		if _, err := rt.stores.People.DeleteParticipant(ctx, pid); err != nil {
			return failed("deleting a student's data failed", err)
		}
		rt.forgetRole(pid)
		rt.log.Info("a participant deleted their data")
		return flows.Input{Kind: flows.InputDeleted}, true

	case e.NextReview != nil:
		return rt.nextReview(ctx, e.NextReview.Skip, flows.Input{Kind: flows.InputReview})

	case e.Review != nil:
		known, err := rt.stores.Staff.Review(ctx, *e.Review, pid)
		if err != nil {
			return failed("storing a review decision failed", err)
		}
		if !known {
			return flows.Input{Kind: flows.InputReviewRefUnknown, Reference: e.Review.DuplicateOf}, true
		}
		rt.log.Info("idea reviewed", "reference", e.Review.Ref, "decision", e.Review.Decision)
		done := map[bool]string{true: "staffreview.hidden", false: "staffreview.accepted"}[strings.HasPrefix(e.Review.Decision, "hide_")]
		if e.Review.Decision == flows.DecisionDuplicate {
			done = "staffreview.duplicate"
		}
		return rt.nextReview(ctx, st.ReviewSkip, flows.Input{Kind: flows.InputReview, Text: done, Reference: e.Review.Ref, Arg: e.Review.DuplicateOf})

	case e.ExportForums != "":
		forums, err := rt.stores.Forums.AllForums(ctx)
		if err != nil {
			return failed("listing forums failed", err)
		}
		return flows.Input{Kind: flows.InputExportForums, Forums: forums, Text: e.ExportForums}, true

	case e.Export != nil:
		// Telegram uploads are sent from memory anyway; exports of a city's
		// ideas are a few megabytes.
		var buf bytes.Buffer
		rows, err := rt.stores.Staff.Export(ctx, e.Export.Format, e.Export.ForumID, &buf)
		if err != nil {
			return failed("exporting ideas failed", err)
		}
		rt.log.Info("ideas exported", "format", e.Export.Format, "forum_id", e.Export.ForumID, "rows", rows)
		rt.audit(ctx, pid, "ideas.export", "", map[string]any{"format": e.Export.Format, "forum_id": e.Export.ForumID, "rows": rows})
		name := "napad-ideas-" + rt.now().Format("2006-01-02") + "." + e.Export.Format
		return flows.Input{Kind: flows.InputExported, MyData: &flows.File{Name: name, Data: buf.Bytes()}, Count: rows}, true

	case e.CreateInvite != nil:
		code, err := rt.stores.People.CreateInvite(ctx, *e.CreateInvite, pid, rt.now().Add(inviteValidFor))
		if err != nil {
			return failed("creating a teacher invite failed", err)
		}
		rt.log.Info("teacher invite created", "town", *e.CreateInvite)
		rt.audit(ctx, pid, "teacher.invite", "", map[string]any{"town": *e.CreateInvite})
		return flows.Input{Kind: flows.InputInviteCreated, InviteCode: code, Text: *e.CreateInvite}, true
	}
	return flows.Input{}, false
}

// audit records a teacher's or staff member's action. The action is done
// already; a failure to record it is logged, not shown to them.
func (rt *Runtime) audit(ctx context.Context, actor, action, target string, after any) {
	if err := rt.stores.Staff.Audit(ctx, actor, action, target, after); err != nil {
		rt.log.Error("audit log", "action", action, "err", err)
	}
}

func (rt *Runtime) nextReview(ctx context.Context, skip []string, in flows.Input) (flows.Input, bool) {
	item, found, err := rt.stores.Staff.NextForReview(ctx, skip)
	if err != nil {
		rt.log.Error("finding the next idea to review failed", "err", err)
		return flows.Input{Kind: flows.InputStoreFailed}, true
	}
	if found {
		item.SentAt = item.SentAt.In(rt.cfg.Location)
		in.Review = &item
	}
	return in, true
}

func (rt *Runtime) card(ctx context.Context, forumID int64) (flows.ForumCard, bool, error) {
	f, found, err := rt.stores.Forums.ForumByID(ctx, forumID)
	if err != nil || !found {
		return flows.ForumCard{}, found, err
	}
	stats, err := rt.stores.Forums.ForumStats(ctx, forumID)
	if err != nil {
		return flows.ForumCard{}, true, err
	}
	if !stats.LastSubmission.IsZero() {
		stats.LastSubmission = stats.LastSubmission.In(rt.cfg.Location)
	}
	return flows.ForumCard{Forum: rt.local(f), Stats: stats}, true, nil
}

func (rt *Runtime) cardInput(ctx context.Context, forumID int64) (flows.Input, bool) {
	card, found, err := rt.card(ctx, forumID)
	if err != nil || !found {
		rt.log.Error("reloading a forum card failed", "forum_id", forumID, "err", err)
		return flows.Input{Kind: flows.InputStoreFailed}, true
	}
	return flows.Input{Kind: flows.InputCard, Card: &card}, true
}
