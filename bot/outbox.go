package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/seal"
)

// queuedIdea is what the outbox keeps: the idea and whom to tell its code.
type queuedIdea struct {
	Idea flows.Idea `json:"s"`
	// Chat is where to tell the code, sealed (see sealQueued); the idea's
	// ContactChat is taken from it when the idea is stored.
	Chat []byte `json:"k,omitempty"`
	// ChatID is the chat in plain, in entries queued before chats were sealed.
	ChatID int64  `json:"c,omitempty"`
	Lang   string `json:"l"`
}

// outboxPlace binds a sealed chat to the outbox.
const outboxPlace = "outbox"

// sealQueued is an outbox entry as Redis keeps it: its chat sealed, bound
// to the student, and in plain nowhere, so that Redis alone does not tell
// whom it is from.
func sealQueued(keys *seal.Keyring, q queuedIdea, chat int64) ([]byte, error) {
	q.Chat = keys.SealChat(outboxPlace, q.Idea.ParticipantID, chat)
	q.ChatID, q.Idea.ContactChat = 0, 0
	return json.Marshal(q)
}

// queuedChat is the chat an entry's code is told in.
func queuedChat(keys *seal.Keyring, q queuedIdea) (int64, error) {
	if len(q.Chat) == 0 {
		return q.ChatID, nil
	}
	return keys.OpenChat(outboxPlace, q.Idea.ParticipantID, q.Chat)
}

// ResealOutbox seals the chat of every outbox entry, waiting or set aside,
// with the current contact key, and seals the chats of entries queued before
// chats were sealed. An entry whose chat keys cannot open is left as it is
// and counted as unreadable; one stored or changed meanwhile is left too.
func ResealOutbox(ctx context.Context, outbox OutboxResealer, keys *seal.Keyring) (resealed, unreadable int, err error) {
	entries, err := outbox.AllOutbox(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("reseal outbox: %w", err)
	}
	for id, data := range entries {
		var q queuedIdea
		if json.Unmarshal(data, &q) != nil || (len(q.Chat) == 0 && q.ChatID == 0) || (len(q.Chat) > 0 && keys.Current(q.Chat)) {
			continue // nothing to seal, or sealed already
		}
		chat, err := queuedChat(keys, q)
		if err != nil {
			unreadable++
			continue
		}
		sealed, err := sealQueued(keys, q, chat)
		if err != nil {
			return resealed, unreadable, fmt.Errorf("reseal outbox: %w", err)
		}
		replaced, err := outbox.ReplaceOutbox(ctx, id, data, sealed)
		if err != nil {
			return resealed, unreadable, fmt.Errorf("reseal outbox: %w", err)
		}
		if replaced {
			resealed++
		}
	}
	return resealed, unreadable, nil
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
	data, err := sealQueued(rt.cfg.ContactKeys, queuedIdea{Idea: sub, Lang: lang}, chatID)
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

// maxOutboxTries is how often storing one outbox entry may fail while
// PostgreSQL is up before it is moved aside to the dead letters.
const maxOutboxTries = 5

// drainOutbox stores the waiting ideas, oldest first, each leased so that no
// other replica stores it (and tells the student its code) at the same time.
func (rt *Runtime) drainOutbox(ctx context.Context, ch Channel) {
	var tried []string
	for len(tried) < 50 && ctx.Err() == nil {
		id, data, lease, err := rt.stores.Outbox.ClaimOutbox(ctx, tried)
		if err != nil {
			rt.log.Warn("reading the outbox failed", "err", err)
			return
		}
		if lease == "" {
			return
		}
		tried = append(tried, id)
		var q queuedIdea
		if err := json.Unmarshal(data, &q); err != nil {
			rt.deadLetter(ctx, id, lease, "it cannot be read", err)
			continue
		}
		chat, err := queuedChat(rt.cfg.ContactKeys, q)
		if err != nil {
			// The idea matters more than telling its code: it is stored, but
			// its student is not told, nor later about what became of it.
			rt.log.Error("the chat of an outbox entry could not be opened; its idea is stored without it", "draft", draftOf(id), "err", err)
		}
		if !q.Idea.Quiet { // the student said /stop: no contact
			q.Idea.ContactChat = chat
		}
		storeCtx, cancel := context.WithTimeout(ctx, storeTimeout)
		ref, err := rt.stores.Ideas.Submit(storeCtx, q.Idea)
		cancel()
		if err != nil {
			up := rt.postgresUp(ctx)
			tries, dead, ferr := rt.stores.Outbox.FailOutbox(ctx, id, lease, up, maxOutboxTries)
			switch {
			case ferr != nil:
				rt.log.Warn("giving an outbox entry back failed; its lease runs out", "err", ferr)
			case dead:
				rt.deadLettered("storing it keeps failing", id, err)
			}
			if !up {
				rt.log.Warn("PostgreSQL still does not take the outbox", "err", err)
				return // try again next round
			}
			if !dead {
				rt.log.Warn("storing an outbox entry failed; it is tried again", "draft", draftOf(id), "tries", tries, "err", err)
			}
			continue
		}
		stored, err := rt.stores.Outbox.DoneOutbox(ctx, id, lease)
		if err != nil {
			// Its lease runs out and it is stored (once) again, and its code sent then.
			rt.log.Warn("removing a stored idea from the outbox failed; it will be stored (once) again", "err", err)
			continue
		}
		if !stored {
			// Another replica took it over, or the student deleted their data
			// (and /delete removes what was stored): nothing to tell.
			rt.log.Info("an idea stored from the outbox was no longer this replica's", "forum_id", q.Idea.ForumID)
			continue
		}
		rt.log.Info("idea stored from the outbox", "reference", ref, "forum_id", q.Idea.ForumID)
		if chat == 0 {
			continue
		}
		_ = rt.Deliver(ctx, ch, q.Idea.ParticipantID, Delivery{Chat: chat, Lang: q.Lang, Replies: []flows.Reply{{
			Text: flows.Msg{Key: "submit.code_later", Data: map[string]any{"Ref": ref, "Title": q.Idea.Title}}}}})
	}
}

// deadLetter moves an outbox entry that cannot be stored aside.
func (rt *Runtime) deadLetter(ctx context.Context, id, lease, why string, cause error) {
	moved, err := rt.stores.Outbox.DeadOutbox(ctx, id, lease)
	if err != nil {
		rt.log.Error("moving an outbox entry to the dead letters failed", "draft", draftOf(id), "err", err)
		return
	}
	if moved {
		rt.deadLettered(why, id, cause)
	}
}

// deadLettered tells staff of an entry moved aside (napad_outbox_dead, and
// outbox:dead in Redis). The log names the draft, never what the student
// wrote.
func (rt *Runtime) deadLettered(why, id string, cause error) {
	rt.metrics.deadLetters.Inc()
	rt.log.Error("an outbox entry was moved to the dead letters for a person to look at: "+why, "draft", draftOf(id), "err", cause)
}

// draftOf is the draft part of an outbox id ("<participant>:<draft>"): logs
// name no student.
func draftOf(id string) string {
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// postgresUp says whether PostgreSQL answers, to tell an entry PostgreSQL
// refuses from PostgreSQL being down. Unknown counts as down.
func (rt *Runtime) postgresUp(ctx context.Context) bool {
	p, ok := rt.stores.Ideas.(interface{ Ping(context.Context) error })
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return p.Ping(ctx) == nil
}
