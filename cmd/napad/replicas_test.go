package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
)

// balancer stands where Telegram's webhook URL points, in front of two
// replicas, and delivers as Telegram does: updates of different chats at the
// same time, updates of one chat one after another (the next once the
// previous one is accepted). It also gives every update to both replicas at
// once, the worst case of a duplicate delivery: the next update of the chat
// follows as soon as one replica accepts, while the other copy may still be
// waiting. Each copy is sent again until its replica answers 200.
type balancer struct {
	t        *testing.T
	replicas []string
	srv      *httptest.Server
	wg       sync.WaitGroup

	mu       sync.Mutex
	chats    map[int64]chan []byte
	failures int // answers other than 200 (sent again)
	inFlight int // copies not yet accepted
}

func newBalancer(t *testing.T) *balancer {
	b := &balancer{t: t, chats: map[int64]chan []byte{}}
	b.srv = httptest.NewServer(http.HandlerFunc(b.receive))
	t.Cleanup(func() {
		b.mu.Lock()
		for _, q := range b.chats {
			close(q)
		}
		b.chats = nil
		b.mu.Unlock()
		b.wg.Wait()
		b.srv.Close()
	})
	return b
}

func (b *balancer) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var u models.Update
	if err == nil {
		err = json.Unmarshal(body, &u)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	chat := int64(0)
	switch {
	case u.Message != nil:
		chat = u.Message.Chat.ID
	case u.CallbackQuery != nil:
		chat = u.CallbackQuery.From.ID
	}
	secret := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.chats[chat]
	if !ok {
		q = make(chan []byte, 64)
		b.chats[chat] = q
		b.wg.Add(1)
		go b.deliverChat(q, secret)
	}
	q <- body
}

// deliverChat hands a chat's updates to both replicas, one update at a time.
func (b *balancer) deliverChat(q chan []byte, secret string) {
	defer b.wg.Done()
	for body := range q {
		accepted := make(chan struct{}, len(b.replicas))
		for _, url := range b.replicas {
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				b.forward(url, secret, body)
				accepted <- struct{}{}
			}()
		}
		<-accepted
	}
}

func (b *balancer) forward(url, secret string, body []byte) {
	b.mu.Lock()
	b.inFlight++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.inFlight--
		b.mu.Unlock()
	}()
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		b.mu.Lock()
		b.failures++
		b.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Errorf("replica %s never accepted an update", url)
}

// settle waits until every copy of every update has been accepted: a copy
// sent again after a failure may still be on its way when the student has
// the answer from the other replica.
func (b *balancer) settle() {
	b.t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		b.mu.Lock()
		n := b.inFlight
		b.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%d copies of updates still not accepted after %v", n, waitLong)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Two `napad serve` replicas share PostgreSQL and Redis behind one webhook
// URL. Students type several answers in a burst; every update reaches both
// replicas. Each update is handled once and in order:
// every answer lands in its own field, every question is asked (and at most once more), and
// each idea is stored once.
func TestE2ETwoReplicasBehindOneWebhook(t *testing.T) { twoReplicasBehindOneWebhook(t) }

func twoReplicasBehindOneWebhook(t *testing.T, setup ...func(*app)) {
	lb, first, second := twoReplicas(t, setup...)

	f := first.forum("Gymnázium Kolín")
	var wg sync.WaitGroup
	langs := []string{"cs", "en", "nb", "uk", "cs", "en"}
	students := make([]*student, len(langs))
	for i, lang := range langs {
		students[i] = first.student(lang)
	}
	for _, s := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := flowtest.AnswersIn(s.lang)
			s.toFirstQuestion(f.Code, "both")
			// Four answers typed one after another without waiting.
			for _, text := range []string{want[flows.StepWorksWell], want[flows.StepImprove], want[flows.StepTitle], want[flows.StepDescription]} {
				s.u.SendText(text)
				time.Sleep(15 * time.Millisecond)
			}
			s.walk(ideaFlow[questionIndex(flows.StepDescription)+1].step.ID, flows.StepReview, nil, nil)
			review := s.expect("review.summary")
			submit := s.buttonData(review, "button.submit")
			s.u.TapData(review, submit)
			// A double tap, too: the client sends the second one although
			// the summary may have become the thank-you meanwhile.
			s.u.TapData(review, submit)
			s.expectCount("submit.thanks", one())
		}()
	}
	wg.Wait()
	t.Logf("%d deliveries refused and sent again", lb.failures)

	rows := first.suggestions(f)
	if len(rows) != len(students) {
		t.Fatalf("%d ideas stored, want %d", len(rows), len(students))
	}
	for _, s := range students {
		// Every version of every message: a tap's answer is the tapped
		// message edited into it (category.ask became the place question,
		// the summary the thank-you).
		asked := map[string]int{}
		for _, key := range []string{"works.ask", "improve.ask", "title.ask", "description.ask", "category.ask", "submit.thanks"} {
			var count *int
			if key == "submit.thanks" {
				count = one()
			}
			if n := s.count(key, count); n > 0 {
				asked[key] = n
			}
		}
		// A copy that finds its update handled, without having waited for
		// the other, cannot know whether the answer got out, and says it
		// again: at most twice, never not at all.
		for key, n := range asked {
			most := 2
			if key == "submit.thanks" {
				most = 3 // Submit was tapped twice; each may be said again
			}
			if n < 1 || n > most {
				t.Errorf("student %d was sent %s %d times:\n%v", s.u.ID(), key, n, versions(first.fake.Sent(s.u.ID())))
			}
		}
		if len(asked) != 6 {
			t.Errorf("student %d was asked only %v", s.u.ID(), asked)
		}
	}
	for _, row := range rows {
		found := false
		for lang, want := range flowtest.Answers {
			if row.Language == lang && row.WorksWell == want[flows.StepWorksWell] && row.Improve == want[flows.StepImprove] &&
				row.Title == want[flows.StepTitle] && row.Description == want[flows.StepDescription] {
				found = true
			}
		}
		if !found {
			t.Errorf("answers out of order: %+v", row.Idea)
		}
	}
	// Both replicas did part of the work.
	for i, a := range []*app{first, second} {
		if !bytes.Contains([]byte(a.logs.String()), []byte(`"update already handled"`)) {
			t.Errorf("replica %d never saw an update the other one had handled", i+1)
		}
	}
}

// twoReplicas starts two `napad serve` behind one webhook URL (lb), sharing
// PostgreSQL and Redis; setup changes the first one's environment, which the
// second one shares.
func twoReplicas(t *testing.T, setup ...func(*app)) (lb *balancer, first, second *app) {
	t.Helper()
	lb = newBalancer(t)
	first = newApp(t, true, append([]func(*app){func(a *app) { a.env["WEBHOOK_URL"] = lb.srv.URL + "/telegram/webhook" }}, setup...)...)
	second = newApp(t, true, func(b *app) {
		for _, k := range []string{"TELEGRAM_API_URL", "DATABASE_URL", "MIGRATION_DATABASE_URL", "REDIS_URL", "REDIS_KEY_PREFIX", "WEBHOOK_URL", "NOTIFY_INTERVAL"} {
			if v, ok := first.env[k]; ok {
				b.env[k] = v
			}
		}
		b.fake = first.fake
	})
	lb.mu.Lock()
	lb.replicas = []string{
		"http://" + first.env["LISTEN_ADDR"] + "/telegram/webhook",
		"http://" + second.env["LISTEN_ADDR"] + "/telegram/webhook",
	}
	lb.mu.Unlock()
	return lb, first, second
}
