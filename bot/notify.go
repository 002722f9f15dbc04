package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/flows"
)

const (
	// notifyBatch is how many due notifications the notifier takes at once:
	// about a second of sending, well within the store's lease.
	notifyBatch = 30
	// notifyMaxBackoff is the longest wait between rounds while the store
	// fails.
	notifyMaxBackoff = time.Minute
	// notifyFallbackLang is used when a message is missing in the student's
	// language: better English than nothing.
	notifyFallbackLang = "en"
)

// RunNotifier tells students what became of their ideas until ctx ends: it
// takes the due notifications from the store and sends each in the
// student's language, as fast as Telegram's limits allow after the replies
// to students (see throttle). When nothing is due it waits every before
// asking again.
func (b *Bot) RunNotifier(ctx context.Context, every time.Duration) error {
	if b.stores.Notifications == nil {
		return errors.New("bot: notifier: no notification store")
	}
	if every <= 0 {
		every = 2 * time.Second
	}
	backoff := every // while the store fails, waits grow up to notifyMaxBackoff
	for {
		n, err := b.notifyDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := every
		switch {
		case err != nil:
			wait = backoff
			backoff = min(2*backoff, max(every, notifyMaxBackoff))
			b.log.Warn("status notifications: will try again", "err", err, "wait", wait)
		case n == notifyBatch:
			backoff = every
			continue // more may be due
		default:
			backoff = every
		}
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

// notifyDue sends one batch of due notifications and says how many there were.
func (b *Bot) notifyDue(ctx context.Context) (int, error) {
	storeCtx, cancel := context.WithTimeout(ctx, storeTimeout)
	due, err := b.stores.Notifications.DueNotifications(storeCtx, b.cfg.Now(), notifyBatch)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("take due notifications: %w", err)
	}
	for _, n := range due {
		if ctx.Err() != nil {
			// The rest stay leased; once the lease is over they are sent.
			break
		}
		b.notify(ctx, n)
	}
	return len(due), nil
}

// notify sends one notification and records how it went.
func (b *Bot) notify(ctx context.Context, n flows.Notification) {
	err := b.sendNotification(ctx, n)
	if err != nil && ctx.Err() != nil {
		return // shutting down: another round (or replica) sends it after the lease
	}
	// What was sent must be recorded even if ctx ends now, or it is sent twice.
	storeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	store := b.stores.Notifications
	now := b.cfg.Now()
	switch {
	case err == nil:
		b.log.Info("status notification sent", "reference", n.Reference, "status", n.Status)
		if err := store.MarkNotified(storeCtx, n.SuggestionID, now); err != nil {
			b.log.Error("recording a sent status notification failed; it may be sent again",
				"reference", n.Reference, "err", err)
		}

	case errors.Is(err, tgbot.ErrorForbidden):
		b.log.Info("the student blocked the bot; not telling them about their ideas again", "reference", n.Reference)
		if err := b.stores.People.StopContact(storeCtx, n.ParticipantID, n.ChatID, false); err != nil {
			b.log.Warn("marking a student unreachable failed", "err", err)
		}
		if err := store.DropNotification(storeCtx, n.SuggestionID, now); err != nil {
			b.log.Warn("dropping a status notification failed", "reference", n.Reference, "err", err)
		}

	default:
		gaveUp, rerr := store.RetryNotification(storeCtx, n.SuggestionID, now)
		if rerr != nil {
			b.log.Error("recording a failed status notification failed", "reference", n.Reference, "err", rerr)
		}
		b.log.Warn("sending a status notification failed", "reference", n.Reference,
			"gave_up", gaveUp, "err", redact(err, b.cfg.Token))
	}
}

// sendNotification sends the notification's text, in parts if it is long.
func (b *Bot) sendNotification(ctx context.Context, n flows.Notification) error {
	for _, part := range splitText(b.notificationText(n), maxMessageLength) {
		if err := b.throttle.slot(ctx, n.ChatID, true); err != nil {
			return err
		}
		params := &tgbot.SendMessageParams{
			ChatID:             n.ChatID,
			Text:               part,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
		}
		if _, err := withRetry(ctx, b, "sendMessage", func() (struct{}, error) {
			return struct{}{}, b.postJSON(ctx, "sendMessage", params)
		}); err != nil {
			return err
		}
	}
	return nil
}

// notificationText is the notification in the student's language or, if it
// is not translated yet, in English.
func (b *Bot) notificationText(n flows.Notification) string {
	key := "notify.status"
	if n.Answer != "" {
		key = "notify.with_answer"
	}
	m := flows.Msg{Key: key, Data: map[string]any{
		"Ref":    n.Reference,
		"Title":  n.Title,
		"Status": flows.Msg{Key: "status." + n.Status},
		"Answer": n.Answer,
	}}
	text, err := b.catalog.Render(n.Language, b.withLinks(m))
	if err == nil {
		return text
	}
	b.log.Error("missing translation; notifying in English", "key", key, "lang", n.Language, "err", err)
	return b.text(notifyFallbackLang, m)
}

// sleep waits d; false means ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
