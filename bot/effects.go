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
func (b *Bot) runEffects(ctx context.Context, pid string, chatID int64, in flows.Input, res flows.Result) flows.Result {
	for len(res.Effects) > 0 {
		effect := res.Effects[0]
		res.Effects = res.Effects[1:]
		next, ok := b.do(ctx, pid, chatID, in, res.State, effect)
		if !ok {
			continue
		}
		next.EventID, next.LanguageHint, next.Participant, next.Actor = in.EventID, in.LanguageHint, in.Participant, in.Actor
		out := flows.Handle(res.State, next, b.now())
		res.State = out.State
		res.Forget = res.Forget || out.Forget
		res.Replies = append(res.Replies, out.Replies...)
		res.Effects = append(res.Effects, out.Effects...)
	}
	return res
}

// do carries out one effect; ok says whether there is an outcome to hand back.
func (b *Bot) do(ctx context.Context, pid string, chatID int64, in flows.Input, st flows.State, e flows.Effect) (next flows.Input, ok bool) {
	// Each store call has its own deadline: a hanging database must leave
	// time to save the conversation and answer.
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	failed := func(what string, err error) (flows.Input, bool) {
		b.log.Error(what, "err", err)
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
		ref, err := b.stores.Ideas.Submit(ctx, sub)
		if err != nil {
			b.log.Error("storing an idea failed", "forum_id", sub.ForumID, "err", err)
			if b.queue(ctx, sub, chatID, st.Lang) {
				b.metrics.submissions.WithLabelValues("queued").Inc()
				return flows.Input{Kind: flows.InputSubmitQueued}, true
			}
			b.metrics.submissions.WithLabelValues("failed").Inc()
			return flows.Input{Kind: flows.InputSubmitFailed}, true // the draft stays in the conversation
		}
		b.metrics.submissions.WithLabelValues("stored").Inc()
		b.log.Info("idea stored", "reference", ref, "forum_id", sub.ForumID, "language", sub.Language)
		return flows.Input{Kind: flows.InputSubmitted, Reference: ref}, true

	case e.Joined != nil:
		// Only the teacher's count depends on it; the student goes on.
		if err := b.stores.Forums.RecordJoin(ctx, e.Joined.ID, pid, st.Lang); err != nil {
			b.log.Warn("recording a join failed", "forum_id", e.Joined.ID, "err", err)
		}
		return flows.Input{}, false

	case e.CreateForum != nil:
		closes, err := b.dayEnd(e.CreateForum.ClosesOn)
		if err != nil {
			return failed("forum closing date", err)
		}
		f, err := b.stores.Forums.CreateForum(ctx, *e.CreateForum, pid, closes)
		if err != nil {
			return failed("creating a forum failed", err)
		}
		b.log.Info("forum created", "forum_id", f.ID)
		b.audit(ctx, pid, "forums.create", f.Code, map[string]any{"name": f.Name, "school": f.School, "town": f.Town,
			"scope": f.Scope, "languages": f.Languages, "closes_at": f.ClosesAt})
		f = b.local(f)
		return flows.Input{Kind: flows.InputForumCreated, Created: &f}, true

	case e.CheckForum != 0:
		f, found, err := b.stores.Forums.ForumByID(ctx, e.CheckForum)
		if err != nil {
			return failed("checking a forum failed", err)
		}
		if !found {
			f = flows.Forum{ID: e.CheckForum} // gone: it takes no ideas
		}
		f = b.local(f)
		again := in
		again.Current = &f
		return again, true

	case e.ListForums:
		var forums []flows.Forum
		var err error
		if in.Actor.Role == flows.RoleStaff {
			forums, err = b.stores.Forums.AllForums(ctx)
		} else {
			forums, err = b.stores.Forums.ForumsByOwner(ctx, pid)
		}
		if err != nil {
			return failed("listing forums failed", err)
		}
		return flows.Input{Kind: flows.InputForumList, Forums: forums}, true

	case e.LoadCard != 0:
		card, found, err := b.card(ctx, e.LoadCard)
		if err != nil || !found {
			return failed("loading a forum card failed", fmt.Errorf("forum %d (found=%v): %w", e.LoadCard, found, err))
		}
		again := in // the same tap, now with the forum loaded
		again.Card = &card
		return again, true

	case e.SetOpen != nil:
		if err := b.stores.Forums.SetForumOpen(ctx, e.SetOpen.Code, e.SetOpen.Open); err != nil {
			return failed("closing or reopening a forum failed", err)
		}
		b.log.Info("forum open changed", "forum_id", e.SetOpen.ForumID, "open", e.SetOpen.Open)
		b.audit(ctx, pid, map[bool]string{true: "forums.reopen", false: "forums.close"}[e.SetOpen.Open], e.SetOpen.Code, nil)
		return b.cardInput(ctx, e.SetOpen.ForumID)

	case e.SetClosesOn != nil:
		closes, err := b.dayEnd(e.SetClosesOn.Day)
		if err != nil {
			return failed("forum closing date", err)
		}
		if err := b.stores.Forums.SetForumClosesAt(ctx, e.SetClosesOn.Code, closes); err != nil {
			return failed("changing a closing date failed", err)
		}
		b.audit(ctx, pid, "forums.closing_date", e.SetClosesOn.Code, map[string]any{"closes_at": closes})
		return b.cardInput(ctx, e.SetClosesOn.ForumID)

	case e.StopMessages:
		if err := b.stores.People.StopContact(ctx, pid, chatID, true); err != nil {
			return failed("stopping messages failed", err)
		}
		return flows.Input{}, false

	case e.ListMyIdeas:
		ideas, err := b.stores.People.IdeasOf(ctx, pid)
		if err != nil {
			return failed("listing a student's ideas failed", err)
		}
		for i := range ideas {
			ideas[i].SentAt = ideas[i].SentAt.In(b.cfg.Location)
		}
		return flows.Input{Kind: flows.InputMyIdeas, MyIdeas: ideas}, true

	case e.ExportMyData:
		data, err := b.stores.People.DataOf(ctx, pid)
		if err != nil {
			return failed("exporting a student's data failed", err)
		}
		return flows.Input{Kind: flows.InputMyData, MyData: &flows.File{Name: "napad-my-data.json", Data: data}}, true

	case e.DeleteMe:
		if _, err := b.stores.People.DeleteParticipant(ctx, pid); err != nil {
			return failed("deleting a student's data failed", err)
		}
		b.forgetRole(pid)
		b.log.Info("a participant deleted their data")
		return flows.Input{Kind: flows.InputDeleted}, true

	case e.NextReview != nil:
		return b.nextReview(ctx, e.NextReview.Skip, flows.Input{Kind: flows.InputReview})

	case e.Review != nil:
		known, err := b.stores.Staff.Review(ctx, *e.Review, pid)
		if err != nil {
			return failed("storing a review decision failed", err)
		}
		if !known {
			return flows.Input{Kind: flows.InputReviewRefUnknown, Reference: e.Review.DuplicateOf}, true
		}
		b.log.Info("idea reviewed", "reference", e.Review.Ref, "decision", e.Review.Decision)
		done := map[bool]string{true: "staffreview.hidden", false: "staffreview.accepted"}[strings.HasPrefix(e.Review.Decision, "hide_")]
		if e.Review.Decision == flows.DecisionDuplicate {
			done = "staffreview.duplicate"
		}
		return b.nextReview(ctx, st.ReviewSkip, flows.Input{Kind: flows.InputReview, Text: done, Reference: e.Review.Ref, Arg: e.Review.DuplicateOf})

	case e.ExportForums != "":
		forums, err := b.stores.Forums.AllForums(ctx)
		if err != nil {
			return failed("listing forums failed", err)
		}
		return flows.Input{Kind: flows.InputExportForums, Forums: forums, Text: e.ExportForums}, true

	case e.Export != nil:
		// Telegram uploads are sent from memory anyway; exports of a city's
		// ideas are a few megabytes.
		var buf bytes.Buffer
		rows, err := b.stores.Staff.Export(ctx, e.Export.Format, e.Export.ForumID, &buf)
		if err != nil {
			return failed("exporting ideas failed", err)
		}
		b.log.Info("ideas exported", "format", e.Export.Format, "forum_id", e.Export.ForumID, "rows", rows)
		b.audit(ctx, pid, "ideas.export", "", map[string]any{"format": e.Export.Format, "forum_id": e.Export.ForumID, "rows": rows})
		name := "napad-ideas-" + b.now().Format("2006-01-02") + "." + e.Export.Format
		return flows.Input{Kind: flows.InputExported, MyData: &flows.File{Name: name, Data: buf.Bytes()}, Count: rows}, true

	case e.CreateInvite != nil:
		code, err := b.stores.People.CreateInvite(ctx, *e.CreateInvite, pid, b.now().Add(inviteValidFor))
		if err != nil {
			return failed("creating a teacher invite failed", err)
		}
		b.log.Info("teacher invite created", "town", *e.CreateInvite)
		b.audit(ctx, pid, "teacher.invite", "", map[string]any{"town": *e.CreateInvite})
		return flows.Input{Kind: flows.InputInviteCreated, InviteCode: code, Text: *e.CreateInvite}, true
	}
	return flows.Input{}, false
}

