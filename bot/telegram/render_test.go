package telegram

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
	"github.com/healthycities/napad/flows"
)

func TestSplitTextKeepsEverythingWithinTheLimit(t *testing.T) {
	cases := map[string]string{
		"short":           "Ahoj",
		"exactly":         strings.Repeat("a", 4096),
		"one over":        strings.Repeat("a", 4097),
		"lines":           strings.Repeat("Řádek s diakritikou.\n", 600),
		"words":           strings.Repeat("slovo ", 2000),
		"one long word":   strings.Repeat("x", 10000),
		"emoji (2 units)": strings.Repeat("🌳", 3000),
		"cyrillic":        strings.Repeat("Привіт світ ", 900),
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			parts := splitText(text, maxMessageLength)
			var joined strings.Builder
			for _, p := range parts {
				if n := utf16Len(p); n > maxMessageLength || n == 0 {
					t.Errorf("part of %d UTF-16 units", n)
				}
				if !utf8.ValidString(p) {
					t.Error("a character was cut in half")
				}
				joined.WriteString(p)
			}
			// Only white space at the cuts may go.
			if strip(joined.String()) != strip(text) {
				t.Error("text lost in splitting")
			}
			if utf16Len(text) <= maxMessageLength && len(parts) != 1 {
				t.Errorf("a short text was split into %d parts", len(parts))
			}
		})
	}
}

func strip(s string) string { return strings.Join(strings.Fields(s), "") }

func TestMessageInput(t *testing.T) {
	photo := &models.Message{Photo: []models.PhotoSize{{FileID: "small", Width: 90, Height: 60}, {FileID: "big", Width: 1280, Height: 853}, {FileID: "mid", Width: 320, Height: 213}}}
	if in := messageInput(photo); in.What != (flows.PhotoSent{FileID: "big"}) {
		t.Errorf("photo: %+v", in)
	}
	doc := &models.Message{Document: &models.Document{FileID: "f1", FileName: "nápady.xlsx", FileSize: 20_480}}
	if in := messageInput(doc); in.What != (flows.FileSent{FileID: "f1", Name: "nápady.xlsx", Size: 20_480}) {
		t.Errorf("document: %+v", in)
	}
	live := &models.Message{Location: &models.Location{Latitude: 50, Longitude: 14, LivePeriod: 900}}
	if in := messageInput(live); in.What != (flows.Location{Lat: 50, Lon: 14, Live: true}) {
		t.Errorf("live location: %+v", in)
	}
	for name, m := range map[string]*models.Message{
		"sticker": {Sticker: &models.Sticker{}},
		"voice":   {Voice: &models.Voice{}},
		"video":   {Video: &models.Video{}},
		"other":   {Dice: &models.Dice{}},
	} {
		if in := messageInput(m); in.What != (flows.Media{Kind: name}) {
			t.Errorf("%s: %+v", name, in)
		}
	}
}

func TestCommandName(t *testing.T) {
	cmd := func(text string, length int) *models.Message {
		return &models.Message{Text: text, Entities: []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: length}}}
	}
	for text, want := range map[string]string{"/new": "new", "/New@napad_bot": "new", "/start abc": "start", "/foo": "foo"} {
		if got, ok := commandName(cmd(text, len(strings.Fields(text)[0]))); !ok || got != want {
			t.Errorf("%q: %q %v", text, got, ok)
		}
	}
	if _, ok := commandName(&models.Message{Text: "/new"}); ok {
		t.Error("a command without its entity (typed oddly) counted")
	}
	if got := commandArg("/start  Zk3xQ9mP2aLw8RtY "); got != "Zk3xQ9mP2aLw8RtY" {
		t.Errorf("payload %q", got)
	}
	if got := commandArg("/invite_teacher  Nové Město  nad Metují"); got != "Nové Město nad Metují" {
		t.Errorf("argument %q", got)
	}
}

func TestChatLocksSerialiseOneChat(t *testing.T) {
	locks := newChatLocks()
	inside := 0
	done := make(chan bool)
	for i := 0; i < 20; i++ {
		go func() {
			unlock, _, err := locks.lock(context.Background(), 7, int64(i%5)) // the same update may come twice
			if err != nil {                                                   // too many waiting: refused, to come again
				done <- true
				return
			}
			inside++
			if inside != 1 {
				t.Error("two updates of one chat at once")
			}
			inside--
			unlock()
			done <- true
		}()
	}
	for i := 0; i < 20; i++ {
		<-done
	}
	if len(locks.chats) != 0 {
		t.Errorf("%d locks left behind", len(locks.chats))
	}
}

