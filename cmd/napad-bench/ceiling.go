package main

// What -mode notify and -mode vote share: a bot at Telegram's default
// limits against a fake Bot API that keeps them, no conversations, and the
// time until every student got their message.

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"text/tabwriter"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
	"github.com/healthycities/napad/storage/postgres"
)

// ceilingRun is the fake Bot API that keeps Telegram's limits, the settings
// of the bot to spawn at Telegram's defaults, and the forum it created.
type ceilingRun struct {
	sess     session
	limits   *botapi.Limits
	api      *fakeAPI
	settings botSettings
	forum    string
}

// startCeiling starts the fake Bot API with the sink sinkFor makes (the fake
// starts first, so that `napad forum create` and the bot can reach it) and
// creates the forum. The caller closes c.api.
func startCeiling(ctx context.Context, o *options, log *slog.Logger, name string, sinkFor func(session, *botapi.Limits) messageSink) (*ceilingRun, error) {
	c := &ceilingRun{sess: newSession(o), limits: botapi.NewLimits(o.apiRate, botapi.ChatBurst)}
	c.api = newFakeAPI(c.sess.token, sinkFor(c.sess, c.limits), log)
	c.api.limits = c.limits
	if err := c.api.start(o.apiListen); err != nil {
		return nil, err
	}
	var err error
	if c.settings, err = newBotSettings(o, c.sess, c.api.url()); err != nil {
		c.api.close()
		return nil, err
	}
	c.settings.notifyInterval = cmp.Or(o.notifyInterval, defaultNotifyPoll)
	c.settings.telegramLimits = true // Telegram's defaults: what these modes measure
	if c.forum, err = spawnForum(ctx, o, c.settings, "napad-bench "+name+" "+c.sess.runID, log); err != nil {
		c.api.close()
		return nil, err
	}
	return c, nil
}

// ceilingBot is the spawned bot and the bench's connections to its stores.
type ceilingBot struct {
	proc *botProcess
	hook webhookConfig
	db   *postgres.Store
	rdb  goredis.UniversalClient
}

// launch starts the bot and connects to its PostgreSQL and Redis; the
// caller closes them (close), also if launch fails.
func (c *ceilingRun) launch(ctx context.Context, o *options, log *slog.Logger) (b *ceilingBot, err error) {
	b = &ceilingBot{}
	if b.proc, b.hook, err = launch(ctx, o, c.sess, c.settings, c.api, log); err != nil {
		return b, err
	}
	if b.db, err = postgres.Open(ctx, o.databaseURL); err != nil {
		return b, err
	}
	b.rdb, err = redisClient(o.redisURL)
	return b, err
}

func (b *ceilingBot) close() {
	if b.proc != nil {
		_ = b.proc.stop()
	}
	if b.db != nil {
		b.db.Close()
	}
	if b.rdb != nil {
		_ = b.rdb.Close()
	}
}

// limitsText says the bot's limits and the fake's, as the reports do.
func limitsText(apiRate int) (botLimits, fakeLimits string) {
	return "Telegram's defaults (TELEGRAM_MESSAGES_PER_SECOND and TELEGRAM_CHAT_MESSAGES_PER_SECOND unset: 30/s, 1/s per chat)",
		fmt.Sprintf("a message beyond %d within any sliding second gets 429 retry_after 1; more than %d into one chat within a second counted as a violation", apiRate, botapi.ChatBurst)
}

// stopBot stops the bot and removes the run's Redis keys unless -keep-redis
// (removed is -1 then, or if that failed).
func (c *ceilingRun) stopBot(ctx context.Context, o *options, bot *botProcess, rdb goredis.UniversalClient, log *slog.Logger) (removed int64, botErr error) {
	if botErr = bot.stop(); botErr != nil {
		log.Warn("stopping the bot", "err", botErr)
	}
	removed = -1
	if !o.keepRedis {
		var err error
		if removed, err = deleteKeys(ctx, rdb, c.sess.prefix); err != nil {
			log.Warn("removing the run's Redis keys", "prefix", c.sess.prefix, "err", err)
			removed = -1
		}
	}
	return removed, botErr
}

// newReport is the report of a run of mode: the calls the fake saw,
// the bot's log and what became of the run's Redis keys.
func (c *ceilingRun) newReport(o *options, mode benchMode, bot *botProcess, wall time.Duration, removedKeys int64) *report {
	r := &report{
		Mode: mode.String(), Seed: o.seed, Forum: c.forum, WallS: wall.Seconds(), APICalls: c.api.counts(),
		BadAPICalls: c.api.badCalls.Load(), RedisPrefix: c.sess.prefix, BotLog: bot.logPath,
	}
	if removedKeys >= 0 {
		r.RedisKeysRemoved = &removedKeys
	}
	return r
}

