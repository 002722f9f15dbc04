package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

// inviteValidFor is how long a teacher invite link works.
const inviteValidFor = 7 * 24 * time.Hour

// effect is one effect being carried out: who asked, where they are, and
// the conversation as it was when they asked.
type effect struct {
	ch   Channel // where the event came from
	pid  string
	chat int64
	in   flows.Input // the input that asked for it
	st   flows.State
	// wrote is set once the effect changed something, even if what follows
	// (reloading a card) fails: it must not be done again.
	wrote *bool
}

// written records that x changed something.
func (x effect) written() {
	if x.wrote != nil {
		*x.wrote = true
	}
}

// run handles in and carries out every effect the conversation asks for;
// an effect in done (carried out by an earlier attempt at the same event)
// is not carried out again: its outcome is handed back as it was.
func (rt *Runtime) run(ctx context.Context, ch Channel, pid string, chat int64, st flows.State, in flows.Input, now time.Time, done *effectsDone) flows.Result {
	return flows.Run(st, in, now, func(st flows.State, in flows.Input, e flows.Effect) (flows.Input, bool) {
		if out, ok, found := done.lookup(e); found {
			return out, ok
		}
		var wrote bool
		out, ok := rt.carryOut(ctx, effect{ch: ch, pid: pid, chat: chat, in: in, st: st, wrote: &wrote}, e)
		done.add(e, out, ok, wrote)
		return out, ok
	})
}

// effectsDone are the effects carried out while handling one event, with
// their outcomes.
type effectsDone struct{ list []effectDone }

type effectDone struct {
	effect flows.Effect
	out    flows.Input
	ok     bool
}

func (d *effectsDone) lookup(e flows.Effect) (flows.Input, bool, bool) {
	for _, x := range d.list {
		if reflect.DeepEqual(x.effect, e) {
			return x.out, x.ok, true
		}
	}
	return flows.Input{}, false, false
}

// add records an effect carried out. A failure before anything was written
// is not recorded: it may be tried again. One that wrote and then failed
// (a card not reloaded after the change) is: the write must not be repeated.
func (d *effectsDone) add(e flows.Effect, out flows.Input, ok, wrote bool) {
	switch out.What.(type) {
	case flows.StoreFailed, flows.SubmitFailed, flows.PinNotSaved:
		if !wrote {
			return
		}
	}
	d.list = append(d.list, effectDone{effect: e, out: out, ok: ok})
}

// carryOut does one effect, if the person may ask for it.
func (rt *Runtime) carryOut(ctx context.Context, x effect, e flows.Effect) (flows.Input, bool) {
	if !x.in.Actor.May(flows.Requires(e)) {
		rt.log.Warn("an effect asked for without the role it needs", "effect", fmt.Sprintf("%T", e), "role", x.in.Actor.Role)
		return flows.Input{What: flows.NotAllowed{}}, true
	}
	// Each store call has its own deadline: a hanging database must leave
	// time to save the conversation and answer.
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return rt.do(ctx, x, e)
}

