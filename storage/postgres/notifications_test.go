package postgres_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

// reachable submits an idea whose author may be told about it, in chat
// chatID, and returns its reference.
func reachable(t *testing.T, st *postgres.Store, draft string, chatID int64) string {
	t.Helper()
	ref := submitOne(t, st, draft)
	if err := st.SetContact(t.Context(), "p-"+draft, chatID); err != nil {
		t.Fatal(err)
	}
	return ref
}

func setStatus(t *testing.T, st *postgres.Store, ref, status, answer string) {
	t.Helper()
	if _, _, err := st.SetStatus(t.Context(), ref, status, answer, "staff-1"); err != nil {
		t.Fatalf("SetStatus(%s, %s): %v", ref, status, err)
	}
}

func due(t *testing.T, st *postgres.Store, now time.Time) []flows.Notification {
	t.Helper()
	got, err := st.DueNotifications(t.Context(), now, 100)
	if err != nil {
		t.Fatalf("DueNotifications: %v", err)
	}
	return got
}

func dueOne(t *testing.T, st *postgres.Store, now time.Time) flows.Notification {
	t.Helper()
	got := due(t, st, now)
	if len(got) != 1 {
		t.Fatalf("DueNotifications at %s = %+v, want one", now.Format(time.RFC3339), got)
	}
	return got[0]
}

func markNotified(t *testing.T, st *postgres.Store, id int64, at time.Time) {
	t.Helper()
	if err := st.MarkNotified(t.Context(), id, at); err != nil {
		t.Fatalf("MarkNotified: %v", err)
	}
}

func TestNotifyQueuedBySetStatus(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ref := reachable(t, st, "d1", 4242)
	now := time.Now()

	if got := due(t, st, now.Add(48*time.Hour)); len(got) != 0 {
		t.Fatalf("a new idea is notified: %+v", got)
	}
	setStatus(t, st, ref, "new", "Přečteme si to.")
	if got := due(t, st, now.Add(48*time.Hour)); len(got) != 0 {
		t.Fatalf("status new is notified: %+v", got)
	}

	setStatus(t, st, ref, "selected", "Uděláme to na jaře.")
	n := dueOne(t, st, time.Now())
	want := flows.Notification{
		IdeaID: n.IdeaID, ParticipantID: "p-d1", ChatID: 4242, Language: "cs",
		Reference: ref, Title: "Benches in the yard", Status: "selected", Answer: "Uděláme to na jaře.",
	}
	if n != want || n.IdeaID == 0 {
		t.Fatalf("notification = %+v\nwant %+v", n, want)
	}
	sent := time.Now()
	markNotified(t, st, n.IdeaID, sent)
	if got := due(t, st, sent.Add(72*time.Hour)); len(got) != 0 {
		t.Fatalf("a sent notification came back: %+v", got)
	}

	// The same status again (a bulk change, the answer kept) is no news.
	setStatus(t, st, ref, "selected", "")
	setStatus(t, st, ref, "selected", "Uděláme to na jaře.")
	if got := due(t, st, sent.Add(72*time.Hour)); len(got) != 0 {
		t.Fatalf("an unchanged status is notified: %+v", got)
	}
	// A new answer is.
	setStatus(t, st, ref, "selected", "Začneme v dubnu.")
	if n := dueOne(t, st, sent.Add(25*time.Hour)); n.Answer != "Začneme v dubnu." || n.Status != "selected" {
		t.Errorf("after a new answer: %+v", n)
	}
}

