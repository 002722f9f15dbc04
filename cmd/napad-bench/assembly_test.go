package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/locales"
)

// An assembly of 20 students joining within 3 s and thinking half a second
// on average, against the bot at Telegram's limits and a fake that keeps
// them strictly: every idea goes through once, and the report says what an
// idea costs in messages, edits and actions.
func TestAssembly(t *testing.T) {
	r, out := runWithSpawnedBot(t, assemblyDatabase, "-mode", "assembly", "-students", "20", "-think", "500ms", "-ramp", "3s",
		"-stall", "20s", "-timeout", "60s")
	if r.IdeasConfirmed != 20 || r.IdeasLost != 0 || r.IdeasStored == nil || *r.IdeasStored != 20 || *r.Duplicates != 0 {
		t.Errorf("%d confirmed, %d lost, %v stored, %v duplicates; want 20, 0, 20, 0 (lost: %v)",
			r.IdeasConfirmed, r.IdeasLost, deref(r.IdeasStored), deref(r.Duplicates), r.LostWhy)
	}
	a := r.Assembly
	if a == nil {
		t.Fatal("no assembly results")
	}
	// Today's conversation sends 16 messages for 13 updates; a shorter one
	// sends fewer, but never none, and no conversation needs 40.
	if r.MessagesPerIdea <= 0 || r.MessagesPerIdea >= 40 || r.ActionsPerIdea <= 0 || r.ActionsPerIdea >= 40 {
		t.Errorf("%.2f messages and %.2f actions per idea; want each within (0, 40)", r.MessagesPerIdea, r.ActionsPerIdea)
	}
	if r.MessagesSent+a.TooManyRequests != r.APICalls["sendMessage"]+r.APICalls["sendPhoto"]+r.APICalls["sendDocument"]+r.APICalls["sendLocation"] {
		t.Errorf("%d messages taken and %d refused, but the bot made %v calls", r.MessagesSent, a.TooManyRequests, r.APICalls)
	}
	if a.MaxInWindow > 30 || a.MaxInWindow == 0 {
		t.Errorf("the fake took at most %d messages within a second; want 1..30", a.MaxInWindow)
	}
	if r.ThinkMeanMS != 500 || r.RampS != 3 || int64(r.ReplyLatency.N) != r.Updates {
		t.Errorf("think %v ms, ramp %v s, %d replies measured for %d updates", r.ThinkMeanMS, r.RampS, r.ReplyLatency.N, r.Updates)
	}
	for _, text := range []string{"messages sent", "edits", "actions", "429s", "issue 13 target", "p95"} {
		if !strings.Contains(out.String(), text) {
			t.Errorf("the table lacks %q", text)
		}
	}
}

