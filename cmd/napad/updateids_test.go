package main

import (
	"testing"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
)

// Telegram's update ids do not identify an update forever: a city that
// moves to a new bot token (same database, same PARTICIPANT_KEY) gets a new
// sequence, so a returning student's new idea comes in updates whose ids
// repeat those of their earlier idea. Nothing may be taken for a repeat:
// both ideas are stored, each once.
func TestE2EUpdateIDsThatRepeatAreNewUpdates(t *testing.T) {
	a := newApp(t, true)
	f := a.forum("8.B – ZŠ Komenského")
	s := a.student("cs")
	s.toReview(f.Code, flowtest.AnswersIn("cs"))
	s.tap("button.submit")
	first := regexpRef.FindString(s.expectCount("submit.thanks", one()).Text)
	firstIDs := a.fake.DeliveredUpdateIDs()

	// The new bot: a new token, its own update ids and chats, from the start.
	a.stop()
	time.Sleep(1100 * time.Millisecond) // messages of another second, as days later would be
	newToken := "987654321:AAH-napad_new_bot_token_0123456789abc"
	a.fake = telegramtest.New(t, newToken)
	a.env["TELEGRAM_BOT_TOKEN"], a.env["TELEGRAM_API_URL"] = newToken, a.fake.URL()
	a.start()
	t.Cleanup(a.stop)
	s.u = a.fake.NewUser(s.u.ID(), "Student", "cs")
	second := map[flows.StepID]string{flows.StepTitle: "Pítko u hřiště"}
	s.u.SendText("/start " + f.Code)
	s.walk(flows.StepScope, flows.StepReview, second, nil)
	s.tap("button.submit")
	two := 2 // their second idea in the forum
	ref := regexpRef.FindString(s.expectCount("submit.thanks", &two).Text)

	ids := a.fake.DeliveredUpdateIDs()
	if len(ids) < 3 || ids[0] != firstIDs[0] || ids[2] != firstIDs[2] {
		t.Fatalf("the new bot's update ids %v do not repeat the old %v: the test tests nothing", ids, firstIDs)
	}
	if ref == "" || ref == first {
		t.Fatalf("second idea's reference %q, first %q", ref, first)
	}
	if got := a.suggestion(ref).Title; got != "Pítko u hřiště" {
		t.Errorf("second idea stored as %q", got)
	}
	if got := a.suggestion(first).Title; got != flowtest.AnswersIn("cs")[flows.StepTitle] {
		t.Errorf("first idea now %q", got)
	}
	if n := len(a.suggestions(f)); n != 2 {
		t.Errorf("%d ideas stored, want 2", n)
	}
}