func TestNotifyLatestWinsOncePerDay(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ref := reachable(t, st, "d1", 4242)

	// Two changes before anything was sent: one message, the latest.
	setStatus(t, st, ref, "under_review", "")
	setStatus(t, st, ref, "selected", "Uděláme to na jaře.")
	n := dueOne(t, st, time.Now())
	if n.Status != "selected" || n.Answer != "Uděláme to na jaře." {
		t.Fatalf("first notification = %+v, want the latest status", n)
	}
	sent := time.Now()
	markNotified(t, st, n.IdeaID, sent)

	// Within a day of that message further changes wait, the latest wins.
	setStatus(t, st, ref, "in_progress", "")
	setStatus(t, st, ref, "done", "Hotovo, lavičky stojí.")
	for _, at := range []time.Time{time.Now(), sent.Add(time.Hour), sent.Add(23*time.Hour + 59*time.Minute)} {
		if got := due(t, st, at); len(got) != 0 {
			t.Fatalf("a second message within a day (at +%s): %+v", at.Sub(sent), got)
		}
	}
	n = dueOne(t, st, sent.Add(24*time.Hour+time.Second))
	if n.Status != "done" || n.Answer != "Hotovo, lavičky stojí." {
		t.Fatalf("second notification = %+v, want done", n)
	}
	markNotified(t, st, n.IdeaID, sent.Add(24*time.Hour+time.Second))

	// Nothing is left pending.
	if got := due(t, st, time.Now().Add(72*time.Hour)); len(got) != 0 {
		t.Fatalf("nothing changed, yet: %+v", got)
	}
}

// A change made while the previous status is being sent is not lost: it
// comes a day after that message.
func TestNotifyChangeWhileSending(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ref := reachable(t, st, "d1", 4242)
	setStatus(t, st, ref, "selected", "")
	n := dueOne(t, st, time.Now()) // being sent
	setStatus(t, st, ref, "done", "")
	if got := due(t, st, time.Now()); len(got) != 0 {
		t.Fatalf("the change is sent while the previous one is on its way: %+v", got)
	}
	sent := time.Now()
	markNotified(t, st, n.IdeaID, sent)
	if got := due(t, st, sent.Add(23*time.Hour)); len(got) != 0 {
		t.Fatalf("a second message within a day: %+v", got)
	}
	if n := dueOne(t, st, sent.Add(24*time.Hour+time.Second)); n.Status != "done" {
		t.Errorf("the change made while sending: %+v", n)
	}
}