// audit records a teacher's or staff member's action. The action is done
// already; a failure to record it is logged, not shown to them.
func (b *Bot) audit(ctx context.Context, actor, action, target string, after any) {
	if err := b.stores.Staff.Audit(ctx, actor, action, target, after); err != nil {
		b.log.Error("audit log", "action", action, "err", err)
	}
}

func (b *Bot) nextReview(ctx context.Context, skip []string, in flows.Input) (flows.Input, bool) {
	item, found, err := b.stores.Staff.NextForReview(ctx, skip)
	if err != nil {
		b.log.Error("finding the next idea to review failed", "err", err)
		return flows.Input{Kind: flows.InputStoreFailed}, true
	}
	if found {
		item.SentAt = item.SentAt.In(b.cfg.Location)
		in.Review = &item
	}
	return in, true
}

func (b *Bot) card(ctx context.Context, forumID int64) (flows.ForumCard, bool, error) {
	f, found, err := b.stores.Forums.ForumByID(ctx, forumID)
	if err != nil || !found {
		return flows.ForumCard{}, found, err
	}
	stats, err := b.stores.Forums.ForumStats(ctx, forumID)
	if err != nil {
		return flows.ForumCard{}, true, err
	}
	if !stats.LastSubmission.IsZero() {
		stats.LastSubmission = stats.LastSubmission.In(b.cfg.Location)
	}
	return flows.ForumCard{Forum: b.local(f), Stats: stats}, true, nil
}

func (b *Bot) cardInput(ctx context.Context, forumID int64) (flows.Input, bool) {
	card, found, err := b.card(ctx, forumID)
	if err != nil || !found {
		b.log.Error("reloading a forum card failed", "forum_id", forumID, "err", err)
		return flows.Input{Kind: flows.InputStoreFailed}, true
	}
	return flows.Input{Kind: flows.InputCard, Card: &card}, true
}

// now is the current time in the city's time zone, in which teachers give
// closing dates.
func (b *Bot) now() time.Time { return b.cfg.Now().In(b.cfg.Location) }

// local shows a forum's times in the city's time zone.
func (b *Bot) local(f flows.Forum) flows.Forum {
	if !f.ClosesAt.IsZero() {
		f.ClosesAt = f.ClosesAt.In(b.cfg.Location)
	}
	return f
}

// dayEnd is when a forum whose last day is day (2006-01-02) closes: at the
// start of the next day in the city. "" means no closing date.
func (b *Bot) dayEnd(day string) (time.Time, error) {
	if day == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", day, b.cfg.Location)
	if err != nil {
		return time.Time{}, fmt.Errorf("closing day %q: %w", day, err)
	}
	return t.AddDate(0, 0, 1), nil
}
