package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
)

// webhookRetryDelay is how long a failed webhook delivery waits before it is
// retried. Telegram backs off longer; tests want it short.
const webhookRetryDelay = 50 * time.Millisecond

type queued struct {
	id  int64
	raw []byte
	// redelivery marks a duplicate made by Redeliver: it is handed out once
	// even though its id is below the bot's offset, which would otherwise
	// confirm (drop) it before the bot ever saw it.
	redelivery bool
	handedOut  bool
}

type webhookConfig struct {
	url            string
	secret         string
	maxConnections int
}

// PendingUpdates is the number of updates not yet confirmed by getUpdates'
// offset or accepted by the webhook (Telegram's pending_update_count).
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// DeliveredUpdateIDs lists update ids handed to the bot, in order, once per
// delivery: each getUpdates result and each webhook POST answered 2xx. An
// update returned again because the offset did not confirm it appears again.
func (s *Server) DeliveredUpdateIDs() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered)
}

// InjectRaw queues an arbitrary update given as JSON (channel posts, group
// messages, unknown update types...) and returns its update_id. A missing
// update_id is assigned; chats the update mentions become known to the fake,
// so the bot may answer into them.
func (s *Server) InjectRaw(rawJSON string) int64 {
	s.t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(rawJSON), &m); err != nil {
		s.t.Fatalf("telegramtest: InjectRaw: invalid JSON object: %v", err)
	}
	var id int64
	if raw, ok := m["update_id"]; ok {
		_ = json.Unmarshal(raw, &id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id <= 0 {
		id = s.nextUpdateID
	}
	if _, dup := s.updates[id]; dup {
		// Fatalf unwinds through the deferred Unlock.
		s.t.Fatalf("telegramtest: InjectRaw: update_id %d already exists (use Redeliver for duplicates)", id)
	}
	s.nextUpdateID = max(s.nextUpdateID, id+1)
	m["update_id"] = json.RawMessage(strconv.FormatInt(id, 10))
	raw, _ := json.Marshal(m)

	// Best effort: learn the chats and messages the update carries.
	var upd models.Update
	_ = json.Unmarshal(raw, &upd)
	var chatIDs []int64
	for _, msg := range []*models.Message{upd.Message, upd.EditedMessage, upd.ChannelPost, upd.EditedChannelPost} {
		if msg == nil || msg.Chat.ID == 0 {
			continue
		}
		c := s.chatLocked(msg.Chat)
		c.nextMsgID = max(c.nextMsgID, msg.ID+1)
		if c.user[msg.ID] == nil {
			stored := *msg
			c.user[msg.ID] = &stored
		}
		chatIDs = append(chatIDs, msg.Chat.ID)
	}
	if cq := upd.CallbackQuery; cq != nil {
		s.callbacks[cq.ID] = &callbackState{updateID: id}
		if cq.Message.Message != nil {
			chatIDs = append(chatIDs, cq.Message.Message.Chat.ID)
		}
	}
	s.storeUpdateLocked(id, raw, chatIDs...)
	return id
}

// Redeliver queues an already created update again, as Telegram does when it
// is unsure the bot got it. It reaches the bot once more in polling and in
// webhook mode.
func (s *Server) Redeliver(updateID int64) {
	s.t.Helper()
	s.mu.Lock()
	raw, ok := s.updates[updateID]
	if ok {
		s.enqueueLocked(&queued{id: updateID, raw: raw, redelivery: true})
	}
	s.mu.Unlock()
	if !ok {
		s.t.Fatalf("telegramtest: Redeliver: no update %d", updateID)
	}
}

// newUpdateLocked marshals upd under a new update id and queues it.
func (s *Server) newUpdateLocked(upd *models.Update, chatIDs ...int64) int64 {
	upd.ID = s.nextUpdateID
	s.nextUpdateID++
	raw, err := json.Marshal(upd)
	if err != nil {
		panic(fmt.Sprintf("telegramtest: marshal update: %v", err))
	}
	s.storeUpdateLocked(upd.ID, raw, chatIDs...)
	return upd.ID
}

func (s *Server) storeUpdateLocked(id int64, raw []byte, chatIDs ...int64) {
	s.updates[id] = raw
	s.seq++
	for _, cid := range chatIDs {
		if c := s.chats[cid]; c != nil {
			c.actionSeq = s.seq
		}
	}
	s.enqueueLocked(&queued{id: id, raw: raw})
}

// enqueueLocked keeps the queue ordered by id, as Telegram hands updates out.
func (s *Server) enqueueLocked(q *queued) {
	i, _ := slices.BinarySearchFunc(s.pending, q.id, func(e *queued, id int64) int {
		if e.id <= id {
			return -1
		}
		return 1
	})
	s.pending = slices.Insert(s.pending, i, q)
	s.notifyLocked()
}

// getUpdates implements long polling. It runs without s.mu held.
func (s *Server) getUpdates(ctx context.Context, p botapi.Params) (any, error) {
	offset, _ := p.Int64("offset")
	limit := 100
	if v, ok := p.Int64("limit"); ok && v >= 1 && v <= 100 {
		limit = int(v)
	}
	timeout, _ := p.Int64("timeout")
	deadline := time.Now().Add(time.Duration(max(timeout, 0)) * time.Second)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhook != nil {
		return nil, botapi.ErrWebhookActive
	}
	s.pollGen++
	gen := s.pollGen
	s.notifyLocked()
	s.confirmLocked(offset)
	if offset < 0 {
		offset = 0
	}
	for {
		var batch []json.RawMessage
		for _, q := range s.pending {
			if len(batch) == limit {
				break
			}
			if q.id >= offset || q.redelivery && !q.handedOut {
				q.handedOut = true
				batch = append(batch, q.raw)
				s.delivered = append(s.delivered, q.id)
			}
		}
		if len(batch) > 0 {
			return batch, nil
		}
		if !s.wait(ctx, deadline) {
			return []json.RawMessage{}, nil
		}
		if s.webhook != nil {
			return nil, &botapi.Error{Code: http.StatusConflict, Description: "Conflict: terminated by setWebhook request"}
		}
		if s.pollGen != gen {
			return nil, &botapi.Error{Code: http.StatusConflict, Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		}
	}
}

// confirmLocked drops the updates an offset confirms: all with a smaller id,
// or for a negative offset all but the last -offset ones.
func (s *Server) confirmLocked(offset int64) {
	switch {
	case offset > 0:
		s.pending = slices.DeleteFunc(s.pending, func(q *queued) bool {
			return q.id < offset && (!q.redelivery || q.handedOut)
		})
	case offset < 0:
		if keep := int(-offset); keep < len(s.pending) {
			s.pending = slices.Clone(s.pending[len(s.pending)-keep:])
		}
	}
}

func (s *Server) setWebhook(ctx context.Context, p botapi.Params) (any, error) {
	rawURL := p.Str("url")
	if rawURL == "" {
		return s.deleteWebhook(ctx, p)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// Real Telegram insists on HTTPS; plain HTTP is allowed for tests.
		return nil, botapi.BadRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	cfg := webhookConfig{url: rawURL, secret: p.Str("secret_token"), maxConnections: 40}
	if v, ok := p.Int64("max_connections"); ok && v > 0 {
		cfg.maxConnections = int(v)
	}
	if p.Bool("drop_pending_updates") {
		s.pending = nil
	}
	desc := "Webhook was set"
	if s.webhook != nil && *s.webhook == cfg {
		desc = "Webhook is already set"
	}
	s.webhook = &cfg
	s.hookErr, s.hookErrAt = "", time.Time{}
	s.pollGen++
	s.notifyLocked()
	return botapi.Described{Result: true, Description: desc}, nil
}

func (s *Server) deleteWebhook(_ context.Context, p botapi.Params) (any, error) {
	if p.Bool("drop_pending_updates") {
		s.pending = nil
	}
	desc := "Webhook is already deleted"
	if s.webhook != nil {
		desc = "Webhook was deleted"
	}
	s.webhook = nil
	s.notifyLocked()
	return botapi.Described{Result: true, Description: desc}, nil
}

func (s *Server) getWebhookInfo(context.Context, botapi.Params) (any, error) {
	info := models.WebhookInfo{PendingUpdateCount: len(s.pending)}
	if s.webhook != nil {
		info.URL = s.webhook.url
		info.MaxConnections = s.webhook.maxConnections
		info.IPAddress = "127.0.0.1"
		if s.hookErr != "" {
			info.LastErrorDate = int(s.hookErrAt.Unix())
			info.LastErrorMessage = s.hookErr
		}
	}
	return info, nil
}

// deliverWebhooks is the delivery goroutine: while a webhook is set it POSTs
// pending updates one at a time, in order, retrying failures like Telegram
// (which is why a bot must tolerate duplicates). Sequential delivery is a
// valid case of max_connections and keeps tests deterministic.
func (s *Server) deliverWebhooks() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		for s.webhook == nil || len(s.pending) == 0 || s.down {
			if !s.wait(s.ctx, time.Now().Add(time.Hour)) && s.ctx.Err() != nil {
				s.mu.Unlock()
				return
			}
		}
		q, cfg := s.pending[0], *s.webhook
		s.mu.Unlock()

		problem := s.post(cfg, q.raw)

		s.mu.Lock()
		if problem == "" {
			if i := slices.Index(s.pending, q); i >= 0 {
				s.pending = slices.Delete(s.pending, i, i+1)
			}
			s.delivered = append(s.delivered, q.id)
		} else {
			s.hookErr, s.hookErrAt = problem, time.Now()
		}
		s.notifyLocked()
		s.mu.Unlock()

		if problem != "" {
			select {
			case <-time.After(webhookRetryDelay):
			case <-s.ctx.Done():
				return
			}
		}
	}
}

// post delivers one update and returns what went wrong, worded like
// getWebhookInfo's last_error_message, or "".
func (s *Server) post(cfg webhookConfig, body []byte) string {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, cfg.url, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	if cfg.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", cfg.secret)
	}
	resp, err := s.hook.Do(req)
	if err != nil {
		return fmt.Sprintf("Connection failed: %v", err)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "Wrong response from the webhook: " + resp.Status
	}
	// A Bot API call in the answer is carried out, as by Telegram, and
	// recorded as any other.
	botapi.WebhookReply(s, s.token, resp.Header.Get("Content-Type"), answer)
	return ""
}