// botWatch follows the bot's CPU and memory, and the bench's CPU and the
// machine's, from its start.
type botWatch struct {
	pid               int
	start             procSample
	rss               *rssSampler
	maxRSS            int64
	self, busy, total time.Duration
}

func watchBot(pid int) (*botWatch, error) {
	start, err := readProc(pid)
	if err != nil {
		return nil, err
	}
	w := &botWatch{pid: pid, start: start, rss: startRSSSampler(pid, 200*time.Millisecond), self: selfCPU()}
	w.busy, w.total = machineCPU()
	return w, nil
}

// stop ends the watch (once) and returns the bot's process as it is now.
func (w *botWatch) stop() (procSample, error) {
	if w.rss != nil {
		busy, total := machineCPU()
		w.self, w.busy, w.total = selfCPU()-w.self, busy-w.busy, total-w.total
		w.maxRSS, w.rss = w.rss.finish(), nil
	}
	return readProc(w.pid)
}

// report puts into r the bot's CPU from the start of the watch to at, its
// memory, and the bench's CPU until the watch stopped.
func (w *botWatch) report(r *report, at procSample) {
	r.setBot(w.pid, at.cpu-w.start.cpu, at.hwmKB, w.maxRSS, true)
	r.setBench(w.self, w.busy, w.total)
}

// arrivals is when each student's message arrived, sorted, since base.
type arrivals struct {
	FirstS, TotalS  float64 // the first and the last
	PerS, PacedPerS float64 // all ÷ TotalS; from the first to the last
	sorted          []time.Duration
	base            time.Duration
}

// arrivalsOf sorts at (since the fake's base; -1: none) and measures them
// from base (since the fake's base too).
func arrivalsOf(at []time.Duration, base time.Duration) arrivals {
	a := arrivals{sorted: slices.Sorted(slices.Values(at)), base: base}
	if len(a.sorted) == 0 || a.sorted[0] < 0 {
		return a
	}
	first, last := a.sorted[0]-base, a.sorted[len(a.sorted)-1]-base
	a.FirstS, a.TotalS = first.Seconds(), last.Seconds()
	a.PerS = ratio(float64(len(a.sorted)), a.TotalS)
	a.PacedPerS = ratio(float64(len(a.sorted)-1), (last - first).Seconds())
	return a
}

// printCeiling writes the table: the rows rows writes, then the bot's
// and the bench's CPU, the API calls, the log, the Redis keys, note and the
// problems.
func (r *report) printCeiling(w io.Writer, rows func(row func(k, format string, args ...any)), note string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	fmt.Fprintf(tw, "napad-bench\n")
	rows(row)
	row("bench", "%.2f s CPU; machine busy %.0f%% of %.0f CPUs", r.Bench.CPUSeconds, r.Bench.MachineBusyPct, r.Bench.CPUs)
	row("Bot API calls", "%s", callsText(r.APICalls))
	row("bot log", "%s", r.BotLog)
	if r.RedisKeysRemoved != nil {
		row("Redis keys", "%d under %s removed after the run (-keep-redis keeps them)", *r.RedisKeysRemoved, r.RedisPrefix)
	}
	tw.Flush()
	fmt.Fprintln(w, note)
	for _, p := range r.Problems {
		fmt.Fprintln(w, "PROBLEM:", p)
	}
}

// check is a problem of the run, if bad.
type check struct {
	bad  bool
	text string
}

func (r *report) addProblems(checks ...check) {
	for _, c := range checks {
		if c.bad {
			r.Problems = append(r.Problems, c.text)
		}
	}
}

// limitChecks are the problems of a run at Telegram's limits: 429s,
// bursts into one chat, messages to nobody's chat.
func limitChecks(o *options, tooMany, chatViolations, strangers int64) []check {
	return []check{
		{tooMany > 0, fmt.Sprintf("the bot went over the fake's %d messages/s %d times (429)", o.apiRate, tooMany)},
		{chatViolations > 0, fmt.Sprintf("%d messages went beyond %d within a second into one chat", chatViolations, botapi.ChatBurst)},
		{strangers > 0, fmt.Sprintf("%d messages to chats of nobody", strangers)},
	}
}