// do carries out one effect; ok says whether there is an outcome to hand back.
func (rt *Runtime) do(ctx context.Context, x effect, e flows.Effect) (next flows.Input, ok bool) {
	switch e.(type) {
	case flows.MovePhase, flows.SetVoteDay, flows.LoadBallot, flows.CastVote, flows.LoadResults, flows.MakeResultsPicture, flows.SaveHelpOffer:
		if rt.stores.Voting == nil {
			return rt.failed("a forum's phases need a voting store", errors.New("no voting store"))
		}
	case flows.LoadShortlist, flows.AddShortlistItem, flows.RemoveShortlistItem:
		if rt.stores.Shortlist == nil {
			return rt.failed("the shortlist screen needs a shortlist store", errors.New("no shortlist store"))
		}
	case flows.SavePin, flows.SetForumMap, flows.NextPinReview, flows.StorePinReview:
		if rt.stores.Pins == nil {
			if _, saving := e.(flows.SavePin); saving {
				rt.log.Error("a pin with no pin store to keep it")
				return outcome(flows.PinNotSaved{})
			}
			return rt.failed("the map needs a pin store", errors.New("no pin store"))
		}
	}
	switch e := e.(type) {
	case flows.SubmitIdea:
		return rt.submitIdea(ctx, x, e)
	case flows.CountJoin:
		return rt.countJoin(ctx, x, e)
	case flows.CheckForum:
		return rt.checkForum(ctx, x, e)
	case flows.LoadCard:
		return rt.loadCard(ctx, x, e)
	case flows.CreateForum:
		return rt.createForum(ctx, x, e)
	case flows.ListForums:
		return rt.listForums(ctx, x)
	case flows.SetForumOpen:
		return rt.setForumOpen(ctx, x, e)
	case flows.SetClosingDate:
		return rt.setClosingDate(ctx, x, e)
	case flows.MovePhase:
		return rt.movePhase(ctx, x, e)
	case flows.SetVoteDay:
		return rt.setVoteDay(ctx, x, e)
	case flows.LoadBallot:
		return rt.loadBallot(ctx, x, e)
	case flows.CastVote:
		return rt.castVote(ctx, x, e)
	case flows.MakeResultsPicture:
		return rt.makeResultsPicture(ctx, e)
	case flows.LoadResults:
		return rt.loadResults(ctx, e)
	case flows.LoadShortlist:
		return rt.loadShortlist(ctx, x, e)
	case flows.AddShortlistItem:
		return rt.addShortlistItem(ctx, x, e)
	case flows.RemoveShortlistItem:
		return rt.removeShortlistItem(ctx, x, e)
	case flows.CreateInvite:
		return rt.createInvite(ctx, x, e)
	case flows.ListMyIdeas:
		return rt.listMyIdeas(ctx, x)
	case flows.ExportMyData:
		return rt.exportMyData(ctx, x)
	case flows.StopMessages:
		return rt.stopMessages(ctx, x)
	case flows.DeleteMe:
		return rt.deleteMe(ctx, x)
	case flows.NextReview:
		return rt.nextReview(ctx, e.Skip, flows.ReviewNext{})
	case flows.StoreReview:
		return rt.storeReview(ctx, x, e)
	case flows.LoadIdea:
		return rt.loadIdea(ctx, e.Ref, nil)
	case flows.CheckOriginal:
		return rt.checkOriginal(ctx, e)
	case flows.ListExportForums:
		return rt.listExportForums(ctx, e)
	case flows.ExportIdeas:
		return rt.exportIdeas(ctx, x, e)
	case flows.ListAnnounceForums:
		return rt.listAnnounceForums(ctx)
	case flows.CountAudience:
		return rt.countAudience(ctx, e)
	case flows.CreateAnnouncement:
		return rt.createAnnouncement(ctx, x, e)
	case flows.SaveHelpOffer:
		return rt.saveHelpOffer(ctx, x, e)
	case flows.LoadStats:
		return rt.loadStats(ctx, e)
	case flows.MakeStatsPicture:
		return rt.makeStatsPicture(e)
	case flows.PlanImport:
		return rt.planImport(ctx, x, e)
	case flows.ApplyImport:
		return rt.applyImport(ctx, x, e)
	case flows.LookUpJoinCode:
		return rt.lookUpJoinCode(ctx, x, e)
	case flows.SavePin:
		return rt.savePin(ctx, x, e)
	case flows.SetForumMap:
		return rt.setForumMap(ctx, x, e)
	case flows.MakeMapFile:
		return rt.makeMapFile(ctx, x, e)
	case flows.SetQRChoice:
		return rt.setQRChoice(ctx, x, e)
	case flows.NextPinReview:
		return rt.nextPinReview(ctx, e.Skip, "")
	case flows.StorePinReview:
		return rt.storePinReview(ctx, x, e)
	}
	rt.log.Error("an effect nobody carries out", "effect", fmt.Sprintf("%T", e))
	return flows.Input{}, false
}

// failed logs why an effect could not be carried out and tells the flow.
func (rt *Runtime) failed(what string, err error) (flows.Input, bool) {
	rt.log.Error(what, "err", err)
	return flows.Input{What: flows.StoreFailed{}}, true
}

func outcome(what flows.Happened) (flows.Input, bool) { return flows.Input{What: what}, true }

