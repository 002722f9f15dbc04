// Command napad-bench is a load generator for the Nápad bot: it plays many
// simulated students through the whole idea conversation against a running
// `napad serve` in webhook mode, and measures what that costs the bot.
//
// The bench is Telegram for the bot: it contains a lean fake of the Bot API
// (point the bot's TELEGRAM_API_URL at it) and POSTs updates to the bot's
// webhook with the X-Telegram-Bot-Api-Secret-Token header, over at most the
// max_connections the bot asked for in setWebhook (40). Each student joins
// with /start <forum code>, answers every question — tapping the buttons
// found in the reply_markup of the bot's messages, typing text, sending a
// pin or a photo, or skipping — checks the summary, sends the idea and waits
// for the confirmation with its code.
//
// The fake reads the bot's calls (path, method, JSON, multipart or
// urlencoded parameters), answers errors and keeps Telegram's rate limits
// with bot/telegram/telegramtest/botapi, the same code as the tests' fake
// (telegramtest.Server); unlike that one it records nothing. What would make
// the bench measure itself instead of the bot stays lean: a hand-written
// HTTP/1.1 server and client (httplite.go: with net/http for both, the bench
// took ~0.09 ms more CPU per update and the bot got through 8-22 % fewer
// updates/s in closed loop; "net/http vs hand-written HTTP" in
// docs/BENCHMARKS.md), and the bot's inline keyboards kept as the JSON it
// sent rather than decoded into go-telegram models and encoded again (~0.05
// ms per update).
//
// Six modes:
//
//	-mode closed   each student answers as soon as the reply it waits for
//	               arrives: the bot's capacity (updates/s).
//	-mode think    each student pauses an exponentially distributed time
//	               (mean -think) before answering, and the students start
//	               spread over -ramp: latency at a realistic load.
//	-mode assembly a class told about the forum in an assembly: -students
//	               (300) join at random moments within -ramp (60s) and
//	               think -think (10s) on average, with the bot at
//	               Telegram's limits and a fake that refuses what goes
//	               beyond them (429): reply latency and 429s.
//	-mode notify   no conversations: -notifications status notifications
//	               (default 3,000) made due at once, at Telegram's limits.
//	-mode vote     no conversations: a forum of -participants students
//	               (default 5,000) moves to voting, at Telegram's limits;
//	               then every student taps two ballot buttons.
//	-mode web      students in browsers instead of Telegram: the web
//	               channel's pages (bot/web), with think time and ramp
//	               as in think mode (-think 0: no pause).
//
// In web mode the bench starts `napad serve` without a Telegram token (the
// web channel alone, with -spawn: a fresh REDIS_KEY_PREFIX, LISTEN_ADDR on
// a free port, TRUST_PROXY on) or uses the site at -target URL. The
// students join the demo forum (its code from the line `napad serve`
// prints, "… the demo forum: http://…/j/<code>", or from the home page's
// demo link) or -forum CODE. Each is a bot/web/webtest.Client with a
// cookie jar of its own, the Accept-Language of its language, and an
// X-Forwarded-For address of its own (10.x.y.z; -web-addresses N puts
// them behind N addresses, 1 for a school behind one NAT): it opens the
// join link, reads the latest question on the chat page (the buttons'
// data and the message's text, as a Telegram student reads them), and
// answers as the page's forms do, after thinking: a tap, a text, a place
// (the location form), or a photo (a -photo-size JPEG, default
// 1600x1200, through the photo form). Every post is answered with a
// redirect to the chat page, so an action is two requests. A request not
// answered within -stall (or whose connection broke) is sent again as it
// was, the form's nonce and all, as a browser does on reload, twice at
// most; an error page (429, 503) sends the student back to the chat after
// a pause; five in a row, or the same question after four answers, lose
// the conversation. It
// reports requests/s, the latency of each request (by method and path)
// and of each action until its page was read (p50/p95/p99/max), the
// statuses (errors: network errors and 4xx/5xx), actions, requests and
// pages per idea and the pages' size, the bot's CPU and memory, Redis
// commands and PostgreSQL transactions, and, with -database-url, the new
// ideas of the forum in PostgreSQL (after minus before: exactly -students
// × -ideas, no more, no fewer).
//
// In assembly mode the spawned bot keeps its pacing to Telegram's limits
// (TELEGRAM_MESSAGES_PER_SECOND and TELEGRAM_CHAT_MESSAGES_PER_SECOND unset:
// 30/s, 1/s per chat), and the fake answers 429 retry_after 1 to a message
// beyond -api-rate (30) within any sliding second or beyond -api-chat-limit
// (1) into one chat within a second. Edits are never refused (Telegram
// documents no limit for them), but the report counts how often a message
// or edit came into a chat within a second of the one before, one of them
// an edit: what edits would add if they counted as messages. It reports
// the 429s besides everything think mode reports, and whether issue 13's
// target (p95 ≤ 1 s, no 429, nothing lost) was met; 429s make the exit
// status 3.
//
// In notify mode (with -spawn only) the bench stores -notifications ideas
// from as many students with the bot's own store (storage/postgres Submit,
// four at a time), each with the contact the bot keeps for the student's
// private chat (the participant ids made with the spawned bot's
// PARTICIPANT_KEY), starts `napad serve` with Telegram's default limits (30
// messages/s, 1/s per chat) and NOTIFY_INTERVAL 200ms (-notify-interval),
// and then changes the status of every idea with SetStatus, as staff do:
// the status, its audit row and a notification due now, one transaction
// each, four at a time. The fake Bot API then behaves like Telegram at its
// limit: a message beyond 30 within any sliding second is answered 429
// "retry after 1", and messages into one chat beyond 3 within a second are
// counted. It reports the time from the first SetStatus until the last
// student got their notification, messages/s, the 429s, the most messages in
// any 1-s window, and whether each student got exactly one message naming
// their idea and PostgreSQL recorded every notification as sent.
//
// In vote mode (with -spawn only) the bench submits five ideas to the new
// forum and puts them on its shortlist (Submit, AddToShortlist), moves it to
// shortlisting, and joins -participants students as the bot records a join:
// the membership and sealed chat in PostgreSQL (RecordJoin, with the spawned
// bot's PARTICIPANT_KEY) and a conversation in Redis that knows the forum
// (what /start <code> left behind). It starts `napad serve` as in notify
// mode and moves the forum to voting (MovePhase, as `napad forum phase CODE
// voting` does), which makes the "voting open" broadcast; it measures the
// time until every student's chat got their ballot, the messages/s and the
// 429s. Then the students tap, closed loop, -vote-concurrency (200) at a
// time over the webhook's max_connections: each taps a button that votes,
// waits for the edited ballot, and taps another (two votes each, all a
// forum gives by default). It reports taps/s and the latency from a tap's
// POST until the edited ballot arrives, and the votes PostgreSQL holds
// (2 × -participants, from every participant). The bot paces the edits to
// Telegram's limits too (30/s in all with a burst of 30, 1/s per chat).
//
// With -duration, a student who finished is replaced by a new one (a new
// Telegram account) until that much time has passed, so the load holds
// steady; a single student cannot go much faster than one idea (13 updates)
// anyway without tripping the bot's per-student flood limit.
//
// Easiest is to let the bench start the bot (-spawn): it creates a forum
// with `napad forum create`, starts `napad serve` with its fake Bot API, a
// webhook on a free port, a fresh REDIS_KEY_PREFIX, random secrets and no
// pacing to Telegram's message limits (TELEGRAM_MESSAGES_PER_SECOND=0,
// TELEGRAM_CHAT_MESSAGES_PER_SECOND=0; -telegram-limits keeps them), waits
// for /readyz, runs, stops the bot and deletes the run's Redis keys
// (-keep-redis keeps them):
//
//	go build -o /tmp/napad ./cmd/napad
//	go run ./cmd/napad-bench -spawn /tmp/napad \
//	    -database-url postgres://postgres@127.0.0.1:5432/napad_bench?sslmode=disable \
//	    -redis-url redis://127.0.0.1:6379/0 -students 500 -mode closed
//	go run ./cmd/napad-bench -spawn /tmp/napad ... -students 1000 -mode think -think 1s -ramp 10s
//
// Without -spawn the bench prints the environment to give the bot (start the
// bench first: the bot registers its webhook URL and secret with the fake),
// waits for the bot's setWebhook, and measures the bot's process if given
// -bot-pid. The forum is -forum CODE, or is created in -database-url.
//
// Students join with /start <code>, choose their language (one of the four,
// by -seed), accept the privacy notice, pick a scope, type what works (or
// skip, 15 %), what to improve, a title and a description of one to four
// sentences, pick a category, send a pin (50 %), type a place (30 %) or skip,
// send a photo (60 %) or skip, say whether they would help, and tap Send on
// the summary: 13 updates. A later idea (-ideas) starts with the "Add
// another idea" button and skips language and privacy: 11 updates.
//
// Where students have a choice of how long their idea gets, -path random
// (the default) skips, pins and sends photos as above; -path shortest skips
// every question that has Skip and writes one sentence; -path longest skips
// nothing, sends a pin and a photo and writes four sentences. Students read
// the conversation rather than follow a script: a question may come as a
// new message or be edited into the one just tapped, and they answer
// whatever is asked, so a conversation with fewer or other steps needs no
// change here.
//
// It reports updates/s; the latency from an update's POST to the bot's reply
// (the message that asks the next question, new or edited in) reaching the
// fake API; the messages the bot sent, its edits and the students' updates
// per confirmed idea; completed
// and lost conversations (lost: stalled past -stall, or the bot said
// something no student could go on from) and, with -database-url, the ideas
// stored for the forum (the store's SuggestionsByForum; duplicates show as
// more ideas than confirmations); Redis commands per update (INFO
// total_commands_processed and commandstats: the whole Redis server, so
// other clients add noise); PostgreSQL transactions per idea
// (pg_stat_database of the bot's database); the bot's CPU per 1,000 updates
// and its peak RSS (/proc/<pid>). A human table goes to stdout; -json FILE
// (or -json -) writes the same as JSON. Students' choices follow -seed.
//
// The exit status is 0 when every conversation completed and nothing was
// amiss, 3 when conversations were lost or ideas duplicated (in notify mode:
// a 429, a notification missing, sent twice or not recorded; in vote mode: a
// 429, a ballot missing or sent twice, a tap unanswered, votes not stored),
// 1 when the bench itself failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
	redisstore "github.com/healthycities/napad/storage/redis"
	goredis "github.com/redis/go-redis/v9"
)