// A chat's backlog in this process is bounded: beyond it an update is
// refused at once (to be delivered again), not held.
func TestChatLocksBoundTheBacklog(t *testing.T) {
	locks := newChatLocks()
	unlock, _, _ := locks.lock(context.Background(), 7, 100)
	var wg sync.WaitGroup
	for i := range maxWaitingPerChat {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, _, err := locks.lock(context.Background(), 7, int64(101+i))
			if err != nil {
				t.Errorf("waiter %d refused: %v", i, err)
				return
			}
			release()
		}()
	}
	for waiting := 0; waiting < maxWaitingPerChat; {
		time.Sleep(time.Millisecond)
		locks.mu.Lock()
		waiting = len(locks.chats[7].waiting)
		locks.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := locks.lock(ctx, 7, 200); !errors.Is(err, errBacklog) {
		t.Errorf("one more than the backlog: %v, want errBacklog at once", err)
	}
	if _, _, err := locks.lock(ctx, 8, 201); err != nil { // other chats are not affected
		t.Errorf("another chat: %v", err)
	}
	unlock()
	wg.Wait()
}

func TestChatLocksLetLowerUpdatesGoFirst(t *testing.T) {
	locks := newChatLocks()
	unlock, _, _ := locks.lock(context.Background(), 7, 100)
	var (
		mu    sync.Mutex
		order []int64
		wg    sync.WaitGroup
	)
	for _, id := range []int64{104, 101, 103, 102} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, waited, _ := locks.lock(context.Background(), 7, id)
			if !waited {
				t.Errorf("update %d did not wait", id)
			}
			mu.Lock()
			order = append(order, id)
			mu.Unlock()
			release()
		}()
	}
	for waiting := 0; waiting < 4; {
		time.Sleep(time.Millisecond)
		locks.mu.Lock()
		waiting = len(locks.chats[7].waiting)
		locks.mu.Unlock()
	}
	unlock()
	wg.Wait()
	if !slices.Equal(order, []int64{101, 102, 103, 104}) {
		t.Fatalf("order %v", order)
	}
}

func TestChatLocksStopWaitingWhenTheContextEnds(t *testing.T) {
	locks := newChatLocks()
	unlock, _, _ := locks.lock(context.Background(), 7, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, waited, err := locks.lock(ctx, 7, 2); err == nil || !waited {
		t.Fatalf("lock of a held chat after the context ended: waited %v, err %v", waited, err)
	}
	unlock()
	if len(locks.chats) != 0 {
		t.Fatal("the update that gave up is still waiting")
	}
	next, waited, err := locks.lock(context.Background(), 7, 3)
	if err != nil || waited {
		t.Fatalf("the chat is not free again: waited %v, err %v", waited, err)
	}
	next()
}

func TestRateLimiterCutsAFloodOnly(t *testing.T) {
	r := newRateLimiter(studentBurst, studentPerSecond)
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	allowed, warnings := 0, 0
	for i := 0; i < 50; i++ { // 50 messages in 5 seconds
		ok, warn := r.allow(1, now.Add(time.Duration(i)*100*time.Millisecond))
		if ok {
			allowed++
		}
		if warn {
			warnings++
		}
	}
	if allowed < studentBurst || allowed == 50 || warnings != 1 {
		t.Errorf("allowed %d of 50, warned %d times", allowed, warnings)
	}
	if ok, _ := r.allow(2, now.Add(5*time.Second)); !ok {
		t.Error("another student was slowed down")
	}
	// A whole idea typed fast is never cut.
	for i := 0; i < 30; i++ {
		if ok, _ := r.allow(3, now.Add(time.Duration(i)*200*time.Millisecond)); !ok {
			t.Fatalf("message %d of a fast idea refused", i)
		}
	}
	// After a pause the student may write again, and would be warned again.
	if ok, _ := r.allow(1, now.Add(time.Minute)); !ok {
		t.Error("still refused after a minute")
	}
}

// An update's key is the same for a redelivery and differs for a new update
// that reuses the id (Telegram's ids start anew after a quiet week).
func TestEventKey(t *testing.T) {
	msg := func(id int64, msgID, date int) *models.Update {
		return &models.Update{ID: id, Message: &models.Message{ID: msgID, Date: date, Chat: models.Chat{ID: 5}}}
	}
	tap := func(id int64, q string) *models.Update {
		return &models.Update{ID: id, CallbackQuery: &models.CallbackQuery{ID: q}}
	}
	// Two updates decoded apart, as a redelivery is.
	if a, b := eventKey(msg(7, 1, 100)), eventKey(msg(7, 1, 100)); a != b {
		t.Error("a redelivered message has another key")
	}
	if a, b := eventKey(tap(8, "q1")), eventKey(tap(8, "q1")); a != b {
		t.Error("a redelivered tap has another key")
	}
	for _, other := range []*models.Update{msg(7, 1, 101), msg(7, 2, 100), msg(8, 1, 100), tap(7, "q1")} {
		if eventKey(other) == eventKey(msg(7, 1, 100)) {
			t.Errorf("%+v has the key of another update", other)
		}
	}
	if eventKey(tap(8, "q1")) == eventKey(tap(8, "q2")) {
		t.Error("two taps with one update id share a key")
	}
}
