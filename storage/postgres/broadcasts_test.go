package postgres_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

// joined makes n participants join f with chats 5000+i and returns their ids.
func joined(t *testing.T, st *postgres.Store, f flows.Forum, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%03d", prefix, i)
		if err := st.RecordJoin(t.Context(), f.ID, ids[i], flows.Languages[i%len(flows.Languages)], int64(5000+i)); err != nil {
			t.Fatalf("RecordJoin: %v", err)
		}
	}
	return ids
}

func announce(forumID int64, key string) flows.Broadcast {
	return flows.Broadcast{ForumID: forumID, Kind: flows.BroadcastKindAnnounce, Payload: []byte(`{"forum":"7.B","text":"Hi"}`),
		CreatedBy: "staff1", Key: key}
}

// broadcastTo makes people participants of a new forum and announces to
// them; it returns the store, its URL, their ids and the broadcast's id.
func broadcastTo(t *testing.T, people int) (*postgres.Store, string, []string, int64) {
	t.Helper()
	st, dbURL := newStore(t)
	f := newForum(t, st)
	ids := joined(t, st, f, "p", people)
	id, _, _, err := st.CreateBroadcast(t.Context(), announce(f.ID, "k"))
	if err != nil {
		t.Fatal(err)
	}
	return st, dbURL, ids, id
}

func TestBroadcastRecipientsFixedAndIdempotent(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	f := newForum(t, st)
	other := newForum(t, st)
	ids := joined(t, st, f, "p", 6)
	joined(t, st, other, "q", 2) // another forum's: never recipients
	// One said /stop, one blocked the bot, one joined without a chat.
	if err := st.StopContact(ctx, ids[0], true); err != nil {
		t.Fatal(err)
	}
	if err := st.StopContact(ctx, ids[1], false); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordJoin(ctx, f.ID, "quiet", "cs", 0); err != nil {
		t.Fatal(err)
	}

	if n, err := st.BroadcastAudience(ctx, f.ID); err != nil || n != 4 {
		t.Fatalf("BroadcastAudience = %d, %v; want 4", n, err)
	}
	id, n, created, err := st.CreateBroadcast(ctx, announce(f.ID, "k1"))
	if err != nil || !created || n != 4 {
		t.Fatalf("CreateBroadcast = %d, %d, %v, %v; want 4 recipients, created", id, n, created, err)
	}
	// The same key again (a double tap): the same broadcast, nothing new.
	id2, n2, created2, err := st.CreateBroadcast(ctx, announce(f.ID, "k1"))
	if err != nil || created2 || id2 != id || n2 != 4 {
		t.Fatalf("CreateBroadcast again = %d, %d, %v, %v; want %d, 4, not created", id2, n2, created2, err, id)
	}
	// Someone joining afterwards is not a recipient of it.
	joined(t, st, f, "late", 1)

	conn := connect(t, dbURL)
	var broadcasts, rows int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM broadcasts`).Scan(&broadcasts); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM broadcast_deliveries WHERE broadcast_id = $1`, id).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if broadcasts != 1 || rows != 4 {
		t.Errorf("%d broadcasts with %d deliveries, want 1 with 4", broadcasts, rows)
	}

	if _, _, _, err := st.CreateBroadcast(ctx, announce(f.ID+1000, "k2")); !errors.Is(err, postgres.ErrForumNotFound) {
		t.Errorf("CreateBroadcast(unknown forum) = %v, want ErrForumNotFound", err)
	}

	// Taking them: the four, each with its chat and language; the latecomer not.
	got, err := st.TakeDeliveries(ctx, "r1", time.Now(), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("took %d deliveries, want 4: %+v", len(got), got)
	}
	for _, d := range got {
		if d.BroadcastID != id || d.ForumID != f.ID || d.Kind != flows.BroadcastKindAnnounce || d.ChatID < 5000 || d.Language == "" {
			t.Errorf("delivery %+v", d)
		}
	}
}