// options are the command line.
type options struct {
	students        int
	mode            benchMode
	think, ramp     time.Duration
	duration        time.Duration
	ideas           int
	stall           time.Duration
	timeout         time.Duration
	seed            uint64
	conns           int
	webhook         string
	secret          string
	apiListen       string
	forum           string
	databaseURL     string
	redisURL        string
	botPID          int
	spawn           string
	botListen       string
	botLog          string
	botLogLevel     string
	notifyInterval  string
	telegramLimits  bool
	keepRedis       bool
	jsonOut         string
	cpuProfile      string
	waitBot         time.Duration
	pgSettle        time.Duration
	userBase        int64
	quiet           bool
	notifications   int
	apiRate         int
	apiChatLimit    int
	path            string
	participants    int
	voteConcurrency int
	target          string // -mode web: the site, without -spawn
	webAddresses    int
	photoSize       string
}

const maxStudents = 20000

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("napad-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: napad-bench [flags]\n\nPlays simulated students through the idea conversation against `napad serve` (webhook mode).\nSee `go doc ./cmd/napad-bench` for how to run it.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	mode := fs.String("mode", "closed", "closed: answer as soon as the reply arrives (capacity); think: pause -think on average first (latency at realistic load); assembly: a class joins within -ramp (default 300 students, 60s, -think 10s) with the bot at Telegram's limits and a fake that answers 429 beyond them; notify: -notifications status notifications at Telegram's limits (needs -spawn); vote: -participants students get their ballot at Telegram's limits, then each taps two buttons (needs -spawn); web: students in browsers through the web channel's pages, -think and -ramp as in think mode (needs -spawn, which starts the bot without a Telegram token, or -target URL)")
	fs.IntVar(&o.apiRate, "api-rate", botapi.PerSecond, "notify, vote and assembly modes: messages the fake Bot API takes within any sliding second before it answers 429 retry_after 1, as Telegram does")
	fs.IntVar(&o.apiChatLimit, "api-chat-limit", 1, "assembly mode: messages the fake Bot API takes into one chat within any sliding second before it answers 429 retry_after 1 (Telegram's 1 a second, taken literally); 0: never refused")
	fs.StringVar(&o.path, "path", "random", "the students' answers where they have a choice: random (skip now and then, a pin or a typed place, a photo or not), shortest (skip every question with Skip, one sentence), longest (skip nothing: a pin, a photo, four sentences)")
	fs.IntVar(&o.notifications, "notifications", 3000, fmt.Sprintf("notify mode: status notifications made due at once, one per student, 1..%d", maxNotifications))
	fs.IntVar(&o.participants, "participants", 5000, fmt.Sprintf("vote mode: participants of the forum that moves to voting, 1..%d", maxVoteParticipants))
	fs.StringVar(&o.target, "target", "", "web mode without -spawn: the web channel's site, e.g. http://127.0.0.1:8080 (the demo forum, or -forum CODE)")
	fs.IntVar(&o.webAddresses, "web-addresses", 0, "web mode: the students come from this many addresses (X-Forwarded-For; the spawned bot trusts it), e.g. 1 for a school behind one NAT; 0: one each")
	fs.StringVar(&o.photoSize, "photo-size", defaultPhotoSize, "web mode: the pixels of the JPEG a student uploads, WxH")
	fs.IntVar(&o.voteConcurrency, "vote-concurrency", 200, "vote mode: students tapping their ballot at once (each waits for the edited ballot before the next tap)")
	fs.IntVar(&o.students, "students", 100, fmt.Sprintf("simultaneous simulated students, 1..%d (assembly mode: 300)", maxStudents))
	fs.DurationVar(&o.think, "think", time.Second, "think and assembly modes: mean of the exponentially distributed pause before each answer (assembly mode: 10s)")
	fs.DurationVar(&o.ramp, "ramp", 10*time.Second, "think mode: the students' starts are spread evenly over this; assembly mode: each starts at a random moment within it (default 60s)")
	fs.DurationVar(&o.duration, "duration", 0, "if > 0, a student who finished is replaced by a new one until this much time has passed (steady load); 0: each student sends -ideas ideas and the run ends")
	fs.IntVar(&o.ideas, "ideas", 1, "ideas each student sends (later ones through the \"Add another idea\" button; more than 2 trips the bot's flood limit in closed loop)")
	fs.DurationVar(&o.stall, "stall", 30*time.Second, "a conversation is lost when the bot has not answered an update within this")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "the whole run ends after this; conversations still going are lost")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the students' choices (languages, answers, think times)")
	fs.IntVar(&o.conns, "conns", 0, "webhook connections at once; 0: the max_connections the bot asked for in setWebhook (Telegram's behaviour)")
	fs.StringVar(&o.webhook, "webhook", "", "the bot's webhook URL; default: the one the bot registers with setWebhook")
	fs.StringVar(&o.secret, "secret", "", "the webhook's secret token; default: the one the bot registers with setWebhook")
	fs.StringVar(&o.apiListen, "api-listen", "", "address of the fake Bot API (default 127.0.0.1:8081, or a free port with -spawn)")
	fs.StringVar(&o.forum, "forum", "", "join code of the forum the students join; default: a new forum (needs -spawn or -database-url)")
	fs.StringVar(&o.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "the bot's PostgreSQL (default $DATABASE_URL): for -spawn, the forum, counting ideas and pg_stat_database")
	fs.StringVar(&o.redisURL, "redis-url", os.Getenv("REDIS_URL"), "the bot's Redis (default $REDIS_URL): for -spawn and INFO statistics")
	fs.IntVar(&o.botPID, "bot-pid", 0, "process id of the bot, for its CPU time and memory (found by itself with -spawn)")
	fs.StringVar(&o.spawn, "spawn", "", "`path` of a napad binary: the bench starts \"napad serve\" itself, creates the forum and stops the bot at the end")
	fs.StringVar(&o.botListen, "bot-listen", "", "-spawn: LISTEN_ADDR of the bot (default a free 127.0.0.1 port)")
	fs.StringVar(&o.botLog, "bot-log", "", "-spawn: file for the bot's log (default in the temporary directory)")
	fs.StringVar(&o.botLogLevel, "bot-log-level", "info", "-spawn: LOG_LEVEL of the bot")
	fs.StringVar(&o.notifyInterval, "notify-interval", "", "-spawn: NOTIFY_INTERVAL of the bot (default the bot's, 2s; in notify mode "+defaultNotifyPoll+")")
	fs.BoolVar(&o.telegramLimits, "telegram-limits", false, "-spawn: keep the bot's pacing to Telegram's limits (TELEGRAM_MESSAGES_PER_SECOND, TELEGRAM_CHAT_MESSAGES_PER_SECOND); by default they are 0 (off), as for any load test against a fake Bot API; notify, vote and assembly modes always keep them")
	fs.BoolVar(&o.keepRedis, "keep-redis", false, "-spawn: keep the run's conversations in Redis (by default the keys under the run's REDIS_KEY_PREFIX are deleted at the end)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file (- for stdout)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the bench itself to this file")
	fs.DurationVar(&o.waitBot, "wait-bot", 2*time.Minute, "how long to wait for the bot to start (setWebhook, /readyz)")
	fs.DurationVar(&o.pgSettle, "pg-settle", 11*time.Second, "without -spawn: wait this long after the run before reading pg_stat_database (PostgreSQL reports idle connections' counts up to ~10 s late)")
	fs.Int64Var(&o.userBase, "user-base", 0, "Telegram id of the first simulated student; 0: a random one per run, so runs never share students")
	fs.BoolVar(&o.quiet, "q", false, "no progress messages")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch *mode {
	case "closed":
		o.mode = modeClosed
	case "think":
		o.mode = modeThink
	case "notify":
		o.mode = modeNotify
	case "vote":
		o.mode = modeVote
	case "assembly":
		o.mode = modeAssembly
		assemblyDefaults(fs, o)
	case "web":
		o.mode = modeWeb
	default:
		return nil, fmt.Errorf("-mode must be closed, think, assembly, notify, vote or web (got %q)", *mode)
	}
	switch {
	case o.students < 1 || o.students > maxStudents:
		return nil, fmt.Errorf("-students must be 1..%d (got %d)", maxStudents, o.students)
	case o.mode == modeNotify && (o.notifications < 1 || o.notifications > maxNotifications):
		return nil, fmt.Errorf("-notifications must be 1..%d (got %d)", maxNotifications, o.notifications)
	case o.mode == modeVote && (o.participants < 1 || o.participants > maxVoteParticipants):
		return nil, fmt.Errorf("-participants must be 1..%d (got %d)", maxVoteParticipants, o.participants)
	case o.mode == modeVote && o.voteConcurrency < 1:
		return nil, fmt.Errorf("-vote-concurrency must be positive")
	case (o.mode == modeNotify || o.mode == modeVote || o.mode == modeAssembly) && o.apiRate < 1:
		return nil, fmt.Errorf("-api-rate must be positive")
	case o.apiChatLimit < 0:
		return nil, fmt.Errorf("-api-chat-limit must not be negative")
	case !validPath(o.path):
		return nil, fmt.Errorf("-path must be random, shortest or longest (got %q)", o.path)
	case (o.mode == modeNotify || o.mode == modeVote) && o.spawn == "":
		return nil, fmt.Errorf("-mode %s needs -spawn (the bench prepares the students' contacts with the bot's PARTICIPANT_KEY)", o.mode)
	case o.ideas < 1:
		return nil, fmt.Errorf("-ideas must be at least 1")
	case o.mode.thinks() && o.think <= 0:
		return nil, fmt.Errorf("-think must be positive")
	case o.mode == modeWeb && o.think < 0:
		return nil, fmt.Errorf("-think must not be negative")
	case o.mode == modeWeb && o.spawn == "" && o.target == "":
		return nil, fmt.Errorf("-mode web needs -spawn or -target URL")
	case o.mode == modeWeb && o.spawn != "" && o.target != "":
		return nil, fmt.Errorf("give -spawn or -target, not both")
	case o.mode == modeWeb && o.duration > 0:
		return nil, fmt.Errorf("-mode web does not take -duration")
	case o.mode != modeWeb && o.target != "":
		return nil, fmt.Errorf("-target is for -mode web (the Telegram modes learn the webhook from setWebhook, or take -webhook)")
	case o.webAddresses < 0:
		return nil, fmt.Errorf("-web-addresses must not be negative")
	case o.ramp < 0:
		return nil, fmt.Errorf("-ramp must not be negative")
	case o.stall <= 0 || o.timeout <= 0:
		return nil, fmt.Errorf("-stall and -timeout must be positive")
	case o.conns < 0:
		return nil, fmt.Errorf("-conns must not be negative")
	case o.spawn != "" && (o.databaseURL == "" || o.redisURL == ""):
		return nil, fmt.Errorf("-spawn needs -database-url and -redis-url (or DATABASE_URL and REDIS_URL)")
	case o.mode != modeWeb && o.spawn == "" && o.forum == "" && o.databaseURL == "":
		return nil, fmt.Errorf("without -spawn, give -forum CODE or -database-url to create one")
	case (o.webhook == "") != (o.secret == ""):
		return nil, fmt.Errorf("give -webhook and -secret together (or neither: they are learned from setWebhook)")
	}
	if o.apiListen == "" {
		o.apiListen = "127.0.0.1:8081"
		if o.spawn != "" {
			o.apiListen = "127.0.0.1:0"
		}
	}
	return o, nil
}

