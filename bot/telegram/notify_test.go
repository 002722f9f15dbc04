package telegram

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

const notifyTestToken = "123456789:AAH-napad_notify_token_0123456789abcdef"

// fakeNotifications hands out its notifications once and records what
// became of each.
type fakeNotifications struct {
	mu      sync.Mutex
	due     []flows.Notification
	sent    []int64
	retried []int64
	dropped []int64
	done    chan struct{} // closed when every notification has an outcome
}

func (f *fakeNotifications) DueNotifications(_ context.Context, _ time.Time, limit int) ([]flows.Notification, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := min(limit, len(f.due))
	out := f.due[:n]
	f.due = f.due[n:]
	return out, nil
}

func (f *fakeNotifications) record(list *[]int64, id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*list = append(*list, id)
	if len(f.due) == 0 && len(f.sent)+len(f.retried)+len(f.dropped) == notifyTestTotal {
		close(f.done)
	}
}

func (f *fakeNotifications) MarkNotified(_ context.Context, id int64, _ time.Time) error {
	f.record(&f.sent, id)
	return nil
}

func (f *fakeNotifications) RetryNotification(_ context.Context, id int64, _ time.Time) (bool, error) {
	f.record(&f.retried, id)
	return false, nil
}

func (f *fakeNotifications) DropNotification(_ context.Context, id int64, _ time.Time) error {
	f.record(&f.dropped, id)
	return nil
}

// fakePeople records StopContact; nothing else is called.
type fakePeople struct {
	bot.PeopleStore
	mu      sync.Mutex
	stopped []string
}

func (p *fakePeople) StopContact(_ context.Context, participantID string, optOut bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = append(p.stopped, fmt.Sprintf("%s optOut=%v", participantID, optOut))
	return nil
}

// notifyTestTotal is how many notifications TestNotifier hands out.
const notifyTestTotal = 35

func TestNotifier(t *testing.T) {
	fake := telegramtest.New(t, notifyTestToken)
	store := &fakeNotifications{done: make(chan struct{})}
	people := &fakePeople{}
	langs := []string{"cs", "en", "nb", "uk"}
	var all []flows.Notification
	for i := range notifyTestTotal - 2 {
		u := fake.NewUser(int64(7000+i), "Student", "")
		n := flows.Notification{
			IdeaID: int64(i + 1), ParticipantID: fmt.Sprintf("p%d", i), ChatID: u.ID(),
			Language: langs[i%len(langs)], Reference: fmt.Sprintf("N-%04d", i), Title: "Lavičky",
			Status: "selected",
		}
		if i%2 == 0 {
			n.Answer = "Uděláme to na jaře."
		}
		all = append(all, n)
	}
	// Telegram knows no such chat: a Bad Request, tried again later.
	all = append(all, flows.Notification{IdeaID: notifyTestTotal - 1, ParticipantID: "gone", ChatID: 999, Language: "cs",
		Reference: "N-GONE", Title: "x", Status: "done"})
	// The store could not open this student's chat (sealed with a key it
	// lacks): nothing is sent, and it is tried again later.
	all = append(all, flows.Notification{IdeaID: notifyTestTotal, ParticipantID: "sealed", ChatID: 0, Language: "cs",
		Reference: "N-SEAL", Title: "x", Status: "done"})
	store.due = slices.Clone(all)
	// The first student blocked the bot; the second send fails once with a 500.
	fake.FailNext("sendMessage", 1, 403, "Forbidden: bot was blocked by the user", 0)
	fake.FailNext("sendMessage", 1, 500, "Internal Server Error", 0)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt, err := bot.New(bot.Config{
		ParticipantKey: []byte("k"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, bot.Stores{Notifications: store, People: people})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, Config{Token: notifyTestToken, APIURL: fake.URL()}, rt)
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	start := time.Now()
	go func() { stopped <- rt.RunNotifier(ctx, 20*time.Millisecond, b) }()
	select {
	case <-store.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the notifier did not get through its notifications")
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-stopped; err != nil {
		t.Errorf("RunNotifier after cancel: %v", err)
	}

	store.mu.Lock()
	defer store.mu.Unlock()
	if !slices.Equal(store.dropped, []int64{1}) || !slices.Equal(store.retried, []int64{notifyTestTotal - 1, notifyTestTotal}) || len(store.sent) != notifyTestTotal-3 {
		t.Errorf("dropped %v (want [1]), retried %v (want [%d %d]), sent %d (want %d)",
			store.dropped, store.retried, notifyTestTotal-1, notifyTestTotal, len(store.sent), notifyTestTotal-3)
	}
	if !slices.Equal(people.stopped, []string{"p0 optOut=false"}) {
		t.Errorf("StopContact calls: %v, want the blocked student marked unreachable", people.stopped)
	}

	// Everyone else got their message, in their language.
	catalog, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range all[1 : notifyTestTotal-2] {
		key := "notify.status"
		if n.Answer != "" {
			key = "notify.with_answer"
		}
		want, err := catalog.Render(n.Language, flows.Msg{Key: key, Data: map[string]any{
			"Ref": n.Reference, "Title": n.Title, "Status": flows.Msg{Key: "status." + n.Status}, "Answer": n.Answer,
		}})
		if err != nil {
			t.Fatal(err)
		}
		got := fake.Sent(n.ChatID)
		if len(got) != 1 || got[0].Text != want {
			t.Errorf("notification %d (%s): got %v, want %q", i, n.Language, got, want)
		}
	}

	// Never more than 30 messages a second.
	calls := fake.CallsTo("sendMessage")
	if len(calls) != notifyTestTotal { // the 500 was sent again, the unopened chat not at all
		t.Errorf("%d sendMessage calls, want %d", len(calls), notifyTestTotal)
	}
	for i := 0; i+30 < len(calls); i++ {
		if span := calls[i+30].Time.Sub(calls[i].Time); span < 900*time.Millisecond {
			t.Errorf("31 messages within %v (calls %d–%d)", span, i, i+30)
			break
		}
	}
	if elapsed < time.Second {
		t.Errorf("%d messages sent in %v", notifyTestTotal, elapsed)
	}
}
