package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	tgbot "github.com/go-telegram/bot"
)

func TestPostJSONSpeaksTheBotAPI(t *testing.T) {
	const token = "123:secret-token-abcdefghijklmnopq"
	var got map[string]any
	answer := `{"ok":true,"result":{"message_id":1}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/bot"+token+"/sendMessage" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s", r.URL.Path, r.Header.Get("Content-Type"))
		}
		got = nil
		_ = json.NewDecoder(r.Body).Decode(&got)
		_, _ = w.Write([]byte(answer))
	}))
	defer srv.Close()
	b := &Bot{cfg: Config{Token: token, APIURL: srv.URL}, http: srv.Client()}
	ctx := context.Background()
	params := &tgbot.SendMessageParams{ChatID: int64(42), Text: "Ahoj"}

	if err := b.postJSON(ctx, "sendMessage", params); err != nil {
		t.Fatal(err)
	}
	if got["chat_id"] != float64(42) || got["text"] != "Ahoj" {
		t.Errorf("sent %v", got)
	}

	answer = `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`
	if err := b.postJSON(ctx, "sendMessage", params); !errors.Is(err, tgbot.ErrorForbidden) {
		t.Errorf("403 gave %v", err)
	}
	answer = `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`
	var tooMany *tgbot.TooManyRequestsError
	if err := b.postJSON(ctx, "sendMessage", params); !errors.As(err, &tooMany) || tooMany.RetryAfter != 7 {
		t.Errorf("429 gave %v", err)
	}
	answer = `{"ok":false,"error_code":502,"description":"Bad Gateway"}`
	if err := b.postJSON(ctx, "sendMessage", params); err == nil || !retryable(err) {
		t.Errorf("502 gave %v (retryable %v)", err, retryable(err))
	}
	answer = `{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}`
	if err := b.postJSON(ctx, "sendMessage", params); !errors.Is(err, tgbot.ErrorBadRequest) || retryable(err) {
		t.Errorf("400 gave %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel() // a cancelled call stays a cancellation (not retried), without the token
	if err := b.postJSON(cancelled, "sendMessage", params); !errors.Is(err, context.Canceled) || retryable(err) || strings.Contains(err.Error(), token) {
		t.Errorf("cancelled call gave %v", err)
	}
	srv.Close() // a network error must not show the token
	if err := b.postJSON(ctx, "sendMessage", params); err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("network error %v", err)
	}
}

func TestWebhookReplyIsAMethodCall(t *testing.T) {
	if body := (&webhookReply{}).body(); body != nil {
		t.Fatalf("no call, yet a body %s", body)
	}
	r := &webhookReply{method: "answerCallbackQuery", params: &tgbot.AnswerCallbackQueryParams{CallbackQueryID: "q-1"}}
	var got map[string]any
	if err := json.Unmarshal(r.body(), &got); err != nil {
		t.Fatalf("%s: %v", r.body(), err)
	}
	if got["method"] != "answerCallbackQuery" || got["callback_query_id"] != "q-1" || len(got) != 2 {
		t.Fatalf("body %s", r.body())
	}
}
