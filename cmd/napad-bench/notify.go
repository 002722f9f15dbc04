package main

// -mode notify: status notifications at Telegram's ceiling.
//
// The bench stores -notifications ideas from as many students with the
// bot's own store (postgres.Store.Submit, which keeps the chat to tell each
// student in, as the bot does), starts `napad serve` with Telegram's default
// limits (30 messages/s overall, 1/s per chat) and a short NOTIFY_INTERVAL,
// and then changes the status of every idea at once with SetStatus, as staff
// do (the new status, its audit row, a notification due now). Its fake Bot
// API keeps Telegram's limit (botapi.Limits): a message beyond 30 within any
// sliding second gets 429 "retry after 1"; messages into one chat beyond a
// burst of 3 within a second are counted. The run ends when every student
// got their notification.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/telegram"
	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/seal"
	"github.com/healthycities/napad/storage/postgres"
	redisstore "github.com/healthycities/napad/storage/redis"
)

const (
	// notifyLinger is how long the bench keeps listening after the last
	// student got their notification, to catch messages sent twice.
	notifyLinger = time.Second
	// defaultNotifyPoll is NOTIFY_INTERVAL in -mode notify.
	defaultNotifyPoll = "200ms"
	maxNotifications  = 100_000
	// storeWorkers is how many ideas the bench stores, or changes, at once.
	storeWorkers = 4
)

// notifySink is the students of -mode notify: chat userBase+i is student
// i's, who waits for the notification about idea refs[i].
type notifySink struct {
	userBase int64
	base     time.Time

	mu        sync.Mutex
	refs      []string        // set by expect, once the ideas are stored
	first     []time.Duration // since base, of the student's first message; -1 none yet
	got       int
	extra     int64 // messages beyond the first in a chat
	wrongText int64 // a first message that does not name the student's idea
	strangers int64
	msgSeq    int64
	done      chan struct{}
}

func newNotifySink(userBase int64, base time.Time) *notifySink {
	return &notifySink{userBase: userBase, base: base, done: make(chan struct{}), msgSeq: 1000}
}

// expect says which idea each student waits to hear about.
func (s *notifySink) expect(refs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs, s.first = refs, make([]time.Duration, len(refs))
	for i := range s.first {
		s.first[i] = -1
	}
}

func (s *notifySink) botMessage(chatID, _ int64, text, _ string) (int64, bool) {
	at := time.Since(s.base)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := chatID - s.userBase
	if i < 0 || i >= int64(len(s.refs)) {
		s.strangers++
		return 0, false
	}
	s.msgSeq++
	if s.first[i] >= 0 {
		s.extra++
		return s.msgSeq, true
	}
	s.first[i] = at
	if !strings.Contains(text, s.refs[i]) {
		s.wrongText++
	}
	if s.got++; s.got == len(s.refs) {
		close(s.done)
	}
	return s.msgSeq, true
}

func (s *notifySink) delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

// notifyReport is what -mode notify measured.
type notifyReport struct {
	Notifications  int     `json:"notifications"`
	Delivered      int     `json:"delivered"` // students who got theirs
	NotifyInterval string  `json:"notify_interval"`
	BotLimits      string  `json:"bot_limits"`
	FakeLimits     string  `json:"fake_limits"`
	PrepareS       float64 `json:"prepare_s"`
	MakeDueMS      float64 `json:"make_due_ms"` // the SetStatus calls that made them due
	// From the start of the first SetStatus.
	FirstS float64 `json:"first_message_s"`
	TotalS float64 `json:"total_s"` // until the last student got theirs
	// Delivered ÷ TotalS, and (delivered - 1) ÷ (last - first message): the
	// pace without the wait for the notifier's first poll.
	MessagesPerS        float64 `json:"messages_per_s"`
	PacedPerS           float64 `json:"paced_messages_per_s"`
	TooManyRequests     int64   `json:"too_many_requests"`
	MaxInWindow         int     `json:"max_messages_in_1s_window"`
	MaxAttemptsInWindow int     `json:"max_attempts_in_1s_window"` // refused ones too
	MinGapMS            float64 `json:"min_gap_ms"`                // between two accepted messages
	ChatViolations      int64   `json:"chat_limit_violations"`
	Duplicates          int64   `json:"duplicates"`
	WrongText           int64   `json:"wrong_text"`
	Strangers           int64   `json:"messages_to_unknown_chats"`
	MarkedSent          int64   `json:"marked_sent_in_postgres"`
	BotCPUMsPerMessage  float64 `json:"bot_cpu_ms_per_notification,omitempty"`
	// PerSecond is how many students got their notification in each second
	// after the first SetStatus.
	PerSecond []int `json:"per_second"`
}