func validPath(p string) bool { _, ok := pathNames[p]; return ok }

// assemblyDefaults are issue 13's assembly where the command line does not
// say otherwise: 300 students joining within a minute, thinking 10 s on
// average, and the bot at Telegram's limits (the fake keeps them).
func assemblyDefaults(fs *flag.FlagSet, o *options) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["students"] {
		o.students = 300
	}
	if !given["think"] {
		o.think = 10 * time.Second
	}
	if !given["ramp"] {
		o.ramp = time.Minute
	}
	o.telegramLimits = true
}

func main() {
	// One P: the bench is all I/O and goroutine hand-offs, and on a small
	// machine shared with the bot, Redis and PostgreSQL, a single scheduler
	// thread wakes far fewer threads per update than one per CPU.
	// NAPAD_BENCH_PROCS changes it (the spawned bot keeps its own GOMAXPROCS).
	procs := 1
	if v, err := strconv.Atoi(os.Getenv("NAPAD_BENCH_PROCS")); err == nil && v > 0 {
		procs = v
	}
	runtime.GOMAXPROCS(procs)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "napad-bench:", err)
		os.Exit(1)
	}
	if r.IdeasLost > 0 || len(r.Problems) > 0 {
		os.Exit(3) // the run worked, the bot did not: lost conversations or duplicates
	}
}

