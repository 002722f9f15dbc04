package postgres_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/seal"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

// A Telegram-sized chat id: more than 32 bits, as user ids are now.
const sealedChat int64 = 7305118042

// plainChat says how the chat id shows in text, "" if it does not: in
// decimal, or as its bytes in either order (the hex of a bytea, as
// PostgreSQL writes it, or of a Redis value).
func plainChat(text string, chat int64) string {
	if strings.Contains(text, strconv.FormatInt(chat, 10)) {
		return "in decimal"
	}
	var be, le [8]byte
	binary.BigEndian.PutUint64(be[:], uint64(chat))
	binary.LittleEndian.PutUint64(le[:], uint64(chat))
	lower := strings.ToLower(text)
	// The significant bytes only: a varint or a 5-byte field would hold these.
	if strings.Contains(lower, hex.EncodeToString(be[3:])) || strings.Contains(lower, hex.EncodeToString(le[:5])) {
		return "as its bytes"
	}
	if strings.Contains(text, string(be[3:])) || strings.Contains(text, string(le[:5])) {
		return "as raw bytes"
	}
	return ""
}

// contactRow is a contact as the database holds it, every column as text.
func contactRow(t *testing.T, dbURL, participantID string) string {
	t.Helper()
	var row string
	if err := connect(t, dbURL).QueryRow(t.Context(), `SELECT c::text FROM contacts c WHERE participant_id = $1`,
		participantID).Scan(&row); err != nil {
		t.Fatalf("contact of %s: %v", participantID, err)
	}
	return row
}

