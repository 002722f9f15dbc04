package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
	"github.com/healthycities/napad/locales"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
	"github.com/healthycities/napad/storage/redis/redistest"
)

const (
	testToken  = "123456789:AAH-napad_e2e_token_0123456789abcdef"
	testSecret = "e2e_webhook_secret_0123456789"
	waitLong   = 10 * time.Second
)

// app is the real program (run) started against the fake Bot API and the
// real PostgreSQL and Redis, each test with its own database and key prefix.
type app struct {
	t       *testing.T
	fake    *telegramtest.Server
	env     map[string]string
	db      *postgres.Store
	catalog *locales.Catalog
	logs    *lockedBuffer
	cancel  context.CancelFunc
	done    chan error
	webhook string
}

// newApp starts the program; setup functions may change its environment first.
func newApp(t *testing.T, webhook bool, setup ...func(*app)) *app {
	t.Helper()
	a := prepareApp(t)
	if webhook {
		a.webhook = "http://" + a.env["LISTEN_ADDR"] + "/telegram/webhook"
		a.env["WEBHOOK_URL"] = a.webhook
		a.env["WEBHOOK_SECRET"] = testSecret
	}
	for _, f := range setup {
		f(a)
	}
	a.start()
	t.Cleanup(a.stop)
	return a
}

// prepareApp makes what the program needs — the fake Bot API, a database, a
// Redis key prefix and the environment (long polling) — without starting it.
func prepareApp(t *testing.T) *app {
	t.Helper()
	fake := telegramtest.New(t, testToken)
	db, dbURL := pgtest.NewStore(t)
	_, redisURL, prefix := redistest.NewWithPrefix(t)
	catalog, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	a := &app{t: t, fake: fake, db: db, catalog: catalog, logs: &lockedBuffer{}}
	a.env = map[string]string{
		"TELEGRAM_BOT_TOKEN": testToken,
		"TELEGRAM_API_URL":   fake.URL(),
		"DATABASE_URL":       dbURL,
		"REDIS_URL":          redisURL,
		"REDIS_KEY_PREFIX":   prefix,
		"PARTICIPANT_KEY":    "e2e-participant-key-0123456789abcdef",
		"LISTEN_ADDR":        freeAddr(t),
		"METRICS_ADDR":       freeAddr(t),
		"LOG_LEVEL":          "debug",
		// Simulated students answer faster than anyone can read; pacing
		// has tests of its own (TestE2ETelegramLimits).
		"TELEGRAM_MESSAGES_PER_SECOND":      "0",
		"TELEGRAM_CHAT_MESSAGES_PER_SECOND": "0",
	}
	if pooler := os.Getenv("TEST_DATABASE_POOLER"); pooler != "" {
		throughPooler(a, pooler)
	}
	return a
}

// throughPooler gives the program its database through a PgBouncer in
// transaction pooling mode at addr (TEST_DATABASE_POOLER=127.0.0.1:6432,
// the README's set-up), with the query mode that needs no session, and
// migrations straight to PostgreSQL.
func throughPooler(a *app, addr string) {
	u, err := url.Parse(a.env["DATABASE_URL"])
	if err != nil {
		a.t.Fatal(err)
	}
	a.env["MIGRATION_DATABASE_URL"] = u.String()
	u.Host = addr
	q := u.Query()
	q.Set("default_query_exec_mode", "cache_describe")
	u.RawQuery = q.Encode()
	a.env["DATABASE_URL"] = u.String()
}

// throughProxy routes the connection to the service behind the URL in the
// environment variable through a proxy the test can cut.
func throughProxy(variable string, proxy **tcpProxy) func(*app) {
	return func(a *app) {
		u, err := url.Parse(a.env[variable])
		if err != nil {
			a.t.Fatal(err)
		}
		*proxy = newTCPProxy(a.t, u.Host)
		u.Host = (*proxy).addr
		a.env[variable] = u.String()
	}
}

func (a *app) getenv(k string) string { return a.env[k] }

