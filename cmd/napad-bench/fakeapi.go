package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
)

// The fake bot's identity, as getMe tells it.
var fakeBot = botapi.User{ID: 777000222, IsBot: true, FirstName: "Nápad", Username: "napad_bench_bot"}

// webhookConfig is what the bot asked for with setWebhook.
type webhookConfig struct {
	URL            string
	Secret         string
	MaxConnections int
}

// messageSink receives what the bot shows in a chat: its text, and its
// inline keyboard as JSON ("" without one). It returns the message id to
// answer with, or ok=false when the chat is nobody's the sink knows.
type messageSink interface {
	botMessage(chatID, messageID int64, text, keyboard string) (id int64, ok bool)
}

// fakeAPI is a lean Telegram Bot API: it reads calls with telegramtest/botapi,
// as the tests' fake does, but records nothing; it answers every method the
// bot uses with valid Telegram JSON, hands the bot's messages to the
// students, and counts calls.
type fakeAPI struct {
	token string // the accepted token; "" accepts any
	sink  messageSink
	log   *slog.Logger
	// limits, unless nil, refuses messages beyond Telegram's rate with 429
	// (-mode notify, vote, assembly).
	limits *botapi.Limits
	// pairs, unless nil, watches what edits would add to the limit per
	// chat if Telegram counted them as messages (-mode assembly).
	pairs *editPairs

	calls    map[string]*atomic.Int64 // by method; unknown ones under "(unknown)"
	sent     atomic.Int64             // messages the fake took: sendMessage, sendPhoto, … (not refused ones)
	edited   atomic.Int64             // edits of a message the fake took: editMessageText, …ReplyMarkup, …Caption
	badCalls atomic.Int64             // refused: bad token, unparseable parameters
	msgSeq   atomic.Int64             // message ids in chats that are no student's

	hookMu  sync.Mutex
	hook    webhookConfig
	hookSet chan struct{} // closed at the first setWebhook
	polled  atomic.Bool

	srv  *liteServer
	addr string
}

const unknownMethod = "(unknown)"

func newFakeAPI(token string, sink messageSink, log *slog.Logger) *fakeAPI {
	f := &fakeAPI{token: token, sink: sink, log: log, hookSet: make(chan struct{}), calls: map[string]*atomic.Int64{}}
	for _, m := range append(botapi.Methods, unknownMethod) {
		f.calls[m] = new(atomic.Int64)
	}
	f.msgSeq.Store(1_000_000)
	return f
}

// start listens on addr ("127.0.0.1:0" for any free port).
func (f *fakeAPI) start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fake Bot API: listen on %s: %w", addr, err)
	}
	f.addr = ln.Addr().String()
	f.srv = &liteServer{ln: ln, handle: f.handle}
	go func() {
		if err := f.srv.serve(); err != nil {
			f.log.Error("fake Bot API stopped", "err", err)
		}
	}()
	return nil
}

func (f *fakeAPI) url() string { return "http://" + f.addr }

func (f *fakeAPI) close() {
	if f.srv != nil {
		f.srv.close()
	}
}

// webhook returns what the bot registered with setWebhook, waiting for it
// until ctx ends.
func (f *fakeAPI) webhook(ctx context.Context) (webhookConfig, error) {
	select {
	case <-f.hookSet:
	case <-ctx.Done():
		return webhookConfig{}, fmt.Errorf("waiting for the bot's setWebhook: %w", ctx.Err())
	}
	f.hookMu.Lock()
	defer f.hookMu.Unlock()
	return f.hook, nil
}

func (f *fakeAPI) counts() map[string]int64 {
	out := map[string]int64{}
	for m, n := range f.calls {
		if n.Load() > 0 {
			out[m] = n.Load()
		}
	}
	return out
}

// webhookReply carries out a Bot API call the bot made in its answer to a
// webhook POST, as Telegram does (the bot answers a tap this way).
func (f *fakeAPI) webhookReply(contentType string, answer []byte) {
	if method, ok := botapi.WebhookCall(contentType, answer); ok {
		_, _ = f.call("/bot"+f.token+"/"+method, "", contentType, answer)
	}
}

// handle answers POST/GET /bot<token>/<method>: it appends the answer to b
// and returns the HTTP status.
func (f *fakeAPI) handle(b, _, target, contentType, body []byte) ([]byte, int) {
	path, query, _ := bytes.Cut(target, []byte("?"))
	resp := botapi.Answer(f.call(string(path), string(query), string(contentType), body))
	w := bytes.NewBuffer(b)
	_ = json.NewEncoder(w).Encode(resp)
	return w.Bytes(), resp.Status()
}

