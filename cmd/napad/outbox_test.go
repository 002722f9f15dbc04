package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
	"github.com/healthycities/napad/storage/redis"
)

// Ideas queued while PostgreSQL was down are stored once when it is back,
// although two replicas drain the outbox, and each student is told their
// code exactly once.
func TestE2EOutboxTwoReplicas(t *testing.T) {
	var pgProxy *tcpProxy
	_, first, _ := twoReplicas(t, throughProxy("DATABASE_URL", &pgProxy), func(a *app) { a.env["NOTIFY_INTERVAL"] = "20ms" })
	f := first.forum("4.D")
	langs := []string{"cs", "en", "nb", "uk", "cs", "en"}
	students := make([]*student, len(langs))
	for i, lang := range langs {
		students[i] = first.student(lang)
	}
	var wg sync.WaitGroup
	for _, s := range students {
		wg.Add(1)
		go func() { defer wg.Done(); s.toReview(f.Code, flowtest.AnswersIn(s.lang)) }()
	}
	wg.Wait()
	pgProxy.cut()
	for _, s := range students {
		wg.Add(1)
		go func() { defer wg.Done(); s.tap("button.submit"); s.expect("submit.queued") }()
	}
	wg.Wait()
	pgProxy.restore()
	for _, s := range students {
		s.expect("submit.code_later")
	}
	time.Sleep(time.Second) // time for a second code, if one were sent
	for _, s := range students {
		if n := s.count("submit.code_later", nil); n != 1 {
			t.Errorf("student %d was told their code %d times", s.u.ID(), n)
		}
	}
	if n := len(first.suggestions(f)); n != len(students) {
		t.Errorf("%d ideas stored, want %d", n, len(students))
	}
}

// An outbox entry that cannot be read, and one PostgreSQL refuses every time
// while it is up, are moved aside to the dead letters, where staff see them
// (napad_outbox_dead) without the student's text in the logs; they do not
// hold up the ideas queued after them. An entry queued before chats were
// sealed is stored, and its student told the code.
func TestE2EOutboxPoisonedEntries(t *testing.T) {
	var pgProxy *tcpProxy
	a := newApp(t, false, throughProxy("DATABASE_URL", &pgProxy), func(a *app) { a.env["NOTIFY_INTERVAL"] = "50ms" })
	rdb, err := redis.Open(context.Background(), a.env["REDIS_URL"], a.env["REDIS_KEY_PREFIX"])
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	f := a.forum("5.E")
	s := a.student("en")
	s.toReview(f.Code, flowtest.AnswersIn("en"))
	pgProxy.cut()
	for id, data := range map[string]string{ // queued before the student's idea
		"x:unreadable": `{"s":`,
		"x:refused":    `{"s":{"DraftID":"x:refused","ParticipantID":"x","Title":"Tajný nápad"},"c":1,"l":"en"}`,
	} {
		if err := rdb.PutOutbox(context.Background(), id, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	// Queued by a bot from before chats were sealed: the chat in plain.
	old := a.student("en")
	oldPID := old.pid()
	legacy, err := json.Marshal(map[string]any{"s": flows.Idea{
		DraftID: oldPID + ":legacy", ParticipantID: oldPID, ForumID: f.ID, Language: "en", Scope: "school",
		Improve: "Shade", Title: "Trees", Description: "More trees in the yard.", Category: "misc", WantsToHelp: "maybe",
		ContactChat: old.u.ID(),
	}, "c": old.u.ID(), "l": "en"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.PutOutbox(context.Background(), oldPID+":legacy", legacy); err != nil {
		t.Fatal(err)
	}
	s.tap("button.submit")
	s.expect("submit.queued")
	pgProxy.restore()
	s.expect("submit.code_later")
	old.expect("submit.code_later")
	deadline := time.Now().Add(waitLong)
	for {
		body := a.metrics(t)
		if metricValue(t, body, "napad_outbox_dead", "") == 2 {
			if n := metricValue(t, body, "napad_outbox_dead_letters_total", ""); n != 2 {
				t.Errorf("napad_outbox_dead_letters_total %v, want 2", n)
			}
			if n := metricValue(t, body, "napad_outbox_depth", ""); n != 0 {
				t.Errorf("napad_outbox_depth %v, want 0", n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the poisoned entries were not moved aside:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(a.suggestions(f)); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
	if logs := a.logs.String(); strings.Contains(logs, "Tajný") || !strings.Contains(logs, "dead letters") {
		t.Errorf("logs name the student's text, or not the dead letters:\n%s", logs)
	}
}