// notifyPlan is the stored ideas and what becomes of them, by student.
type notifyPlan struct {
	refs     []string
	statuses []string
}

var notifyStatuses = []string{"under_review", "selected", "in_progress", "done", "not_feasible"}

// prepareIdeas stores n ideas, one per student, with Submit, as the bot does
// when a student sends one: the participant, the idea, the forum participant
// and the contact with the student's private chat (whose id is the user's),
// in one transaction each. Its connections end with it, so that PostgreSQL
// has counted their transactions before the run.
func prepareIdeas(ctx context.Context, databaseURL, forumCode string, n int, userBase int64, key []byte, seed uint64, runID string) (*notifyPlan, error) {
	db, forum, err := openAsBot(ctx, databaseURL, key, forumCode)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(seed, 0x6e6f74696679))
	p := &notifyPlan{refs: make([]string, n)}
	subs := make([]flows.Idea, n)
	for i := range subs {
		chat := userBase + int64(i)
		subs[i] = flows.Idea{
			DraftID: fmt.Sprintf("napad-bench-%s-%d", runID, i), ParticipantID: bot.Pseudonym(key, telegram.UserKey(chat)), ForumID: forum.ID,
			Language: flows.Languages[rng.IntN(len(flows.Languages))], Scope: []string{"school", "town", "both"}[rng.IntN(3)],
			Improve: "Somewhere to sit", Title: fmt.Sprintf("More benches in the park %d", i+1),
			Description: "There is nowhere to sit between the school and the bus stop.",
			Category:    flows.Categories[rng.IntN(len(flows.Categories))], WantsToHelp: "maybe", ContactChat: chat,
		}
		p.statuses = append(p.statuses, notifyStatuses[rng.IntN(len(notifyStatuses))])
	}
	err = each(n, func(i int) (err error) {
		p.refs[i], err = db.Submit(ctx, subs[i])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("prepare ideas: %w", err)
	}
	return p, nil
}

// makeDue changes the status of every stored idea with SetStatus, as staff
// do from the command line (the status, its audit row and a notification
// due now, in one transaction each), and returns when the first began and
// how long all took.
func makeDue(ctx context.Context, db *postgres.Store, p *notifyPlan) (time.Time, time.Duration, error) {
	t0 := time.Now()
	err := each(len(p.refs), func(i int) error {
		answer := "" // not feasible comes with a reason, as it must
		if flows.StatusNeedsAnswer(p.statuses[i]) {
			answer = "Not this year: the budget is spent."
		}
		_, _, err := db.SetStatus(ctx, p.refs[i], p.statuses[i], answer, postgres.CLIActor)
		return err
	})
	if err != nil {
		return t0, 0, fmt.Errorf("make notifications due: %w", err)
	}
	return t0, time.Since(t0), nil
}