// getOps requests a path of the bot's HTTP server for operators
// (METRICS_ADDR) and returns the status.
func (a *app) getOps(t *testing.T, path string) int {
	t.Helper()
	resp, err := http.Get("http://" + a.env["METRICS_ADDR"] + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// start runs `napad serve` and waits until it receives updates.
func (a *app) start() {
	a.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel, a.done = cancel, make(chan error, 1)
	began := time.Now()
	go func() { a.done <- run(ctx, []string{"serve"}, a.getenv, a.logs, a.logs) }()
	ready := "getUpdates"
	if a.webhook != "" {
		ready = "setWebhook"
	}
	readyCh := make(chan struct{})
	go func() {
		defer close(readyCh)
		deadline := time.Now().Add(waitLong)
		for time.Now().Before(deadline) {
			for _, c := range a.fake.CallsTo(ready) {
				if c.Time.After(began) {
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	select {
	case err := <-a.done:
		a.t.Fatalf("napad serve stopped at start-up: %v\n%s", err, a.logs)
	case <-readyCh:
	}
	for _, c := range a.fake.CallsTo(ready) {
		if c.Time.After(began) {
			return
		}
	}
	a.t.Fatalf("napad serve did not call %s within %s\n%s", ready, waitLong, a.logs)
}

// stop ends the program as SIGTERM would, and checks it ends cleanly.
func (a *app) stop() {
	a.t.Helper()
	if a.cancel == nil {
		return
	}
	a.cancel()
	a.cancel = nil
	select {
	case err := <-a.done:
		if err != nil {
			a.t.Errorf("napad serve ended with %v", err)
		}
	case <-time.After(15 * time.Second):
		a.t.Errorf("napad serve did not stop within 15 s")
	}
	if a.t.Failed() {
		for _, line := range strings.Split(a.logs.String(), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
				a.t.Log(line)
			}
		}
	}
	if strings.Contains(a.logs.String(), testToken) {
		a.t.Errorf("the bot token appears in the logs")
	}
	if strings.Contains(a.logs.String(), `"level":"ERROR","msg":"panic`) {
		a.t.Errorf("a panic was logged:\n%s", a.logs)
	}
}

func (a *app) forum(name string) flows.Forum {
	a.t.Helper()
	f, err := pgtest.CreateForum(context.Background(), a.db, name, "ZŠ Komenského", "Kolín")
	if err != nil {
		a.t.Fatal(err)
	}
	return f
}

// student is a simulated student in a private chat with the bot.
type student struct {
	a    *app
	t    *testing.T
	u    *telegramtest.User
	lang string
}

var nextUserID int64 = 5000

func (a *app) student(lang string) *student {
	return a.studentOnPhone(lang, lang)
}

// studentOnPhone is a student writing in lang whose phone is set to the
// language phone: one Nápad does not offer ("de", or "" for none) makes the
// bot ask which language to use.
func (a *app) studentOnPhone(lang, phone string) *student {
	nextUserID++
	return &student{a: a, t: a.t, u: a.fake.NewUser(nextUserID, "Student", phone), lang: lang}
}

func (s *student) render(key string) string {
	s.t.Helper()
	text, err := s.a.catalog.Render(s.lang, flows.Msg{Key: key})
	if err != nil {
		s.t.Fatal(err)
	}
	return text
}

// pattern matches the rendered message whatever values fill it in, alone
// or as a part of a message that says several things, separated by blank
// lines: at the end after a welcome or the answer just tapped, at the start
// as "welcome back" before the question, in the middle as the language
// hint. A question put in words for the chosen scope (key_school, key_town,
// key_both) matches in any of them.
func (s *student) pattern(key string, count *int) *regexp.Regexp {
	s.t.Helper()
	var alternatives []string
	for _, k := range []string{key, key + "_school", key + "_town", key + "_both"} {
		text, err := s.a.catalog.Text(s.lang, k, nil, count)
		if err != nil {
			if k == key {
				s.t.Fatal(err)
			}
			continue
		}
		parts := strings.Split(text, "<no value>")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		alternatives = append(alternatives, strings.Join(parts, ".*?"))
	}
	return regexp.MustCompile(`(?s)(?:^|\n\n)(?:` + strings.Join(alternatives, "|") + `)(?:\n\n|$)`)
}

// expect waits for the bot to say the message key (in the student's language).
func (s *student) expect(key string) telegramtest.SentMessage {
	s.t.Helper()
	return s.expectCount(key, nil)
}

func (s *student) expectCount(key string, count *int) telegramtest.SentMessage {
	s.t.Helper()
	re := s.pattern(key, count)
	return s.a.fake.WaitFor(s.t, s.u.ID(), func(m telegramtest.SentMessage) bool { return re.MatchString(m.Text) }, waitLong)
}

// count is how many times the bot said key in the chat (count picks the
// plural): in a message it sent, or in one it edited to say it — a tapped
// answer turns its message into the next question, so a message's earlier
// versions count too. A version counts when its text changed from the one
// before (an edit of the buttons alone says nothing again).
func (s *student) count(key string, count *int) int {
	s.t.Helper()
	re := s.pattern(key, count)
	n := 0
	for _, v := range versions(s.a.fake.Sent(s.u.ID())) {
		if re.MatchString(v.Text) {
			n++
		}
	}
	return n
}

// versions is every text the bot showed in the messages sent: each message
// as sent and after each edit that changed its text.
func versions(sent []telegramtest.SentMessage) []telegramtest.SentMessage {
	var out []telegramtest.SentMessage
	for _, m := range sent {
		prev := ""
		for _, v := range append(m.History, m) {
			if v.Text != prev {
				out = append(out, v)
			}
			prev = v.Text
		}
	}
	return out
}

// buttonData is the callback data of the button labelled with key on msg,
// to tap it again once the message has changed (TapData), as a quick
// second tap does.
func (s *student) buttonData(msg telegramtest.SentMessage, key string) string {
	s.t.Helper()
	b, ok := msg.Button(s.render(key))
	if !ok || b.CallbackData == "" {
		s.t.Fatalf("no button %q on %v", s.render(key), msg)
	}
	return b.CallbackData
}

// tap presses the button labelled with key on the latest message that has it.
func (s *student) tap(key string) int64 {
	s.t.Helper()
	label := s.render(key)
	sent := s.a.fake.Sent(s.u.ID())
	for i := len(sent) - 1; i >= 0; i-- {
		if _, ok := sent[i].Button(label); ok {
			return s.u.Tap(sent[i], label)
		}
	}
	s.t.Fatalf("no message with a button %q; chat:\n%v", label, sent)
	return 0
}

// flowQuestion is one question of ideaFlow: the message that asks it and,
// but for the summary, the question itself.
type flowQuestion struct {
	ask  string
	step flows.Step
}

// ideaFlow is the whole idea as every end-to-end student answers it: the
// questions of flows.IdeaSteps, then the summary, where the student taps
// Submit.
var ideaFlow = func() []flowQuestion {
	var qs []flowQuestion
	for _, step := range flowtest.Steps("", flows.StepReview) {
		qs = append(qs, flowQuestion{ask: step.Question, step: step})
	}
	return append(qs, flowQuestion{ask: "review.summary", step: flows.Step{ID: flows.StepReview}})
}()

// questionIndex is the index of the question with step id in ideaFlow.
func questionIndex(id flows.StepID) int {
	for i, q := range ideaFlow {
		if q.step.ID == id {
			return i
		}
	}
	panic("no question " + string(id))
}

// What choose can say of a question besides a choice to tap.
const (
	skipIt   = "skip" // tap Skip
	notAsked = "-"    // the forum answered it: the question does not come
)

// answer does at question q what a student writing in lang does
// (flowtest.AnswerFor), pressing buttons with tap, unless told otherwise:
// want has a text to write (a place too can be a text), choose a choice to
// tap or skipIt. At the summary that is a tap on Submit.
func answer(u *telegramtest.User, lang string, q flowQuestion, want, choose map[flows.StepID]string, tap func(key string) (int64, error)) (int64, error) {
	if q.step.ID == flows.StepReview {
		return tap("button.submit")
	}
	a := flowtest.AnswerFor(q.step, lang)
	if t, ok := want[q.step.ID]; ok && (a.Text != "" || a.Pin != nil) {
		a = flowtest.Action{Step: q.step.ID, Text: t}
	}
	switch c, ok := choose[q.step.ID]; {
	case ok && c == skipIt:
		return tap("button.skip")
	case ok:
		a.Tap = c
	}
	switch {
	case a.Tap != "":
		return tap(flows.ChoiceLabel(q.step.ID, a.Tap))
	case a.Text != "":
		return u.SendText(a.Text), nil
	case a.Pin != nil:
		return u.SendLocation(a.Pin.Lat, a.Pin.Lon), nil
	case a.Photo != "":
		return u.SendPhoto(a.Photo, 180000, ""), nil
	}
	return 0, fmt.Errorf("no answer to %s", q.ask)
}

// answer answers question q as the test's student, with want's texts.
func (s *student) answer(q flowQuestion, want map[flows.StepID]string, choose map[flows.StepID]string) int64 {
	s.t.Helper()
	id, err := answer(s.u, s.lang, q, want, choose, func(key string) (int64, error) { return s.tap(key), nil })
	if err != nil {
		s.t.Fatal(err)
	}
	return id
}

// walk answers from question from (asked already, or about to be) until
// the student is asked until; want and choose as for answer, and choose may
// say a question is notAsked. Questions the bot does not ask (the language
// when the phone's is offered, what works and what to improve with a
// second idea) are passed over: each answer waits for whichever of the
// questions still ahead comes.
func (s *student) walk(from, until flows.StepID, want, choose map[flows.StepID]string) {
	s.t.Helper()
	last := questionIndex(until)
	for i := questionIndex(from); ; i++ {
		i = s.nextQuestion(i, last, choose)
		if i == last {
			return
		}
		s.answer(ideaFlow[i], want, choose)
	}
}

// nextQuestion waits for whichever of the questions ideaFlow[from] to
// ideaFlow[until] the bot asks after the student's last action (but for
// those choose says are notAsked), and returns its index in ideaFlow.
func (s *student) nextQuestion(from, until int, choose map[flows.StepID]string) int {
	s.t.Helper()
	patterns := map[int]*regexp.Regexp{}
	for i := from; i <= until; i++ {
		if choose[ideaFlow[i].step.ID] != notAsked {
			patterns[i] = s.pattern(ideaFlow[i].ask, nil)
		}
	}
	asked := -1
	s.a.fake.WaitFor(s.t, s.u.ID(), func(m telegramtest.SentMessage) bool {
		for i := from; i <= until; i++ {
			if p := patterns[i]; p != nil && p.MatchString(m.Text) {
				asked = i
				return true
			}
		}
		return false
	}, waitLong)
	return asked
}

// toReview drives the student from the join link to the review screen.
func (s *student) toReview(code string, want map[flows.StepID]string) {
	s.t.Helper()
	s.u.SendText("/start " + code)
	s.walk(flows.StepLanguage, flows.StepReview, want, nil)
}

// toFirstQuestion opens the join link, picks the language, accepts the
// privacy notice and the scope, and waits for "what works well".
func (s *student) toFirstQuestion(code, scope string) {
	s.t.Helper()
	s.u.SendText("/start " + code)
	s.walk(flows.StepLanguage, flows.StepWorksWell, nil, map[flows.StepID]string{flows.StepScope: scope})
}

func one() *int { n := 1; return &n }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var regexpRef = regexp.MustCompile(`N-[2-9A-HJ-NP-Z]{4,5}`)
