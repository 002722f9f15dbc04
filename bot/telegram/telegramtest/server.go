// Package telegramtest is an in-process fake of the Telegram Bot API for
// end-to-end tests of the bot.
//
// The fake speaks the real wire protocol: the bot under test is pointed at
// URL() (bot.WithServerURL) and calls POST/GET {URL}/bot<token>/<method> with
// multipart, JSON, urlencoded or query-string parameters. Simulated users
// (NewUser) create updates that the bot receives through getUpdates (long
// polling) or, after setWebhook, as POSTs to its webhook. Everything the bot
// sends is recorded and can be awaited:
//
//	srv := telegramtest.New(t, token)
//	// start the bot with bot.WithServerURL(srv.URL()) ...
//	u := srv.NewUser(42, "Eva", "cs")
//	u.SendText("/start")
//	msg := srv.WaitFor(t, u.ID(), func(m telegramtest.SentMessage) bool { return len(m.InlineKeyboard) > 0 }, 2*time.Second)
//	u.Tap(msg, "Nový nápad")
//
// Faults: FailNext, SetDown, FailRandomly (429s and 5xx under load) and
// HoldNext (a call kept on its way, to stop a bot at an exact point).
// LimitMessages keeps Telegram's limits on the messages a bot sends.
//
// What every fake of the Bot API needs — reading calls in any encoding,
// answering in Telegram's envelope, the rate limits — is in the sub-package
// botapi, which cmd/napad-bench's lean fake uses too.
//
// All methods are safe for concurrent use. Methods that fail the test (Wait*,
// User actions on misuse) must be called from the test's goroutine; Await is
// the wait for simulated users in goroutines of their own.
package telegramtest

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
)

// Identity of the fake bot, as returned by getMe.
const (
	BotID       int64 = 777000111
	BotUsername       = "napad_test_bot"
)

// firstUpdateID makes update ids look like Telegram's large ones and keeps
// them clearly apart from message ids in test output.
const firstUpdateID = 100000001

// Server is the fake Bot API. Create it with New.
type Server struct {
	t      testing.TB
	token  string
	ts     *httptest.Server
	bot    models.User
	ctx    context.Context // cancelled when the test ends; stops waits and deliveries
	cancel context.CancelFunc
	wg     sync.WaitGroup
	hook   *http.Client

	mu sync.Mutex
	// changed is closed and replaced on every state change, waking whoever
	// waits (long polls, webhook delivery, Wait*). A channel rather than a
	// sync.Cond so that waits can also select on contexts and timers.
	changed  chan struct{}
	seq      uint64 // orders user actions and bot message changes, for WaitFor
	calls    []Call
	failures map[string][]*botapi.Error // FailNext, by method in lower case
	blocked  map[int64]bool             // Block: chats that blocked the bot
	down     bool
	random   *randomFailures // FailRandomly
	limits   *botapi.Limits  // LimitMessages
	holds    []*Hold         // armed by HoldNext, not yet caught a call

	users map[int64]*User
	chats map[int64]*chat

	nextUpdateID int64
	updates      map[int64][]byte // every update ever created, for Redeliver
	pending      []*queued        // not yet confirmed (polling) or accepted (webhook), by id
	delivered    []int64
	pollGen      uint64 // bumped by each getUpdates and setWebhook to terminate older long polls
	webhook      *webhookConfig
	hookErrAt    time.Time
	hookErr      string

	// uploads are the files users sent (SendFile), by file id, for
	// getFile and the download endpoint.
	uploads map[string]File

	commands  map[commandKey][]models.BotCommand
	callbacks map[string]*callbackState
	serial    int64 // for callback query ids and file ids
}

// Call is one request the bot made.
type Call struct {
	Method string            // canonical name, e.g. "sendMessage" (as sent if unknown)
	Params map[string]string // JSON-typed parameters as JSON text, e.g. reply_markup
	Files  map[string]File   // multipart uploads by field name
	Time   time.Time
	Status int    // HTTP status of the answer; 0 while a long poll is still waiting
	Error  string // the error description when Status is not 200
}

// File is a file the bot sent, either uploaded or referenced.
type File struct {
	FileID string // file_id in the message returned to the bot
	Name   string // file name of an upload
	Data   []byte // content of an upload; nil when Ref is set
	Ref    string // file_id or URL the bot passed instead of uploading
}