// run is the whole program; the test calls it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (*report, error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return nil, err
	}
	// With -json - stdout is the JSON alone; the table goes to stderr.
	tableOut := stdout
	if o.jsonOut == "-" {
		tableOut = stderr
	}
	level := slog.LevelInfo
	if o.quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	switch o.mode {
	case modeNotify:
		return runNotify(ctx, o, log, tableOut, stdout)
	case modeVote:
		return runVote(ctx, o, log, tableOut, stdout)
	case modeWeb:
		return runWeb(ctx, o, log, tableOut, stdout)
	}

	cls, err := newClassifier()
	if err != nil {
		return nil, err
	}
	sess := newSession(o)
	pop := newPopulation(popConfig{
		students: o.students, mode: o.mode, think: o.think, ramp: o.ramp, path: pathNames[o.path], duration: o.duration,
		ideas: o.ideas, stall: o.stall, seed: o.seed, userBase: sess.userBase,
	}, cls)
	api := newFakeAPI(sess.token, pop, log)
	if o.mode == modeAssembly {
		api.limits = newAssemblyLimits(o)
		api.pairs = newEditPairs(api.limits.Base())
	}
	if err := api.start(o.apiListen); err != nil {
		return nil, err
	}
	defer api.close()

	var (
		bot    *botProcess
		hook   webhookConfig
		forum  = o.forum
		botPID = o.botPID
		prefix = sess.prefix
	)
	if o.spawn != "" {
		settings, err := newBotSettings(o, sess, api.url())
		if err != nil {
			return nil, err
		}
		if forum, err = spawnForum(ctx, o, settings, "napad-bench "+sess.runID, log); err != nil {
			return nil, err
		}
		if bot, hook, err = launch(ctx, o, sess, settings, api, log); err != nil {
			return nil, err
		}
		defer func() { _ = bot.stop() }()
		botPID = bot.pid()
	} else {
		printBotEnv(tableOut, api.url(), prefix, o.telegramLimits)
		if o.webhook != "" {
			hook = webhookConfig{URL: o.webhook, Secret: o.secret, MaxConnections: 40}
		} else {
			log.Info("waiting for the bot's setWebhook", "fake_api", api.url(), "for", o.waitBot)
			wctx, cancel := context.WithTimeout(ctx, o.waitBot)
			hook, err = api.webhook(wctx)
			cancel()
			if err != nil {
				return nil, err
			}
		}
		if forum == "" {
			if forum, err = createForumDB(ctx, o.databaseURL, "napad-bench "+sess.runID); err != nil {
				return nil, err
			}
		}
	}
	if o.webhook != "" {
		hook.URL, hook.Secret = o.webhook, o.secret
	}
	pop.cfg.forumCode = forum
	conns := o.conns
	if conns == 0 {
		conns = max(1, hook.MaxConnections)
	}

	// Before.
	before, err := watchStores(ctx, o.redisURL, o.databaseURL)
	if err != nil {
		return nil, err
	}
	defer before.close(context.WithoutCancel(ctx))
	rdb, redisBefore, pgw, pgBefore := before.rdb, before.redis, before.pgw, before.pg
	var procBefore procSample
	var rss *rssSampler
	if botPID > 0 {
		if procBefore, err = readProc(botPID); err != nil {
			return nil, err
		}
		rss = startRSSSampler(botPID, 200*time.Millisecond)
	}

	runCtx, cancelRun := context.WithTimeout(ctx, o.timeout)
	defer cancelRun()
	fatal := make(chan error, 1)
	d, err := newDeliverer(pop, hook.URL, hook.Secret, conns, o.stall, func(err error) {
		select {
		case fatal <- err:
		default:
		}
	})
	if err != nil {
		return nil, err
	}
	d.onReply = api.webhookReply
	log.Info("running", "mode", o.mode.String(), "students", o.students, "forum", forum, "webhook", hook.URL, "connections", conns)
	selfBefore := selfCPU()
	busyBefore, totalBefore := machineCPU()
	t0 := time.Now()
	var steady atomic.Int64 // updates sent within -duration
	if o.duration > 0 {
		timer := time.AfterFunc(o.duration, func() { steady.Store(d.posted.Load()) })
		defer timer.Stop()
	}
	pop.start(t0)

	var runErr error
	tick := time.NewTicker(250 * time.Millisecond)
	lastLog := time.Now()