// openAsBot opens the bot's store, sealing chats as the spawned bot does
// (with the key it derives from PARTICIPANT_KEY), and finds the forum.
func openAsBot(ctx context.Context, databaseURL string, key []byte, forumCode string) (*postgres.Store, flows.Forum, error) {
	contactKeys, err := seal.ContactKeys(key, nil)
	if err != nil {
		return nil, flows.Forum{}, err
	}
	db, err := postgres.Open(ctx, databaseURL, postgres.WithContactKeys(contactKeys))
	if err != nil {
		return nil, flows.Forum{}, err
	}
	forum, found, err := db.ForumByCode(ctx, forumCode)
	if err != nil || !found {
		db.Close()
		return nil, forum, fmt.Errorf("find forum %s: %v", forumCode, cmp.Or(err, postgres.ErrForumNotFound))
	}
	return db, forum, nil
}

// each runs fn(0) to fn(n-1), storeWorkers at a time, and stops at the
// first error.
func each(n int, fn func(i int) error) error {
	var next atomic.Int64
	errs := make([]error, storeWorkers)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if errs[w] = fn(i); errs[w] != nil {
					next.Store(int64(n)) // the others stop too
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// countMarkedSent counts the notifications about the ideas refs the bot
// recorded as sent. No store method reads this: the notifier only takes
// what is due.
func countMarkedSent(ctx context.Context, databaseURL string, refs []string) (int64, error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return 0, fmt.Errorf("count sent notifications: %w", err)
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, `SELECT count(*) FROM notifications n JOIN suggestions s ON s.id = n.suggestion_id
		WHERE s.reference = ANY($1) AND n.sent_at IS NOT NULL AND n.last_sent_at IS NOT NULL AND n.attempts = 0`, refs).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sent notifications: %w", err)
	}
	return n, nil
}

