package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
)

const token = "777000111:AAtest-token"

// newBot connects a real go-telegram client to the fake; bot.New calls getMe.
func newBot(t *testing.T, srv *telegramtest.Server, opts ...bot.Option) *bot.Bot {
	t.Helper()
	opts = append([]bot.Option{
		bot.WithServerURL(srv.URL()),
		bot.WithErrorsHandler(func(error) {}),
	}, opts...)
	b, err := bot.New(token, opts...)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

// startBot runs b's polling loop until the test ends.
func startBot(t *testing.T, b *bot.Bot) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Start(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

type apiReply struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// do makes a raw HTTP request and decodes the Bot API envelope, checking
// that the HTTP status matches error_code.
func do(req *http.Request) (apiReply, error) {
	var r apiReply
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return r, fmt.Errorf("decode: %w", err)
	}
	want := http.StatusOK
	if !r.OK {
		want = r.ErrorCode
	}
	if resp.StatusCode != want {
		return r, fmt.Errorf("HTTP status %d for %+v", resp.StatusCode, r)
	}
	return r, nil
}

func call(t *testing.T, req *http.Request) apiReply {
	t.Helper()
	r, err := do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return r
}

// pollAsync starts a long poll in the background.
func pollAsync(srv *telegramtest.Server, query string) chan apiReply {
	done := make(chan apiReply, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, methodURL(srv, "getUpdates")+"?"+query, nil)
		r, err := do(req)
		if err != nil {
			r.Description = err.Error()
		}
		done <- r
	}()
	return done
}

func methodURL(srv *telegramtest.Server, method string) string {
	return srv.URL() + "/bot" + token + "/" + method
}

func getUpdates(t *testing.T, srv *telegramtest.Server, query string) []models.Update {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, methodURL(srv, "getUpdates")+"?"+query, nil)
	r := call(t, req)
	if !r.OK {
		t.Fatalf("getUpdates: %d %s", r.ErrorCode, r.Description)
	}
	var ups []models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		t.Fatalf("decode updates: %v", err)
	}
	return ups
}

