package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/telegram"
	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
	"github.com/healthycities/napad/storage/redis"
)

// rowCount counts the rows of a table in the app's database.
func (a *app) rowCount(t *testing.T, table string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// pid is the student's participant id.
func (s *student) pid() string {
	return bot.Pseudonym([]byte(s.a.env["PARTICIPANT_KEY"]), telegram.UserKey(s.u.ID()))
}

// outbox is the student's entries in the outbox, as Redis has them.
func (s *student) outbox() map[string][]byte {
	s.t.Helper()
	rdb, err := redis.Open(context.Background(), s.a.env["REDIS_URL"], s.a.env["REDIS_KEY_PREFIX"])
	if err != nil {
		s.t.Fatal(err)
	}
	defer rdb.Close()
	entries, err := rdb.OutboxOf(context.Background(), s.pid()+":")
	if err != nil {
		s.t.Fatal(err)
	}
	return entries
}

// myData asks for /mydata and returns the file.
func (s *student) myData() string {
	s.t.Helper()
	s.u.SendText("/mydata") // waiting looks at what came after it
	doc := s.a.fake.WaitFor(s.t, s.u.ID(), func(m telegramtest.SentMessage) bool { return m.Document != nil }, waitLong)
	return string(doc.Document.Data)
}

// An idea waiting in the outbox is part of the student's data: /mydata shows
// it (without their chat), and /delete erases it, so that PostgreSQL, once
// it takes the outbox again, gets nothing of them: no idea, no participant,
// no contact.
func TestE2EDeleteWhileQueued(t *testing.T) {
	var pgProxy *tcpProxy
	// The outbox is drained at start-up and then not for an hour: the test
	// restarts the bot to drain it.
	a := newApp(t, false, throughProxy("DATABASE_URL", &pgProxy), func(a *app) { a.env["NOTIFY_INTERVAL"] = "1h" })
	f := a.forum("6.F")
	s := a.student("en")
	want := flowtest.AnswersIn("en")
	s.toReview(f.Code, want)
	pgProxy.cut()
	s.tap("button.submit")
	s.expect("submit.queued")
	pgProxy.restore()

	doc := s.myData()
	if !strings.Contains(doc, "ideas_waiting_to_be_stored") || !strings.Contains(doc, want[flows.StepDescription]) {
		t.Errorf("/mydata leaves out the idea in the outbox:\n%s", doc)
	}
	// The chat kept since the student joined is in "contact" (it is
	// theirs); the outbox entry's sealed copy is left out.
	var parsed map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`\b` + strconv.FormatInt(s.u.ID(), 10) + `\b`).Match(parsed["ideas_waiting_to_be_stored"]) {
		t.Errorf("/mydata has the Telegram chat id with the waiting idea:\n%s", doc)
	}

	participants := a.rowCount(t, "participants")
	s.u.SendText("/delete")
	s.expect("delete.confirm")
	s.tap("button.delete_all")
	s.expect("delete.done")
	if n := a.rowCount(t, "participants"); n != participants-1 {
		t.Fatalf("%d participants after /delete, want %d", n, participants-1)
	}

	a.stop()
	a.start() // drains the outbox
	time.Sleep(time.Second)
	if n := len(a.suggestions(f)); n != 0 {
		t.Errorf("%d ideas stored after /delete", n)
	}
	if n := a.rowCount(t, "participants"); n != participants-1 {
		t.Errorf("%d participants, want %d: the student was recreated", n, participants-1)
	}
	if n := a.rowCount(t, "contacts"); n != 0 {
		t.Errorf("%d contacts after /delete", n)
	}
	if n := s.count("submit.code_later", nil); n != 0 {
		t.Errorf("told a code %d times after /delete", n)
	}
	rdb, err := redis.Open(context.Background(), a.env["REDIS_URL"], a.env["REDIS_KEY_PREFIX"])
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if n, err := rdb.OutboxLen(context.Background()); err != nil || n != 0 {
		t.Errorf("outbox length %d, %v", n, err)
	}
}

// /mydata includes the idea being written.
func TestE2EMyDataShowsDraft(t *testing.T) {
	a := newApp(t, false)
	f := a.forum("7.G")
	s := a.student("en")
	want := flowtest.AnswersIn("en")
	s.toFirstQuestion(f.Code, "school")
	s.walk(flows.StepWorksWell, flows.StepTitle, want, nil)
	doc := s.myData()
	if !strings.Contains(doc, "idea_being_written") || !strings.Contains(doc, want[flows.StepImprove]) {
		t.Errorf("/mydata leaves out the idea being written:\n%s", doc)
	}
	s.u.SendText(want[flows.StepTitle]) // the idea goes on
	s.expect("description.ask")
}