// runNotify is -mode notify.
func runNotify(ctx context.Context, o *options, log *slog.Logger, tableOut, stdout io.Writer) (*report, error) {
	n := o.notifications
	// The students learn their ideas once they are stored.
	var sink *notifySink
	c, err := startCeiling(ctx, o, log, "notify", func(sess session, limits *botapi.Limits) messageSink {
		sink = newNotifySink(sess.userBase, limits.Base())
		return sink
	})
	if err != nil {
		return nil, err
	}
	defer c.api.close()
	sess, limits, settings := c.sess, c.limits, c.settings

	log.Info("storing ideas with contacts", "ideas", n, "forum", c.forum)
	prepStart := time.Now()
	plan, err := prepareIdeas(ctx, o.databaseURL, c.forum, n, sess.userBase, []byte(settings.participantKey), o.seed, sess.runID)
	if err != nil {
		return nil, err
	}
	prepare := time.Since(prepStart)
	sink.expect(plan.refs)

	spawned, err := c.launch(ctx, o, log)
	defer spawned.close()
	if err != nil {
		return nil, err
	}
	bot, db, rdb := spawned.proc, spawned.db, spawned.rdb
	pgw, err := openPGWatch(ctx, o.databaseURL)
	if err != nil {
		return nil, err
	}
	defer pgw.close(context.WithoutCancel(ctx))
	pgBefore, err := pgw.snap(ctx)
	if err != nil {
		return nil, err
	}
	watch, err := watchBot(bot.pid())
	if err != nil {
		return nil, err
	}
	defer func() { _, _ = watch.stop() }()
	before := limits.Stats()

	log.Info("making the notifications due", "notifications", n)
	t0, makingDue, err := makeDue(ctx, db, plan)
	if err != nil {
		return nil, err
	}
	runErr := awaitAll(ctx, o, bot, sink.done, log, func() []any {
		return []any{"elapsed", time.Since(t0).Round(time.Second), "delivered", sink.delivered(), "of", n, "429s", limits.Stats().Refused - before.Refused}
	}, func() string { return fmt.Sprintf("%d of %d notifications arrived", sink.delivered(), n) })
	if runErr == nil {
		// Anything sent twice arrives now, if at all.
		select {
		case <-time.After(notifyLinger):
		case <-ctx.Done():
		}
	}
	wall := time.Since(t0)
	procAfter, err := watch.stop()
	if err != nil {
		return nil, err
	}
	if runErr != nil {
		return nil, errors.New(runErr.Error() + "\nthe bot's log ends:\n" + bot.logTail(10))
	}

	removedKeys, botErr := c.stopBot(ctx, o, bot, rdb, log)
	// The bench's own connections go too: settledSnap waits until nobody
	// is connected to the bot's database.
	db.Close()
	pgAfter, pgHow, err := pgw.settledSnap(ctx, true, o.pgSettle)
	if err != nil {
		return nil, err
	}
	marked, err := countMarkedSent(ctx, o.databaseURL, plan.refs)
	if err != nil {
		return nil, err
	}

	// The measurements.
	after := limits.Stats()
	accepted := after.Accepted[len(before.Accepted):]
	attempts := after.Attempts[len(before.Attempts):]
	base := t0.Sub(limits.Base())
	sink.mu.Lock()
	arr := arrivalsOf(sink.first, base)
	nr := &notifyReport{
		Notifications: n, Delivered: sink.got, NotifyInterval: settings.notifyInterval,
		PrepareS: prepare.Seconds(), MakeDueMS: float64(makingDue) / float64(time.Millisecond),
		FirstS: arr.FirstS, TotalS: arr.TotalS, MessagesPerS: arr.PerS, PacedPerS: arr.PacedPerS,
		TooManyRequests: after.Refused - before.Refused, ChatViolations: after.ChatViolations - before.ChatViolations,
		MaxInWindow: botapi.MaxInWindow(accepted, time.Second), MaxAttemptsInWindow: botapi.MaxInWindow(attempts, time.Second),
		Duplicates: sink.extra, WrongText: sink.wrongText, Strangers: sink.strangers, MarkedSent: marked,
	}
	sink.mu.Unlock()
	nr.BotLimits, nr.FakeLimits = limitsText(o.apiRate)
	if nr.TotalS > 0 {
		for _, f := range arr.sorted {
			sec := int(max(f-base, 0) / time.Second)
			for len(nr.PerSecond) <= sec {
				nr.PerSecond = append(nr.PerSecond, 0)
			}
			nr.PerSecond[sec]++
		}
	}
	for i := 1; i < len(accepted); i++ {
		gap := float64(accepted[i]-accepted[i-1]) / float64(time.Millisecond)
		if i == 1 || gap < nr.MinGapMS {
			nr.MinGapMS = gap
		}
	}
	cpu := procAfter.cpu - watch.start.cpu
	nr.BotCPUMsPerMessage = ratio(float64(cpu)/float64(time.Millisecond), float64(nr.Delivered))

	r := c.newReport(o, modeNotify, bot, wall, removedKeys)
	r.Notify = nr
	watch.report(r, procAfter)
	delta := pgAfter.minus(pgBefore)
	// The bench's SetStatus calls are one transaction each: not the bot's.
	xacts := float64(delta.XactCommit + delta.XactRollback - int64(n))
	r.Postgres = &postgresReport{
		Database: pgw.dbName, Delta: delta, XactsPerIdea: ratio(xacts, float64(n)),
		InsertedPerIdea: ratio(float64(delta.TupInserted), float64(n)), UpdatedPerIdea: ratio(float64(delta.TupUpdated), float64(n)),
		Measured: "pg_stat_database of " + pgw.dbName + " from just before the notifications were made due until the bot stopped, " +
			"per notification (one per idea): the bot's notifier (taking batches, recording each as sent, polling every " +
			"NOTIFY_INTERVAL) and a few statements of the bench's; the bench's one SetStatus transaction per idea is taken out " +
			"of the transactions, not of the rows (its status change, audit row and notification); read " + pgHow,
	}
	if pgw.sameDB {
		r.Postgres.Measured += "; read over a connection to that database, which adds its own few transactions"
	}
	r.addProblems(append(limitChecks(o, nr.TooManyRequests, nr.ChatViolations, nr.Strangers),
		check{nr.Delivered < n, fmt.Sprintf("%d of %d students got their notification", nr.Delivered, n)},
		check{nr.Duplicates > 0, fmt.Sprintf("%d notifications were sent more than once", nr.Duplicates)},
		check{nr.WrongText > 0, fmt.Sprintf("%d notifications did not name the student's idea", nr.WrongText)},
		check{nr.MarkedSent != int64(n), fmt.Sprintf("PostgreSQL has %d of %d notifications recorded as sent", nr.MarkedSent, n)},
	)...)
	r.noteBotEnd(bot, botErr)
	return r, r.output(r.printNotify, o, tableOut, stdout)
}