// contactOf is the contact part of a student's /mydata.
func contactOf(t *testing.T, st *postgres.Store, participantID string) map[string]any {
	t.Helper()
	raw, err := st.DataOf(t.Context(), participantID)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Contact map[string]any `json:"contact"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, raw)
	}
	return doc.Contact
}

// The database alone does not tell whom to message: the chat id is sealed,
// and only the bot, with its key, reads it, to tell the student about their
// idea and to give it to them in /mydata.
func TestContactChatIsSealedAtRest(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	sub := submission(newForum(t, st).ID, "d-sealed")
	sub.ParticipantID, sub.ContactChat = "student-s", sealedChat
	ref, err := st.Submit(t.Context(), sub)
	if err != nil {
		t.Fatal(err)
	}
	if row := contactRow(t, dbURL, "student-s"); plainChat(row, sealedChat) != "" {
		t.Errorf("the contact row has the chat id %s: %s", plainChat(row, sealedChat), row)
	}

	setStatus(t, st, ref, "selected", "")
	if n := dueOne(t, st, time.Now()); n.ChatID != sealedChat {
		t.Errorf("notification to chat %d, want %d", n.ChatID, sealedChat)
	}
	if got := contactOf(t, st, "student-s")["telegram_chat"]; got != float64(sealedChat) {
		t.Errorf("/mydata telegram_chat = %v, want %d", got, sealedChat)
	}
}

// A sealed chat belongs to its row: copied to another student's contact it
// cannot be read there, so nobody is told about someone else's ideas.
func TestContactChatCannotMoveToAnotherStudent(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	refA := reachable(t, st, "a", sealedChat)
	refB := reachable(t, st, "b", 1234567)
	if _, err := connect(t, dbURL).Exec(ctx, `
		UPDATE contacts SET chat_sealed = (SELECT chat_sealed FROM contacts WHERE participant_id = 'p-a')
		WHERE participant_id = 'p-b'`); err != nil {
		t.Fatal(err)
	}
	setStatus(t, st, refA, "done", "")
	setStatus(t, st, refB, "done", "")
	for _, n := range due(t, st, time.Now()) {
		if n.Reference == refB && n.ChatID != 0 {
			t.Errorf("p-b's notification goes to chat %d (p-a's is %d)", n.ChatID, sealedChat)
		}
		if n.Reference == refA && n.ChatID != sealedChat {
			t.Errorf("p-a's notification goes to chat %d, want %d", n.ChatID, sealedChat)
		}
	}
	if got := contactOf(t, st, "p-b")["telegram_chat"]; got != nil {
		t.Errorf("/mydata of p-b shows chat %v", got)
	}
}

// chatsKept is how many chats, sealed or plain, a student's contact holds.
func chatsKept(t *testing.T, dbURL, participantID string) int {
	t.Helper()
	var n int
	if err := connect(t, dbURL).QueryRow(t.Context(), `SELECT count(chat_sealed) + count(chat_id) FROM contacts WHERE participant_id = $1`,
		participantID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Once nothing can be sent to a student (they said /stop, or blocked the
// bot), their chat is not kept; what they chose is. One who blocked the bot
// and sends another idea can be told about it again.
func TestStoppedContactKeepsNoChat(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	stopped := reachable(t, st, "stopped", sealedChat)
	if err := st.StopContact(ctx, "p-stopped", true); err != nil {
		t.Fatal(err)
	}
	if n := chatsKept(t, dbURL, "p-stopped"); n != 0 {
		t.Errorf("after /stop the contact keeps a chat: %s", contactRow(t, dbURL, "p-stopped"))
	}
	// A later idea (the conversation that knew of /stop expired) keeps no chat either.
	if err := st.SetContact(ctx, "p-stopped", sealedChat); err != nil {
		t.Fatal(err)
	}
	if n := chatsKept(t, dbURL, "p-stopped"); n != 0 {
		t.Errorf("a stopped student's next idea stores a chat again: %s", contactRow(t, dbURL, "p-stopped"))
	}
	if c := contactOf(t, st, "p-stopped"); c["notifications_stopped"] != true || c["telegram_chat"] != nil {
		t.Errorf("/mydata contact after /stop: %v", c)
	}
	setStatus(t, st, stopped, "done", "")
	if got := due(t, st, time.Now()); len(got) != 0 {
		t.Errorf("notified after /stop: %+v", got)
	}

	blocked := reachable(t, st, "blocked", sealedChat+1)
	if err := st.StopContact(ctx, "p-blocked", false); err != nil {
		t.Fatal(err)
	}
	if n := chatsKept(t, dbURL, "p-blocked"); n != 0 {
		t.Errorf("a student who blocked the bot keeps a chat: %s", contactRow(t, dbURL, "p-blocked"))
	}
	if err := st.SetContact(ctx, "p-blocked", sealedChat+1); err != nil { // another idea
		t.Fatal(err)
	}
	setStatus(t, st, blocked, "done", "")
	if n := dueOne(t, st, time.Now()); n.Reference != blocked || n.ChatID != sealedChat+1 {
		t.Errorf("after writing again: %+v", n)
	}
}

// Retention detaches a student's last ideas from them: nothing is left to
// tell them about, so their chat goes too once their forum is closed (while
// it is open they are kept, to hear of voting and results:
// TestRetentionKeepsParticipantsOfOpenForums).
func TestRetentionDropsContactsWithNothingToTell(t *testing.T) {
	t.Parallel()
	st, dbURL := newStore(t)
	ctx := t.Context()
	reachable(t, st, "old", sealedChat)
	reachable(t, st, "recent", sealedChat+1)
	conn := connect(t, dbURL)
	for _, q := range []string{
		`UPDATE suggestions SET created_at = now() - interval '3 years' WHERE participant_id = 'p-old'`,
		`UPDATE contacts SET updated_at = now() - interval '3 years' WHERE participant_id = 'p-old'`,
		`UPDATE forums SET reopens_to = phase, phase = 'closed' WHERE phase <> 'closed'`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.ApplyRetention(ctx, time.Now().AddDate(-2, 0, 0)); err != nil || n != 1 {
		t.Fatalf("detached %d, %v", n, err)
	}
	var old, recent int
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE participant_id = 'p-old'),
		count(*) FILTER (WHERE participant_id = 'p-recent') FROM contacts`).Scan(&old, &recent); err != nil {
		t.Fatal(err)
	}
	if old != 0 || recent != 1 {
		t.Errorf("contacts after retention: %d of the student with nothing left (want 0), %d of the other (want 1)", old, recent)
	}
}

