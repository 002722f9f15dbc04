package bot

import (
	"context"
	"encoding/json"
	"time"

	"github.com/healthycities/napad/flows"
)

// queuedIdea is what the outbox keeps: the idea and whom to tell its code.
type queuedIdea struct {
	Idea   flows.Idea `json:"s"`
	ChatID int64      `json:"c"`
	Lang   string     `json:"l"`
}

// queue keeps an idea that PostgreSQL could not take in the outbox; it says
// whether that worked.
func (rt *Runtime) queue(ctx context.Context, sub flows.Idea, chatID int64, lang string) bool {
	if rt.stores.Outbox == nil {
		return false
	}
	// Its own deadline: the failed Submit may have used up the caller's.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	data, err := json.Marshal(queuedIdea{Idea: sub, ChatID: chatID, Lang: lang})
	if err == nil {
		err = rt.stores.Outbox.PutOutbox(ctx, sub.DraftID, data)
	}
	if err != nil {
		rt.log.Error("keeping an idea in the outbox failed", "err", err)
		return false
	}
	rt.log.Warn("idea kept in the outbox until PostgreSQL takes it", "forum_id", sub.ForumID)
	return true
}

// RunOutbox stores the ideas waiting in the outbox, once PostgreSQL takes
// them, and tells each student the code of their idea through ch. Submit is idempotent
// on the draft, so an idea stored twice (a crash before it left the outbox)
// is still one row.
func (rt *Runtime) RunOutbox(ctx context.Context, every time.Duration, ch Channel) {
	for {
		rt.drainOutbox(ctx, ch)
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func (rt *Runtime) drainOutbox(ctx context.Context, ch Channel) {
	items, err := rt.stores.Outbox.Outbox(ctx, 50)
	if err != nil {
		rt.log.Warn("reading the outbox failed", "err", err)
		return
	}
	for id, data := range items {
		var q queuedIdea
		if err := json.Unmarshal(data, &q); err != nil {
			rt.log.Error("an outbox entry cannot be read; it stays for a person to look at", "draft", id, "err", err)
			continue
		}
		if q.Idea.ContactChat == 0 && !q.Idea.Quiet { // queued before ideas carried it
			q.Idea.ContactChat = q.ChatID
		}
		storeCtx, cancel := context.WithTimeout(ctx, storeTimeout)
		ref, err := rt.stores.Ideas.Submit(storeCtx, q.Idea)
		cancel()
		if err != nil {
			rt.log.Warn("PostgreSQL still does not take the outbox", "err", err)
			return // try again next round
		}
		rt.log.Info("idea stored from the outbox", "reference", ref, "forum_id", q.Idea.ForumID)
		_ = rt.Deliver(ctx, ch, q.Idea.ParticipantID, Delivery{Chat: q.ChatID, Lang: q.Lang, Replies: []flows.Reply{{
			Text: flows.Msg{Key: "submit.code_later", Data: map[string]any{"Ref": ref, "Title": q.Idea.Title}}}}})
		if err := rt.stores.Outbox.DeleteOutbox(ctx, id); err != nil {
			rt.log.Warn("removing a stored idea from the outbox failed; it will be stored (once) again", "err", err)
		}
	}
}