// awaitAll waits until done is closed, and fails if the bot stops, ctx
// ends or -timeout passes first (saying what is missing); every 5 s it logs
// progress.
func awaitAll(ctx context.Context, o *options, bot *botProcess, done <-chan struct{}, log *slog.Logger, progress func() []any, missing func() string) error {
	runCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastLog := time.Now()
	for {
		select {
		case <-done:
			return nil
		case <-runCtx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("-timeout %s reached: %s", o.timeout, missing())
		case <-tick.C:
			if bot.exited() {
				return fmt.Errorf("napad serve stopped during the run (%v)", bot.err)
			}
			if time.Since(lastLog) >= 5*time.Second {
				lastLog = time.Now()
				log.Info("progress", progress()...)
			}
		}
	}
}

// redisClient reaches the bot's Redis: one server, a cluster or Sentinel's
// primary, as REDIS_URL names them.
func redisClient(redisURL string) (goredis.UniversalClient, error) {
	c, err := redisstore.NewClient(redisURL)
	if err != nil {
		return nil, fmt.Errorf("-redis-url: %w", err)
	}
	return c, nil
}

// printNotify is the table of -mode notify.
func (r *report) printNotify(w io.Writer) {
	nr := r.Notify
	r.printCeiling(w, func(row func(k, format string, args ...any)) {
		row("load", "%d status notifications made due at once (one idea each of %d students); NOTIFY_INTERVAL %s; seed %d",
			nr.Notifications, nr.Notifications, nr.NotifyInterval, r.Seed)
		row("bot's limits", "%s", nr.BotLimits)
		row("fake's limits", "%s", nr.FakeLimits)
		row("prepared", "%.2f s (ideas, contacts: Submit); making them due (SetStatus) took %.1f ms", nr.PrepareS, nr.MakeDueMS)
		row("notified", "%d of %d students in %.2f s = %.2f messages/s (first after %.3f s; %.2f/s from the first to the last)",
			nr.Delivered, nr.Notifications, nr.TotalS, nr.MessagesPerS, nr.FirstS, nr.PacedPerS)
		row("429 Too Many Requests", "%d", nr.TooManyRequests)
		row("max in any 1-s window", "%d messages accepted, %d attempted; min gap %.2f ms", nr.MaxInWindow, nr.MaxAttemptsInWindow, nr.MinGapMS)
		row("per chat", "%d messages beyond %d within a second into one chat; %d sent twice; %d not naming the idea; %d to unknown chats",
			nr.ChatViolations, botapi.ChatBurst, nr.Duplicates, nr.WrongText, nr.Strangers)
		row("PostgreSQL", "%d of %d recorded as sent; %.2f transactions, %.2f rows updated per notification",
			nr.MarkedSent, nr.Notifications, r.Postgres.XactsPerIdea, r.Postgres.UpdatedPerIdea)
		if b := r.Bot; b != nil {
			row("bot CPU", "%.2f s = %.3f ms/notification (pid %d); peak RSS %.1f MB", b.CPUSeconds, nr.BotCPUMsPerMessage, b.PID, b.PeakRSSMB)
		}
	}, "Times from the first SetStatus that made the notifications due to the arrival at the fake Bot API of the last student's notification.")
}
