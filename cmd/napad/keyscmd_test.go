package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/seal"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// Rotating the contact key: from the key derived from PARTICIPANT_KEY to a
// key of its own, then to another with the first kept as an old key; each
// time every stored chat, in PostgreSQL and in the outbox, is sealed with the
// new key, so the old one can go. Without the old key it refuses.
func TestKeysRotateContacts(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	rdb, redisURL, prefix := redistest.NewWithPrefix(t)
	ctx := t.Context()
	const participantKey = "rotate-participant-key-0123456789abcdef"
	const chat, queuedChat = 7305118042, 7305118043
	k1, k2, k3 := strings.Repeat("a1", 32), strings.Repeat("b2", 32), strings.Repeat("c3", 32)

	derived, err := seal.ContactKeys([]byte(participantKey), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(ctx, dbURL, postgres.WithContactKeys(derived))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f, err := pgtest.CreateForum(ctx, st, "R", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Submit(ctx, flows.Idea{DraftID: "p1:d", ParticipantID: "p1", ForumID: f.ID, Language: "cs", Scope: "school",
		Title: "Lavičky", WantsToHelp: "no", ContactChat: chat}); err != nil {
		t.Fatal(err)
	}
	// Queued by a bot from before chats were sealed.
	if err := rdb.PutOutbox(ctx, "p2:d", []byte(`{"s":{"DraftID":"p2:d","ParticipantID":"p2","ContactChat":7305118043},"c":7305118043,"l":"cs"}`)); err != nil {
		t.Fatal(err)
	}

	rotate := func(contactKey, oldKeys string) (string, error) {
		env := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "REDIS_KEY_PREFIX": prefix,
			"PARTICIPANT_KEY": participantKey, "CONTACT_KEY": contactKey, "CONTACT_OLD_KEYS": oldKeys}
		var out strings.Builder
		err := run(ctx, []string{"keys", "rotate-contacts"}, func(k string) string { return env[k] }, &out, &out)
		return out.String(), err
	}
	sealedWith := func(key string) {
		t.Helper()
		raw, _ := hex.DecodeString(key)
		keys, err := seal.NewKeyring(raw)
		if err != nil {
			t.Fatal(err)
		}
		s, err := st.ContactSealing(ctx)
		if err != nil || s.Plain != 0 || len(s.ByKey) != 1 || s.ByKey[keys.KeyID()] != 1 {
			t.Errorf("contacts sealed %+v, %v; want one with %s", s, err, keys.KeyID())
		}
		entries, err := rdb.AllOutbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var q struct {
			Chat []byte `json:"k"`
		}
		if err := json.Unmarshal(entries["p2:d"], &q); err != nil || seal.KeyIDOf(q.Chat) != keys.KeyID() ||
			regexp.MustCompile(`\b7305118043\b`).Match(entries["p2:d"]) {
			t.Errorf("outbox entry %s (%v), want its chat sealed with %s", entries["p2:d"], err, keys.KeyID())
		}
		// The stored chat opens with the new key alone.
		only, err := postgres.Open(ctx, dbURL, postgres.WithContactKeys(keys))
		if err != nil {
			t.Fatal(err)
		}
		defer only.Close()
		if doc, err := only.DataOf(ctx, "p1"); err != nil || !strings.Contains(string(doc), `"telegram_chat": 7305118042`) {
			t.Errorf("/mydata with the new key alone: %s, %v", doc, err)
		}
	}

	if out, err := rotate(k1, ""); err != nil || !strings.Contains(out, "1 contacts") || !strings.Contains(out, "1 outbox entries") ||
		!strings.Contains(out, "CONTACT_OLD_KEYS can be emptied") {
		t.Fatalf("from the derived key: %v\n%s", err, out)
	}
	sealedWith(k1)
	if out, err := rotate(k2, k1); err != nil || !strings.Contains(out, "1 contacts") {
		t.Fatalf("to another key: %v\n%s", err, out)
	}
	sealedWith(k2)
	if out, err := rotate(k2, ""); err != nil || !strings.Contains(out, "0 contacts") {
		t.Errorf("again, with nothing to do: %v\n%s", err, out)
	}
	out, err := rotate(k3, "") // k2 forgotten
	if err == nil || !strings.Contains(err.Error(), "CONTACT_OLD_KEYS") || strings.Contains(err.Error(), "\n") {
		t.Errorf("without the old key: %v\n%s", err, out)
	}
	sealedWith(k2) // untouched

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var contacts, outbox int
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'contacts.seal'), count(*) FILTER (WHERE action = 'outbox.seal')
		FROM audit_log WHERE actor = 'cli'`).Scan(&contacts, &outbox); err != nil || contacts != 3 || outbox != 3 {
		t.Errorf("audit rows: %d contacts.seal, %d outbox.seal (want 3 each: two rotations and the refused one), %v", contacts, outbox, err)
	}
}

// A bot started without the key some chats are sealed with says so, with
// the key's id (never the key), and still starts; a chat stored in plain
// before chats were sealed is sealed at start.
func TestE2EServeSealsPlainChatsAndNamesAMissingKey(t *testing.T) {
	a := prepareApp(t)
	ctx := t.Context()
	stray, err := seal.NewKeyring([]byte(strings.Repeat("s", seal.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `INSERT INTO participants (id, language) VALUES ('p-stray', 'cs'), ('p-plain', 'cs')`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO contacts (participant_id, chat_sealed, chat_id) VALUES ('p-stray', $1, NULL), ('p-plain', NULL, 7305118042)`,
		stray.SealChat("contacts", "p-stray", 42)); err != nil {
		t.Fatal(err)
	}
	a.start()
	t.Cleanup(a.stop)
	if logs := a.logs.String(); !strings.Contains(logs, "not configured") || !strings.Contains(logs, stray.KeyID()) {
		t.Errorf("the missing key is not named at start:\n%s", logs)
	}
	var plain int
	if err := conn.QueryRow(ctx, `SELECT count(chat_id) FROM contacts`).Scan(&plain); err != nil || plain != 0 {
		t.Errorf("%d chats in plain after start, %v", plain, err)
	}
}