// New starts a fake Bot API server that accepts token. It is shut down when
// the test ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	if token == "" {
		t.Fatal("telegramtest: empty token")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		t:      t,
		token:  token,
		ctx:    ctx,
		cancel: cancel,
		hook:   &http.Client{Timeout: 10 * time.Second},
		bot: models.User{
			ID:            BotID,
			IsBot:         true,
			FirstName:     "Nápad",
			Username:      BotUsername,
			CanJoinGroups: true,
		},
		changed:      make(chan struct{}),
		failures:     map[string][]*botapi.Error{},
		blocked:      map[int64]bool{},
		users:        map[int64]*User{},
		chats:        map[int64]*chat{},
		nextUpdateID: firstUpdateID,
		updates:      map[int64][]byte{},
		commands:     map[commandKey][]models.BotCommand{},
		uploads:      map[string]File{},
		callbacks:    map[string]*callbackState{},
	}
	s.ts = httptest.NewServer(s)
	s.wg.Add(1)
	go s.deliverWebhooks()
	t.Cleanup(func() {
		// Cancel first: ts.Close waits for handlers, and long polls only
		// return early when the context ends.
		s.cancel()
		s.wg.Wait()
		s.ts.Close()
	})
	return s
}

// URL is the server URL to give the bot (bot.WithServerURL).
func (s *Server) URL() string { return s.ts.URL }

// BotUser is the bot's own user, as returned by getMe.
func (s *Server) BotUser() models.User { return s.bot }

// notifyLocked wakes all waiters. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait blocks until the state changes, the deadline passes, or ctx or the
// server ends. s.mu must be held; it is released while waiting. It reports
// false when the wait ended for any reason but a state change.
func (s *Server) wait(ctx context.Context, deadline time.Time) bool {
	d := time.Until(deadline)
	if d <= 0 {
		return false
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	ch := s.changed
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case <-ch:
		return true
	case <-timer.C:
	case <-ctx.Done():
	case <-s.ctx.Done():
	}
	return false
}

// FailNext makes the next n calls of method (case-insensitive) fail with code
// and description, e.g. 429 with retryAfter, 403 "Forbidden: bot was blocked
// by the user" or 500. An empty description gets Telegram's usual one.
// Repeated calls queue up.
func (s *Server) FailNext(method string, n int, code int, description string, retryAfter int) {
	if description == "" {
		description = botapi.Description(code, retryAfter)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(method)
	for range n {
		s.failures[key] = append(s.failures[key], &botapi.Error{Code: code, Description: description, RetryAfter: retryAfter})
	}
}

// Block makes the user in chat block the bot: every message sent to them
// from now on is answered 403 "Forbidden: bot was blocked by the user".
func (s *Server) Block(chat int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[chat] = true
}

// SetDown simulates a Telegram outage: while down, every request is answered
// 502 Bad Gateway and webhook deliveries pause.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
	s.notifyLocked()
}

// Calls returns every request made so far, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = copyCall(c)
	}
	return out
}

// CallsTo returns the requests of one method (case-insensitive).
func (s *Server) CallsTo(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if strings.EqualFold(c.Method, method) {
			out = append(out, copyCall(c))
		}
	}
	return out
}

