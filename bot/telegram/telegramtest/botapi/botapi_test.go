package botapi

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Parameters arrive the same whatever the encoding; JSON values that are
// not strings are kept as JSON text.
func TestParse(t *testing.T) {
	markup := `{"inline_keyboard":[[{"text":"OK","callback_data":"5|privacy|ok"}]]}`
	text := "Ahoj 👋\r\nřádek dva -- a \"uvozovky\""

	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	for k, v := range map[string]string{"chat_id": "1000000000042", "text": text, "reply_markup": markup} {
		fw, _ := w.CreateFormField(k)
		_, _ = fw.Write([]byte(v))
	}
	fw, _ := w.CreateFormFile("photo", "x.png")
	_, _ = fw.Write([]byte("\x89PNG\r\n--not-a-boundary"))
	_ = w.Close()

	jsonBody, _ := json.Marshal(map[string]any{"chat_id": 1000000000042, "text": text, "reply_markup": json.RawMessage(markup), "x": nil, "parse_mode": "HTML"})
	form := url.Values{"chat_id": {"1000000000042"}, "text": {text}, "reply_markup": {markup}}

	for _, tt := range []struct {
		name, contentType, query string
		body                     []byte
	}{
		{"multipart", w.FormDataContentType(), "", mp.Bytes()},
		{"JSON", "application/json; charset=utf-8", "", jsonBody},
		{"urlencoded", "application/x-www-form-urlencoded", "", []byte(form.Encode())},
		{"query", "", "?" + form.Encode(), nil},
	} {
		r := httptest.NewRequest(http.MethodPost, "/bot1:x/sendMessage"+tt.query, bytes.NewReader(tt.body))
		if tt.contentType != "" {
			r.Header.Set("Content-Type", tt.contentType)
		}
		p, err := Parse(r)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		id, ok := p.Int64("chat_id")
		if !ok || id != 1000000000042 || p.Str("text") != text || p.Str("reply_markup") != markup {
			t.Errorf("%s: parsed %v", tt.name, p.Values)
		}
		if _, null := p.Values["x"]; null {
			t.Errorf("%s: a null value was kept", tt.name)
		}
		if tt.name == "JSON" && p.Str("parse_mode") != "HTML" {
			t.Errorf("JSON: parse_mode %q", p.Str("parse_mode"))
		}
		if tt.name == "multipart" && (p.Files["photo"].Name != "x.png" || !bytes.HasPrefix(p.Files["photo"].Data, []byte("\x89PNG"))) {
			t.Errorf("multipart: upload %+v", p.Files["photo"])
		}
	}

	r := httptest.NewRequest(http.MethodPost, "/bot1:x/sendMessage", strings.NewReader(`{"chat_id":`))
	r.Header.Set("Content-Type", "application/json")
	if _, err := Parse(r); err == nil || err.Error() != "400 Bad Request: can't parse JSON object" {
		t.Errorf("broken JSON: %v", err)
	}
}

func TestMethodsAndPaths(t *testing.T) {
	for in, want := range map[string]string{"sendMessage": "sendMessage", "SENDMESSAGE": "sendMessage", "getme": "getMe", "sendSticker": ""} {
		if got, known := Canonical(in); got != want || known != (want != "") {
			t.Errorf("Canonical(%q) = %q, %v", in, got, known)
		}
	}
	if token, method, ok := SplitPath("/bot123:abc/sendMessage"); !ok || token != "123:abc" || method != "sendMessage" {
		t.Errorf("SplitPath = %q %q %v", token, method, ok)
	}
	for _, bad := range []string{"/123/sendMessage", "/bot123", "/bot123/", "/bot123/a/b"} {
		if _, _, ok := SplitPath(bad); ok {
			t.Errorf("SplitPath(%q) ok", bad)
		}
	}
}