func (rt *Runtime) submitIdea(ctx context.Context, x effect, e flows.SubmitIdea) (flows.Input, bool) {
	sub := e.Idea
	sub.ParticipantID = x.pid
	if !sub.Quiet {
		sub.ContactChat = x.chat
	}
	sub.DraftID = x.pid + ":" + sub.DraftID // update ids are unique per bot only
	// Where it came from is the bot's to say: the conversation is the
	// same in every channel. Kept with the idea in the outbox too.
	sub.Channel = channelName(x.ch)
	sub.Flagged = locales.MayBeProfane(sub.Title, sub.Description, sub.WorksWell, sub.Improve, sub.PlaceText)
	if limit := rt.cfg.IdeasPerDay; limit > 0 {
		// A count that fails lets the idea through: the limit protects the
		// others from a flood, it must not lose anyone's idea.
		// This idea's draft does not count: stored already by an attempt
		// that did not get to save the conversation, it is sent again.
		n, err := rt.stores.Ideas.IdeasSince(ctx, x.pid, sub.ForumID, rt.cfg.Now().Add(-24*time.Hour), sub.DraftID)
		if err == nil && n >= limit {
			rt.log.Info("daily idea limit reached", "forum_id", sub.ForumID)
			return outcome(flows.SubmitLimited{Limit: limit})
		}
	}
	// Ideas end with collecting. A forum that cannot be looked up lets the
	// idea through (to the outbox if need be): nothing a student wrote is
	// lost to an outage.
	var closesAt time.Time
	if rt.stores.Forums == nil {
		// A runtime without forums (tests of the idea flow alone) takes every idea.
	} else if f, found, err := rt.stores.Forums.ForumByID(ctx, sub.ForumID); err == nil && found {
		f = rt.local(f)
		if f.PhaseAt(rt.now()) != flows.PhaseCollecting {
			rt.log.Info("an idea came after collecting ended", "forum_id", sub.ForumID)
			return outcome(flows.IdeasClosed{Forum: f})
		}
		closesAt = f.ClosesAt
	}
	ref, err := rt.stores.Ideas.Submit(ctx, sub)
	if err != nil {
		rt.log.Error("storing an idea failed", "forum_id", sub.ForumID, "err", err)
		if rt.queue(ctx, sub, x.chat, x.st.Lang) {
			rt.metrics.submissions.WithLabelValues("queued").Inc()
			return outcome(flows.SubmitQueued{})
		}
		rt.metrics.submissions.WithLabelValues("failed").Inc()
		return outcome(flows.SubmitFailed{}) // the draft stays in the conversation
	}
	rt.metrics.submissions.WithLabelValues("stored").Inc()
	rt.log.Info("idea stored", "reference", ref, "forum_id", sub.ForumID, "language", sub.Language)
	return outcome(flows.Submitted{Ref: ref, ClosesAt: closesAt})
}

func (rt *Runtime) countJoin(ctx context.Context, x effect, e flows.CountJoin) (flows.Input, bool) {
	// A student who said /stop keeps no way to be reached, as with ideas.
	chat := x.chat
	if x.st.Quiet {
		chat = 0
	}
	// Only the teacher's count and the forum's broadcasts depend on it; the
	// student goes on.
	if err := rt.stores.Forums.RecordJoin(ctx, e.Forum.ID, x.pid, x.st.Lang, chat); err != nil {
		rt.log.Warn("recording a join failed", "forum_id", e.Forum.ID, "err", err)
	}
	return flows.Input{}, false
}

func (rt *Runtime) checkForum(ctx context.Context, x effect, e flows.CheckForum) (flows.Input, bool) {
	f, found, err := rt.stores.Forums.ForumByID(ctx, e.ForumID)
	if err != nil {
		return rt.failed("checking a forum failed", err)
	}
	if !found {
		f = flows.Forum{ID: e.ForumID} // gone: it takes no ideas
	}
	f = rt.local(f)
	again := x.in
	again.Current = &f
	return again, true
}

func (rt *Runtime) loadCard(ctx context.Context, x effect, e flows.LoadCard) (flows.Input, bool) {
	card, found, err := rt.card(ctx, e.ForumID)
	if err != nil || !found {
		return rt.failed("loading a forum card failed", fmt.Errorf("forum %d (found=%v): %w", e.ForumID, found, err))
	}
	again := x.in // the same tap, now with the forum loaded
	again.Card = &card
	return again, true
}

func (rt *Runtime) createForum(ctx context.Context, x effect, e flows.CreateForum) (flows.Input, bool) {
	closes, err := rt.dayEnd(e.Spec.ClosesOn)
	if err != nil {
		return rt.failed("forum closing date", err)
	}
	f, err := rt.stores.Forums.CreateForum(ctx, e.Spec, x.pid, closes)
	if err != nil {
		return rt.failed("creating a forum failed", err)
	}
	rt.log.Info("forum created", "forum_id", f.ID)
	rt.audit(ctx, x.pid, "forums.create", f.Code, map[string]any{"name": f.Name, "school": f.School, "town": f.Town,
		"scope": f.Scope, "languages": f.Languages, "closes_at": f.ClosesAt})
	return outcome(flows.ForumCreated{Forum: rt.local(f)})
}

