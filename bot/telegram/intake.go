package telegram

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/healthycities/napad/bot"
)

// pollTimeout is how long one getUpdates call waits for news.
const pollTimeout = 25 * time.Second

// handleTimeout bounds the work on one update, so a stuck store cannot hold
// a chat forever.
const handleTimeout = 30 * time.Second

// errRetryLater means an update could not be handled because a store was
// unreachable; it must be handled again, not confirmed.
var errRetryLater = errors.New("a store is unreachable; handle the update again later")

// outcome lets the handlers, which return nothing, report errRetryLater.
type outcome struct {
	retry bool
	label string // for metrics; "" is handled
	// waited: another update of the chat was being handled in this process
	// when this one came (see step's replay).
	waited bool
}

// setOutcome records what became of the update being handled.
func setOutcome(ctx context.Context, label string) {
	if o, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		o.label = label
	}
}

type outcomeKey struct{}

// RunPolling fetches updates with getUpdates until ctx ends. The offset that
// confirms a batch to Telegram is sent only after the whole batch has been
// handled, so an update is never dropped by a crash: at worst it comes again
// and is recognised as a duplicate.
func (b *Bot) RunPolling(ctx context.Context) error {
	// A webhook left by an earlier run would make getUpdates fail.
	if _, err := withRetry(ctx, b, "deleteWebhook", func() (bool, error) {
		return b.api.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{})
	}); err != nil {
		return fmt.Errorf("switch to long polling (deleteWebhook): %w", redact(err, b.cfg.Token))
	}
	b.log.Info("receiving updates by long polling", "bot", b.username)
	var offset, confirmed int64
	// On the way out, confirm what was handled since the last getUpdates:
	// otherwise Telegram delivers it again to the next process.
	defer func() {
		if offset == confirmed {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, _, err := b.getUpdates(ctx, offset, 0); err != nil {
			b.log.Warn("confirming the last updates handled failed; they will come again", "err", redact(err, b.cfg.Token))
		}
	}()
	var backoff, storeBackoff time.Duration
	// handled holds the updates handled since the offset last moved: when a
	// batch is fetched again from one that failed, they are not handled (and
	// answered) again.
	handled := map[int64]bool{}
	for {
		if backoff > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		batch, retryAfter, err := b.getUpdates(ctx, offset, pollTimeout)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			backoff = max(retryAfter, min(max(2*backoff, 100*time.Millisecond), 5*time.Second))
			b.log.Warn("getUpdates failed", "err", redact(err, b.cfg.Token), "retry_in", backoff)
			continue
		}
		confirmed = offset
		backoff = 0
		if len(batch) == 0 {
			continue
		}
		if failed := b.dispatch(ctx, batch, handled); failed != 0 {
			// Ask for the batch again from the first update that could not
			// be handled; the ones after it that were handled are recognised
			// as duplicates then.
			offset = failed
			storeBackoff = min(max(2*storeBackoff, time.Second), 30*time.Second)
			backoff = storeBackoff
			continue
		}
		storeBackoff = 0
		offset = batch[len(batch)-1].ID + 1
		clear(handled)
	}
}

