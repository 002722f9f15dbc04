package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The fake bot's identity, as getMe tells it.
const (
	fakeBotID       int64 = 777000222
	fakeBotUsername       = "napad_bench_bot"
)

// Bot API methods the fake knows; the index counts calls.
const (
	mGetMe = iota
	mSetWebhook
	mDeleteWebhook
	mGetWebhookInfo
	mSetMyCommands
	mGetMyCommands
	mDeleteMyCommands
	mSendMessage
	mEditMessageText
	mEditMessageReplyMarkup
	mEditMessageCaption
	mAnswerCallbackQuery
	mSendChatAction
	mSendPhoto
	mSendDocument
	mSendLocation
	mDeleteMessage
	mGetUpdates
	mUnknown
	numMethods
)

var methodNames = [numMethods]string{
	"getMe", "setWebhook", "deleteWebhook", "getWebhookInfo", "setMyCommands", "getMyCommands",
	"deleteMyCommands", "sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption",
	"answerCallbackQuery", "sendChatAction", "sendPhoto", "sendDocument", "sendLocation", "deleteMessage",
	"getUpdates", "(unknown)",
}

func methodIndex(name []byte) int {
	for i, n := range methodNames[:mUnknown] {
		if string(name) == n {
			return i
		}
	}
	for i, n := range methodNames[:mUnknown] { // method names are case-insensitive
		if bytes.EqualFold(name, []byte(n)) {
			return i
		}
	}
	return mUnknown
}

// webhookConfig is what the bot asked for with setWebhook.
type webhookConfig struct {
	URL            string
	Secret         string
	MaxConnections int
}

// messageSink receives what the bot shows in a chat. text and markup point
// into the request and must be copied if kept. It returns the message id to
// answer with, or ok=false when the chat is nobody's the sink knows.
type messageSink interface {
	botMessage(chatID int64, messageID int64, text, markup []byte) (id int64, ok bool)
}

// fakeAPI is a lean Telegram Bot API: it answers every method the bot uses
// with valid Telegram JSON, hands the bot's messages to the students, and
// counts calls. It keeps nothing else.
type fakeAPI struct {
	token string // the accepted token; "" accepts any
	sink  messageSink
	log   *slog.Logger
	// limits, unless nil, refuses messages beyond Telegram's rate with 429
	// (-mode notify).
	limits *telegramLimits

	calls    [numMethods]atomic.Int64
	badCalls atomic.Int64 // refused: bad token, unparseable parameters
	msgSeq   atomic.Int64 // message ids in chats that are no student's

	hookMu  sync.Mutex
	hook    webhookConfig
	hookSet chan struct{} // closed at the first setWebhook
	polled  atomic.Bool

	srv  *http.Server
	addr string
}

var (
	botUserJSON = fmt.Sprintf(`{"id":%d,"is_bot":true,"first_name":"Nápad","username":%q,"can_join_groups":false,"can_read_all_group_messages":false,"supports_inline_queries":false}`, fakeBotID, fakeBotUsername)
	respTrue    = []byte(`{"ok":true,"result":true}`)
)

func newFakeAPI(token string, sink messageSink, log *slog.Logger) *fakeAPI {
	f := &fakeAPI{token: token, sink: sink, log: log, hookSet: make(chan struct{})}
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
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := f.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			f.log.Error("fake Bot API stopped", "err", err)
		}
	}()
	return nil
}

func (f *fakeAPI) url() string { return "http://" + f.addr }

func (f *fakeAPI) close() {
	if f.srv != nil {
		_ = f.srv.Close()
	}
}

// bufs are the request and response bodies of ServeHTTP, reused.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ServeHTTP reads the call and answers it with handle.
func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in, out := bufs.Get().(*bytes.Buffer), bufs.Get().(*bytes.Buffer)
	defer bufs.Put(in)
	defer bufs.Put(out)
	in.Reset()
	if _, err := in.ReadFrom(r.Body); err != nil {
		return
	}
	b, status := f.handle(out.AvailableBuffer(), nil, []byte(r.URL.RequestURI()), []byte(r.Header.Get("Content-Type")), in.Bytes())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	out.Write(b) // keeps the grown buffer for the next call
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
	for i := range f.calls {
		if n := f.calls[i].Load(); n > 0 {
			out[methodNames[i]] = n
		}
	}
	return out
}