func (rt *Runtime) listForums(ctx context.Context, x effect) (flows.Input, bool) {
	var forums []flows.Forum
	var err error
	if x.in.Actor.Role == flows.RoleStaff {
		forums, err = rt.stores.Forums.AllForums(ctx)
	} else {
		forums, err = rt.stores.Forums.ForumsByOwner(ctx, x.pid)
	}
	if err != nil {
		return rt.failed("listing forums failed", err)
	}
	return outcome(flows.ForumsListed{Forums: forums})
}

func (rt *Runtime) setForumOpen(ctx context.Context, x effect, e flows.SetForumOpen) (flows.Input, bool) {
	if err := rt.stores.Forums.SetForumOpen(ctx, e.Code, e.Open); err != nil {
		return rt.failed("closing or reopening a forum failed", err)
	}
	x.written()
	rt.log.Info("forum open changed", "forum_id", e.ForumID, "open", e.Open)
	rt.audit(ctx, x.pid, map[bool]string{true: "forums.reopen", false: "forums.close"}[e.Open], e.Code, nil)
	return rt.reloadCard(ctx, e.ForumID)
}

func (rt *Runtime) setClosingDate(ctx context.Context, x effect, e flows.SetClosingDate) (flows.Input, bool) {
	closes, err := rt.dayEnd(e.Day)
	if err != nil {
		return rt.failed("forum closing date", err)
	}
	if err := rt.stores.Forums.SetForumClosesAt(ctx, e.Code, closes); err != nil {
		return rt.failed("changing a closing date failed", err)
	}
	x.written()
	rt.audit(ctx, x.pid, "forums.closing_date", e.Code, map[string]any{"closes_at": closes})
	return rt.reloadCard(ctx, e.ForumID)
}

func (rt *Runtime) createInvite(ctx context.Context, x effect, e flows.CreateInvite) (flows.Input, bool) {
	code, err := rt.stores.People.CreateInvite(ctx, e.Town, x.pid, rt.now().Add(inviteValidFor))
	if err != nil {
		return rt.failed("creating a teacher invite failed", err)
	}
	rt.log.Info("teacher invite created", "town", e.Town)
	rt.audit(ctx, x.pid, "teacher.invite", "", map[string]any{"town": e.Town})
	return outcome(flows.InviteCreated{Code: code, Town: e.Town})
}

func (rt *Runtime) listMyIdeas(ctx context.Context, x effect) (flows.Input, bool) {
	ideas, err := rt.stores.People.IdeasOf(ctx, x.pid)
	if err != nil {
		return rt.failed("listing a student's ideas failed", err)
	}
	for i := range ideas {
		ideas[i].SentAt = ideas[i].SentAt.In(rt.cfg.Location)
	}
	return outcome(flows.MyIdeasListed{Ideas: ideas})
}

func (rt *Runtime) exportMyData(ctx context.Context, x effect) (flows.Input, bool) {
	data, err := rt.stores.People.DataOf(ctx, x.pid)
	if err == nil {
		data, err = rt.withLiveData(ctx, x, data)
	}
	if err != nil {
		return rt.failed("exporting a student's data failed", err)
	}
	return outcome(flows.MyDataExported{File: flows.File{Name: "napad-my-data.json", Data: data}})
}

// withLiveData adds to a student's stored data (a JSON object) what Redis
// keeps of them: the idea they are writing, and their ideas waiting in the
// outbox (or set aside there). Telegram chat ids are left out.
func (rt *Runtime) withLiveData(ctx context.Context, x effect, stored []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(stored, &doc); err != nil {
		return nil, fmt.Errorf("reading the stored data: %w", err)
	}
	draft := map[string]any{}
	if x.st.InProgress() {
		draft["forum"] = x.st.ForumName
		draft["step"] = x.st.Step
		draft["answers"] = x.st.Answers
	}
	waiting := []map[string]any{}
	if rt.stores.Outbox != nil {
		entries, err := rt.stores.Outbox.OutboxOf(ctx, x.pid+":")
		if err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(entries))
		for id := range entries {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			var q struct {
				Idea map[string]any `json:"s"`
			}
			if err := json.Unmarshal(entries[id], &q); err != nil || q.Idea == nil {
				waiting = append(waiting, map[string]any{"draft": draftOf(id), "unreadable": true})
				continue
			}
			for _, k := range []string{"DraftID", "ParticipantID", "ContactChat", "Quiet"} {
				delete(q.Idea, k)
			}
			q.Idea["draft"] = draftOf(id)
			waiting = append(waiting, q.Idea)
		}
	}
	for key, v := range map[string]any{"idea_being_written": draft, "ideas_waiting_to_be_stored": waiting} {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		doc[key] = raw
	}
	return json.MarshalIndent(doc, "", "    ")
}