func TestNotifyNeverToStoppedBlockedHiddenOrUnknown(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	ok := reachable(t, st, "ok", 1)
	stopped := reachable(t, st, "stopped", 2)
	if err := st.StopContact(ctx, "p-stopped", true); err != nil {
		t.Fatal(err)
	}
	blocked := reachable(t, st, "blocked", 3)
	if err := st.StopContact(ctx, "p-blocked", false); err != nil {
		t.Fatal(err)
	}
	hidden := reachable(t, st, "hidden", 4)
	if err := st.Hide(ctx, hidden, "off_topic", "staff-1"); err != nil {
		t.Fatal(err)
	}
	unknown := submitOne(t, st, "unknown") // no contact row
	for _, ref := range []string{ok, stopped, blocked, hidden, unknown} {
		setStatus(t, st, ref, "selected", "Ano.")
	}

	if n := dueOne(t, st, time.Now()); n.Reference != ok {
		t.Fatalf("notified %s, want only %s", n.Reference, ok)
	}
	// The others were dropped, not left to be looked at again.
	conn := connect(t, dbURL)
	var pending, dropped int
	if err := conn.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE sent_at IS NULL), count(*) FILTER (WHERE sent_at IS NOT NULL)
		FROM notifications`).Scan(&pending, &dropped); err != nil {
		t.Fatal(err)
	}
	if pending != 1 || dropped != 4 {
		t.Errorf("%d pending (want 1: being sent), %d dropped (want 4)", pending, dropped)
	}
	if got := due(t, st, time.Now().Add(48*time.Hour)); len(got) != 1 || got[0].Reference != ok {
		t.Errorf("after the lease ran out: %+v, want only %s again", got, ok)
	}

	// A student who comes back after /stop by sending another idea stays stopped.
	if err := st.SetContact(ctx, "p-stopped", 2); err != nil {
		t.Fatal(err)
	}
	setStatus(t, st, stopped, "done", "")
	if got := due(t, st, time.Now().Add(96*time.Hour)); slices.ContainsFunc(got, func(n flows.Notification) bool { return n.Reference == stopped }) {
		t.Errorf("a student who said /stop is notified: %+v", got)
	}

	// Erasing a student erases their pending notifications.
	setStatus(t, st, ok, "done", "")
	if _, err := st.DeleteParticipant(ctx, "p-ok"); err != nil {
		t.Fatal(err)
	}
	if got := due(t, st, time.Now().Add(200*time.Hour)); len(got) != 0 {
		t.Errorf("notifications of an erased student: %+v", got)
	}
}

// Two notifiers (replicas) asking at once never get the same notification.
func TestNotifyConcurrentNotifiersNeverShare(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	const ideas = 60
	for i := range ideas {
		ref := reachable(t, st, fmt.Sprintf("d%d", i), int64(1000+i))
		setStatus(t, st, ref, "selected", "")
	}
	now := time.Now()
	const notifiers = 6
	got := make([][]int64, notifiers)
	errs := make([]error, notifiers)
	var wg sync.WaitGroup
	for w := range notifiers {
		wg.Go(func() {
			for {
				batch, err := st.DueNotifications(t.Context(), now, 4)
				if err != nil {
					errs[w] = err
					return
				}
				if len(batch) == 0 {
					return
				}
				for _, n := range batch {
					got[w] = append(got[w], n.IdeaID)
				}
			}
		})
	}
	wg.Wait()
	seen := map[int64]int{}
	for w := range notifiers {
		if errs[w] != nil {
			t.Fatalf("notifier %d: %v", w, errs[w])
		}
		for _, id := range got[w] {
			seen[id]++
		}
	}
	if len(seen) != ideas {
		t.Errorf("%d distinct notifications handed out, want %d", len(seen), ideas)
	}
	for id, times := range seen {
		if times != 1 {
			t.Errorf("notification %d handed out %d times", id, times)
		}
	}
}

func TestNotifyLeaseRetryAndDrop(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	ref := reachable(t, st, "d1", 4242)
	setStatus(t, st, ref, "selected", "")
	now := time.Now()
	n := dueOne(t, st, now)
	if got := due(t, st, now.Add(time.Minute)); len(got) != 0 {
		t.Fatalf("a leased notification handed out again: %+v", got)
	}
	// The notifier died: another one sends it once the lease ran out.
	now = now.Add(10 * time.Minute)
	dueOne(t, st, now)

	for i := 1; i <= postgres.MaxNotifyAttempts; i++ {
		gaveUp, err := st.RetryNotification(ctx, n.IdeaID, now)
		if err != nil {
			t.Fatal(err)
		}
		if gaveUp != (i == postgres.MaxNotifyAttempts) {
			t.Fatalf("attempt %d: gaveUp = %v", i, gaveUp)
		}
		if gaveUp {
			break
		}
		if got := due(t, st, now); len(got) != 0 {
			t.Fatalf("retried at once after failure %d", i)
		}
		now = now.Add(time.Duration(i)*time.Minute + time.Second)
		dueOne(t, st, now)
	}
	if got := due(t, st, now.Add(48*time.Hour)); len(got) != 0 {
		t.Fatalf("a notification given up came back: %+v", got)
	}

	// A new status is tried afresh; dropping it ends it.
	setStatus(t, st, ref, "done", "")
	n = dueOne(t, st, time.Now())
	if err := st.DropNotification(ctx, n.IdeaID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := due(t, st, time.Now().Add(48*time.Hour)); len(got) != 0 {
		t.Fatalf("a dropped notification came back: %+v", got)
	}
	if _, err := st.DueNotifications(ctx, time.Now(), 0); err == nil {
		t.Error("limit 0 accepted")
	}
}