loop:
	for {
		select {
		case <-pop.done:
			break loop
		case err := <-fatal:
			runErr = err
			pop.stop("run aborted")
			break loop
		case <-runCtx.Done():
			if ctx.Err() != nil {
				runErr = ctx.Err()
			}
			pop.stop("-timeout reached")
			break loop
		case <-tick.C:
			pop.watch()
			if time.Since(lastLog) >= 5*time.Second {
				lastLog = time.Now()
				log.Info("progress", "elapsed", time.Since(t0).Round(time.Second), "updates", pop.updateSeq.Load()-500_000_000,
					"running", pop.active.Load())
			}
		}
	}
	tick.Stop()
	wall := time.Since(t0)
	selfAfter := selfCPU()
	busyAfter, totalAfter := machineCPU()
	var procAfter procSample
	var maxRSS int64
	if botPID > 0 {
		maxRSS = rss.finish()
		if procAfter, err = readProc(botPID); err != nil {
			return nil, err
		}
	}
	d.close()
	if runErr != nil {
		msg := runErr.Error()
		if bot != nil {
			msg += "\nthe bot's log ends:\n" + bot.logTail(10)
		}
		return nil, errors.New(msg)
	}

	// After.
	var redisAfter redisSnap
	if rdb != nil {
		if redisAfter, err = redisInfo(ctx, rdb); err != nil {
			return nil, err
		}
	}
	botErr := bot.stop()
	if botErr != nil {
		log.Warn("stopping the bot", "err", botErr)
	}
	// The spawned bot's conversations were the bench's alone: do not leave
	// them in Redis for CONVERSATION_TTL (30 days).
	removedKeys := int64(-1)
	if bot != nil && rdb != nil && !o.keepRedis {
		if removedKeys, err = deleteKeys(ctx, rdb, prefix); err != nil {
			log.Warn("removing the run's Redis keys", "prefix", prefix, "err", err)
		}
	}
	var pgAfter pgSnap
	pgHow := ""
	if pgw != nil {
		settle := o.pgSettle
		if pgAfter, pgHow, err = pgw.settledSnap(ctx, bot != nil, settle); err != nil {
			return nil, err
		}
	}

	r := newReport(o, pop, d, api, conns, wall)
	if n := steady.Load(); n > 0 {
		r.SteadyUpdatesPerS = float64(n) / o.duration.Seconds()
	}
	r.Forum = forum
	r.RedisPrefix = prefix
	if removedKeys >= 0 {
		r.RedisKeysRemoved = &removedKeys
	}
	if pgw != nil {
		ideas, authors, err := countIdeas(ctx, o.databaseURL, forum)
		if err != nil {
			return nil, err
		}
		r.setIdeas(ideas, authors)
		r.setPostgres(pgw, pgAfter.minus(pgBefore), pgHow)
	}
	if rdb != nil {
		r.setRedis(redisBefore, redisAfter)
	}
	if botPID > 0 {
		r.setBot(botPID, procAfter.cpu-procBefore.cpu, procAfter.hwmKB, maxRSS, bot != nil)
	}
	r.setBench(selfAfter-selfBefore, busyAfter-busyBefore, totalAfter-totalBefore)
	if o.mode == modeAssembly {
		r.setAssembly(o, api)
	}
	if bot != nil {
		r.BotLog = bot.logPath
		r.noteBotEnd(bot, botErr)
	}
	return r, r.output(r.print, o, tableOut, stdout)
}

