package bot

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/seal"
	"github.com/healthycities/napad/storage/redis/redistest"
)

func outboxKeys(t *testing.T, current byte, old ...byte) *seal.Keyring {
	t.Helper()
	var olds [][]byte
	for _, b := range old {
		olds = append(olds, bytes.Repeat([]byte{b}, seal.KeySize))
	}
	k, err := seal.NewKeyring(bytes.Repeat([]byte{current}, seal.KeySize), olds...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The outbox keeps no chat in plain; a new key seals its chats again, in
// waiting entries and in dead letters, and in entries queued before chats
// were sealed; a sealed chat does not open in another student's entry.
func TestOutboxChatsAreSealedAndResealed(t *testing.T) {
	store := redistest.New(t)
	ctx := t.Context()
	chats := map[string]int64{"p1": 7305118042, "p2": 7305118043, "p3": 7305118044}
	inPlain := func(data []byte) bool {
		for _, c := range chats {
			if regexp.MustCompile(`\b` + strconv.FormatInt(c, 10) + `\b`).Match(data) {
				return true
			}
		}
		return false
	}
	rt, err := New(Config{ParticipantKey: []byte("k"), ContactKeys: outboxKeys(t, 1)}, Stores{Outbox: store})
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range []string{"p1", "p2"} {
		if !rt.queue(ctx, flows.Idea{DraftID: pid + ":d", ParticipantID: pid, Title: "Lavičky"}, chats[pid], "cs") {
			t.Fatal("not queued")
		}
	}
	// p2's entry is set aside; p3's was queued by a bot from before sealing.
	id, _, lease, err := store.ClaimOutbox(ctx, []string{"p1:d"})
	if err != nil || id != "p2:d" {
		t.Fatalf("claimed %q, %v", id, err)
	}
	if moved, err := store.DeadOutbox(ctx, id, lease); err != nil || !moved {
		t.Fatalf("dead letter: %v, %v", moved, err)
	}
	legacy := `{"s":{"DraftID":"p3:d","ParticipantID":"p3","ContactChat":7305118044},"c":7305118044,"l":"cs"}`
	stray, _ := sealQueued(outboxKeys(t, 9), queuedIdea{Idea: flows.Idea{DraftID: "p4:d", ParticipantID: "p4"}}, 1)
	for id, data := range map[string][]byte{"p3:d": []byte(legacy), "p4:d": stray, "p5:d": []byte(`{"s":`)} {
		if err := store.PutOutbox(ctx, id, data); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := store.AllOutbox(ctx)
	if err != nil || len(entries) != 5 {
		t.Fatalf("%d entries, %v", len(entries), err)
	}
	for _, id := range []string{"p1:d", "p2:d"} {
		if inPlain(entries[id]) {
			t.Errorf("entry %s has a chat in plain: %s", id, entries[id])
		}
	}

	next := outboxKeys(t, 2, 1)
	resealed, unreadable, err := ResealOutbox(ctx, store, next)
	if err != nil || resealed != 3 || unreadable != 1 {
		t.Fatalf("ResealOutbox = %d resealed, %d unreadable, %v; want 3, 1", resealed, unreadable, err)
	}
	if again, _, err := ResealOutbox(ctx, store, next); err != nil || again != 0 {
		t.Errorf("resealing twice: %d, %v", again, err)
	}

	only := outboxKeys(t, 2) // the old key gone
	entries, err = store.AllOutbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for pid, want := range chats {
		data := entries[pid+":d"]
		var q queuedIdea
		if err := json.Unmarshal(data, &q); err != nil {
			t.Fatal(err)
		}
		if got, err := queuedChat(only, q); err != nil || got != want || inPlain(data) || q.Idea.ContactChat != 0 {
			t.Errorf("%s after resealing: chat %d, %v; entry %s", pid, got, err, data)
		}
	}
	if !bytes.Equal(entries["p4:d"], stray) || string(entries["p5:d"]) != `{"s":` {
		t.Error("an entry that could not be resealed was changed")
	}

	// p1's sealed chat put in p2's entry does not open.
	var q1, q2 queuedIdea
	_ = json.Unmarshal(entries["p1:d"], &q1)
	_ = json.Unmarshal(entries["p2:d"], &q2)
	q2.Chat = q1.Chat
	if got, err := queuedChat(only, q2); err == nil {
		t.Errorf("p1's chat opened in p2's entry as %d", got)
	}
}
