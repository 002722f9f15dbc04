package main

import (
	"context"
	"encoding/json"
	"go/build"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// A student's first idea takes at most an update per question, plus joining
// and sending (13 today); a later one starts with "Add another idea" and
// skips the language and the privacy notice. At most: the bot may leave
// questions out (the language when it takes the phone's, say), and the
// students answer only what is asked.
var (
	updatesPerIdea      = int64(len(flows.IdeaSteps) + 2)
	updatesPerLaterIdea = int64(len(flows.IdeaSteps))
)

const (
	defaultAdminURL  = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	defaultRedisURL  = "redis://127.0.0.1:6379/0"
	benchDatabase    = "napad_bench_test"
	notifyDatabase   = "napad_bench_notify_test"
	voteDatabase     = "napad_bench_vote_test"
	assemblyDatabase = "napad_bench_assembly_test"
)

// The bench against the real bot: 20 students in closed loop all send their
// idea, none is lost, and PostgreSQL holds exactly 20 ideas. Then a short
// run in think mode.
func TestBenchAgainstRealBot(t *testing.T) {
	// The build comes first and outside the deadline: compiling on a busy
	// 2-core machine (the rest of the suite builds too) can take a minute.
	bin := buildNapad(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dbURL := freshDatabase(ctx, t, benchDatabase)
	redisURL := reachableRedis(ctx, t)

	t.Run("closed", func(t *testing.T) {
		jsonPath := filepath.Join(t.TempDir(), "result.json")
		var out, errOut strings.Builder
		r, err := run(ctx, []string{"-spawn", bin, "-database-url", dbURL, "-redis-url", redisURL,
			"-students", "20", "-mode", "closed", "-seed", "7", "-stall", "15s", "-timeout", "60s", "-q",
			"-bot-log", filepath.Join(t.TempDir(), "bot.log"), "-json", jsonPath}, &out, &errOut)
		if err != nil {
			t.Fatalf("bench: %v\n%s\n%s", err, out.String(), errOut.String())
		}
		t.Log("\n" + out.String())
		if r.IdeasConfirmed != 20 || r.IdeasLost != 0 || r.StudentsCompleted != 20 {
			t.Errorf("%d completed, %d lost, %d students finished; want 20, 0, 20 (lost: %v)",
				r.IdeasConfirmed, r.IdeasLost, r.StudentsCompleted, r.LostWhy)
		}
		if r.IdeasStored == nil || *r.IdeasStored != 20 || *r.IdeaAuthors != 20 || *r.Duplicates != 0 {
			t.Errorf("ideas stored %v from %v students, duplicates %v; want 20, 20, 0", deref(r.IdeasStored), deref(r.IdeaAuthors), deref(r.Duplicates))
		}
		// An update for each question asked (13 today: join, language,
		// privacy, scope, 4 texts, category, place, photo, help, send), at
		// least joining, one question and sending, every one answered.
		if r.Updates < 20*3 || r.Updates > 20*updatesPerIdea || int64(r.ReplyLatency.N) != r.Updates || r.Redeliveries != 0 {
			t.Errorf("%d updates, %d replies, %d redelivered; want 60..%d, as many replies, 0", r.Updates, r.ReplyLatency.N, r.Redeliveries,
				20*updatesPerIdea)
		}
		if len(r.BotSaid) > 0 || len(r.Problems) > 0 || r.BadAPICalls > 0 || r.Unsolicited > 0 {
			t.Errorf("the bot complained %v; problems %v; %d bad API calls; %d unsolicited", r.BotSaid, r.Problems, r.BadAPICalls, r.Unsolicited)
		}
		if r.Bot == nil || r.Bot.CPUSeconds <= 0 || r.Bot.PeakRSSMB <= 0 {
			t.Errorf("bot process not measured: %+v", r.Bot)
		}
		if r.Redis == nil || r.Redis.CommandsPerUpdate <= 0 || r.Postgres == nil || r.Postgres.XactsPerIdea <= 0 {
			t.Errorf("stores not measured: %+v %+v", r.Redis, r.Postgres)
		}
		if r.RedisKeysRemoved == nil || *r.RedisKeysRemoved < 20 {
			t.Errorf("Redis keys removed after the run: %v, want the 20 conversations at least", r.RedisKeysRemoved)
		}
		if left := keysUnder(ctx, t, redisURL, r.RedisPrefix); left != 0 {
			t.Errorf("%d Redis keys left under %s", left, r.RedisPrefix)
		}
		// Each update is answered by a message or an edit that asks the next
		// thing, and each student's first answer is a message.
		if r.MessagesSent+r.Edits < r.Updates || r.MessagesSent < 20 || r.APICalls["answerCallbackQuery"] == 0 ||
			r.MessagesPerIdea != float64(r.MessagesSent)/20 || r.ActionsPerIdea != float64(r.Updates)/20 {
			t.Errorf("%d messages, %d edits for %d updates (%.2f messages, %.2f actions per idea); Bot API calls %v",
				r.MessagesSent, r.Edits, r.Updates, r.MessagesPerIdea, r.ActionsPerIdea, r.APICalls)
		}
		var fromJSON report
		data, err := os.ReadFile(jsonPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &fromJSON); err != nil || fromJSON.IdeasConfirmed != 20 || fromJSON.UpdatesPerS <= 0 {
			t.Errorf("JSON result: %v %+v", err, fromJSON)
		}
		for _, text := range []string{"updates/s", "p99", "completed", "commands/update", "transactions/idea", "ms/update", "peak RSS"} {
			if !strings.Contains(out.String(), text) {
				t.Errorf("the table lacks %q", text)
			}
		}
	})

	t.Run("think", func(t *testing.T) {
		var out, errOut strings.Builder
		r, err := run(ctx, []string{"-spawn", bin, "-database-url", dbURL, "-redis-url", redisURL,
			"-students", "10", "-mode", "think", "-think", "20ms", "-ramp", "200ms", "-ideas", "2",
			"-stall", "15s", "-timeout", "60s", "-q", "-bot-log", filepath.Join(t.TempDir(), "bot.log")}, &out, &errOut)
		if err != nil {
			t.Fatalf("bench: %v\n%s\n%s", err, out.String(), errOut.String())
		}
		if r.IdeasConfirmed != 20 || r.IdeasLost != 0 || r.IdeasStored == nil || *r.IdeasStored != 20 || *r.IdeaAuthors != 10 {
			t.Errorf("%d confirmed, %d lost, %v stored from %v students; want 20, 0, 20, 10 (lost: %v)\n%s",
				r.IdeasConfirmed, r.IdeasLost, deref(r.IdeasStored), deref(r.IdeaAuthors), r.LostWhy, out.String())
		}
		// The second idea starts with "Add another idea" and skips language and privacy.
		if most := 10 * (updatesPerIdea + updatesPerLaterIdea); r.Updates > most || r.Updates < 10*(3+2) {
			t.Errorf("%d updates, want 50..%d", r.Updates, most)
		}
	})
}

// Status notifications at Telegram's ceiling: 60 made due at once reach
// their 60 students at 30 messages/s — so no sooner than 59/30 s after the
// first — without a single 429 from a fake Bot API that refuses the 31st
// message within any second, each once, and all recorded as sent.
func TestNotifyAtTelegramCeiling(t *testing.T) {
	r, out := runWithSpawnedBot(t, notifyDatabase, "-mode", "notify", "-notifications", "60", "-timeout", "30s")
	nr := r.Notify
	if nr == nil {
		t.Fatal("no notification results")
	}
	if nr.Delivered != 60 || nr.Duplicates != 0 || nr.WrongText != 0 || nr.Strangers != 0 || nr.MarkedSent != 60 {
		t.Errorf("%d of 60 notified, %d twice, %d wrong, %d to strangers, %d recorded as sent; want 60, 0, 0, 0, 60",
			nr.Delivered, nr.Duplicates, nr.WrongText, nr.Strangers, nr.MarkedSent)
	}
	if nr.TooManyRequests != 0 || nr.MaxAttemptsInWindow > 30 || nr.ChatViolations != 0 {
		t.Errorf("%d 429s, up to %d messages tried within a second, %d per-chat violations; want 0, ≤ 30, 0",
			nr.TooManyRequests, nr.MaxAttemptsInWindow, nr.ChatViolations)
	}
	// 60 messages at 30/s are 59 gaps of 1/30 s after the first.
	if nr.TotalS < 1.9 || nr.TotalS >= 10 {
		t.Errorf("60 notifications took %.2f s; want 1.9 s (30 messages/s) to 10 s", nr.TotalS)
	}
	if r.APICalls["sendMessage"] != 60 || len(r.Problems) > 0 {
		t.Errorf("Bot API calls %v; problems %v", r.APICalls, r.Problems)
	}
	for _, text := range []string{"messages/s", "429", "1-s window"} {
		if !strings.Contains(out.String(), text) {
			t.Errorf("the table lacks %q", text)
		}
	}
}

// A forum of 60 moves to voting: every participant gets one ballot, no
// 429, then each taps two of its buttons and gets the edited ballot back,
// and PostgreSQL holds exactly 120 votes from the 60.
func TestVoteWholeForum(t *testing.T) {
	const n = 60
	r, out := runWithSpawnedBot(t, voteDatabase, "-mode", "vote", "-participants", strconv.Itoa(n), "-vote-concurrency", "20",
		"-api-rate", "1000", "-timeout", "30s", "-stall", "15s")
	vr := r.Vote
	if vr == nil {
		t.Fatal("no voting results")
	}
	if vr.Ballots != n || vr.ExtraBallots != 0 || vr.OtherMessages != 0 || vr.Strangers != 0 || vr.TooManyRequests != 0 {
		t.Errorf("%d of %d ballots, %d twice, %d other messages, %d to strangers, %d 429s; want %d, 0, 0, 0, 0",
			vr.Ballots, n, vr.ExtraBallots, vr.OtherMessages, vr.Strangers, vr.TooManyRequests, n)
	}
	if vr.Taps != 2*n || vr.TapsAnswered != 2*n || vr.TapLatency.N != 2*n || vr.WrongEdits != 0 {
		t.Errorf("%d taps, %d answered, %d latencies, %d stray edits; want %d, %d, %d, 0 (lost %v)",
			vr.Taps, vr.TapsAnswered, vr.TapLatency.N, vr.WrongEdits, 2*n, 2*n, 2*n, vr.LostTaps)
	}
	if vr.VotesStored != 2*n || vr.Voters != n {
		t.Errorf("PostgreSQL has %d votes from %d participants; want %d from %d", vr.VotesStored, vr.Voters, 2*n, n)
	}
	if len(r.Problems) > 0 || r.BadAPICalls > 0 {
		t.Errorf("problems %v; %d bad API calls", r.Problems, r.BadAPICalls)
	}
	for _, text := range []string{"ballots", "taps/s", "p99", "429"} {
		if !strings.Contains(out.String(), text) {
			t.Errorf("the table lacks %q", text)
		}
	}
}

// runWithSpawnedBot runs the bench with args, -spawn (a napad built from
// this repository), a fresh database and -q, within 90 s after the build,
// and logs its table.
func runWithSpawnedBot(t *testing.T, database string, args ...string) (*report, *strings.Builder) {
	t.Helper()
	bin := buildNapad(t) // outside the deadline, as above
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dbURL := freshDatabase(ctx, t, database)
	redisURL := reachableRedis(ctx, t)
	var out, errOut strings.Builder
	r, err := run(ctx, append([]string{"-spawn", bin, "-database-url", dbURL, "-redis-url", redisURL, "-q",
		"-bot-log", filepath.Join(t.TempDir(), "bot.log")}, args...), &out, &errOut)
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	t.Log("\n" + out.String())
	return r, &out
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// freshDatabase (re)creates one of the bench's own databases on the local
// PostgreSQL and returns its URL. No PostgreSQL fails the test.
func freshDatabase(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	// Its own name per test process: two runs of these tests on one machine
	// (two checkouts) must not drop each other's database.
	name += "_" + strconv.Itoa(os.Getpid())
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = defaultAdminURL
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL at %s is needed: %v", redacted(admin), err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)",
		"CREATE DATABASE " + name,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(ctx)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	return u.Redacted()
}

// reachableRedis returns the Redis URL to use; no Redis fails the test.
func reachableRedis(ctx context.Context, t *testing.T) string {
	t.Helper()
	raw := os.Getenv("TEST_REDIS_URL")
	if raw == "" {
		raw = defaultRedisURL
	}
	opts, err := goredis.ParseURL(raw)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s is needed: %v", opts.Addr, err)
	}
	return raw
}

// keysUnder counts the Redis keys under prefix.
func keysUnder(ctx context.Context, t *testing.T, redisURL, prefix string) int {
	t.Helper()
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	n := 0
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// buildNapad builds the bot from this repository.
func buildNapad(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(build.Default.GOROOT, "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "napad")
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/healthycities/napad/cmd/napad")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build napad: %v\n%s", err, out)
	}
	return bin
}

// A student finds the buttons' data in the inline keyboard the bot sent.
func TestCallbackData(t *testing.T) {
	keyboard := `{"inline_keyboard":[[{"text":"OK","callback_data":"5|privacy|ok"}],[{"text":"Zpět \"x\"","callback_data":"5|nav|back"}]]}`
	datas := callbackData(keyboard, nil)
	if len(datas) != 2 || datas[0] != "5|privacy|ok" || datas[1] != "5|nav|back" {
		t.Errorf("callback data %q", datas)
	}
	if step, value := splitData(datas[0]); step != "privacy" || value != "ok" {
		t.Errorf("split %q %q", step, value)
	}
}

// Every question of the idea conversation is told apart by its text, in
// every language, also after the answer to the question before.
func TestClassifier(t *testing.T) {
	c, err := newClassifier()
	if err != nil {
		t.Fatal(err)
	}
	for lang, lp := range c.langs {
		for _, pk := range lp.questions {
			if got := c.question(lang, pk.prefix+" …"); got != pk.key {
				t.Errorf("%s: %s recognised as %q", lang, pk.key, got)
			}
		}
		for _, pk := range lp.done {
			if got := c.done(lang, pk.prefix+" …"); got != pk.key {
				t.Errorf("%s: %s recognised as %q", lang, pk.key, got)
			}
		}
		// The answered question edited into the next one: the answer first.
		for _, pk := range lp.questions {
			if got := c.question(lang, "✓ 42\n\n"+pk.prefix+" …"); got != pk.key {
				t.Errorf("%s: %s after an answer recognised as %q", lang, pk.key, got)
			}
		}
	}
}
