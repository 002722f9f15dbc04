//go:build linux

package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/telegram"
	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
	"github.com/healthycities/napad/flows"
)

// The bot is killed in the middle of telling 300 participants that voting
// opened (each gets their ballot) and started again: every reachable participant is told, nobody is missed,
// and only a message in flight at the kill goes twice — at most one per
// sender (bot.BroadcastSenders): a sender holds one message between its
// request to Telegram and recording it as sent. Telegram's limits are the
// real ones, and the fake refuses (429) beyond 30 messages a second: the
// test fails on any 429. Participants who said /stop get nothing; those who
// blocked the bot end unreachable.
func TestKillMidVotingAnnouncement(t *testing.T) {
	bin := buildNapad(t)
	a := newChildApp(t)
	a.env["STAFF_TELEGRAM_IDS"] = strconv.Itoa(staffID)
	a.env["NOTIFY_INTERVAL"] = "50ms"
	delete(a.env, "TELEGRAM_MESSAGES_PER_SECOND") // Telegram's: 30/s, 1/s per chat
	delete(a.env, "TELEGRAM_CHAT_MESSAGES_PER_SECOND")
	limits := botapi.NewLimits(30, botapi.ChatBurst)
	a.fake.LimitMessages(limits)
	f := a.forum("9.A – Gymnázium")

	// 300 participants who joined (as the bot records a join: membership and
	// sealed chat), 5 more who said /stop, 3 of the 300 blocked the bot.
	const reachable, optedOut, blockedN = 300, 5, 3
	st := a.participantsStore(t)
	key := []byte(a.env["PARTICIPANT_KEY"])
	type person struct {
		chat int64
		lang string
	}
	var people []person
	for i := range reachable + optedOut {
		p := person{chat: 900000 + int64(i), lang: flows.Languages[i%len(flows.Languages)]}
		a.fake.NewUser(p.chat, "Student", p.lang)
		pid := bot.Pseudonym(key, telegram.UserKey(p.chat))
		if err := st.RecordJoin(context.Background(), f.ID, pid, p.lang, p.chat); err != nil {
			t.Fatal(err)
		}
		if i >= reachable {
			if err := st.StopContact(context.Background(), pid, true); err != nil {
				t.Fatal(err)
			}
		}
		people = append(people, p)
	}
	for _, p := range people[:blockedN] {
		a.fake.Block(p.chat)
	}
	// Three ideas on the shortlist; voting opens from the command line.
	for i := range 3 {
		ref, err := st.Submit(context.Background(), flows.Idea{DraftID: fmt.Sprintf("kill-%d", i), ParticipantID: "kill-author", ForumID: f.ID,
			Language: "cs", Scope: flows.ScopeSchool, Improve: "Lavičky", Title: fmt.Sprintf("Nápad %d", i+1), Description: "Víc laviček", Category: flows.Categories[0], WantsToHelp: "no"})
		if err != nil {
			t.Fatal(err)
		}
		a.cli(t, "forum", "shortlist", f.Code, "add", ref)
	}
	a.cli(t, "forum", "phase", f.Code, flows.PhaseShortlisting)
	ballots := map[string]*regexp.Regexp{}
	for _, lang := range flows.Languages {
		ballots[lang] = (&student{a: a, t: t, lang: lang}).pattern("ballot.intro", &[]int{2}[0])
	}
	told := func(p person) (n int) {
		for _, m := range a.fake.Sent(p.chat) {
			if ballots[p.lang].MatchString(m.Text) {
				n++
			}
		}
		return n
	}
	countTold := func() (n int) {
		for _, p := range people[blockedN:reachable] {
			if told(p) > 0 {
				n++
			}
		}
		return n
	}

	first := startChild(t, a, bin)
	a.cli(t, "forum", "phase", f.Code, flows.PhaseVoting)

	// Killed a third of the way through (about 3 s at 30 a second).
	deadline := time.Now().Add(waitLong)
	for countTold() < reachable/3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d told before the kill", countTold())
		}
		time.Sleep(5 * time.Millisecond)
	}
	first.kill()
	atKill := countTold()
	// A replica started again does not know what the dead one sent in its
	// last second: Telegram's limit is per bot. A restart takes longer than
	// that anyway; the pause makes it certain.
	time.Sleep(time.Second)
	startChild(t, a, bin)

	// The dead one's leased batch waits for its lease (15 s); then everyone.
	deadline = time.Now().Add(60 * time.Second)
	for countTold() < reachable-blockedN {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d reachable participants told a minute after the restart (%d at the kill); deliveries %v",
				countTold(), reachable-blockedN, atKill, a.deliveryStates(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for a.deliveryStates(t)["pending"] > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("deliveries still pending: %v", a.deliveryStates(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // anything sent twice would be here by now

	repeats := 0
	for _, p := range people[blockedN:reachable] {
		repeats += told(p) - 1
	}
	t.Logf("told %d before the kill, all %d after the restart; %d sent twice", atKill, reachable-blockedN, repeats)
	if repeats > bot.BroadcastSenders {
		t.Errorf("%d messages sent twice; at most %d can be in flight at a kill", repeats, bot.BroadcastSenders)
	}
	for _, p := range people[reachable:] {
		if n := told(p); n != 0 {
			t.Errorf("a participant who said /stop was told %d times", n)
		}
	}
	states := a.deliveryStates(t)
	if states["sent"] != reachable-blockedN || states["unreachable"] != blockedN || len(states) != 2 {
		t.Errorf("deliveries by state %v, want %d sent and %d unreachable", states, reachable-blockedN, blockedN)
	}
	stats := limits.Stats()
	if stats.Refused != 0 {
		t.Errorf("the fake answered 429 %d times: the bot went over 30 messages a second", stats.Refused)
	}
	if stats.ChatViolations != 0 {
		t.Errorf("%d messages beyond %d within a second into one chat", stats.ChatViolations, botapi.ChatBurst)
	}
	if n := botapi.MaxInWindow(stats.Accepted, time.Second); n > 30 {
		t.Errorf("%d messages within one second", n)
	}
}
