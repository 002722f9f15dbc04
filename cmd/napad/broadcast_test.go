package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/telegram"
	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/seal"
	"github.com/healthycities/napad/storage/postgres"
)

const announcement = "Hlasování začíná v pondělí v 8:00. Vezměte si telefony!"

// announceAs is staff's /announce to forum f with text, through the chat:
// the forum picked, the message written, the preview checked and sent.
func announceAs(t *testing.T, staff *student, f flows.Forum, text string, reach int) {
	t.Helper()
	staff.u.SendText("/announce")
	pick := staff.expect("announce.pick_forum")
	staff.u.Tap(pick, staff.a.renderData(staff.lang, flows.Msg{Key: "forum.list_item", Data: map[string]any{"Forum": f.Name}}))
	staff.expect("announce.ask_text")
	staff.u.SendText(text)
	want := staff.a.renderData(staff.lang, flows.AnnouncementMsg(flows.Announcement{Forum: f.Name, Text: text}))
	staff.a.fake.WaitFor(t, staff.u.ID(), func(m telegramtest.SentMessage) bool { return m.Text == want }, waitLong)
	confirm := staff.expectCount("announce.confirm", &reach)
	staff.u.Tap(confirm, staff.a.renderData(staff.lang, flows.Msg{Key: "button.announce_send", Count: &reach}))
	staff.expectCount("announce.sent", &reach)
	// A double tap on "send": one broadcast.
	staff.u.Tap(confirm, staff.a.renderData(staff.lang, flows.Msg{Key: "button.announce_send", Count: &reach}))
	staff.expect("error.stale_button")
}

func (a *app) renderData(lang string, m flows.Msg) string {
	a.t.Helper()
	text, err := a.catalog.Render(lang, m)
	if err != nil {
		a.t.Fatal(err)
	}
	return text
}

// announced counts the messages in chat that are the announcement to f.
func (a *app) announced(chat int64, lang string, f flows.Forum, text string) int {
	want := a.renderData(lang, flows.AnnouncementMsg(flows.Announcement{Forum: f.Name, Text: text}))
	n := 0
	for _, m := range a.fake.Sent(chat) {
		if m.Text == want {
			n++
		}
	}
	return n
}

// deliveryStates counts the deliveries of every broadcast by state.
func (a *app) deliveryStates(t *testing.T) map[string]int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT state, count(*) FROM broadcast_deliveries GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	var state string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&state, &n}, func() error { states[state] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	return states
}

// Staff announce to a forum from the chat: students who joined (without
// sending any idea) get it once in their language; one who said /stop gets
// nothing; one who blocked the bot ends unreachable; the announcement is
// audited without its text.
func TestE2EAnnounce(t *testing.T) {
	a := staffApp(t)
	f := a.forum("8.B – ZŠ Komenského")
	staff := &student{a: a, t: t, u: a.fake.NewUser(staffID, "Staff", "cs"), lang: "cs"}
	var joined []*student
	for _, lang := range []string{"cs", "en", "nb", "uk", "en", "cs"} {
		s := a.student(lang)
		s.u.SendText("/start " + f.Code)
		s.expect("join.welcome")
		joined = append(joined, s)
	}
	stopped, blocked := joined[4], joined[5]
	stopped.u.SendText("/stop")
	stopped.expect("stop.done")
	a.fake.Block(blocked.u.ID())

	announceAs(t, staff, f, announcement, 5)

	for _, s := range joined[:4] {
		want := a.renderData(s.lang, flows.AnnouncementMsg(flows.Announcement{Forum: f.Name, Text: announcement}))
		a.fake.WaitFor(t, s.u.ID(), func(m telegramtest.SentMessage) bool { return m.Text == want }, waitLong)
	}
	deadline := time.Now().Add(waitLong)
	for a.deliveryStates(t)["sent"]+a.deliveryStates(t)["unreachable"] < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %v", a.deliveryStates(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := a.deliveryStates(t); got["sent"] != 4 || got["unreachable"] != 1 || len(got) != 2 {
		t.Errorf("deliveries by state: %v, want 4 sent and 1 unreachable", got)
	}
	time.Sleep(300 * time.Millisecond) // anything sent twice would be here by now
	for _, s := range joined {
		want := 1
		if s == stopped || s == blocked {
			want = 0
		}
		if n := a.announced(s.u.ID(), s.lang, f, announcement); n != want {
			t.Errorf("a %s student got the announcement %d times, want %d", s.lang, n, want)
		}
	}
	if !strings.Contains(a.dataOf(t, blocked), `"unreachable": true`) {
		t.Errorf("the student who blocked the bot is not marked unreachable")
	}

	if n := a.rowCount(t, "broadcasts"); n != 1 {
		t.Errorf("%d broadcasts, want 1", n)
	}
	audit := a.auditOf(t, "broadcast.announce")
	if !strings.Contains(audit, `"recipients": 5`) || strings.Contains(audit, "Hlasování") {
		t.Errorf("audit row: %s", audit)
	}
	if strings.Contains(a.logs.String(), "Hlasování") {
		t.Error("the logs contain the announcement's text")
	}
}

// dataOf is what /mydata would give the student: the contact as stored.
func (a *app) dataOf(t *testing.T, s *student) string {
	t.Helper()
	data, err := a.db.DataOf(context.Background(), bot.Pseudonym([]byte(a.env["PARTICIPANT_KEY"]), telegram.UserKey(s.u.ID())))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// auditOf is the after-image of the last audit row of action.
func (a *app) auditOf(t *testing.T, action string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var after string
	if err := conn.QueryRow(context.Background(), `SELECT jsonb_pretty(after) FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1`, action).Scan(&after); err != nil {
		t.Fatalf("audit row %s: %v", action, err)
	}
	return after
}

// participantsStore opens the bot's database with the keys the bot seals
// chats with (derived from PARTICIPANT_KEY), to make participants fast.
func (a *app) participantsStore(t *testing.T) *postgres.Store {
	t.Helper()
	keys, err := seal.ContactKeys([]byte(a.env["PARTICIPANT_KEY"]), nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(context.Background(), a.env["DATABASE_URL"], postgres.WithContactKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}