func TestBroadcastStopAfterCreationIsRespected(t *testing.T) {
	t.Parallel()
	st, _, ids, _ := broadcastTo(t, 3)
	ctx := t.Context()
	// After the broadcast was created: one says /stop, one blocks the bot.
	if err := st.StopContact(ctx, ids[0], true); err != nil {
		t.Fatal(err)
	}
	if err := st.StopContact(ctx, ids[1], false); err != nil {
		t.Fatal(err)
	}
	got, err := st.TakeDeliveries(ctx, "r1", time.Now(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ParticipantID != ids[2] {
		t.Fatalf("took %+v, want only %s", got, ids[2])
	}
	if n, _ := st.PendingDeliveries(ctx); n != 1 {
		t.Errorf("PendingDeliveries = %d, want 1 (the leased one)", n)
	}
}

func TestBroadcastConcurrentSendersNeverShare(t *testing.T) {
	t.Parallel()
	const people = 60
	st, _, _, _ := broadcastTo(t, people)
	now := time.Now()
	const senders = 6
	got := make([][]string, senders)
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for {
				batch, err := st.TakeDeliveries(t.Context(), fmt.Sprint("r", w), now, 4, time.Minute)
				if err != nil || len(batch) == 0 {
					errs[w] = err
					return
				}
				for _, d := range batch {
					got[w] = append(got[w], d.ParticipantID)
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for w := range senders {
		if errs[w] != nil {
			t.Fatalf("sender %d: %v", w, errs[w])
		}
		for _, p := range got[w] {
			seen[p]++
		}
	}
	if len(seen) != people {
		t.Errorf("%d distinct deliveries handed out, want %d", len(seen), people)
	}
	for p, times := range seen {
		if times != 1 {
			t.Errorf("delivery to %s handed out %d times", p, times)
		}
	}
}

func TestBroadcastLeaseSentRetryAndUnreachable(t *testing.T) {
	t.Parallel()
	st, dbURL, ids, id := broadcastTo(t, 3)
	ctx := t.Context()
	now := time.Now()
	first, err := st.TakeDeliveries(ctx, "dead", now, 10, time.Minute)
	if err != nil || len(first) != 3 {
		t.Fatalf("took %d, %v; want 3", len(first), err)
	}
	// While the lease lasts nobody else gets them; after it, another does.
	if again, _ := st.TakeDeliveries(ctx, "r2", now.Add(59*time.Second), 10, time.Minute); len(again) != 0 {
		t.Fatalf("took %d deliveries still leased", len(again))
	}
	after := now.Add(61 * time.Second)
	taken, err := st.TakeDeliveries(ctx, "r2", after, 10, time.Minute)
	if err != nil || len(taken) != 3 {
		t.Fatalf("after the lease: took %d, %v; want 3", len(taken), err)
	}
	if err := st.MarkDeliverySent(ctx, id, ids[0], after); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkDeliveryUnreachable(ctx, id, ids[1]); err != nil {
		t.Fatal(err)
	}
	// The dead sender's late retry changes nothing: the lease is r2's.
	if gaveUp, err := st.RetryDelivery(ctx, id, ids[2], "dead", after); err != nil || gaveUp {
		t.Fatalf("stale RetryDelivery = %v, %v", gaveUp, err)
	}
	for try := 1; try <= postgres.MaxBroadcastTries; try++ {
		gaveUp, err := st.RetryDelivery(ctx, id, ids[2], "r2", after)
		if err != nil {
			t.Fatal(err)
		}
		if gaveUp != (try == postgres.MaxBroadcastTries) {
			t.Fatalf("try %d: gaveUp = %v", try, gaveUp)
		}
		if try < postgres.MaxBroadcastTries {
			// Not due before its back-off, then taken again.
			if early, _ := st.TakeDeliveries(ctx, "r2", after, 10, time.Minute); len(early) != 0 {
				t.Fatalf("try %d: taken again before its back-off", try)
			}
			if d, err := st.TakeDeliveries(ctx, "r2", after.Add(time.Hour), 10, time.Minute); err != nil || len(d) != 1 || d[0].Tries != try {
				t.Fatalf("try %d: took %+v, %v", try, d, err)
			}
		}
	}
	conn := connect(t, dbURL)
	states := map[string]string{}
	rows, err := conn.Query(ctx, `SELECT participant_id, state FROM broadcast_deliveries WHERE broadcast_id = $1`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p, s string
		if err := rows.Scan(&p, &s); err != nil {
			t.Fatal(err)
		}
		states[p] = s
	}
	want := map[string]string{ids[0]: "sent", ids[1]: "unreachable", ids[2]: "failed"}
	for p, s := range want {
		if states[p] != s {
			t.Errorf("%s: state %q, want %q", p, states[p], s)
		}
	}
	if n, _ := st.PendingDeliveries(ctx); n != 0 {
		t.Errorf("PendingDeliveries = %d, want 0", n)
	}
}

func TestDeleteParticipantErasesDeliveries(t *testing.T) {
	t.Parallel()
	st, dbURL, ids, _ := broadcastTo(t, 2)
	ctx := t.Context()
	if _, err := st.DeleteParticipant(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := connect(t, dbURL).QueryRow(ctx, `SELECT count(*) FROM broadcast_deliveries WHERE participant_id = $1`, ids[0]).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d deliveries left of a deleted student", n)
	}
}
