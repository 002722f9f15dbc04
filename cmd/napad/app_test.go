package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
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
		"LOG_LEVEL":          "debug",
		// Simulated students answer faster than anyone can read; pacing
		// has tests of its own (TestE2ETelegramLimits).
		"TELEGRAM_MESSAGES_PER_SECOND":      "0",
		"TELEGRAM_CHAT_MESSAGES_PER_SECOND": "0",
	}
	return a
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

// get requests a path of the bot's HTTP server and returns the status.
func (a *app) get(t *testing.T, path string) int {
	t.Helper()
	resp, err := http.Get("http://" + a.env["LISTEN_ADDR"] + path)
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
	nextUserID++
	return &student{a: a, t: a.t, u: a.fake.NewUser(nextUserID, "Student", lang), lang: lang}
}

func (s *student) render(key string) string {
	s.t.Helper()
	text, err := s.a.catalog.Render(s.lang, flows.Msg{Key: key})
	if err != nil {
		s.t.Fatal(err)
	}
	return text
}

// pattern matches the rendered message whatever values fill it in.
func (s *student) pattern(key string, count *int) *regexp.Regexp {
	s.t.Helper()
	text, err := s.a.catalog.Text(s.lang, key, nil, count)
	if err != nil {
		s.t.Fatal(err)
	}
	parts := strings.Split(text, "<no value>")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`(?s)^` + strings.Join(parts, ".*?") + `$`)
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

// count is how many messages of the chat say key (count picks the plural).
func (s *student) count(key string, count *int) int {
	s.t.Helper()
	re := s.pattern(key, count)
	n := 0
	for _, m := range s.a.fake.Sent(s.u.ID()) {
		if re.MatchString(m.Text) {
			n++
		}
	}
	return n
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

// toReview drives the student from the join link to the review screen.
func (s *student) toReview(code string, a answers) {
	s.t.Helper()
	s.toFirstQuestion(code, "scope.both")
	s.u.SendText(a.works)
	s.expect("improve.ask")
	s.u.SendText(a.improve)
	s.expect("title.ask")
	s.u.SendText(a.title)
	s.expect("description.ask")
	s.u.SendText(a.description)
	s.fromCategoryToReview()
}

// toFirstQuestion opens the join link, picks the language, accepts the
// privacy notice and the scope, and waits for "what works well".
func (s *student) toFirstQuestion(code, scope string) {
	s.t.Helper()
	s.u.SendText("/start " + code)
	s.expect("language.ask")
	s.tap("lang." + s.lang)
	s.expect("privacy.notice")
	s.tap("privacy.ok")
	s.expect("scope.ask")
	s.tap(scope)
	s.expect("works.ask")
}

// fromCategoryToReview answers from the category question (a public space,
// a pin, a photo, yes to helping) to the review screen.
func (s *student) fromCategoryToReview() {
	s.t.Helper()
	s.expect("category.ask")
	s.tap("cat.public_space")
	s.expect("place.ask")
	s.u.SendLocation(50.0281, 15.2003)
	s.expect("photo.ask")
	s.u.SendPhoto("AgACAgIAAxkBAAIBe2dPhoto", 180000, "")
	s.expect("help.ask")
	s.tap("help.yes")
	s.expect("review.summary")
}

type answers struct{ works, improve, title, description string }

var sampleAnswers = map[string]answers{
	"cs": {"Nová knihovna a učitelé, kteří poslouchají.", "Venku není kde sedět o přestávkách.", "Lavičky na školním dvoře", "Pět laviček a trochu stínu pod velkou lípou, abychom mohli sedět venku mezi hodinami."},
	"en": {"The new library.", "Nowhere to sit outside.", "Benches in the yard", "Five benches under the big linden tree."},
	"nb": {"Det nye biblioteket.", "Ingen steder å sitte ute.", "Benker i skolegården", "Fem benker under det store lindetreet, så vi kan sitte ute i friminuttene."},
	"uk": {"Нова бібліотека.", "Ніде сидіти надворі на перервах.", "Лавки у шкільному дворі", "П'ять лавок під великою липою, щоб можна було сидіти надворі між уроками."},
}

func init() {
	// A language without sample answers of its own (a new one) is tested
	// with the English ones.
	for _, lang := range flows.Languages {
		if _, ok := sampleAnswers[lang]; !ok {
			sampleAnswers[lang] = sampleAnswers["en"]
		}
	}
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