// printBotEnv tells the user how to start the bot against the bench.
func printBotEnv(w io.Writer, apiURL, prefix string, telegramLimits bool) {
	pacing := "TELEGRAM_MESSAGES_PER_SECOND=0 TELEGRAM_CHAT_MESSAGES_PER_SECOND=0   (no pacing to Telegram's limits)"
	if telegramLimits {
		pacing = "TELEGRAM_MESSAGES_PER_SECOND and TELEGRAM_CHAT_MESSAGES_PER_SECOND unset   (Telegram's limits, as in production)"
	}
	fmt.Fprintf(w, `Start (or restart) napad serve with, besides DATABASE_URL, REDIS_URL and PARTICIPANT_KEY:

  TELEGRAM_API_URL=%s
  TELEGRAM_BOT_TOKEN=<any token of the form 123456:ABC... of 20+ characters; the fake accepts every one>
  WEBHOOK_URL=http://127.0.0.1:8080/telegram/webhook   (where the bot listens; the bench POSTs there)
  WEBHOOK_SECRET=<16-256 characters A-Za-z0-9_->       (the bench learns it from setWebhook)
  LISTEN_ADDR=127.0.0.1:8080
  REDIS_KEY_PREFIX=%s                       (recommended: a fresh prefix per run)
  %s

and give the bench -bot-pid PID for the bot's CPU and memory.

`, apiURL, prefix, pacing)
}

// countLogLevel counts the log lines of a level in the bot's JSON log.
func countLogLevel(path, level string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(data), `"level":"`+level+`"`)
}

// deleteKeys removes every Redis key under prefix, on every primary of a
// cluster, and says how many.
func deleteKeys(ctx context.Context, rdb goredis.UniversalClient, prefix string) (int64, error) {
	var removed atomic.Int64
	err := redisstore.ForEachPrimary(ctx, rdb, func(ctx context.Context, node *goredis.Client) error {
		iter := node.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		batch := make([]string, 0, 500)
		flush := func() error {
			// One key per UNLINK: a cluster node refuses keys of several slots.
			cmds, err := node.Pipelined(ctx, func(p goredis.Pipeliner) error {
				for _, k := range batch {
					p.Unlink(ctx, k)
				}
				return nil
			})
			for _, c := range cmds {
				removed.Add(c.(*goredis.IntCmd).Val())
			}
			batch = batch[:0]
			if err != nil {
				return fmt.Errorf("unlink: %w", err)
			}
			return nil
		}
		for iter.Next(ctx) {
			batch = append(batch, iter.Val())
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		return flush()
	})
	return removed.Load(), err
}