// webhookReply carries out a Bot API call the bot made in its answer to a
// webhook POST, as Telegram does (the bot answers a tap this way).
func (f *fakeAPI) webhookReply(answer []byte) {
	var m struct {
		Method string `json:"method"`
	}
	if json.Unmarshal(answer, &m) != nil || m.Method == "" {
		return
	}
	f.handle(nil, nil, []byte("/bot"+f.token+"/"+m.Method), []byte("application/json"), answer)
}

// handle answers POST/GET /bot<token>/<method>: it appends the answer to b
// and returns the HTTP status.
func (f *fakeAPI) handle(b, _, target, contentType, body []byte) ([]byte, int) {
	path, query, _ := bytes.Cut(target, []byte("?"))
	rest, ok := bytes.CutPrefix(path, []byte("/bot"))
	token, method, ok2 := bytes.Cut(rest, []byte("/"))
	if !ok || !ok2 {
		f.badCalls.Add(1)
		return f.fail(b, http.StatusNotFound, "Not Found")
	}
	if f.token != "" && string(token) != f.token {
		f.badCalls.Add(1)
		return f.fail(b, http.StatusUnauthorized, "Unauthorized")
	}
	m := methodIndex(method)
	f.calls[m].Add(1)

	var p apiParams
	var err error
	if len(query) > 0 {
		err = parseFormParams(string(query), &p)
	}
	if err == nil && len(body) > 0 {
		switch {
		case bytes.HasPrefix(contentType, []byte("multipart/form-data")):
			err = parseMultipart(body, contentType, &p)
		case bytes.HasPrefix(contentType, []byte("application/json")):
			err = parseJSONParams(body, &p)
		case bytes.HasPrefix(contentType, []byte("application/x-www-form-urlencoded")):
			err = parseFormParams(string(body), &p)
		}
	}
	if err != nil {
		f.badCalls.Add(1)
		return f.fail(b, http.StatusBadRequest, "Bad Request: can't parse the parameters")
	}

	switch m {
	case mGetMe:
		b = append(b, `{"ok":true,"result":`...)
		b = append(b, botUserJSON...)
		b = append(b, '}')
	case mSetWebhook:
		f.setWebhook(&p)
		b = append(b, `{"ok":true,"result":true,"description":"Webhook was set"}`...)
	case mDeleteWebhook:
		b = append(b, `{"ok":true,"result":true,"description":"Webhook is already deleted"}`...)
	case mGetWebhookInfo:
		f.hookMu.Lock()
		h := f.hook
		f.hookMu.Unlock()
		b = append(b, `{"ok":true,"result":{"url":`...)
		b = appendJSONString(b, h.URL)
		b = append(b, `,"has_custom_certificate":false,"pending_update_count":0,"max_connections":`...)
		b = appendInt(b, int64(h.MaxConnections))
		b = append(b, `}}`...)
	case mGetMyCommands:
		b = append(b, `{"ok":true,"result":[]}`...)
	case mGetUpdates:
		if !f.polled.Swap(true) {
			f.log.Warn("the bot polls with getUpdates: napad-bench only delivers updates by webhook (set WEBHOOK_URL and WEBHOOK_SECRET)")
		}
		return f.fail(b, http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
	case mSendMessage, mEditMessageText, mEditMessageReplyMarkup, mEditMessageCaption,
		mSendPhoto, mSendDocument, mSendLocation:
		if f.limits != nil && m != mEditMessageText && m != mEditMessageReplyMarkup && m != mEditMessageCaption {
			// Telegram's limits are on messages sent, not on edits.
			if chatID, ok := parseInt(p.chatID); ok && !f.limits.admit(chatID) {
				return append(b, tooManyRequests...), http.StatusTooManyRequests
			}
		}
		var ok bool
		if b, ok = f.message(b, m, &p); !ok {
			f.badCalls.Add(1)
			return f.fail(b[:0], http.StatusBadRequest, "Bad Request: chat_id is empty")
		}
	case mUnknown:
		return f.fail(b, http.StatusNotFound, "Not Found")
	default: // setMyCommands, deleteMyCommands, answerCallbackQuery, sendChatAction, deleteMessage
		b = append(b, respTrue...)
	}
	return b, http.StatusOK
}

func (f *fakeAPI) setWebhook(p *apiParams) {
	cfg := webhookConfig{URL: string(p.url), Secret: string(p.secret), MaxConnections: 40}
	if n, ok := parseInt(p.maxConns); ok && n > 0 {
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

// message answers a method that sends or changes a message with the
// message, as Telegram does, after showing it to the student of the chat.
func (f *fakeAPI) message(b []byte, m int, p *apiParams) ([]byte, bool) {
	chatID, ok := parseInt(p.chatID)
	if !ok {
		return b, false
	}
	var msgID int64
	if m == mEditMessageText || m == mEditMessageReplyMarkup || m == mEditMessageCaption {
		msgID, _ = parseInt(p.messageID)
	}
	markup := p.markup
	if m == mEditMessageReplyMarkup && len(markup) == 0 {
		markup = []byte(`{"inline_keyboard":[]}`)
	}
	id, known := f.sink.botMessage(chatID, msgID, p.text, markup)
	if !known {
		id = msgID
		if id == 0 {
			id = f.msgSeq.Add(1)
		}
	}
	b = append(b, `{"ok":true,"result":{"message_id":`...)
	b = appendInt(b, id)
	b = append(b, `,"from":`...)
	b = append(b, botUserJSON...)
	b = append(b, `,"chat":{"id":`...)
	b = appendInt(b, chatID)
	if chatID > 0 {
		b = append(b, `,"first_name":"Student","type":"private"}`...)
	} else {
		b = append(b, `,"title":"Group","type":"supergroup"}`...)
	}
	b = append(b, `,"date":`...)
	b = appendInt(b, time.Now().Unix())
	if m == mEditMessageText || m == mEditMessageReplyMarkup || m == mEditMessageCaption {
		b = append(b, `,"edit_date":`...)
		b = appendInt(b, time.Now().Unix())
	}
	switch m {
	case mSendPhoto:
		b = append(b, `,"photo":[{"file_id":"AgACAgIAAxkBAAIBenchPhotoS","file_unique_id":"AQADbenchS","file_size":1400,"width":90,"height":68},`+
			`{"file_id":"AgACAgIAAxkBAAIBenchPhoto","file_unique_id":"AQADbench","file_size":98000,"width":1280,"height":960}]`...)
	case mSendDocument:
		b = append(b, `,"document":{"file_id":"BQACAgIAAxkBAAIBenchDoc","file_unique_id":"AgADbenchDoc","file_name":"file"}`...)
	case mSendLocation:
		b = append(b, `,"location":{"latitude":`...)
		b = append(b, p.latitude...)
		b = append(b, `,"longitude":`...)
		b = append(b, p.longitude...)
		b = append(b, '}')
	}
	if len(p.text) > 0 {
		if m == mSendPhoto || m == mSendDocument || m == mEditMessageCaption {
			b = append(b, `,"caption":`...)
		} else {
			b = append(b, `,"text":`...)
		}
		b = appendJSONString(b, p.text)
	}
	// Telegram returns inline keyboards only.
	if isInline(markup) {
		b = append(b, `,"reply_markup":`...)
		b = append(b, markup...)
	}
	b = append(b, `}}`...)
	return b, true
}

func (f *fakeAPI) fail(b []byte, code int, description string) ([]byte, int) {
	b = append(b, `{"ok":false,"error_code":`...)
	b = appendInt(b, int64(code))
	b = append(b, `,"description":`...)
	b = appendJSONString(b, description)
	return append(b, '}'), code
}
