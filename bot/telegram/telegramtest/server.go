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
//
// All methods are safe for concurrent use. Methods that fail the test (Wait*,
// User actions on misuse) must be called from the test's goroutine; Await is
// the wait for simulated users in goroutines of their own.
package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
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
	failures map[string][]failure
	down     bool
	random   *randomFailures // FailRandomly
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

type failure struct {
	code       int
	desc       string
	retryAfter int
}

// apiError is an error answer of the Bot API.
type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.code, e.desc) }

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

// described is a successful result carrying a description, as setWebhook's
// "Webhook was set".
type described struct {
	result any
	desc   string
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
		failures:     map[string][]failure{},
		users:        map[int64]*User{},
		chats:        map[int64]*chat{},
		nextUpdateID: firstUpdateID,
		updates:      map[int64][]byte{},
		commands:     map[commandKey][]models.BotCommand{},
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
		description = defaultDescription(code, retryAfter)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(method)
	for range n {
		s.failures[key] = append(s.failures[key], failure{code: code, desc: description, retryAfter: retryAfter})
	}
}

func defaultDescription(code, retryAfter int) string {
	switch code {
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden: bot was blocked by the user"
	case http.StatusNotFound:
		return "Not Found"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	case http.StatusBadGateway:
		return "Bad Gateway"
	}
	return http.StatusText(code)
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
	name string
	// fn runs with s.mu held, except for blocking ones, which lock themselves.
	fn       func(s *Server, ctx context.Context, p params) (any, error)
	blocking bool
}

var handlers = map[string]handler{}

func init() {
	for _, h := range []handler{
		{name: "getMe", fn: (*Server).getMe},
		{name: "getUpdates", fn: (*Server).getUpdates, blocking: true},
		{name: "setWebhook", fn: (*Server).setWebhook},
		{name: "deleteWebhook", fn: (*Server).deleteWebhook},
		{name: "getWebhookInfo", fn: (*Server).getWebhookInfo},
		{name: "sendMessage", fn: (*Server).sendMessage},
		{name: "sendPhoto", fn: (*Server).sendPhoto},
		{name: "sendDocument", fn: (*Server).sendDocument},
		{name: "sendLocation", fn: (*Server).sendLocation},
		{name: "editMessageText", fn: (*Server).editMessageText},
		{name: "editMessageReplyMarkup", fn: (*Server).editMessageReplyMarkup},
		{name: "deleteMessage", fn: (*Server).deleteMessage},
		{name: "answerCallbackQuery", fn: (*Server).answerCallbackQuery},
		{name: "setMyCommands", fn: (*Server).setMyCommands},
		{name: "getMyCommands", fn: (*Server).getMyCommands},
		{name: "deleteMyCommands", fn: (*Server).deleteMyCommands},
		{name: "sendChatAction", fn: (*Server).sendChatAction},
	} {
		// Bot API method names are case-insensitive.
		handlers[strings.ToLower(h.name)] = h
	}
}

// ServeHTTP implements the Bot API endpoint /bot<token>/<method>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, method, pathOK := splitPath(r.URL.Path)
	h, known := handlers[strings.ToLower(method)]
	name := method
	if known {
		name = h.name
	}
	vals, files, perr := parseRequest(r)

	s.mu.Lock()
	idx := len(s.calls)
	s.calls = append(s.calls, Call{Method: name, Params: vals, Files: files, Time: time.Now()})
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
	var random *apiError
	if valid && len(s.failures[strings.ToLower(method)]) == 0 {
		random = s.randomFailureLocked()
	}
	switch {
	case s.down:
		// An outage answers at the frontend, before the token is looked at.
		err = &apiError{code: http.StatusBadGateway, desc: "Bad Gateway"}
	case !pathOK:
		err = &apiError{code: http.StatusNotFound, desc: "Not Found"}
	case token != s.token:
		err = &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"}
	case !known:
		err = &apiError{code: http.StatusNotFound, desc: "Not Found"}
	case perr != nil:
		err = perr
	case len(s.failures[strings.ToLower(method)]) > 0:
		q := s.failures[strings.ToLower(method)]
		f := q[0]
		s.failures[strings.ToLower(method)] = q[1:]
		err = &apiError{code: f.code, desc: f.desc, retryAfter: f.retryAfter}
	case random != nil:
		err = random
	case h.blocking:
		s.mu.Unlock()
		result, err = h.fn(s, r.Context(), params{vals, files})
		s.mu.Lock()
	default:
		result, err = h.fn(s, r.Context(), params{vals, files})
	}
	status := http.StatusOK
	resp := apiResponse{OK: true, Result: result}
	if d, ok := result.(described); ok {
		resp.Result, resp.Description = d.result, d.desc
	}
	if err != nil {
		ae, ok := err.(*apiError)
		if !ok {
			ae = &apiError{code: http.StatusInternalServerError, desc: "Internal Server Error: " + err.Error()}
		}
		status = ae.code
		resp = apiResponse{ErrorCode: ae.code, Description: ae.desc}
		if ae.retryAfter > 0 {
			resp.Parameters = &responseParameters{RetryAfter: ae.retryAfter}
		}
		s.calls[idx].Error = ae.desc
	}
	s.calls[idx].Status = status
	s.notifyLocked()
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

type apiResponse struct {
	OK          bool                `json:"ok"`
	Result      any                 `json:"result,omitempty"`
	Description string              `json:"description,omitempty"`
	ErrorCode   int                 `json:"error_code,omitempty"`
	Parameters  *responseParameters `json:"parameters,omitempty"`
}

type responseParameters struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

// splitPath splits "/bot<token>/<method>".
func splitPath(path string) (token, method string, ok bool) {
	rest, found := strings.CutPrefix(path, "/bot")
	if !found {
		return "", "", false
	}
	token, method, found = strings.Cut(rest, "/")
	if !found || method == "" || strings.Contains(method, "/") {
		return token, method, false
	}
	return token, method, true
}

// parseRequest merges the query string and the body into one parameter map,
// whatever the encoding. JSON values that are not strings are kept as JSON
// text, which is how they arrive in form encodings.
func parseRequest(r *http.Request) (map[string]string, map[string]File, error) {
	vals := map[string]string{}
	files := map[string]File{}
	for k, v := range r.URL.Query() {
		vals[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return vals, files, badRequest("can't parse multipart/form-data: %v", err)
		}
		defer func() { _ = r.MultipartForm.RemoveAll() }()
		for k, v := range r.MultipartForm.Value {
			vals[k] = v[0]
		}
		for k, fhs := range r.MultipartForm.File {
			f, err := fhs[0].Open()
			if err != nil {
				return vals, files, badRequest("can't read file %s: %v", k, err)
			}
			data, err := io.ReadAll(f)
			_ = f.Close()
			if err != nil {
				return vals, files, badRequest("can't read file %s: %v", k, err)
			}
			files[k] = File{Name: fhs[0].Filename, Data: data}
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return vals, files, badRequest("can't parse form: %v", err)
		}
		for k, v := range r.PostForm {
			vals[k] = v[0]
		}
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return vals, files, badRequest("can't read body: %v", err)
		}
		if strings.TrimSpace(string(body)) == "" {
			break
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return vals, files, badRequest("can't parse JSON object")
		}
		for k, raw := range m {
			var str string
			switch {
			case string(raw) == "null":
			case json.Unmarshal(raw, &str) == nil:
				vals[k] = str
			default:
				vals[k] = string(raw)
			}
		}
	}
	return vals, files, nil
}
