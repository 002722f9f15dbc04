// Package botapi is what the fakes of the Telegram Bot API share: reading a
// call (its path, its method and its parameters in any of the encodings
// clients use), answering it in Telegram's envelope, Telegram's limits on
// the messages a bot sends, and the pieces of updates Telegram fills in.
//
// telegramtest.Server builds on it and records everything, for tests;
// cmd/napad-bench builds a lean fake on it that records nothing, for load.
package botapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Methods are the Bot API methods the fakes know, spelt as Telegram
// documents them.
var Methods = []string{
	"getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
	"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "sendChatAction",
	"editMessageText", "editMessageReplyMarkup", "editMessageCaption", "deleteMessage",
	"answerCallbackQuery", "setMyCommands", "getMyCommands", "deleteMyCommands", "getFile",
}

// canonical maps each method, as documented and in lower case, to its
// documented spelling.
var canonical = map[string]string{}

func init() {
	for _, m := range Methods {
		canonical[m] = m
		canonical[strings.ToLower(m)] = m
	}
}

// Canonical is the documented spelling of a method name, which the Bot API
// takes in any case; known is false for a method not in Methods.
func Canonical(method string) (name string, known bool) {
	if name, known = canonical[method]; !known {
		name, known = canonical[strings.ToLower(method)]
	}
	return name, known
}

// SendsMessage reports whether a method sends a message into a chat, which
// Telegram's limits count; edits and answers to callback queries it does not.
func SendsMessage(method string) bool {
	switch method {
	case "sendMessage", "sendPhoto", "sendDocument", "sendLocation":
		return true
	}
	return false
}

// SplitPath splits the path of a call, "/bot<token>/<method>".
func SplitPath(path string) (token, method string, ok bool) {
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

// Params are the parameters of a call: every value as text (JSON values that
// are not strings as JSON text, which is how they arrive in the form
// encodings), and the files uploaded, by field name.
type Params struct {
	Values map[string]string
	Files  map[string]Upload
}

// Upload is a file uploaded with a call.
type Upload struct {
	Name string
	Data []byte
}

// Str is the value of k, or "".
func (p Params) Str(k string) string { return p.Values[k] }

// Int64 is the value of k as an integer.
func (p Params) Int64(k string) (int64, bool) {
	v, err := strconv.ParseInt(strings.TrimSpace(p.Values[k]), 10, 64)
	return v, err == nil
}

// Bool is the value of k as a boolean; false if absent or not one.
func (p Params) Bool(k string) bool {
	v, _ := strconv.ParseBool(p.Values[k])
	return v
}

// Parse reads the parameters of a call from the query string and the body,
// whatever the encoding: multipart/form-data, urlencoded or JSON. Where both
// have a value, the body's wins. The error is the Bot API's answer.
func Parse(r *http.Request) (Params, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return Params{}, BadRequest("can't read body: %v", err)
	}
	return ParseBody(r.Header.Get("Content-Type"), r.URL.RawQuery, body)
}

// ParseBody is Parse for a call already read: its Content-Type, its query
// string and its body.
func ParseBody(contentType, rawQuery string, body []byte) (Params, error) {
	p := Params{Values: map[string]string{}, Files: map[string]Upload{}}
	if rawQuery != "" {
		q, _ := url.ParseQuery(rawQuery)
		for k, v := range q {
			p.Values[k] = v[0]
		}
	}
	ct, ctParams, _ := mime.ParseMediaType(contentType)
	switch ct {
	case "multipart/form-data":
		form, err := multipart.NewReader(bytes.NewReader(body), ctParams["boundary"]).ReadForm(32 << 20)
		if err != nil {
			return p, BadRequest("can't parse multipart/form-data: %v", err)
		}
		defer func() { _ = form.RemoveAll() }()
		for k, v := range form.Value {
			p.Values[k] = v[0]
		}
		for k, fhs := range form.File {
			f, err := fhs[0].Open()
			if err != nil {
				return p, BadRequest("can't read file %s: %v", k, err)
			}
			data, err := io.ReadAll(f)
			_ = f.Close()
			if err != nil {
				return p, BadRequest("can't read file %s: %v", k, err)
			}
			p.Files[k] = Upload{Name: fhs[0].Filename, Data: data}
		}
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return p, BadRequest("can't parse form: %v", err)
		}
		for k, v := range form {
			p.Values[k] = v[0]
		}
	case "application/json":
		if len(bytes.TrimSpace(body)) == 0 {
			break
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return p, BadRequest("can't parse JSON object")
		}
		for k, raw := range m {
			var str string
			switch {
			case string(raw) == "null":
			case raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0:
				// Valid (Unmarshal checked the whole body), and nothing to
				// unescape: the common case, at a fraction of the cost.
				p.Values[k] = string(raw[1 : len(raw)-1])
			case json.Unmarshal(raw, &str) == nil:
				p.Values[k] = str
			default:
				p.Values[k] = string(raw)
			}
		}
	}
	return p, nil
}