// WaitCall waits for a completed call of method (case-insensitive) matching
// match (nil matches any), made at any time, and returns the first one.
func (s *Server) WaitCall(t testing.TB, method string, match func(Call) bool, timeout time.Duration) Call {
	t.Helper()
	var found Call
	_, ok := await(s, timeout, func() []Call {
		var out []Call
		for _, c := range s.calls {
			if c.Status != 0 && strings.EqualFold(c.Method, method) {
				out = append(out, copyCall(c))
			}
		}
		return out
	}, func(calls []Call) bool {
		for _, c := range calls {
			if match == nil || match(c) {
				found = c
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("telegramtest: no matching %s call within %v\n%s", method, timeout, s.dump(0))
	}
	return found
}

// await takes a snapshot under s.mu and evaluates done on it without the lock,
// so that predicates may call the Server, until done or the timeout. A
// change between snapshot and wait is not missed: the wake-up channel is
// taken with the snapshot.
func await[T any](s *Server, timeout time.Duration, snapshot func() T, done func(T) bool) (T, bool) {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		v := snapshot()
		ch := s.changed
		s.mu.Unlock()
		if done(v) {
			return v, true
		}
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-ch:
			timer.Stop()
		case <-timer.C:
			s.mu.Lock()
			v = snapshot()
			s.mu.Unlock()
			return v, done(v)
		case <-s.ctx.Done():
			timer.Stop()
			return v, false
		}
	}
}

func copyCall(c Call) Call {
	c.Params = maps.Clone(c.Params)
	c.Files = maps.Clone(c.Files)
	return c
}

type handler struct {
	// fn runs with s.mu held, except for blocking ones, which lock themselves.
	fn       func(s *Server, ctx context.Context, p botapi.Params) (any, error)
	blocking bool
}

// handlers are the methods the fake carries out, by their botapi.Canonical
// names.
var handlers = map[string]handler{
	"getMe":                  {fn: (*Server).getMe},
	"getUpdates":             {fn: (*Server).getUpdates, blocking: true},
	"setWebhook":             {fn: (*Server).setWebhook},
	"deleteWebhook":          {fn: (*Server).deleteWebhook},
	"getWebhookInfo":         {fn: (*Server).getWebhookInfo},
	"sendMessage":            {fn: (*Server).sendMessage},
	"sendPhoto":              {fn: (*Server).sendPhoto},
	"sendDocument":           {fn: (*Server).sendDocument},
	"sendLocation":           {fn: (*Server).sendLocation},
	"editMessageText":        {fn: (*Server).editMessageText},
	"editMessageReplyMarkup": {fn: (*Server).editMessageReplyMarkup},
	"deleteMessage":          {fn: (*Server).deleteMessage},
	"answerCallbackQuery":    {fn: (*Server).answerCallbackQuery},
	"setMyCommands":          {fn: (*Server).setMyCommands},
	"getMyCommands":          {fn: (*Server).getMyCommands},
	"deleteMyCommands":       {fn: (*Server).deleteMyCommands},
	"sendChatAction":         {fn: (*Server).sendChatAction},
	"getFile":                {fn: (*Server).getFile},
}

// ServeHTTP implements the Bot API endpoint /bot<token>/<method>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		s.serveFile(w, rest)
		return
	}
	token, method, pathOK := botapi.SplitPath(r.URL.Path)
	name, _ := botapi.Canonical(method)
	h, known := handlers[name]
	if !known {
		name = method
	}
	p, perr := botapi.Parse(r)
	files := make(map[string]File, len(p.Files))
	for k, f := range p.Files {
		files[k] = File{Name: f.Name, Data: f.Data}
	}

	s.mu.Lock()
	idx := len(s.calls)
	s.calls = append(s.calls, Call{Method: name, Params: p.Values, Files: files, Time: time.Now()})
	var (
		result any
		err    error
	)
	// A call the fake would carry out may be held (HoldNext) or fail at
	// random (FailRandomly).
	valid := !s.down && pathOK && token == s.token && known && perr == nil
	if valid {
		if hold := s.takeHoldLocked(s.calls[idx]); hold != nil && !s.holdLocked(r.Context(), hold) {
			// The bot gave up on the call while it was held: never carried out.
			s.calls[idx].Status = StatusClientGone
			s.calls[idx].Error = "telegramtest: the client went away while the call was held"
			s.notifyLocked()
			s.mu.Unlock()
			return
		}
	}
	key := strings.ToLower(name)
	var random *botapi.Error
	if valid && len(s.failures[key]) == 0 {
		random = s.randomFailureLocked()
	}
	switch {
	case s.down:
		// An outage answers at the frontend, before the token is looked at.
		err = botapi.Fail(http.StatusBadGateway, 0)
	case !pathOK:
		err = botapi.Fail(http.StatusNotFound, 0)
	case token != s.token:
		err = botapi.Fail(http.StatusUnauthorized, 0)
	case !known:
		err = botapi.Fail(http.StatusNotFound, 0)
	case perr != nil:
		err = perr
	case len(s.failures[key]) > 0:
		err = s.failures[key][0]
		s.failures[key] = s.failures[key][1:]
	case random != nil:
		err = random
	case s.limits != nil && botapi.SendsMessage(name) && !s.limits.Admit(chatIDOf(p)):
		err = botapi.TooManyRequests(1)
	case h.blocking:
		s.mu.Unlock()
		result, err = h.fn(s, r.Context(), p)
		s.mu.Lock()
	default:
		result, err = h.fn(s, r.Context(), p)
	}
	resp := botapi.Answer(result, err)
	if !resp.OK {
		s.calls[idx].Error = resp.Description
	}
	s.calls[idx].Status = resp.Status()
	s.notifyLocked()
	s.mu.Unlock()
	resp.Write(w)
}

// LimitMessages makes the fake keep Telegram's limits on the messages a bot
// sends: a message l refuses is answered 429 "retry after 1" and not sent.
// l's statistics say how close the bot came. nil lifts the limits.
func (s *Server) LimitMessages(l *botapi.Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
}

// chatIDOf is the numeric chat_id of a call; 0 for a "@username".
func chatIDOf(p botapi.Params) int64 {
	id, _ := p.Int64("chat_id")
	return id
}
