package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/healthycities/napad/flows"
)

const (
	// notifyBatch is how many due notifications the notifier takes at once:
	// about a second of sending, well within the store's lease.
	notifyBatch = 30
	// notifyMaxBackoff is the longest wait between rounds while the store
	// fails.
	notifyMaxBackoff = time.Minute
)

// RunNotifier tells students what became of their ideas until ctx ends: it
// takes the due notifications from the store and sends each through ch in
// the student's language, in the background (replies to students go first).
// When nothing is due it waits every before asking again.
func (rt *Runtime) RunNotifier(ctx context.Context, every time.Duration, ch Channel) error {
	if rt.stores.Notifications == nil {
		return errors.New("bot: notifier: no notification store")
	}
	rt.pollRounds(ctx, every, notifyBatch, "status notifications", func(ctx context.Context) (int, error) {
		return rt.notifyDue(ctx, ch)
	})
	return nil
}

// pollRounds runs round until ctx ends: at once again after a full batch
// (more may be due), after every when there was less, and after a wait
// growing up to notifyMaxBackoff while round fails (what names it in the
// log).
func (rt *Runtime) pollRounds(ctx context.Context, every time.Duration, batch int, what string, round func(context.Context) (int, error)) {
	if every <= 0 {
		every = 2 * time.Second
	}
	backoff := every
	for {
		n, err := round(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := every
		switch {
		case err != nil:
			wait = backoff
			backoff = min(2*backoff, max(every, notifyMaxBackoff))
			rt.log.Warn(what+": will try again", "err", err, "wait", wait)
		case n == batch:
			backoff = every
			continue // more may be due
		default:
			backoff = every
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// notifyDue sends one batch of due notifications and says how many there were.
func (rt *Runtime) notifyDue(ctx context.Context, ch Channel) (int, error) {
	storeCtx, cancel := context.WithTimeout(ctx, storeTimeout)
	due, err := rt.stores.Notifications.DueNotifications(storeCtx, rt.cfg.Now(), notifyBatch)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("take due notifications: %w", err)
	}
	for _, n := range due {
		if ctx.Err() != nil {
			// The rest stay leased; once the lease is over they are sent.
			break
		}
		rt.notify(ctx, ch, n)
	}
	return len(due), nil
}

// errChatUnopened: the store has the student's chat but could not open it.
var errChatUnopened = errors.New("the student's chat could not be opened: it is sealed with a contact key this bot does not have")

// notify sends one notification and records how it went.
func (rt *Runtime) notify(ctx context.Context, ch Channel, n flows.Notification) {
	replies := []flows.Reply{{Text: notificationMsg(n)}}
	sent, err := rt.sendInBackground(ctx, ch, n.ParticipantID, n.ChatID, n.Language, replies)
	if sent == sendAbandoned {
		return // shutting down: another round (or replica) sends it after the lease
	}
	// What was sent must be recorded even if ctx ends now, or it is sent twice.
	storeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	store := rt.stores.Notifications
	now := rt.cfg.Now()
	switch sent {
	case sendOK:
		rt.log.Info("status notification sent", "reference", n.Reference, "status", n.Status)
		if err := store.MarkNotified(storeCtx, n.IdeaID, now); err != nil {
			rt.log.Error("recording a sent status notification failed; it may be sent again",
				"reference", n.Reference, "err", err)
		}

	case sendUnreachable:
		rt.log.Info("the student blocked the bot; not telling them about their ideas again", "reference", n.Reference)
		if err := store.DropNotification(storeCtx, n.IdeaID, now); err != nil {
			rt.log.Warn("dropping a status notification failed", "reference", n.Reference, "err", err)
		}

	default:
		gaveUp, rerr := store.RetryNotification(storeCtx, n.IdeaID, now)
		if rerr != nil {
			rt.log.Error("recording a failed status notification failed", "reference", n.Reference, "err", rerr)
		}
		rt.log.Log(ctx, sendFailureLevel(err), "sending a status notification failed", "reference", n.Reference,
			"gave_up", gaveUp, "err", err)
	}
}

// sendOutcome is what became of a message sent in the background.
type sendOutcome int

const (
	// sendAbandoned: the bot is shutting down; nothing is recorded, and the
	// lease makes another round (or replica) send it.
	sendAbandoned sendOutcome = iota
	sendOK
	// sendUnreachable: the student blocked the bot; their contact is
	// marked so (and their chat dropped) already.
	sendUnreachable
	// sendFailed: to be tried again later.
	sendFailed
)

// sendInBackground sends replies to a student nobody is waiting for (a
// status notification, a broadcast) through ch, after replies to students
// who just wrote. chat 0 is a chat the store could not open.
func (rt *Runtime) sendInBackground(ctx context.Context, ch Channel, pid string, chat int64, lang string, replies []flows.Reply) (sendOutcome, error) {
	err := errChatUnopened // tried again like a failed send: the key may come back
	if chat != 0 {
		err = ch.Send(ctx, Delivery{Chat: chat, Lang: lang, Replies: replies, Background: true})
	}
	switch {
	case err == nil:
		return sendOK, nil
	case ctx.Err() != nil:
		return sendAbandoned, err
	case errors.Is(err, ErrUnreachable):
		storeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		if err := rt.stores.People.StopContact(storeCtx, pid, false); err != nil {
			rt.log.Warn("marking a student unreachable failed", "err", err)
		}
		return sendUnreachable, err
	}
	return sendFailed, err
}

// sendFailureLevel: a chat the bot cannot open needs a person (the contact
// key put back); other failures pass.
func sendFailureLevel(err error) slog.Level {
	if errors.Is(err, errChatUnopened) {
		return slog.LevelError
	}
	return slog.LevelWarn
}

// notificationMsg is what the student is told about their idea.
func notificationMsg(n flows.Notification) flows.Msg {
	key := "notify.status"
	if n.Answer != "" {
		key = "notify.with_answer"
	}
	return flows.Msg{Key: key, Data: map[string]any{
		"Ref":    n.Reference,
		"Title":  n.Title,
		"Status": flows.Msg{Key: "status." + n.Status},
		"Answer": n.Answer,
	}}
}