func (rt *Runtime) stopMessages(ctx context.Context, x effect) (flows.Input, bool) {
	if err := rt.stores.People.StopContact(ctx, x.pid, true); err != nil {
		return rt.failed("stopping messages failed", err)
	}
	return flows.Input{}, false
}

// forgetTimeout bounds waiting for a replica storing one of a student's
// outbox entries when they delete their data (at most its lease).
const forgetTimeout = 25 * time.Second

func (rt *Runtime) deleteMe(ctx context.Context, x effect) (flows.Input, bool) {
	// Their ideas waiting in the outbox first, and until no replica is
	// storing one: then nothing of them reaches PostgreSQL after it is
	// erased there.
	if rt.stores.Outbox != nil {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), forgetTimeout)
		err := rt.stores.Outbox.ForgetOutbox(fctx, x.pid+":")
		cancel()
		if err != nil {
			return rt.failed("deleting a student's ideas in the outbox failed", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if _, err := rt.stores.People.DeleteParticipant(ctx, x.pid); err != nil {
		return rt.failed("deleting a student's data failed", err)
	}
	rt.forgetRole(x.pid)
	rt.log.Info("a participant deleted their data")
	return outcome(flows.Deleted{})
}

func (rt *Runtime) storeReview(ctx context.Context, x effect, e flows.StoreReview) (flows.Input, bool) {
	d := e.Decision
	known, err := rt.stores.Staff.Review(ctx, d, x.pid)
	if err != nil {
		return rt.failed("storing a review decision failed", err)
	}
	x.written()
	if !known {
		unknown := d.Ref
		if d.Decision == flows.DecisionDuplicate {
			unknown = d.DuplicateOf
		}
		return outcome(flows.ReviewRefUnknown{Ref: unknown})
	}
	rt.log.Info("idea reviewed", "reference", d.Ref, "decision", d.Decision, "status", d.Status)
	if e.FromIdea {
		return rt.loadIdea(ctx, d.Ref, &d)
	}
	return rt.nextReview(ctx, x.st.ReviewSkip, flows.ReviewNext{Decided: &d})
}

// loadIdea looks an idea up for staff, with its history, after the
// decision taken on it (nil: none).
func (rt *Runtime) loadIdea(ctx context.Context, ref string, decided *flows.ReviewDecision) (flows.Input, bool) {
	view, found, err := rt.stores.Staff.StaffIdea(ctx, ref)
	if err != nil {
		return rt.failed("looking an idea up failed", err)
	}
	loaded := flows.IdeaLoaded{Ref: ref, Decided: decided}
	if found {
		view.Item.SentAt = view.Item.SentAt.In(rt.cfg.Location)
		for i := range view.History {
			view.History[i].At = view.History[i].At.In(rt.cfg.Location)
		}
		loaded.Idea = &view
	}
	return outcome(loaded)
}

func (rt *Runtime) checkOriginal(ctx context.Context, e flows.CheckOriginal) (flows.Input, bool) {
	_, found, err := rt.stores.Staff.StaffIdea(ctx, e.Ref)
	if err != nil {
		return rt.failed("looking a duplicate's original up failed", err)
	}
	return outcome(flows.OriginalChecked{Ref: e.Ref, Found: found})
}

// nextReview finds the next idea to review, for the message next.
func (rt *Runtime) nextReview(ctx context.Context, skip []string, next flows.ReviewNext) (flows.Input, bool) {
	item, found, err := rt.stores.Staff.NextForReview(ctx, skip)
	if err != nil {
		return rt.failed("finding the next idea to review failed", err)
	}
	if found {
		item.SentAt = item.SentAt.In(rt.cfg.Location)
		next.Item = &item
	}
	return outcome(next)
}

func (rt *Runtime) listExportForums(ctx context.Context, e flows.ListExportForums) (flows.Input, bool) {
	forums, err := rt.stores.Forums.AllForums(ctx)
	if err != nil {
		return rt.failed("listing forums failed", err)
	}
	return outcome(flows.ExportForumsListed{Format: e.Format, Forums: forums})
}

func (rt *Runtime) exportIdeas(ctx context.Context, x effect, e flows.ExportIdeas) (flows.Input, bool) {
	// Uploads are sent from memory anyway; exports of a city's ideas are a
	// few megabytes.
	var buf bytes.Buffer
	rows, err := rt.stores.Staff.Export(ctx, e.Format, e.ForumID, x.st.Lang, &buf)
	if err != nil {
		return rt.failed("exporting ideas failed", err)
	}
	rt.log.Info("ideas exported", "format", e.Format, "forum_id", e.ForumID, "rows", rows)
	rt.audit(ctx, x.pid, "ideas.export", "", map[string]any{"format": e.Format, "forum_id": e.ForumID, "rows": rows})
	return outcome(flows.Exported{File: flows.File{Name: exportName(e.Format, rt.now()), Data: buf.Bytes()}, Count: rows, Format: e.Format})
}

func (rt *Runtime) listAnnounceForums(ctx context.Context) (flows.Input, bool) {
	forums, err := rt.stores.Forums.AllForums(ctx)
	if err != nil {
		return rt.failed("listing forums failed", err)
	}
	return outcome(flows.AnnounceForumsListed{Forums: forums})
}

func (rt *Runtime) countAudience(ctx context.Context, e flows.CountAudience) (flows.Input, bool) {
	f, found, err := rt.stores.Forums.ForumByID(ctx, e.ForumID)
	if err != nil || !found {
		return rt.failed("finding a forum to announce to failed", fmt.Errorf("forum %d (found=%v): %w", e.ForumID, found, err))
	}
	n, err := rt.stores.Broadcasts.BroadcastAudience(ctx, e.ForumID)
	if err != nil {
		return rt.failed("counting a forum's participants failed", err)
	}
	return outcome(flows.AudienceCounted{Forum: f, Reach: n})
}

func (rt *Runtime) createAnnouncement(ctx context.Context, x effect, e flows.CreateAnnouncement) (flows.Input, bool) {
	payload, err := json.Marshal(e.Announcement)
	if err != nil {
		return rt.failed("an announcement", err)
	}
	// The key is the staff member's draft: the same announcement confirmed
	// twice (a double tap, an update delivered again) is one broadcast.
	id, n, created, err := rt.stores.Broadcasts.CreateBroadcast(ctx, flows.Broadcast{ForumID: e.ForumID,
		Kind: flows.BroadcastKindAnnounce, Payload: payload, CreatedBy: x.pid, Key: "announce:" + x.pid + ":" + e.Key})
	if err != nil {
		return rt.failed("creating an announcement failed", err)
	}
	x.written()
	if created {
		rt.log.Info("announcement created", "broadcast_id", id, "forum_id", e.ForumID, "recipients", n)
		// Who, where and to how many; the text itself is the broadcast's.
		rt.audit(ctx, x.pid, "broadcast.announce", strconv.FormatInt(id, 10), map[string]any{"forum_id": e.ForumID,
			"recipients": n, "characters": flows.Length(e.Announcement.Text)})
	}
	return outcome(flows.AnnouncementCreated{Forum: e.Announcement.Forum, Recipients: n})
}

// audit records a teacher's or staff member's action. The action is done
// already; a failure to record it is logged, not shown to them.
func (rt *Runtime) audit(ctx context.Context, actor, action, target string, after any) {
	if err := rt.stores.Staff.Audit(ctx, actor, action, target, after); err != nil {
		rt.log.Error("audit log", "action", action, "err", err)
	}
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
	if !stats.LastIdea.IsZero() {
		stats.LastIdea = stats.LastIdea.In(rt.cfg.Location)
	}
	return flows.ForumCard{Forum: rt.local(f), Stats: stats}, true, nil
}

// reloadCard is the forum's card after a change, to show in place of the old.
func (rt *Runtime) reloadCard(ctx context.Context, forumID int64) (flows.Input, bool) {
	card, found, err := rt.card(ctx, forumID)
	if err != nil || !found {
		return rt.failed("reloading a forum card failed", fmt.Errorf("forum %d (found=%v): %w", forumID, found, err))
	}
	return outcome(flows.CardReloaded{Card: card})
}