// storeWithKeys opens another store on dbURL that seals with current and
// also opens what old sealed.
func storeWithKeys(t *testing.T, dbURL string, current []byte, old ...[]byte) (*postgres.Store, *seal.Keyring) {
	t.Helper()
	keys, err := seal.NewKeyring(current, old...)
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(t.Context(), dbURL, postgres.WithContactKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, keys
}

func key(b byte) []byte { return bytes.Repeat([]byte{b}, seal.KeySize) }

// Chats stored before they were sealed are sealed by the bot after the
// migration: the database no longer has them in plain, and the students are
// still told about their ideas. The chats of students nothing can be sent to
// go in the migration itself.
func TestMigrateSealsPlainContacts(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewEmptyDatabase(t)
	ctx := t.Context()
	if err := postgres.MigrateUpTo(ctx, dbURL, 7); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dbURL)
	for _, q := range []string{
		`INSERT INTO forums (join_code, name) VALUES ('f1', 'F')`,
		`INSERT INTO participants (id, language) VALUES ('p-reach', 'cs'), ('p-stop', 'cs'), ('p-block', 'cs')`,
		`INSERT INTO suggestions (reference, draft_id, forum_id, participant_id, language, scope, title, submitted_at)
			SELECT 'N-' || upper(substr(id, 3)), 'd-' || id, (SELECT id FROM forums), id, 'cs', 'school', 'Lavičky', now() FROM participants`,
		`INSERT INTO contacts (participant_id, chat_id, opted_out, unreachable) VALUES
			('p-reach', 7305118042, false, false), ('p-stop', 7305118043, true, false), ('p-block', 7305118044, false, true)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("migrate from 7: %v", err)
	}
	for _, pid := range []string{"p-stop", "p-block"} {
		if row := contactRow(t, dbURL, pid); plainChat(row, sealedChat+1) != "" || plainChat(row, sealedChat+2) != "" {
			t.Errorf("the migration kept the chat of %s, whom nothing can be sent to: %s", pid, row)
		}
	}

	st, keys := storeWithKeys(t, dbURL, key(1))
	if n := dueAfterStatus(t, st, "N-REACH"); n.ChatID != sealedChat { // before sealing, from the plain column
		t.Errorf("before sealing: notification to %d, want %d", n.ChatID, sealedChat)
	}
	done, err := st.SealPlainContacts(ctx, "test")
	if err != nil || done != (postgres.Sealed{Plain: 1}) {
		t.Fatalf("SealPlainContacts = %+v, %v; want 1 plain", done, err)
	}
	if row := contactRow(t, dbURL, "p-reach"); plainChat(row, sealedChat) != "" {
		t.Errorf("after sealing the contact has the chat id %s: %s", plainChat(row, sealedChat), row)
	}
	if s, err := st.ContactSealing(ctx); err != nil || s.Plain != 0 || len(s.ByKey) != 1 || s.ByKey[keys.KeyID()] != 1 {
		t.Errorf("ContactSealing = %+v, %v", s, err)
	}
	if got := contactOf(t, st, "p-reach")["telegram_chat"]; got != float64(sealedChat) {
		t.Errorf("/mydata telegram_chat = %v, want %d", got, sealedChat)
	}
	if n := dueAfterStatus(t, st, "N-REACH"); n.ChatID != sealedChat {
		t.Errorf("after sealing: notification to %d, want %d", n.ChatID, sealedChat)
	}
	if done, err := st.SealPlainContacts(ctx, "test"); err != nil || done != (postgres.Sealed{}) {
		t.Errorf("sealing again = %+v, %v; want nothing to do", done, err)
	}
	var audits int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'contacts.seal' AND after->>'plain' = '1'`).Scan(&audits); err != nil || audits != 1 {
		t.Errorf("%d audit rows for the sealing, %v; want 1", audits, err)
	}

	// Back down: a sealed chat cannot be read in SQL; its student counts as
	// unreachable, which the older bot understands.
	if err := postgres.MigrateDownTo(ctx, dbURL, 7); err != nil {
		t.Fatalf("down to 7: %v", err)
	}
	var reachable int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE NOT unreachable AND NOT opted_out`).Scan(&reachable); err != nil || reachable != 0 {
		t.Errorf("%d reachable contacts after down to 7, %v; want 0", reachable, err)
	}
}

// dueAfterStatus changes an idea's status and takes its notification.
func dueAfterStatus(t *testing.T, st *postgres.Store, ref string) flows.Notification {
	t.Helper()
	setStatus(t, st, ref, "under_review", "")
	setStatus(t, st, ref, "selected", "")
	n := dueOne(t, st, time.Now().Add(48*time.Hour))
	markNotified(t, st, n.IdeaID, time.Now())
	return n
}

// A new contact key: chats sealed with the old one stay readable while it is
// kept as an old key; ResealContacts seals them with the new one, after
// which the old key can go. A chat no key opens is left and counted.
func TestResealContactsWithANewKey(t *testing.T) {
	t.Parallel()
	_, dbURL := newStore(t)
	ctx := t.Context()
	before, oldKeys := storeWithKeys(t, dbURL, key(1))
	refs := map[string]string{}
	for i, d := range []string{"a", "b"} {
		refs[d] = reachable(t, before, d, sealedChat+int64(i))
	}
	stray, _ := storeWithKeys(t, dbURL, key(9)) // a key nobody configures any more
	strayRef := reachable(t, stray, "stray", 1)

	during, keys := storeWithKeys(t, dbURL, key(2), key(1))
	if got := contactOf(t, during, "p-a")["telegram_chat"]; got != float64(sealedChat) {
		t.Errorf("with the old key kept: telegram_chat %v", got)
	}
	done, err := during.ResealContacts(ctx, postgres.CLIActor)
	if err != nil || done != (postgres.Sealed{OldKeys: 2, Unreadable: 1}) {
		t.Fatalf("ResealContacts = %+v, %v; want 2 resealed, 1 unreadable", done, err)
	}
	s, err := during.ContactSealing(ctx)
	if err != nil || s.ByKey[keys.KeyID()] != 2 || s.ByKey[oldKeys.KeyID()] != 0 || len(s.ByKey) != 2 {
		t.Errorf("ContactSealing after = %+v, %v; want 2 with %s and the stray one", s, err, keys.KeyID())
	}

	after, _ := storeWithKeys(t, dbURL, key(2)) // the old key removed
	for i, d := range []string{"a", "b"} {
		if got := contactOf(t, after, "p-"+d)["telegram_chat"]; got != float64(sealedChat+int64(i)) {
			t.Errorf("p-%s after the old key went: telegram_chat %v", d, got)
		}
		if n := dueAfterStatus(t, after, refs[d]); n.ChatID != sealedChat+int64(i) {
			t.Errorf("p-%s after the old key went: notification to %d", d, n.ChatID)
		}
	}
	if n := dueAfterStatus(t, after, strayRef); n.ChatID != 0 {
		t.Errorf("a chat sealed with an unknown key opened as %d", n.ChatID)
	}
	if got := contactOf(t, before, "p-a")["telegram_chat"]; got != nil {
		t.Errorf("the old key alone still opens a resealed chat: %v", got)
	}
	var audit string
	if err := connect(t, dbURL).QueryRow(ctx, `SELECT after::text FROM audit_log WHERE action = 'contacts.seal' AND actor = 'cli'`).Scan(&audit); err != nil ||
		!strings.Contains(audit, keys.KeyID()) {
		t.Errorf("audit %s, %v", audit, err)
	}
}