// The fake of assembly mode answers like Telegram at its limits: the 31st
// message within a second is refused with 429 retry_after 1, and so is a
// second message into one chat within a second; edits are not refused, but
// counted when they crowd a chat.
func TestAssemblyFakeLimits(t *testing.T) {
	api := newFakeAPI("", nobody{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	api.limits = newAssemblyLimits(&options{apiRate: 30, apiChatLimit: 1})
	api.pairs = newEditPairs(api.limits.Base())
	call := func(method, params string) (int, int) {
		t.Helper()
		body, status := api.handle(nil, []byte("POST"), []byte("/bot1:x/"+method), []byte("application/json"), []byte(params))
		var resp struct {
			Parameters struct {
				RetryAfter int `json:"retry_after"`
			} `json:"parameters"`
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatalf("%s: %v: %s", method, err, body)
		}
		return status, resp.Parameters.RetryAfter
	}
	send := func(chat int64) (int, int) {
		return call("sendMessage", fmt.Sprintf(`{"chat_id":%d,"text":"Hi"}`, chat))
	}
	start := time.Now()
	if status, _ := send(1); status != http.StatusOK {
		t.Fatalf("the first message: HTTP %d", status)
	}
	if status, after := send(1); status != http.StatusTooManyRequests || after != 1 {
		t.Errorf("a second message into one chat within a second: HTTP %d, retry_after %d; want 429, 1", status, after)
	}
	if status, _ := call("editMessageText", `{"chat_id":1,"message_id":5,"text":"Edited"}`); status != http.StatusOK {
		t.Errorf("an edit into that chat: HTTP %d, want 200", status)
	}
	for i := range 29 {
		if status, _ := send(int64(100 + i)); status != http.StatusOK {
			t.Fatalf("message %d of 30 within a second, into a chat of its own: HTTP %d", i+2, status)
		}
	}
	if status, after := send(200); status != http.StatusTooManyRequests || after != 1 {
		t.Errorf("the 31st message within a second: HTTP %d, retry_after %d; want 429, 1", status, after)
	}
	if elapsed := time.Since(start); elapsed >= time.Second {
		t.Fatalf("the calls took %s: the machine is too slow for this test's second", elapsed)
	}
	s := api.limits.Stats()
	if s.Refused != 2 || s.RefusedInChat != 1 || api.sent.Load() != 30 || api.edited.Load() != 1 {
		t.Errorf("%d refused (%d in a chat), %d messages and %d edits taken; want 2 (1), 30, 1",
			s.Refused, s.RefusedInChat, api.sent.Load(), api.edited.Load())
	}
	if crowded, most := api.pairs.stats(); crowded != 1 || most != 31 {
		t.Errorf("%d edits crowding a chat, %d messages and edits within a second; want 1, 31", crowded, most)
	}
	time.Sleep(time.Until(start.Add(1100 * time.Millisecond)))
	if status, _ := send(1); status != http.StatusOK {
		t.Errorf("a message into the chat a second later: HTTP %d, want 200", status)
	}
}

// nobody is a sink that knows no chat.
type nobody struct{}

func (nobody) botMessage(int64, int64, string, string) (int64, bool) { return 0, false }

// A student follows the conversation when its questions arrive as edits of
// the message just tapped, when an edit changes only the buttons, and when a
// question comes that the bench does not know; the question just answered,
// edited in again, is not answered twice.
func TestStudentFollowsEdits(t *testing.T) {
	cls, err := newClassifier()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	const chat = 5000
	p := newPopulation(popConfig{students: 1, mode: modeClosed, ideas: 1, stall: time.Minute, seed: 3, userBase: chat, forumCode: "F"}, cls)
	var queued []*update
	p.enqueue = func(j job) {
		var u update
		if err := json.Unmarshal(j.body.Bytes(), &u); err != nil {
			t.Fatal(err)
		}
		queued = append(queued, &u)
	}
	p.start(time.Now())
	s := p.slots[0]
	lang := s.lang
	text := func(key string) string {
		t.Helper()
		txt, err := cat.Text(lang, key, map[string]any{"Forum": "8.B", "Max": 100}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return txt
	}
	keyboard := func(datas ...string) string {
		var b bytes.Buffer
		b.WriteString(`{"inline_keyboard":[[`)
		for i, d := range datas {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"text":"x","callback_data":%q}`, d)
		}
		b.WriteString(`]]}`)
		return b.String()
	}
	next := func(what string) *update {
		t.Helper()
		if len(queued) != 1 {
			t.Fatalf("%s: the student sent %d updates, want 1", what, len(queued))
		}
		u := queued[0]
		queued = queued[:0]
		return u
	}
	if u := next("joining"); u.Message == nil || !strings.HasPrefix(u.Message.Text, "/start F") {
		t.Fatalf("the first update is not the join: %+v", u)
	}

	// The language question, new: the student taps its own language.
	id, _ := p.botMessage(chat, 0, text("language.ask"), keyboard("d|lang|cs", "d|lang|en", "d|lang|nb", "d|lang|uk"))
	if u := next("language"); u.CallbackQuery == nil || u.CallbackQuery.Data != "d|lang|"+lang || u.CallbackQuery.Message.ID != id {
		t.Fatalf("language: %+v", u.CallbackQuery)
	}
	// The privacy notice edited into the tapped message.
	p.botMessage(chat, id, text("privacy.notice"), keyboard("d|privacy|ok"))
	if u := next("privacy"); u.CallbackQuery == nil || u.CallbackQuery.Data != "d|privacy|ok" || u.CallbackQuery.Message.ID != id {
		t.Fatalf("privacy: %+v", u.CallbackQuery)
	}
	// The same notice edited in again (the answer marked): nothing to do.
	p.botMessage(chat, id, text("privacy.notice"), keyboard("d|privacy|ok"))
	if len(queued) != 0 || s.st.rerendered != 1 {
		t.Fatalf("the question just answered, again: %d updates sent, %d counted; want 0, 1", len(queued), s.st.rerendered)
	}
	// A typed question edited in, then only its buttons changed
	// (editMessageReplyMarkup: no text): the student writes what works.
	p.botMessage(chat, id, text("works.ask"), "")
	p.botMessage(chat, id, "", keyboard("d|nav|back", "d|nav|cancel"))
	if u := next("works"); u.Message == nil || u.Message.Text == "" || u.CallbackQuery != nil {
		t.Fatalf("what works: %+v", u)
	}
	// A choice the bench does not know (the phone's language offered, say):
	// the student's own language.
	id2, _ := p.botMessage(chat, 0, "?", keyboard("d|phone|"+lang, "d|phone|more"))
	if u := next("an unknown choice"); u.CallbackQuery == nil || u.CallbackQuery.Data != "d|phone|"+lang || u.CallbackQuery.Message.ID != id2 {
		t.Fatalf("an unknown choice: %+v", u.CallbackQuery)
	}
	if s.phase != phWait || s.st.studentsLost != 0 {
		t.Errorf("the student is %v, %d lost (%v)", s.phase, s.st.studentsLost, s.st.lostWhy)
	}
}