// Error is an error answer of the Bot API.
type Error struct {
	Code        int // also the HTTP status
	Description string
	RetryAfter  int // seconds; parameters.retry_after of a 429
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Description) }

// BadRequest is a 400 "Bad Request: ...".
func BadRequest(format string, args ...any) *Error {
	return &Error{Code: http.StatusBadRequest, Description: "Bad Request: " + fmt.Sprintf(format, args...)}
}

// Fail is an error answer with Telegram's usual description of code.
func Fail(code, retryAfter int) *Error {
	return &Error{Code: code, Description: Description(code, retryAfter), RetryAfter: retryAfter}
}

// Description is Telegram's usual description of an error code.
func Description(code, retryAfter int) string {
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

// ErrWebhookActive is getUpdates' answer while a webhook is set.
var ErrWebhookActive = &Error{Code: http.StatusConflict, Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}

// Described is a result that comes with a description, as setWebhook's
// "Webhook was set".
type Described struct {
	Result      any
	Description string
}

// Response is the envelope of every answer of the Bot API.
type Response struct {
	OK          bool                `json:"ok"`
	Result      any                 `json:"result,omitempty"`
	Description string              `json:"description,omitempty"`
	ErrorCode   int                 `json:"error_code,omitempty"`
	Parameters  *ResponseParameters `json:"parameters,omitempty"`
}

// ResponseParameters say how to go on after an error.
type ResponseParameters struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

// Answer is the response with result (which may be Described), or, if err
// is not nil, with err: an *Error, or any other error as a 500.
func Answer(result any, err error) Response {
	if err != nil {
		e, ok := err.(*Error)
		if !ok {
			e = &Error{Code: http.StatusInternalServerError, Description: "Internal Server Error: " + err.Error()}
		}
		r := Response{ErrorCode: e.Code, Description: e.Description}
		if e.RetryAfter > 0 {
			r.Parameters = &ResponseParameters{RetryAfter: e.RetryAfter}
		}
		return r
	}
	if d, ok := result.(Described); ok {
		return Response{OK: true, Result: d.Result, Description: d.Description}
	}
	return Response{OK: true, Result: result}
}

// Status is the HTTP status of the response.
func (r Response) Status() int {
	if r.OK {
		return http.StatusOK
	}
	return r.ErrorCode
}

// Write sends the response.
func (r Response) Write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.Status())
	_ = json.NewEncoder(w).Encode(r)
}

// WebhookCall is the Bot API method a bot called in its answer to a webhook
// POST ("method" among the JSON parameters, which are the rest of body),
// which Telegram carries out; ok is false when the answer holds no call.
func WebhookCall(contentType string, body []byte) (method string, ok bool) {
	if len(body) == 0 || !strings.HasPrefix(contentType, "application/json") {
		return "", false
	}
	var m struct {
		Method string `json:"method"`
	}
	if json.Unmarshal(body, &m) != nil || m.Method == "" {
		return "", false
	}
	return m.Method, true
}

// WebhookReply carries out the Bot API call a bot made in its answer to a
// webhook POST (WebhookCall), as Telegram does: as a call of the fake h,
// which serves /bot<token>/<method>. Like Telegram, it tells nobody how that
// went. It reports whether the answer held a call.
func WebhookReply(h http.Handler, token, contentType string, body []byte) bool {
	method, ok := WebhookCall(contentType, body)
	if !ok {
		return false
	}
	req, err := http.NewRequest(http.MethodPost, "/bot"+token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(discard{}, req)
	return true
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