func TestAnswer(t *testing.T) {
	for _, tt := range []struct {
		result any
		err    error
		want   string
		status int
	}{
		{true, nil, `{"ok":true,"result":true}`, 200},
		{Described{true, "Webhook was set"}, nil, `{"ok":true,"result":true,"description":"Webhook was set"}`, 200},
		{nil, TooManyRequests(1), `{"ok":false,"description":"Too Many Requests: retry after 1","error_code":429,"parameters":{"retry_after":1}}`, 429},
		{nil, BadRequest("chat %s", "not found"), `{"ok":false,"description":"Bad Request: chat not found","error_code":400}`, 400},
	} {
		rec := httptest.NewRecorder()
		Answer(tt.result, tt.err).Write(rec)
		if got := strings.TrimSpace(rec.Body.String()); got != tt.want || rec.Code != tt.status {
			t.Errorf("%d %s, want %d %s", rec.Code, got, tt.status, tt.want)
		}
	}
}

// A call in the answer to a webhook POST reaches the fake as a call of its own.
func TestWebhookReply(t *testing.T) {
	var got string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := Parse(r)
		got = r.URL.Path + " " + p.Str("callback_query_id")
		Answer(true, err).Write(w)
	})
	if !WebhookReply(h, "1:x", "application/json", []byte(`{"method":"answerCallbackQuery","callback_query_id":"77"}`)) ||
		got != "/bot1:x/answerCallbackQuery 77" {
		t.Errorf("the call arrived as %q", got)
	}
	for _, ct := range []string{"application/json", "text/plain"} {
		if WebhookReply(h, "1:x", ct, []byte(`{"ok":true}`)) {
			t.Errorf("%s without a method: carried out", ct)
		}
	}
}

// The 31st message within a second is refused, a fourth one into a chat
// within a second is counted.
func TestLimits(t *testing.T) {
	l := NewLimits(30, 3)
	for i := range 30 {
		if !l.Admit(int64(i % 10)) {
			t.Fatalf("message %d refused", i+1)
		}
	}
	if l.Admit(99) {
		t.Error("the 31st message within a second was let through")
	}
	s := l.Stats()
	if s.Refused != 1 || s.ChatViolations != 0 || len(s.Accepted) != 30 || len(s.Attempts) != 31 {
		t.Errorf("refused %d, chat violations %d, %d accepted of %d; want 1, 0, 30 of 31", s.Refused, s.ChatViolations, len(s.Accepted), len(s.Attempts))
	}
	l = NewLimits(30, 3)
	for range 4 {
		l.Admit(7)
	}
	if s := l.Stats(); s.ChatViolations != 1 {
		t.Errorf("4 messages into one chat at once: %d violations, want 1", s.ChatViolations)
	}
	ms := time.Millisecond
	if got := MaxInWindow([]time.Duration{0, 500 * ms, 999 * ms, 1000 * ms, 1200 * ms, 1999 * ms}, time.Second); got != 4 {
		t.Errorf("MaxInWindow = %d, want 4 (500, 999, 1000, 1200 ms)", got)
	}
}

// With RefuseInChat(1) a second message into one chat within a second is
// refused, and leaves the chat's second and the overall count as they were.
func TestLimitsRefuseInChat(t *testing.T) {
	l := NewLimits(30, 3).RefuseInChat(1)
	if !l.Admit(7) {
		t.Fatal("the first message into a chat refused")
	}
	if l.Admit(7) {
		t.Error("a second message into one chat within a second let through")
	}
	for i := range 29 {
		if !l.Admit(int64(100 + i)) {
			t.Fatalf("message %d into another chat refused", i+1)
		}
	}
	if l.Admit(99) {
		t.Error("the 31st accepted message within a second let through")
	}
	s := l.Stats()
	if s.Refused != 2 || s.RefusedInChat != 1 || s.ChatViolations != 0 || len(s.Accepted) != 30 || len(s.Attempts) != 32 {
		t.Errorf("refused %d (%d in a chat), %d chat violations, %d accepted of %d; want 2 (1), 0, 30 of 32",
			s.Refused, s.RefusedInChat, s.ChatViolations, len(s.Accepted), len(s.Attempts))
	}
}

func TestUTF16Len(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "příliš": 6, "👋": 2, "🇨🇿": 4, "Привет": 6} {
		if got := UTF16Len(s); got != want {
			t.Errorf("UTF16Len(%q) = %d, want %d", s, got, want)
		}
	}
}
