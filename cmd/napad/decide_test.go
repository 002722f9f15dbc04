package main

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
	"github.com/healthycities/napad/storage/postgres"
)

// A staff member reviews a student's two ideas in the chat: the first is
// not feasible, and the bot asks why before it changes anything; the
// second is hidden. The student is told the first with the staff's
// answer, and /myideas says the second was not published and why. /idea
// then shows the first with its history, and is in staff's menu only.
func TestE2EStaffDecidesWithAnAnswer(t *testing.T) {
	a := newApp(t, false, fastNotifier, func(a *app) { a.env["STAFF_TELEGRAM_IDS"] = strconv.Itoa(staffID) })
	f := a.forum("8.B – ZŠ Komenského")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	status := func(ref string) (status, answer string) {
		t.Helper()
		if err := conn.QueryRow(ctx, `SELECT status, staff_answer FROM suggestions WHERE reference = $1`, ref).Scan(&status, &answer); err != nil {
			t.Fatal(err)
		}
		return status, answer
	}
	staff := &student{a: a, t: t, u: a.fake.NewUser(staffID, "Staff", "cs"), lang: "cs"}
	s := a.student("uk")
	first := s.submitIdea(f.Code)
	s.tap("button.new_idea")
	s.walk(flows.StepScope, flows.StepReview, flowtest.AnswersIn("uk"), nil)
	s.tap("button.submit")
	second := regexpRef.FindString(s.expectCount("submit.thanks", ptrInt(2)).Text)
	if second == "" || second == first {
		t.Fatalf("second idea %q (first %q)", second, first)
	}

	staff.u.SendText("/review")
	card := staff.expect("staffreview.card")
	for _, want := range []string{first, staff.render("lang.uk"), "🗺️", "https://www.openstreetmap.org/?mlat=50.02810&mlon=15.20030#map=18/50.02810/15.20030"} {
		if !strings.Contains(card.Text, want) {
			t.Errorf("the card lacks %q:\n%s", want, card.Text)
		}
	}
	if photos := slices.IndexFunc(a.fake.Sent(staff.u.ID()), func(m telegramtest.SentMessage) bool { return m.Method == "sendPhoto" }); photos < 0 {
		t.Error("the student's photo was not shown")
	}
	staff.u.Tap(card, staff.render("staffbutton.not_feasible"))
	staff.expect("staffdecide.answer_ask")
	if got, _ := status(first); got != flows.StatusNew {
		t.Fatalf("the status changed before the answer: %s", got)
	}
	staff.u.SendText(cityAnswer)
	staff.expect("staffdecide.status_answered")
	card = staff.expect("staffreview.card")
	if !strings.Contains(card.Text, second) {
		t.Fatalf("second card: %s", card.Text)
	}
	staff.u.Tap(card, staff.render("staffbutton.hide"))
	reasons := staff.expect("staffdecide.hide_ask")
	staff.u.Tap(reasons, staff.render("button.hide_personal_data"))
	staff.expect("staffreview.hidden")
	staff.expect("staffreview.empty")

	// The student hears the decision with the answer; the hidden idea is not published.
	got := a.fake.WaitFor(t, s.u.ID(), s.notificationMatcher(first, flows.StatusNotFeasible, cityAnswer), waitLong)
	if !strings.Contains(got.Text, s.render("status.not_feasible")) {
		t.Errorf("the notification: %q", got.Text)
	}
	s.u.SendText("/myideas")
	hidden := s.expect("myideas.hidden.item")
	if !strings.Contains(hidden.Text, second) || !strings.Contains(hidden.Text, s.render("myideas.hidden.personal_data")) {
		t.Errorf("the hidden idea in /myideas: %q", hidden.Text)
	}
	if strings.Contains(hidden.Text, s.render("status.new")) {
		t.Errorf("a hidden idea still waits to be read: %q", hidden.Text)
	}

	// /idea shows the decision in the history, by the staff member's pseudonym.
	staff.u.SendText("/idea " + strings.ToLower(first))
	view := staff.expect("staffidea.view")
	for _, want := range []string{first, cityAnswer, staff.render("staffstatus.not_feasible"), staff.pid()[:postgres.PseudonymLen]} {
		if !strings.Contains(view.Text, want) {
			t.Errorf("/idea lacks %q:\n%s", want, view.Text)
		}
	}
	if strings.Contains(view.Text, strconv.Itoa(staffID)) {
		t.Errorf("/idea shows a Telegram id:\n%s", view.Text)
	}
	staff.u.Tap(view, staff.render("staffbutton.done"))
	staff.expect("staffdecide.status_set")
	staff.expect("staffidea.view")
	staff.u.SendText("/idea N-ZZZZ")
	staff.expect("staffidea.unknown")
	staff.u.TapData(view, "|ri|N-ZZZZ:st_nonsense") // forged
	staff.expect("error.stale_button")

	rows, err := conn.Query(ctx, `SELECT actor FROM audit_log WHERE target = ANY($1) ORDER BY id`, []string{first, second})
	if err != nil {
		t.Fatal(err)
	}
	actors, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(actors) != 3 || slices.ContainsFunc(actors, func(a string) bool { return a != staff.pid() }) {
		t.Errorf("audit rows by %v (%v), want 3 by the staff member", actors, err)
	}
	// Done after all: the reason it was not feasible no longer holds.
	if got, answer := status(first); got != flows.StatusDone || answer != "" {
		t.Errorf("the first idea: %s, %q", got, answer)
	}

	// /idea is in staff's menu; a student who tries it learns nothing of it.
	menu := a.fake.CommandsForScope("chat:"+strconv.Itoa(staffID), "")
	if !slices.ContainsFunc(menu, func(c models.BotCommand) bool { return c.Command == flows.CommandIdea }) {
		t.Errorf("staff's menu: %v", menu)
	}
	if slices.ContainsFunc(a.fake.Commands(""), func(c models.BotCommand) bool { return c.Command == flows.CommandIdea }) {
		t.Error("/idea is in the students' menu")
	}
	s.u.SendText("/idea " + first)
	s.expect("about.help")
}

func ptrInt(n int) *int { return &n }