type apiResponse struct {
	OK          bool              `json:"ok"`
	Result      []json.RawMessage `json:"result"`
	ErrorCode   int               `json:"error_code"`
	Description string            `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// getUpdates is called directly: the library's polling loop confirms updates
// as soon as it has read them, before they are handled. With wait 0 it only
// confirms the updates below offset (and asks for at most one, not handled).
func (b *Bot) getUpdates(ctx context.Context, offset int64, wait time.Duration) ([]*models.Update, time.Duration, error) {
	params := map[string]any{
		"offset":          offset,
		"timeout":         int(wait / time.Second),
		"allowed_updates": allowedUpdates,
	}
	if wait == 0 {
		params["limit"] = 1
	}
	body, _ := json.Marshal(params)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.apiURL("getUpdates"), bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("build getUpdates request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("getUpdates: %w", err)
	}
	defer resp.Body.Close()
	var r apiResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&r); err != nil {
		return nil, 0, fmt.Errorf("getUpdates: read answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if !r.OK {
		return nil, time.Duration(r.Parameters.RetryAfter) * time.Second,
			fmt.Errorf("getUpdates: telegram answered %d %s", r.ErrorCode, r.Description)
	}
	updates := make([]*models.Update, 0, len(r.Result))
	for _, raw := range r.Result {
		u := &models.Update{}
		if err := json.Unmarshal(raw, u); err != nil {
			// Keep its id so the offset moves past it; the update itself is skipped.
			var head struct {
				ID int64 `json:"update_id"`
			}
			_ = json.Unmarshal(raw, &head)
			b.log.Warn("skipping an update that cannot be decoded", "update_id", head.ID, "err", err)
			u = &models.Update{ID: head.ID}
		}
		updates = append(updates, u)
	}
	return updates, 0, nil
}

func (b *Bot) apiURL(method string) string {
	base := b.cfg.APIURL
	if base == "" {
		base = "https://api.telegram.org"
	}
	return base + "/bot" + b.cfg.Token + "/" + method
}

// dispatch handles a batch: chats in parallel, each chat's updates in order.
// It returns the lowest id of an update that must be handled again (0 if
// none); a chat's later updates wait for it. Updates in handled are skipped;
// those handled now are added.
func (b *Bot) dispatch(ctx context.Context, batch []*models.Update, handled map[int64]bool) (failed int64) {
	byChat := map[int64][]*models.Update{}
	var order []int64
	for _, u := range batch {
		if handled[u.ID] {
			continue
		}
		id := chatKey(u)
		if _, ok := byChat[id]; !ok {
			order = append(order, id)
		}
		byChat[id] = append(byChat[id], u)
	}
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for _, id := range order {
		wg.Add(1)
		go func(updates []*models.Update) {
			defer wg.Done()
			for _, u := range updates {
				err := b.HandleUpdate(ctx, u)
				mu.Lock()
				if err == nil {
					handled[u.ID] = true
				} else if failed == 0 || u.ID < failed {
					failed = u.ID
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}(byChat[id])
	}
	wg.Wait()
	return failed
}

// HandleUpdate handles one update, after any earlier update of the same chat.
// It finishes its work even if ctx is cancelled (a shutdown), within a bound.
// errRetryLater means it must be delivered again.
func (b *Bot) HandleUpdate(ctx context.Context, u *models.Update) error {
	started := time.Now()
	o := &outcome{}
	ctx, cancel := context.WithTimeout(context.WithValue(context.WithoutCancel(ctx), outcomeKey{}, o), handleTimeout)
	defer cancel()
	unlock, waited, err := b.chats.lock(ctx, chatKey(u), u.ID)
	if err != nil { // waited as long as handling may take, or too many wait: let it come again
		b.metrics.updateDone(u, string(bot.Retry), time.Since(started))
		return errRetryLater
	}
	o.waited = waited
	defer unlock()
	b.api.ProcessUpdate(ctx, u)
	label := o.label
	switch {
	case o.retry:
		label = string(bot.Retry)
	case label == "":
		label = string(bot.Handled)
	}
	b.metrics.updateDone(u, label, time.Since(started))
	if o.retry {
		return errRetryLater
	}
	return nil
}

// StartWebhook asks Telegram to deliver updates to the webhook URL.
func (b *Bot) StartWebhook(ctx context.Context) error {
	_, err := withRetry(ctx, b, "setWebhook", func() (bool, error) {
		return b.api.SetWebhook(ctx, &tgbot.SetWebhookParams{
			URL:            b.cfg.WebhookURL,
			SecretToken:    b.cfg.WebhookSecret,
			AllowedUpdates: allowedUpdates,
			MaxConnections: 40,
		})
	})
	if err != nil {
		return fmt.Errorf("register webhook: %w", redact(err, b.cfg.Token))
	}
	b.log.Info("receiving updates by webhook", "bot", b.username)
	return nil
}

// WebhookHandler receives updates that Telegram POSTs. Requests without the
// secret token are refused; an update is answered only once it is handled,
// so Telegram delivers it again if the bot dies meanwhile.
func (b *Bot) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(b.cfg.WebhookSecret)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		u := &models.Update{}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(u); err != nil {
			// Answered 200 all the same: Telegram would only send it again.
			b.log.Warn("skipping an update that cannot be decoded", "update_id", u.ID, "err", err)
			return
		}
		reply := &webhookReply{}
		if err := b.HandleUpdate(context.WithValue(r.Context(), webhookReplyKey{}, reply), u); err != nil {
			// Telegram delivers it again later.
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		if body := reply.body(); body != nil {
			b.metrics.apiCalls.WithLabelValues(reply.method, "webhook_reply").Inc()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// webhookReply is a Bot API call made by answering the webhook's request
// (Telegram carries it out; its result is not known), which saves a request
// per update. Only calls whose result does not matter go there: the answer
// to a tapped button.
type webhookReply struct {
	method string
	params any
}

type webhookReplyKey struct{}

// body is the webhook's response: params as a JSON object with "method"
// added, or nil if there is no call to make.
func (r *webhookReply) body() []byte {
	if r.method == "" {
		return nil
	}
	params, err := json.Marshal(r.params)
	if err != nil || len(params) < 2 || params[0] != '{' {
		return nil
	}
	if len(params) == 2 { // {}
		return []byte(`{"method":"` + r.method + `"}`)
	}
	return append([]byte(`{"method":"`+r.method+`",`), params[1:]...)
}

// chatKey is the chat an update belongs to, for ordering.
func chatKey(u *models.Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil:
		if chat, ok := callbackChat(u.CallbackQuery); ok {
			return chat.ID
		}
		return u.CallbackQuery.From.ID
	case u.EditedMessage != nil:
		return u.EditedMessage.Chat.ID
	}
	return 0
}