func (f *fakeAPI) call(path, query, contentType string, body []byte) (any, error) {
	token, method, ok := botapi.SplitPath(path)
	if !ok || f.token != "" && token != f.token {
		f.badCalls.Add(1)
		if !ok {
			return nil, botapi.Fail(http.StatusNotFound, 0)
		}
		return nil, botapi.Fail(http.StatusUnauthorized, 0)
	}
	name, known := botapi.Canonical(method)
	if !known {
		f.calls[unknownMethod].Add(1)
		return nil, botapi.Fail(http.StatusNotFound, 0)
	}
	f.calls[name].Add(1)
	p, err := botapi.ParseBody(contentType, query, body)
	if err != nil {
		f.badCalls.Add(1)
		return nil, err
	}
	switch name {
	case "getMe":
		return fakeBot, nil
	case "setWebhook":
		f.setWebhook(p)
		return botapi.Described{Result: true, Description: "Webhook was set"}, nil
	case "deleteWebhook":
		return botapi.Described{Result: true, Description: "Webhook is already deleted"}, nil
	case "getWebhookInfo":
		f.hookMu.Lock()
		defer f.hookMu.Unlock()
		return botapi.WebhookInfo{URL: f.hook.URL, MaxConnections: f.hook.MaxConnections}, nil
	case "getMyCommands":
		return []botapi.BotCommand{}, nil
	case "getUpdates":
		if !f.polled.Swap(true) {
			f.log.Warn("the bot polls with getUpdates: napad-bench only delivers updates by webhook (set WEBHOOK_URL and WEBHOOK_SECRET)")
		}
		return nil, botapi.ErrWebhookActive
	case "sendMessage", "sendPhoto", "sendDocument", "sendLocation", "editMessageText", "editMessageReplyMarkup", "editMessageCaption":
		return f.message(name, p)
	}
	return true, nil // setMyCommands, deleteMyCommands, answerCallbackQuery, sendChatAction, deleteMessage
}

func (f *fakeAPI) setWebhook(p botapi.Params) {
	cfg := webhookConfig{URL: p.Str("url"), Secret: p.Str("secret_token"), MaxConnections: 40}
	if n, ok := p.Int64("max_connections"); ok && n > 0 {
		cfg.MaxConnections = int(n)
	}
	f.hookMu.Lock()
	defer f.hookMu.Unlock()
	f.hook = cfg
	select {
	case <-f.hookSet:
	default:
		close(f.hookSet)
	}
}

// message is a message as Telegram writes it, in the answer to a method
// that sends or changes one and in updates: the fields a client reads of the
// bot's messages and the students send. The inline keyboard stays the JSON
// the bot sent: decoding it into go-telegram's models and encoding it again
// would cost the bench more than the rest of an update.
type message struct {
	ID          int64                  `json:"message_id"`
	From        *botapi.User           `json:"from"`
	Chat        botapi.Chat            `json:"chat"`
	Date        int64                  `json:"date"`
	EditDate    int64                  `json:"edit_date,omitempty"`
	Text        string                 `json:"text,omitempty"`
	Entities    []botapi.MessageEntity `json:"entities,omitempty"`
	Caption     string                 `json:"caption,omitempty"`
	Photo       []botapi.PhotoSize     `json:"photo,omitempty"`
	Document    *botapi.Document       `json:"document,omitempty"`
	Location    *botapi.Location       `json:"location,omitempty"`
	ReplyMarkup json.RawMessage        `json:"reply_markup,omitempty"`
}

// privateChat is a student's chat with the bot; its id is the student's.
func privateChat(id int64) botapi.Chat {
	return botapi.Chat{ID: id, Type: botapi.ChatTypePrivate, FirstName: "Student"}
}

// message answers a method that sends or changes a message with the
// message, as Telegram does, after showing it to the student of the chat.
func (f *fakeAPI) message(method string, p botapi.Params) (any, error) {
	chatID, ok := p.Int64("chat_id")
	if !ok {
		f.badCalls.Add(1)
		return nil, botapi.BadRequest("chat_id is empty")
	}
	sends, edit := botapi.SendsMessage(method), strings.HasPrefix(method, "edit")
	if f.limits != nil && sends && !f.limits.Admit(chatID) {
		return nil, botapi.TooManyRequests(1)
	}
	switch {
	case sends:
		f.sent.Add(1)
	case edit:
		f.edited.Add(1)
	}
	if f.pairs != nil && (sends || edit) {
		f.pairs.note(chatID, edit)
	}
	// Only inline keyboards carry the buttons a student taps, and only
	// those Telegram returns with the message.
	keyboard := p.Str("reply_markup")
	if !strings.Contains(keyboard, `"inline_keyboard"`) {
		keyboard = ""
	}
	var msgID int64
	if edit {
		msgID, _ = p.Int64("message_id")
	}
	text := cmp.Or(p.Str("text"), p.Str("caption"))
	id, known := f.sink.botMessage(chatID, msgID, text, keyboard)
	if !known {
		if id = msgID; id == 0 {
			id = f.msgSeq.Add(1)
		}
	}
	m := &message{ID: id, From: &fakeBot, Chat: privateChat(chatID), Date: time.Now().Unix()}
	if chatID < 0 {
		m.Chat = botapi.Chat{ID: chatID, Type: botapi.ChatTypeSupergroup, Title: "Group"}
	}
	if keyboard != "" {
		m.ReplyMarkup = json.RawMessage(keyboard)
	}
	if edit {
		m.EditDate = m.Date
	}
	switch method {
	case "sendPhoto", "editMessageCaption":
		m.Photo, m.Caption = botapi.PhotoSizes("AgACAgIAAxkBAAIBenchPhoto", 98000), text
	case "sendDocument":
		m.Document, m.Caption = &botapi.Document{FileID: "BQACAgIAAxkBAAIBenchDoc", FileUniqueID: botapi.UniqueID("BQACAgIAAxkBAAIBenchDoc"), FileName: "file"}, text
	case "sendLocation":
		lat, _ := strconv.ParseFloat(p.Str("latitude"), 64)
		lon, _ := strconv.ParseFloat(p.Str("longitude"), 64)
		m.Location = &botapi.Location{Latitude: lat, Longitude: lon}
	default:
		m.Text = text
	}
	return m, nil
}