func updateIDs(ups []models.Update) []int64 {
	var ids []int64
	for _, u := range ups {
		ids = append(ids, u.ID)
	}
	return ids
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestGetMeTokenAndUnknownMethod(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	me, err := b.GetMe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != 777000111 || !me.IsBot || me.Username != "napad_test_bot" || *me != srv.BotUser() {
		t.Errorf("getMe = %+v", me)
	}

	_, err = bot.New("777000111:wrong", bot.WithServerURL(srv.URL()))
	if !errors.Is(err, bot.ErrorUnauthorized) {
		t.Errorf("wrong token: err = %v, want Unauthorized", err)
	}

	req, _ := http.NewRequest(http.MethodPost, methodURL(srv, "sendRocket"), nil)
	if r := call(t, req); r.OK || r.ErrorCode != 404 || r.Description != "Not Found" {
		t.Errorf("unknown method: %+v", r)
	}
	// Method names are case-insensitive on the real API.
	req, _ = http.NewRequest(http.MethodGet, methodURL(srv, "GETME"), nil)
	if r := call(t, req); !r.OK {
		t.Errorf("GETME: %+v", r)
	}
	calls := srv.CallsTo("getMe")
	var statuses []int
	for _, c := range calls {
		statuses = append(statuses, c.Status)
	}
	if !slices.Equal(statuses, []int{200, 200, 401, 200}) {
		t.Errorf("getMe calls: %+v", calls)
	}
}

func TestSendMessageWithKeyboards(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	ctx := context.Background()

	msg, err := b.SendMessage(ctx, &bot.SendMessageParams{
		ChatID:    u.ID(),
		Text:      "<b>Ahoj</b> Evo &amp; spol.",
		ParseMode: models.ParseModeHTML,
		ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
			{{Text: "Ano", CallbackData: "vote:yes"}, {Text: "Ne", CallbackData: "vote:no"}},
			{{Text: "Web", URL: "https://example.org"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if msg.ID != 1 || msg.From == nil || msg.From.ID != telegramtest.BotID || msg.Chat.ID != 42 || msg.Chat.Type != models.ChatTypePrivate {
		t.Errorf("returned message = %+v", msg)
	}
	if msg.Text != "Ahoj Evo & spol." {
		t.Errorf("returned text %q, want the visible text", msg.Text)
	}
	if msg.ReplyMarkup == nil || len(msg.ReplyMarkup.InlineKeyboard) != 2 || msg.ReplyMarkup.InlineKeyboard[0][1].CallbackData != "vote:no" {
		t.Errorf("returned markup = %+v", msg.ReplyMarkup)
	}

	_, err = b.SendMessage(ctx, &bot.SendMessageParams{
		ChatID: u.ID(),
		Text:   "Kde to je?",
		ReplyMarkup: &models.ReplyKeyboardMarkup{Keyboard: [][]models.KeyboardButton{
			{{Text: "📍 Poslat polohu", RequestLocation: true}}, {{Text: "Zrušit"}},
		}, ResizeKeyboard: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "Díky", ReplyMarkup: &models.ReplyKeyboardRemove{RemoveKeyboard: true}})
	if err != nil {
		t.Fatal(err)
	}

	sent := srv.Sent(u.ID())
	if len(sent) != 3 {
		t.Fatalf("sent %d messages", len(sent))
	}
	if sent[0].Text != "<b>Ahoj</b> Evo &amp; spol." || sent[0].ParseMode != "HTML" {
		t.Errorf("sent[0] = %s", sent[0])
	}
	wantInline := [][]telegramtest.InlineButton{
		{{Text: "Ano", CallbackData: "vote:yes"}, {Text: "Ne", CallbackData: "vote:no"}},
		{{Text: "Web", URL: "https://example.org"}},
	}
	if !reflect.DeepEqual(sent[0].InlineKeyboard, wantInline) {
		t.Errorf("inline keyboard = %+v", sent[0].InlineKeyboard)
	}
	wantReply := [][]telegramtest.KeyboardButton{{{Text: "📍 Poslat polohu", RequestLocation: true}}, {{Text: "Zrušit"}}}
	if sent[1].MessageID != 2 || !reflect.DeepEqual(sent[1].ReplyKeyboard, wantReply) {
		t.Errorf("sent[1] = %s %+v", sent[1], sent[1].ReplyKeyboard)
	}
	if !sent[2].RemoveKeyboard || sent[2].ReplyKeyboard != nil {
		t.Errorf("sent[2] = %s", sent[2])
	}
}

func TestSendMessageValidation(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	button := func(data string) models.ReplyMarkup {
		return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "x", CallbackData: data}}}}
	}
	tests := []struct {
		name    string
		params  bot.SendMessageParams
		wantErr string // "" = accepted
	}{
		{"unknown chat", bot.SendMessageParams{ChatID: 999, Text: "hi"}, "Bad Request: chat not found"},
		{"empty", bot.SendMessageParams{ChatID: 42, Text: ""}, "Bad Request: message text is empty"},
		{"blank", bot.SendMessageParams{ChatID: 42, Text: " \n "}, "Bad Request: message text is empty"},
		{"4096 ASCII", bot.SendMessageParams{ChatID: 42, Text: strings.Repeat("a", 4096)}, ""},
		{"4097 ASCII", bot.SendMessageParams{ChatID: 42, Text: strings.Repeat("a", 4097)}, "Bad Request: message is too long"},
		{"2048 emoji = 4096 UTF-16", bot.SendMessageParams{ChatID: 42, Text: strings.Repeat("👋", 2048)}, ""},
		{"2049 emoji = 4098 UTF-16", bot.SendMessageParams{ChatID: 42, Text: strings.Repeat("👋", 2049)}, "Bad Request: message is too long"},
		{"4096 Czech letters", bot.SendMessageParams{ChatID: 42, Text: strings.Repeat("ř", 4096)}, ""},
		{"HTML tags don't count", bot.SendMessageParams{ChatID: 42, Text: "<b>" + strings.Repeat("a", 4096) + "</b>", ParseMode: models.ParseModeHTML}, ""},
		{"raw < in HTML", bot.SendMessageParams{ChatID: 42, Text: "1 <2", ParseMode: models.ParseModeHTML}, `Bad Request: can't parse entities: Unsupported start tag "2" at byte offset 2`},
		{"unclosed HTML tag", bot.SendMessageParams{ChatID: 42, Text: "<b>tučně", ParseMode: models.ParseModeHTML}, `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{"unescaped MarkdownV2", bot.SendMessageParams{ChatID: 42, Text: "Hotovo.", ParseMode: models.ParseModeMarkdown}, `Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\'`},
		{"escaped MarkdownV2", bot.SendMessageParams{ChatID: 42, Text: "*Hotovo*\\. [web](https://example.org/a.b) `x.y`", ParseMode: models.ParseModeMarkdown}, ""},
		{"callback data 64 bytes", bot.SendMessageParams{ChatID: 42, Text: "x", ReplyMarkup: button(strings.Repeat("d", 64))}, ""},
		{"callback data 65 bytes", bot.SendMessageParams{ChatID: 42, Text: "x", ReplyMarkup: button(strings.Repeat("d", 65))}, "Bad Request: BUTTON_DATA_INVALID"},
		{"callback data 33 č = 66 bytes", bot.SendMessageParams{ChatID: 42, Text: "x", ReplyMarkup: button(strings.Repeat("č", 33))}, "Bad Request: BUTTON_DATA_INVALID"},
		{"button without action", bot.SendMessageParams{ChatID: 42, Text: "x", ReplyMarkup: button("")}, "Bad Request: text buttons are unallowed in the inline keyboard"},
		{"reply to missing message", bot.SendMessageParams{ChatID: 42, Text: "x", ReplyParameters: &models.ReplyParameters{MessageID: 500}}, "Bad Request: message to be replied not found"},
	}
	accepted := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.SendMessage(context.Background(), &tt.params)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				accepted++
				return
			}
			if !errors.Is(err, bot.ErrorBadRequest) || !strings.HasSuffix(err.Error(), ", "+tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if got := len(srv.Sent(u.ID())); got != accepted {
		t.Errorf("recorded %d messages, %d were accepted", got, accepted)
	}
}

func TestJSONFormAndQueryRequests(t *testing.T) {
	srv := telegramtest.New(t, token)
	u := srv.NewUser(42, "Eva", "cs")

	body := `{"chat_id":42,"text":"json","reply_markup":{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}}`
	req, _ := http.NewRequest(http.MethodPost, methodURL(srv, "sendMessage"), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	r := call(t, req)
	var msg models.Message
	if err := json.Unmarshal(r.Result, &msg); !r.OK || err != nil || msg.ID != 1 || msg.Text != "json" {
		t.Fatalf("JSON request: %+v %v", r, err)
	}

	form := url.Values{
		"chat_id":      {"42"},
		"text":         {"form"},
		"reply_markup": {`{"keyboard":[["Ano","Ne"],[{"text":"Poloha","request_location":true}]],"one_time_keyboard":true}`},
	}
	req, _ = http.NewRequest(http.MethodPost, methodURL(srv, "sendMessage"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := call(t, req); !r.OK {
		t.Fatalf("urlencoded request: %+v", r)
	}

	req, _ = http.NewRequest(http.MethodGet, methodURL(srv, "sendMessage")+"?chat_id=42&text=query", nil)
	if r := call(t, req); !r.OK {
		t.Fatalf("query request: %+v", r)
	}

	req, _ = http.NewRequest(http.MethodPost, methodURL(srv, "sendMessage"), strings.NewReader(`{"chat_id":7,"text":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	if r := call(t, req); r.OK || r.ErrorCode != 400 || r.Description != "Bad Request: chat not found" {
		t.Errorf("unknown chat: %+v", r)
	}

	sent := srv.Sent(u.ID())
	if len(sent) != 3 {
		t.Fatalf("sent = %v", sent)
	}
	if !reflect.DeepEqual(sent[0].InlineKeyboard, [][]telegramtest.InlineButton{{{Text: "A", CallbackData: "a"}}}) {
		t.Errorf("JSON inline keyboard = %+v", sent[0].InlineKeyboard)
	}
	want := [][]telegramtest.KeyboardButton{{{Text: "Ano"}, {Text: "Ne"}}, {{Text: "Poloha", RequestLocation: true}}}
	if sent[1].Text != "form" || !reflect.DeepEqual(sent[1].ReplyKeyboard, want) {
		t.Errorf("form message = %s %+v", sent[1], sent[1].ReplyKeyboard)
	}
	if sent[2].Text != "query" {
		t.Errorf("query message = %s", sent[2])
	}
	// JSON-typed values are recorded as JSON text, as multipart clients send them.
	c := srv.CallsTo("sendMessage")[0]
	if c.Params["chat_id"] != "42" || !strings.HasPrefix(c.Params["reply_markup"], `{"inline_keyboard":`) {
		t.Errorf("recorded params = %v", c.Params)
	}
}

func TestLongPollingAndOffset(t *testing.T) {
	srv := telegramtest.New(t, token)
	u := srv.NewUser(42, "Eva", "cs")

	go func() {
		time.Sleep(100 * time.Millisecond)
		u.SendText("ahoj")
	}()
	start := time.Now()
	ups := getUpdates(t, srv, "timeout=10")
	if elapsed := time.Since(start); elapsed < 90*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("long poll returned after %v", elapsed)
	}
	if len(ups) != 1 || ups[0].Message == nil || ups[0].Message.Text != "ahoj" || ups[0].Message.From.ID != 42 {
		t.Fatalf("updates = %+v", ups)
	}
	first := ups[0].ID

	// Not confirmed yet: returned again.
	if ids := updateIDs(getUpdates(t, srv, "offset=0")); !slices.Equal(ids, []int64{first}) {
		t.Errorf("unconfirmed: ids = %v", ids)
	}
	second := u.SendText("druhá")
	third := u.SendText("třetí")
	if ids := updateIDs(getUpdates(t, srv, fmt.Sprintf("offset=%d&limit=1", first+1))); !slices.Equal(ids, []int64{second}) {
		t.Errorf("offset+limit: ids = %v, want [%d]", ids, second)
	}
	if n := srv.PendingUpdates(); n != 2 {
		t.Errorf("pending = %d, want 2 (first confirmed)", n)
	}
	if ids := updateIDs(getUpdates(t, srv, fmt.Sprintf("offset=%d", third+1))); len(ids) != 0 {
		t.Errorf("all confirmed: ids = %v", ids)
	}
	if n := srv.PendingUpdates(); n != 0 {
		t.Errorf("pending = %d", n)
	}
	start = time.Now()
	if ids := updateIDs(getUpdates(t, srv, fmt.Sprintf("offset=%d&timeout=1", third+1))); len(ids) != 0 {
		t.Errorf("empty long poll: ids = %v", ids)
	}
	if elapsed := time.Since(start); elapsed < 900*time.Millisecond {
		t.Errorf("empty long poll returned after %v", elapsed)
	}
	want := []int64{first, first, second}
	if got := srv.DeliveredUpdateIDs(); !slices.Equal(got, want) {
		t.Errorf("delivered = %v, want %v", got, want)
	}

	// A duplicate is delivered although its id is below the offset.
	srv.Redeliver(second)
	if ids := updateIDs(getUpdates(t, srv, fmt.Sprintf("offset=%d", third+1))); !slices.Equal(ids, []int64{second}) {
		t.Errorf("redelivered: ids = %v", ids)
	}
	if ids := updateIDs(getUpdates(t, srv, fmt.Sprintf("offset=%d", second+1))); len(ids) != 0 {
		t.Errorf("after redelivery confirmed: ids = %v", ids)
	}
}

func TestSecondPollerIsTerminated(t *testing.T) {
	srv := telegramtest.New(t, token)
	done := pollAsync(srv, "timeout=10")
	eventually(t, "the first long poll", func() bool { return len(srv.CallsTo("getUpdates")) == 1 })
	getUpdates(t, srv, "timeout=0")
	r := <-done
	if r.OK || r.ErrorCode != 409 || !strings.Contains(r.Description, "terminated by other getUpdates request") {
		t.Errorf("first poll: %+v", r)
	}
}

func TestBotEndToEndPolling(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv, bot.WithDefaultHandler(func(ctx context.Context, b *bot.Bot, upd *models.Update) {
		if upd.CallbackQuery != nil {
			q := upd.CallbackQuery
			_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: q.ID, Text: "Uloženo"})
			_, _ = b.EditMessageText(ctx, &bot.EditMessageTextParams{
				ChatID:    q.Message.Message.Chat.ID,
				MessageID: q.Message.Message.ID,
				Text:      "Vybráno: " + q.Data,
			})
		}
	}))
	b.RegisterHandler(bot.HandlerTypeMessageText, "start", bot.MatchTypeCommandStartOnly, func(ctx context.Context, b *bot.Bot, upd *models.Update) {
		_, _ = b.SendMessage(ctx, &bot.SendMessageParams{
			ChatID: upd.Message.Chat.ID,
			Text:   "Vítejte! Co chcete udělat?",
			ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
				{{Text: "Nový nápad", CallbackData: "new"}, {Text: "Moje nápady", CallbackData: "list"}},
			}},
		})
	})
	startBot(t, b)

	u := srv.NewUser(42, "Eva", "cs")
	u.SendText("/start")
	menu := srv.WaitFor(t, u.ID(), func(m telegramtest.SentMessage) bool { return strings.HasPrefix(m.Text, "Vítejte") }, 3*time.Second)

	tap := u.Tap(menu, "Moje nápady")
	if a := srv.WaitCallbackAnswer(t, tap, 3*time.Second); a.Text != "Uloženo" || a.ShowAlert {
		t.Errorf("callback answer = %+v", a)
	}
	edited := srv.WaitFor(t, u.ID(), func(m telegramtest.SentMessage) bool { return m.Edited }, 3*time.Second)
	if edited.MessageID != menu.MessageID || edited.Text != "Vybráno: list" {
		t.Errorf("edited = %s", edited)
	}
	// editMessageText without reply_markup drops the keyboard, like Telegram.
	if edited.InlineKeyboard != nil || len(edited.History) != 1 || edited.History[0].Text != menu.Text {
		t.Errorf("edited keyboard/history = %+v / %+v", edited.InlineKeyboard, edited.History)
	}
	if n := len(srv.WaitSent(t, u.ID(), 1, time.Second)); n != 1 {
		t.Errorf("sent %d messages", n)
	}
}

type delivery struct {
	update models.Update
	secret string
	ctype  string
}

func webhookReceiver(t *testing.T, failFirst int) (*httptest.Server, chan delivery) {
	ch := make(chan delivery, 100)
	var mu sync.Mutex
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d delivery
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &d.update); err != nil {
			t.Errorf("webhook body %q: %v", body, err)
		}
		d.secret = r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		d.ctype = r.Header.Get("Content-Type")
		ch <- d
		mu.Lock()
		defer mu.Unlock()
		if failFirst > 0 {
			failFirst--
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(recv.Close)
	return recv, ch
}

func receive(t *testing.T, ch chan delivery) delivery {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(3 * time.Second):
		t.Fatal("no webhook delivery")
		return delivery{}
	}
}

func TestWebhookDeliveryAndRetry(t *testing.T) {
	srv := telegramtest.New(t, token)
	recv, ch := webhookReceiver(t, 1)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	ctx := context.Background()
	early := u.SendText("před webhookem")

	if ok, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: recv.URL + "/hook", SecretToken: "s3cret"}); !ok || err != nil {
		t.Fatalf("setWebhook: %v %v", ok, err)
	}
	// The pending update is delivered, refused with 500, and delivered again.
	d1, d2 := receive(t, ch), receive(t, ch)
	if d1.update.ID != early || d2.update.ID != early {
		t.Errorf("deliveries %d, %d; want %d twice", d1.update.ID, d2.update.ID, early)
	}
	if d1.secret != "s3cret" || d2.secret != "s3cret" || d1.ctype != "application/json" {
		t.Errorf("headers: secret %q/%q, content type %q", d1.secret, d2.secret, d1.ctype)
	}
	later := u.SendText("po webhooku")
	if d := receive(t, ch); d.update.ID != later || d.update.Message.Text != "po webhooku" {
		t.Errorf("later delivery = %+v", d.update)
	}
	eventually(t, "no pending updates", func() bool { return srv.PendingUpdates() == 0 })
	if got := srv.DeliveredUpdateIDs(); !slices.Equal(got, []int64{early, later}) {
		t.Errorf("delivered = %v", got)
	}
	info, err := b.GetWebhookInfo(ctx)
	if err != nil || info.URL != recv.URL+"/hook" || !strings.Contains(info.LastErrorMessage, "500") || info.PendingUpdateCount != 0 {
		t.Errorf("webhook info = %+v, %v", info, err)
	}

	srv.Redeliver(later)
	if d := receive(t, ch); d.update.ID != later {
		t.Errorf("redelivery = %d, want %d", d.update.ID, later)
	}
	eventually(t, "the redelivery accepted", func() bool { return srv.PendingUpdates() == 0 })

	req, _ := http.NewRequest(http.MethodGet, methodURL(srv, "getUpdates"), nil)
	if r := call(t, req); r.OK || r.ErrorCode != 409 || !strings.HasPrefix(r.Description, "Conflict: ") {
		t.Errorf("getUpdates with webhook: %+v", r)
	}

	if ok, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); !ok || err != nil {
		t.Fatalf("deleteWebhook: %v %v", ok, err)
	}
	polled := u.SendText("zase polling")
	if ids := updateIDs(getUpdates(t, srv, "")); !slices.Equal(ids, []int64{polled}) {
		t.Errorf("after deleteWebhook: ids = %v", ids)
	}
	select {
	case d := <-ch:
		t.Errorf("delivered to a deleted webhook: %+v", d.update)
	default:
	}
}

func TestSetWebhookTerminatesLongPoll(t *testing.T) {
	srv := telegramtest.New(t, token)
	recv, _ := webhookReceiver(t, 0)
	done := pollAsync(srv, "timeout=10")
	eventually(t, "the long poll", func() bool { return len(srv.CallsTo("getUpdates")) == 1 })
	req, _ := http.NewRequest(http.MethodPost, methodURL(srv, "setWebhook")+"?url="+url.QueryEscape(recv.URL), nil)
	if r := call(t, req); !r.OK {
		t.Fatalf("setWebhook: %+v", r)
	}
	r := <-done
	if r.OK || r.ErrorCode != 409 || r.Description != "Conflict: terminated by setWebhook request" {
		t.Errorf("long poll: %+v", r)
	}
}

func TestFailNextAndOutage(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	ctx := context.Background()
	send := func() error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "ahoj"})
		return err
	}

	srv.FailNext("sendMessage", 1, 429, "", 7)
	var tooMany *bot.TooManyRequestsError
	if err := send(); !errors.As(err, &tooMany) || tooMany.RetryAfter != 7 || !strings.Contains(tooMany.Message, "Too Many Requests: retry after 7") {
		t.Errorf("429: err = %#v", err)
	}
	if err := send(); err != nil {
		t.Errorf("after 429: %v", err)
	}
	srv.FailNext("SENDMESSAGE", 2, 403, "", 0)
	for range 2 {
		if err := send(); !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "Forbidden: bot was blocked by the user") {
			t.Errorf("403: err = %v", err)
		}
	}
	if err := send(); err != nil {
		t.Errorf("after 403: %v", err)
	}
	if n := len(srv.Sent(u.ID())); n != 2 {
		t.Errorf("%d messages recorded, want the 2 that succeeded", n)
	}
	var statuses []int
	for _, c := range srv.CallsTo("sendMessage") {
		statuses = append(statuses, c.Status)
	}
	if !slices.Equal(statuses, []int{429, 200, 403, 403, 200}) {
		t.Errorf("statuses = %v", statuses)
	}

	srv.SetDown(true)
	if _, err := b.GetMe(ctx); err == nil || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Errorf("outage: err = %v", err)
	}
	srv.SetDown(false)
	if _, err := b.GetMe(ctx); err != nil {
		t.Errorf("after outage: %v", err)
	}
}

func TestCommandEntities(t *testing.T) {
	srv := telegramtest.New(t, token)
	u := srv.NewUser(42, "Eva", "cs")
	cmd := func(offset, length int) []models.MessageEntity {
		return []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: offset, Length: length}}
	}
	tests := []struct {
		text string
		want []models.MessageEntity
	}{
		{"/start", cmd(0, 6)},
		{"/start@napad_test_bot", cmd(0, 21)},
		{"/new_idea Nová lavička u školy 🌳", cmd(0, 9)},
		{"👋 /help", cmd(3, 5)},                    // the emoji is 2 UTF-16 units
		{"Привет /help", cmd(7, 5)},               // Cyrillic letters are 1 unit each
		{"🇨🇿🇨🇿 /list@napad_test_bot", cmd(9, 20)}, // flags are 4 units each
		{"/старт", nil},                           // not Latin: no command, as on Telegram
		{"/nápad", nil},                           // a letter right after the command
		{"a/b", nil},
		{"ahoj", nil},
	}
	for _, tt := range tests {
		id := u.SendText(tt.text)
		ups := getUpdates(t, srv, fmt.Sprintf("offset=%d", id))
		if len(ups) != 1 || ups[0].Message.Text != tt.text {
			t.Fatalf("%q: updates = %+v", tt.text, ups)
		}
		if got := ups[0].Message.Entities; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: entities = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}

func TestUserActions(t *testing.T) {
	srv := telegramtest.New(t, token)
	u := srv.NewUser(42, "Eva", "cs")
	u.SendPhoto("photo-1", 240_000, "Rozbitá lavička")
	u.SendLocation(50.087, 14.421)
	u.SendLiveLocation(50.1, 14.4, 15*time.Minute)
	u.SendSticker()
	u.SendVoice()
	u.SendVideo()
	u.SendDocument("plan.pdf")
	u.SendText("/new")
	u.EditLast("/new lavička")
	channel := srv.InjectRaw(`{"channel_post":{"message_id":7,"date":1700000000,"chat":{"id":-1001,"type":"channel","title":"Novinky"},"text":"post"}}`)
	unknown := srv.InjectRaw(`{"update_id":999999999,"future_update":{"x":1}}`)
	ups := getUpdates(t, srv, "")
	if len(ups) != 11 {
		t.Fatalf("got %d updates", len(ups))
	}
	for i := 1; i < len(ups); i++ {
		if ups[i].ID <= ups[i-1].ID {
			t.Errorf("update ids not increasing: %v", updateIDs(ups))
		}
	}
	photo := ups[0].Message.Photo
	if len(photo) < 2 || photo[len(photo)-1].FileID != "photo-1" || photo[len(photo)-1].FileSize != 240_000 || ups[0].Message.Caption != "Rozbitá lavička" {
		t.Errorf("photo message = %+v", ups[0].Message)
	}
	for i := 1; i < len(photo); i++ {
		if photo[i].FileSize <= photo[i-1].FileSize || photo[i].Width <= photo[i-1].Width {
			t.Errorf("photo sizes not increasing: %+v", photo)
		}
	}
	if l := ups[1].Message.Location; l == nil || l.Latitude != 50.087 || l.LivePeriod != 0 {
		t.Errorf("location = %+v", l)
	}
	if l := ups[2].Message.Location; l == nil || l.LivePeriod != 900 {
		t.Errorf("live location = %+v", l)
	}
	if ups[3].Message.Sticker == nil || ups[4].Message.Voice == nil || ups[5].Message.Video == nil {
		t.Errorf("sticker/voice/video missing")
	}
	if d := ups[6].Message.Document; d == nil || d.FileName != "plan.pdf" || d.MimeType != "application/pdf" {
		t.Errorf("document = %+v", d)
	}
	// Message ids are per chat and consecutive.
	if ups[0].Message.ID != 1 || ups[7].Message.ID != 8 {
		t.Errorf("message ids %d, %d", ups[0].Message.ID, ups[7].Message.ID)
	}
	e := ups[8].EditedMessage
	if e == nil || e.ID != 8 || e.Text != "/new lavička" || e.EditDate == 0 || len(e.Entities) != 1 {
		t.Errorf("edited message = %+v", e)
	}
	if ups[9].ID != channel || ups[9].ChannelPost == nil || ups[9].ChannelPost.Chat.Title != "Novinky" {
		t.Errorf("channel post = %+v", ups[9])
	}
	if ups[10].ID != unknown || unknown != 999999999 {
		t.Errorf("unknown update id = %d", ups[10].ID)
	}
	// The channel became a known chat.
	b := newBot(t, srv)
	if _, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: -1001, Text: "odpověď"}); err != nil {
		t.Errorf("send to injected channel: %v", err)
	}
}

func TestEditDeleteAndFiles(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	ctx := context.Background()
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "OK", CallbackData: "ok"}}}}
	msg, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "Stav", ReplyMarkup: kb})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: u.ID(), MessageID: msg.ID, Text: "Stav", ReplyMarkup: kb})
	if err == nil || !strings.Contains(err.Error(), "Bad Request: message is not modified") {
		t.Errorf("same content: err = %v", err)
	}
	if _, err := b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: u.ID(), MessageID: msg.ID}); err != nil {
		t.Errorf("remove keyboard: %v", err)
	}
	if m := srv.Sent(u.ID())[0]; !m.Edited || m.InlineKeyboard != nil || m.Text != "Stav" {
		t.Errorf("after markup edit: %s", m)
	}
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: u.ID(), MessageID: 99, Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "Bad Request: message to edit not found") {
		t.Errorf("missing message: err = %v", err)
	}
	if ok, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: u.ID(), MessageID: msg.ID}); !ok || err != nil {
		t.Errorf("delete: %v %v", ok, err)
	}
	if _, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: u.ID(), MessageID: msg.ID}); err == nil || !strings.Contains(err.Error(), "message to delete not found") {
		t.Errorf("delete twice: err = %v", err)
	}
	if m := srv.Sent(u.ID())[0]; !m.Deleted {
		t.Errorf("not marked deleted: %s", m)
	}

	data := []byte("id;nápad\n1;lavička\n")
	doc, err := b.SendDocument(ctx, &bot.SendDocumentParams{
		ChatID:   u.ID(),
		Document: &models.InputFileUpload{Filename: "napady.csv", Data: bytes.NewReader(data)},
		Caption:  "Export",
	})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Document == nil || doc.Document.FileName != "napady.csv" || doc.Document.FileSize != int64(len(data)) || doc.Document.FileID == "" {
		t.Errorf("returned document = %+v", doc.Document)
	}
	photo, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: u.ID(), Photo: &models.InputFileString{Data: "photo-1"}, Caption: "Foto"})
	if err != nil || len(photo.Photo) == 0 || photo.Photo[len(photo.Photo)-1].FileID != "photo-1" {
		t.Errorf("sendPhoto = %+v, %v", photo, err)
	}
	loc, err := b.SendLocation(ctx, &bot.SendLocationParams{ChatID: u.ID(), Latitude: 49.19, Longitude: 16.61})
	if err != nil || loc.Location == nil || loc.Location.Longitude != 16.61 {
		t.Errorf("sendLocation = %+v, %v", loc, err)
	}
	sent := srv.WaitSent(t, u.ID(), 4, time.Second)
	if d := sent[1].Document; d == nil || d.Name != "napady.csv" || !bytes.Equal(d.Data, data) || sent[1].Caption != "Export" {
		t.Errorf("recorded document = %+v", sent[1])
	}
	if p := sent[2].Photo; p == nil || p.Ref != "photo-1" || p.Data != nil {
		t.Errorf("recorded photo = %+v", p)
	}
	if sent[3].Location == nil || sent[3].Location.Latitude != 49.19 {
		t.Errorf("recorded location = %+v", sent[3])
	}
	if ok, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: u.ID(), Action: models.ChatActionTyping}); !ok || err != nil {
		t.Errorf("sendChatAction: %v %v", ok, err)
	}
}

func TestCallbackQueries(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	ctx := context.Background()
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "Hlasujte", ReplyMarkup: &models.InlineKeyboardMarkup{
		InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "👍", CallbackData: "vote:1:up"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	msg := srv.Sent(u.ID())[0]
	tap := u.Tap(msg, "👍")
	forged := u.TapData(msg, "vote:1:admin")
	ups := getUpdates(t, srv, "")
	if len(ups) != 2 || ups[0].ID != tap || ups[1].ID != forged {
		t.Fatalf("updates = %v", updateIDs(ups))
	}
	q := ups[0].CallbackQuery
	if q == nil || q.Data != "vote:1:up" || q.From.ID != 42 || q.ChatInstance == "" || q.ID == "" {
		t.Fatalf("callback query = %+v", q)
	}
	if m := q.Message.Message; m == nil || m.ID != msg.MessageID || m.Text != "Hlasujte" || m.From.ID != telegramtest.BotID || m.ReplyMarkup == nil {
		t.Errorf("callback message = %+v", q.Message)
	}
	if ups[1].CallbackQuery.Data != "vote:1:admin" || ups[1].CallbackQuery.ChatInstance != q.ChatInstance {
		t.Errorf("forged query = %+v", ups[1].CallbackQuery)
	}
	if _, ok := srv.CallbackAnswer(tap); ok {
		t.Error("answered before the bot did")
	}
	if ok, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: q.ID, Text: "Díky", ShowAlert: true}); !ok || err != nil {
		t.Fatalf("answer: %v %v", ok, err)
	}
	if a, ok := srv.CallbackAnswer(tap); !ok || a.Text != "Díky" || !a.ShowAlert {
		t.Errorf("answer = %+v", a)
	}
	if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: q.ID}); err == nil || !strings.Contains(err.Error(), "query is too old") {
		t.Errorf("second answer: err = %v", err)
	}
}

func TestCommandsStore(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	ctx := context.Background()
	def := []models.BotCommand{{Command: "start", Description: "Start"}, {Command: "new", Description: "New idea"}}
	cs := []models.BotCommand{{Command: "start", Description: "Začít"}, {Command: "new", Description: "Nový nápad"}}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: def}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: cs, LanguageCode: "cs", Scope: &models.BotCommandScopeAllPrivateChats{}}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Commands(""); !reflect.DeepEqual(got, def) {
		t.Errorf("default commands = %+v", got)
	}
	if got := srv.Commands("cs"); got != nil {
		t.Errorf("cs commands in default scope = %+v", got)
	}
	if got := srv.CommandsForScope("all_private_chats", "cs"); !reflect.DeepEqual(got, cs) {
		t.Errorf("cs private commands = %+v", got)
	}
	got, err := b.GetMyCommands(ctx, &bot.GetMyCommandsParams{LanguageCode: "cs", Scope: &models.BotCommandScopeAllPrivateChats{}})
	if err != nil || !reflect.DeepEqual(got, cs) {
		t.Errorf("getMyCommands = %+v, %v", got, err)
	}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Start", Description: "x"}}}); err == nil || !strings.Contains(err.Error(), "BOT_COMMAND_INVALID") {
		t.Errorf("upper-case command: err = %v", err)
	}
	if _, err := b.DeleteMyCommands(ctx, &bot.DeleteMyCommandsParams{}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Commands(""); got != nil {
		t.Errorf("after delete: %+v", got)
	}
	got, err = b.GetMyCommands(ctx, &bot.GetMyCommandsParams{})
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("getMyCommands after delete = %#v, %v", got, err)
	}
}

// fatalRecorder captures t.Fatalf so that failure output can be checked.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestWaitSentTimeoutDump(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	_, _ = b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: u.ID(), Text: "první"})
	_, _ = b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: u.ID(), Text: "a <b", ParseMode: models.ParseModeHTML})

	rec := &fatalRecorder{TB: t}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.WaitSent(rec, u.ID(), 2, 100*time.Millisecond)
	}()
	<-done
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("WaitSent gave up after %v", elapsed)
	}
	for _, want := range []string{"want 2 messages", `"první"`, `sendMessage -> 400 Bad Request: can't parse entities`} {
		if !strings.Contains(rec.msg, want) {
			t.Errorf("dump lacks %q:\n%s", want, rec.msg)
		}
	}
}

func TestWaitForSeesRepliesSentBeforeTheCall(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	ctx := context.Background()
	_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "old"})
	u.SendText("ping")
	_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "pong"})
	anyMsg := func(telegramtest.SentMessage) bool { return true }
	if m := srv.WaitFor(t, u.ID(), anyMsg, time.Second); m.Text != "pong" {
		t.Errorf("WaitFor = %s, want the reply to the last action", m)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "later"})
	}()
	if m := srv.WaitFor(t, u.ID(), func(m telegramtest.SentMessage) bool { return m.Text == "later" }, 2*time.Second); m.MessageID != 4 {
		t.Errorf("WaitFor = %s", m)
	}
}

func TestBotEndToEndWebhook(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv, bot.WithWebhookSecretToken("s3cret"), bot.WithDefaultHandler(func(ctx context.Context, b *bot.Bot, upd *models.Update) {
		if upd.Message != nil {
			_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: upd.Message.Chat.ID, Text: "echo: " + upd.Message.Text})
		}
	}))
	recv := httptest.NewServer(b.WebhookHandler())
	t.Cleanup(recv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.StartWebhook(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: recv.URL, SecretToken: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	u := srv.NewUser(42, "Eva", "cs")
	u.SendText("ahoj")
	srv.WaitFor(t, u.ID(), func(m telegramtest.SentMessage) bool { return m.Text == "echo: ahoj" }, 3*time.Second)
}

// A file a user sends can be fetched as from Telegram: getFile gives its
// path, the file server its content, and only with the bot's token.
func TestFileDownload(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	data := []byte("Kód;Stav\nN-7K2Q;Vybráno\n")
	u.SendFile("napady.csv", data)
	ups := getUpdates(t, srv, "")
	d := ups[0].Message.Document
	if d == nil || d.FileName != "napady.csv" || d.FileSize != int64(len(data)) {
		t.Fatalf("document = %+v", d)
	}
	ctx := context.Background()
	f, err := b.GetFile(ctx, &bot.GetFileParams{FileID: d.FileID})
	if err != nil || f.FileSize != int64(len(data)) || f.FilePath == "" {
		t.Fatalf("getFile = %+v, %v", f, err)
	}
	get := func(link string) (int, []byte) {
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	if code, body := get(b.FileDownloadLink(f)); code != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("download: %d %q", code, body)
	}
	if code, _ := get(srv.URL() + "/file/bot123:wrong/" + f.FilePath); code != http.StatusNotFound {
		t.Errorf("download with another token: %d", code)
	}
	if code, _ := get(srv.URL() + "/file/bot" + token + "/documents/fake-document-999.csv"); code != http.StatusNotFound {
		t.Errorf("download of an unknown file: %d", code)
	}
	if _, err := b.GetFile(ctx, &bot.GetFileParams{FileID: "no-such-file"}); err == nil || !strings.Contains(err.Error(), "invalid file_id") {
		t.Errorf("getFile of an unknown file: %v", err)
	}
}
