package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
)

const cityAnswer = "Uděláme to na jaře."

// fastNotifier makes the notifier look for due notifications every 50 ms.
func fastNotifier(a *app) { a.env["NOTIFY_INTERVAL"] = "50ms" }

// submitIdea takes the student from the join link to a stored idea and
// returns its reference.
func (s *student) submitIdea(code string) string {
	s.t.Helper()
	s.toReview(code, flowtest.AnswersIn(s.lang))
	s.tap("button.submit")
	ref := regexpRef.FindString(s.expectCount("submit.thanks", one()).Text)
	if ref == "" {
		s.t.Fatal("no reference in the thanks")
	}
	return ref
}

// setStatus is `napad status set`, as staff run it.
func (a *app) setStatus(refs []string, status, answer string) {
	a.t.Helper()
	var out strings.Builder
	args := []string{"status", "set", "--ref", strings.Join(refs, ","), "--status", status, "--answer", answer}
	if err := run(context.Background(), args, a.getenv, &out, &out); err != nil {
		a.t.Fatalf("status set: %v\n%s", err, out.String())
	}
}

// notificationMatcher matches the status notification about ref: exactly the
// text of the student's language if it has one, otherwise (translations
// still on their way) any message with the reference and the answer.
func (s *student) notificationMatcher(ref, status, answer string) func(telegramtest.SentMessage) bool {
	s.t.Helper()
	key := "notify.status"
	if answer != "" {
		key = "notify.with_answer"
	}
	want, err := s.a.catalog.Render(s.lang, flows.Msg{Key: key, Data: map[string]any{
		"Ref": ref, "Title": flowtest.AnswersIn(s.lang)[flows.StepTitle], "Status": flows.Msg{Key: "status." + status}, "Answer": answer,
	}})
	if err != nil {
		s.t.Logf("%s has no %s yet (%v): checking the reference and the answer only", s.lang, key, err)
		return func(m telegramtest.SentMessage) bool {
			return strings.Contains(m.Text, ref) && strings.Contains(m.Text, answer)
		}
	}
	return func(m telegramtest.SentMessage) bool { return m.Text == want }
}

// mentions counts the messages to the student that mention ref.
func (s *student) mentions(ref string) int {
	n := 0
	for _, m := range s.a.fake.Sent(s.u.ID()) {
		if strings.Contains(m.Text, ref) && strings.Contains(m.Text, cityAnswer) {
			n++
		}
	}
	return n
}

func TestE2EStatusNotifications(t *testing.T) {
	a := newApp(t, false, fastNotifier)
	f := a.forum("8.B")
	czech, english, stopped := a.student("cs"), a.student("en"), a.student("en")
	czechRef := czech.submitIdea(f.Code)
	englishRef := english.submitIdea(f.Code)
	stoppedRef := stopped.submitIdea(f.Code)
	stopped.u.SendText("/stop")
	stopped.expect("stop.done")

	a.setStatus([]string{czechRef, englishRef, stoppedRef}, "selected", cityAnswer)

	got := czech.a.fake.WaitFor(t, czech.u.ID(), czech.notificationMatcher(czechRef, "selected", cityAnswer), waitLong)
	if !strings.Contains(got.Text, czech.render("status.selected")) {
		t.Errorf("the Czech student's notification lacks the status in Czech: %q", got.Text)
	}
	got = a.fake.WaitFor(t, english.u.ID(), english.notificationMatcher(englishRef, "selected", cityAnswer), waitLong)
	if !strings.Contains(got.Text, english.render("status.selected")) || !strings.Contains(got.Text, flowtest.AnswersIn("en")[flows.StepTitle]) {
		t.Errorf("the English student's notification: %q", got.Text)
	}

	// A second change within the day is not sent now (it waits a day after
	// the first message: see the storage tests), and /stop means nothing at all.
	a.setStatus([]string{czechRef}, "in_progress", "")
	time.Sleep(500 * time.Millisecond)
	if n := stopped.mentions(stoppedRef); n != 0 {
		t.Errorf("the student who said /stop got %d notifications", n)
	}
	if n := czech.mentions(czechRef); n != 1 {
		t.Errorf("the Czech student got %d messages about their idea, want 1", n)
	}
	for _, m := range a.fake.Sent(czech.u.ID()) {
		if strings.Contains(m.Text, czech.render("status.in_progress")) {
			t.Errorf("a second notification within a day: %q", m.Text)
		}
	}
	if n := english.mentions(englishRef); n != 1 {
		t.Errorf("the English student got %d messages about their idea, want 1", n)
	}

	// What a student wrote, and what the city answered, stays out of the logs.
	for _, secret := range []string{cityAnswer, flowtest.AnswersIn("cs")[flows.StepTitle], flowtest.AnswersIn("en")[flows.StepTitle]} {
		if strings.Contains(a.logs.String(), secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

func TestE2EStatusNotificationToBlockedBot(t *testing.T) {
	a := newApp(t, false, fastNotifier)
	f := a.forum("8.C")
	s := a.student("en")
	ref := s.submitIdea(f.Code)
	s.u.SendText("/myideas") // the bot is idle once it answered
	s.expect("myideas.item")

	a.fake.FailNext("sendMessage", 1, 403, "Forbidden: bot was blocked by the user", 0)
	a.setStatus([]string{ref}, "selected", cityAnswer)

	conn, err := pgx.Connect(context.Background(), a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	state := func() (unreachable, dropped bool) {
		t.Helper()
		err := conn.QueryRow(context.Background(), `
			SELECT c.unreachable, n.sent_at IS NOT NULL
			FROM suggestions s
			JOIN contacts c ON c.participant_id = s.participant_id
			JOIN notifications n ON n.suggestion_id = s.id
			WHERE s.reference = $1`, ref).Scan(&unreachable, &dropped)
		if err != nil {
			t.Fatalf("read contact and notification of %s: %v", ref, err)
		}
		return unreachable, dropped
	}
	deadline := time.Now().Add(waitLong)
	for {
		unreachable, dropped := state()
		if unreachable && dropped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a 403 the contact is unreachable=%v and the notification dropped=%v\n%s", unreachable, dropped, a.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(a.logs.String(), "the student blocked the bot; not telling them about their ideas again") {
		t.Errorf("the 403 did not come from the notification:\n%s", a.logs)
	}

	// Nothing is sent to them any more, whatever becomes of their idea.
	a.setStatus([]string{ref}, "done", "Hotovo.")
	time.Sleep(500 * time.Millisecond)
	for _, m := range a.fake.Sent(s.u.ID()) {
		if strings.Contains(m.Text, "Hotovo.") || strings.Contains(m.Text, cityAnswer) {
			t.Errorf("a student who blocked the bot was messaged: %q", m.Text)
		}
	}
}
