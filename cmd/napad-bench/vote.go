package main

// -mode vote: a whole forum votes.
//
// The bench makes a forum with a shortlist of voteItems ideas and
// -participants students who joined it, as the bot records a join
// (postgres.Store.RecordJoin: the membership and the sealed chat) and as the
// bot remembers them (a conversation in Redis that knows the forum), starts
// `napad serve` at Telegram's limits, and moves the forum to voting
// (postgres.Store.MovePhase, as `napad forum phase CODE voting` does), which
// makes the "voting open" broadcast to everyone with a contact. It measures
// (a) how long until every student's chat got the ballot, and (b) then,
// closed loop, -vote-concurrency students at a time tapping two ballot
// buttons each through the webhook: taps/s and the time from a tap's POST
// until the edited ballot arrives. Last it counts the votes in PostgreSQL.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/telegram"
	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	redisstore "github.com/healthycities/napad/storage/redis"
)

const (
	voteItems           = 5 // on the shortlist
	tapsPerParticipant  = 2 // flows.DefaultVotesPerParticipant: every vote used
	maxVoteParticipants = 100_000
	// ballotMark starts the ballot in every language (locales ballot.intro).
	ballotMark = "🗳"
)

// voteSink is the students of -mode vote: chat userBase+i is student i's.
// It keeps each student's ballot (the message and its keyboard as they are
// now) and hands the edits of it to the student who tapped.
type voteSink struct {
	userBase int64
	base     time.Time
	n        int

	mu        sync.Mutex
	ballotAt  []time.Duration // since base; -1 none yet
	ballotID  []int64
	text      []string
	keyboard  []string
	got       int
	extra     int64 // ballots beyond the first in a chat
	other     int64 // messages that are no ballot
	wrongEdit int64 // edits of no ballot, or nobody waiting for them
	strangers int64
	edits     []chan struct{} // per student: an edit of their ballot arrived
	msgSeq    int64
	done      chan struct{}
}

func newVoteSink(userBase int64, base time.Time, n int) *voteSink {
	s := &voteSink{userBase: userBase, base: base, n: n, msgSeq: 1000, done: make(chan struct{}),
		ballotAt: make([]time.Duration, n), ballotID: make([]int64, n), text: make([]string, n),
		keyboard: make([]string, n), edits: make([]chan struct{}, n)}
	for i := range n {
		s.ballotAt[i] = -1
		s.edits[i] = make(chan struct{}, tapsPerParticipant)
	}
	return s
}

func (s *voteSink) botMessage(chatID, messageID int64, text, keyboard string) (int64, bool) {
	at := time.Since(s.base)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := chatID - s.userBase
	if i < 0 || i >= int64(s.n) {
		s.strangers++
		return 0, false
	}
	if messageID != 0 { // an edit: the ballot after a tap
		if messageID != s.ballotID[i] || !strings.HasPrefix(text, ballotMark) {
			s.wrongEdit++
			return messageID, true
		}
		s.text[i], s.keyboard[i] = text, keyboard
		select {
		case s.edits[i] <- struct{}{}:
		default:
			s.wrongEdit++
		}
		return messageID, true
	}
	s.msgSeq++
	switch {
	case !strings.HasPrefix(text, ballotMark):
		s.other++
	case s.ballotAt[i] >= 0:
		s.extra++
	default:
		s.ballotAt[i], s.ballotID[i], s.text[i], s.keyboard[i] = at, s.msgSeq, text, keyboard
		if s.got++; s.got == s.n {
			close(s.done)
		}
	}
	return s.msgSeq, true
}

func (s *voteSink) delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

// ballot is student i's ballot as it is now.
func (s *voteSink) ballot(i int) (id int64, text, keyboard string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ballotID[i], s.text[i], s.keyboard[i]
}

// voteReport is what -mode vote measured.
type voteReport struct {
	Participants   int     `json:"participants"`
	ShortlistItems int     `json:"shortlist_items"`
	NotifyInterval string  `json:"notify_interval"`
	BotLimits      string  `json:"bot_limits"`
	FakeLimits     string  `json:"fake_limits"`
	PrepareS       float64 `json:"prepare_s"`
	MovePhaseMS    float64 `json:"move_phase_ms"`
	// (a) The ballots, from the start of MovePhase.
	Ballots         int     `json:"ballots_delivered"`
	FirstBallotS    float64 `json:"first_ballot_s"`
	BallotsS        float64 `json:"ballots_total_s"`
	BallotsPerS     float64 `json:"ballots_per_s"`
	PacedPerS       float64 `json:"ballots_paced_per_s"` // from the first to the last
	TooManyRequests int64   `json:"too_many_requests"`
	MaxInWindow     int     `json:"max_messages_in_1s_window"`
	ChatViolations  int64   `json:"chat_limit_violations"`
	BotCPUMsBallot  float64 `json:"bot_cpu_ms_per_ballot"`
	// (b) The taps, closed loop.
	Concurrency   int              `json:"tap_concurrency"`
	WebhookConns  int              `json:"webhook_connections"`
	Taps          int64            `json:"taps"`
	TapsAnswered  int64            `json:"taps_answered"` // the edited ballot arrived
	TapsS         float64          `json:"taps_s"`
	TapsPerS      float64          `json:"taps_per_s"`
	TapLatency    latency          `json:"latency_tap_to_edited_ballot"`
	Redeliveries  int64            `json:"redeliveries"`
	BotCPUMsTap   float64          `json:"bot_cpu_ms_per_tap"`
	VotesStored   int64            `json:"votes_stored"`
	Voters        int64            `json:"voters"`
	ExtraBallots  int64            `json:"ballots_sent_twice"`
	OtherMessages int64            `json:"other_messages"`
	WrongEdits    int64            `json:"wrong_edits"`
	Strangers     int64            `json:"messages_to_unknown_chats"`
	LostTaps      map[string]int64 `json:"lost_taps,omitempty"`
}

// prepareVoting makes forumCode's shortlist of voteItems ideas, moves it to
// shortlisting, and joins n students as the bot would have: the membership
// and sealed chat in PostgreSQL (RecordJoin) and a conversation in Redis
// that knows the forum. It returns the forum.
func prepareVoting(ctx context.Context, o *options, forumCode, prefix string, n int, userBase int64, key []byte, runID string) (flows.Forum, error) {
	db, forum, err := openAsBot(ctx, o.databaseURL, key, forumCode)
	if err != nil {
		return forum, err
	}
	defer db.Close()
	for i := range voteItems {
		ref, err := db.Submit(ctx, flows.Idea{
			DraftID: fmt.Sprintf("napad-bench-%s-item-%d", runID, i), ParticipantID: "napad-bench-author-" + runID, ForumID: forum.ID,
			Language: "cs", Scope: flows.ScopeSchool, Improve: "Somewhere to sit", Title: fmt.Sprintf("Benches in the park %d", i+1),
			Description: "There is nowhere to sit between the school and the bus stop.",
			Category:    flows.Categories[i%len(flows.Categories)], WantsToHelp: "no",
		})
		if err != nil {
			return forum, fmt.Errorf("prepare the shortlist: %w", err)
		}
		if _, err := db.AddToShortlist(ctx, forum.ID, []string{ref}, "", nil, postgres.CLIActor); err != nil {
			return forum, fmt.Errorf("prepare the shortlist: %w", err)
		}
	}
	if _, err := db.MovePhase(ctx, forumCode, flows.PhaseCollecting, flows.PhaseShortlisting, postgres.CLIActor, false); err != nil {
		return forum, err
	}
	conversations, err := redisstore.Open(ctx, o.redisURL, prefix)
	if err != nil {
		return forum, err
	}
	defer conversations.Close()
	err = each(n, func(i int) error {
		chat, lang := userBase+int64(i), voteLanguage(i)
		pid := bot.Pseudonym(key, telegram.UserKey(chat))
		if err := db.RecordJoin(ctx, forum.ID, pid, lang, chat); err != nil {
			return err
		}
		// The bot's conversation envelope (bot/converse.go): the state under "s".
		data, err := json.Marshal(map[string]flows.State{"s": {
			Lang: lang, ForumID: forum.ID, ForumCode: forum.Code, ForumName: forum.Name, PrivacyOK: true,
		}})
		if err != nil {
			return err
		}
		turn, err := conversations.Begin(ctx, pid, 1)
		if err != nil {
			return err
		}
		_, err = turn.Commit(ctx, data, 24*time.Hour)
		return err
	})
	if err != nil {
		return forum, fmt.Errorf("join the participants: %w", err)
	}
	return forum, nil
}

func voteLanguage(i int) string { return flows.Languages[i%len(flows.Languages)] }

// tapper plays the students tapping their ballots: over at most conns
// webhook connections, as Telegram delivers, each tap waiting for the edited
// ballot before the student's next.
type tapper struct {
	sink     *voteSink
	api      *fakeAPI
	posters  chan poster
	stall    time.Duration
	updateID atomic.Int64
	answered atomic.Int64
	redeliv  atomic.Int64

	mu   sync.Mutex
	lat  []uint32
	lost map[string]int64
}

func newTapper(sink *voteSink, api *fakeAPI, hook webhookConfig, conns int, stall time.Duration) (*tapper, error) {
	u, err := url.Parse(hook.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("webhook URL %q is not an http URL", hook.URL)
	}
	t := &tapper{sink: sink, api: api, posters: make(chan poster, conns), stall: stall, lost: map[string]int64{}}
	t.updateID.Store(700_000_000)
	for range conns {
		t.posters <- newWebhookPoster(u, hook.Secret, nil)
	}
	return t, nil
}

// run lets n students tap, concurrency at a time, and returns how long all took.
func (t *tapper) run(ctx context.Context, n, concurrency int) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for range concurrency {
		wg.Go(func() {
			var lat []uint32
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				for k := range tapsPerParticipant {
					d, why := t.tap(ctx, i, k)
					if why != "" {
						t.mu.Lock()
						t.lost[why]++
						t.mu.Unlock()
						break
					}
					lat = append(lat, micros(d))
				}
			}
			t.mu.Lock()
			t.lat = append(t.lat, lat...)
			t.mu.Unlock()
		})
	}
	wg.Wait()
	return time.Since(t0)
}

// tap is student i's k-th tap: a button that votes, from the ballot as it
// is now; it returns the time until the edited ballot arrived, or why not.
func (t *tapper) tap(ctx context.Context, i, k int) (time.Duration, string) {
	chat := t.sink.userBase + int64(i)
	msgID, text, keyboard := t.sink.ballot(i)
	var votes []string
	for _, d := range callbackData(keyboard, nil) {
		if strings.HasSuffix(d, ":1") {
			votes = append(votes, d)
		}
	}
	if len(votes) == 0 {
		return 0, "no vote button left on the ballot"
	}
	student := botapi.User{ID: chat, FirstName: "Student", LanguageCode: voteLanguage(i)}
	body, err := json.Marshal(&update{ID: t.updateID.Add(1), CallbackQuery: &callbackQuery{
		ID: strconv.FormatInt(5_000_000_000_000_000_000+int64(i)*tapsPerParticipant+int64(k), 10), From: student,
		Message: &message{ID: msgID, From: &fakeBot, Chat: privateChat(chat), Date: time.Now().Unix(), Text: text,
			ReplyMarkup: json.RawMessage(keyboard)},
		ChatInstance: botapi.ChatInstance(chat),
		Data:         votes[(i+k)%len(votes)],
	}})
	if err != nil {
		return 0, "encoding the update failed"
	}
	start := time.Now()
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
		post := <-t.posters
		status, contentType, answer, err := post(body)
		if err == nil && status == 200 && len(answer) > 0 {
			t.api.webhookReply(contentType, answer) // answerCallbackQuery, as Telegram would
		}
		t.posters <- post
		if err == nil && status == 200 {
			break
		}
		if time.Since(start) > t.stall || ctx.Err() != nil {
			return 0, "the webhook did not take the tap"
		}
		t.redeliv.Add(1)
		time.Sleep(backoff) // Telegram delivers it again, a little later each time
	}
	select {
	case <-t.sink.edits[i]:
		t.answered.Add(1)
		return time.Since(start), ""
	case <-time.After(t.stall - time.Since(start)):
		return 0, "no edited ballot within -stall"
	case <-ctx.Done():
		return 0, "the run ended"
	}
}

// countVotes counts the votes stored for the forum and who cast them.
func countVotes(ctx context.Context, databaseURL string, forumID int64) (votes, voters int64, err error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return 0, 0, fmt.Errorf("count votes: %w", err)
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT participant_id) FROM votes WHERE forum_id = $1`, forumID).Scan(&votes, &voters)
	if err != nil {
		return 0, 0, fmt.Errorf("count votes: %w", err)
	}
	return votes, voters, nil
}

// runVote is -mode vote.
func runVote(ctx context.Context, o *options, log *slog.Logger, tableOut, stdout io.Writer) (*report, error) {
	n := o.participants
	var sink *voteSink
	c, err := startCeiling(ctx, o, log, "vote", func(sess session, limits *botapi.Limits) messageSink {
		sink = newVoteSink(sess.userBase, limits.Base(), n)
		return sink
	})
	if err != nil {
		return nil, err
	}
	defer c.api.close()
	sess, limits, settings := c.sess, c.limits, c.settings
	log.Info("preparing the shortlist and the participants", "participants", n, "forum", c.forum)
	prepStart := time.Now()
	forum, err := prepareVoting(ctx, o, c.forum, sess.prefix, n, sess.userBase, []byte(settings.participantKey), sess.runID)
	if err != nil {
		return nil, err
	}
	prepare := time.Since(prepStart)

	spawned, err := c.launch(ctx, o, log)
	defer spawned.close()
	if err != nil {
		return nil, err
	}
	botProc, hook, db, rdb := spawned.proc, spawned.hook, spawned.db, spawned.rdb
	watch, err := watchBot(botProc.pid())
	if err != nil {
		return nil, err
	}
	defer func() { _, _ = watch.stop() }()
	before := limits.Stats()

	// (a) Voting opens: the ballots.
	log.Info("moving the forum to voting", "forum", c.forum)
	t0 := time.Now()
	if _, err := db.MovePhase(ctx, c.forum, flows.PhaseShortlisting, flows.PhaseVoting, postgres.CLIActor, false); err != nil {
		return nil, err
	}
	moving := time.Since(t0)
	err = awaitAll(ctx, o, botProc, sink.done, log, func() []any {
		return []any{"elapsed", time.Since(t0).Round(time.Second), "ballots", sink.delivered(), "of", n, "429s", limits.Stats().Refused - before.Refused}
	}, func() string { return fmt.Sprintf("%d of %d ballots arrived", sink.delivered(), n) })
	if err != nil {
		return nil, errors.New(err.Error() + "\nthe bot's log ends:\n" + botProc.logTail(10))
	}
	afterBallots := limits.Stats()
	procBallots, err := readProc(botProc.pid())
	if err != nil {
		return nil, err
	}

	// (b) Everyone votes.
	conns := cmp.Or(o.conns, max(1, hook.MaxConnections))
	tp, err := newTapper(sink, c.api, hook, conns, o.stall)
	if err != nil {
		return nil, err
	}
	log.Info("tapping the ballots", "participants", n, "taps", n*tapsPerParticipant, "concurrency", o.voteConcurrency, "connections", conns)
	tapCtx, cancelTaps := context.WithTimeout(ctx, o.timeout)
	defer cancelTaps()
	progressDone := make(chan struct{})
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-progressDone:
				return
			case <-tick.C:
				log.Info("progress", "taps answered", tp.answered.Load(), "of", n*tapsPerParticipant)
			}
		}
	}()
	tapWall := tp.run(tapCtx, n, o.voteConcurrency)
	close(progressDone)
	procTaps, err := readProc(botProc.pid())
	if err != nil {
		return nil, err
	}
	// Anything sent twice arrives now, if at all.
	select {
	case <-time.After(notifyLinger):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if _, err := watch.stop(); err != nil {
		return nil, err
	}
	removedKeys, botErr := c.stopBot(ctx, o, botProc, rdb, log)
	votes, voters, err := countVotes(ctx, o.databaseURL, forum.ID)
	if err != nil {
		return nil, err
	}

	// The measurements.
	accepted := afterBallots.Accepted[len(before.Accepted):]
	sink.mu.Lock()
	arr := arrivalsOf(sink.ballotAt, t0.Sub(limits.Base()))
	vr := &voteReport{
		Participants: n, ShortlistItems: voteItems, NotifyInterval: settings.notifyInterval,
		PrepareS: prepare.Seconds(), MovePhaseMS: float64(moving) / float64(time.Millisecond),
		Ballots: sink.got, FirstBallotS: arr.FirstS, BallotsS: arr.TotalS, BallotsPerS: arr.PerS, PacedPerS: arr.PacedPerS,
		MaxInWindow: botapi.MaxInWindow(accepted, time.Second),
		Concurrency: o.voteConcurrency, WebhookConns: conns, Taps: tp.updateID.Load() - 700_000_000, TapsAnswered: tp.answered.Load(),
		TapsS: tapWall.Seconds(), TapLatency: summarize(tp.lat), Redeliveries: tp.redeliv.Load(),
		VotesStored: votes, Voters: voters, ExtraBallots: sink.extra, OtherMessages: sink.other, WrongEdits: sink.wrongEdit,
		Strangers: sink.strangers,
	}
	sink.mu.Unlock()
	vr.BotLimits, vr.FakeLimits = limitsText(o.apiRate)
	after := limits.Stats()
	vr.TooManyRequests, vr.ChatViolations = after.Refused-before.Refused, after.ChatViolations-before.ChatViolations
	if len(tp.lost) > 0 {
		vr.LostTaps = tp.lost
	}
	vr.TapsPerS = ratio(float64(vr.TapsAnswered), vr.TapsS)
	msOf := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	vr.BotCPUMsBallot = ratio(msOf(procBallots.cpu-watch.start.cpu), float64(vr.Ballots))
	vr.BotCPUMsTap = ratio(msOf(procTaps.cpu-procBallots.cpu), float64(vr.TapsAnswered))

	r := c.newReport(o, modeVote, botProc, time.Since(t0), removedKeys)
	r.Vote = vr
	watch.report(r, procTaps)
	want := int64(n * tapsPerParticipant)
	r.addProblems(append(limitChecks(o, vr.TooManyRequests, vr.ChatViolations, vr.Strangers),
		check{vr.Ballots < n, fmt.Sprintf("%d of %d students got the ballot", vr.Ballots, n)},
		check{vr.ExtraBallots > 0, fmt.Sprintf("%d ballots were sent more than once", vr.ExtraBallots)},
		check{vr.OtherMessages > 0, fmt.Sprintf("%d messages were no ballot", vr.OtherMessages)},
		check{vr.WrongEdits > 0, fmt.Sprintf("%d edits were of no ballot, or unasked for", vr.WrongEdits)},
		check{vr.TapsAnswered != want, fmt.Sprintf("%d of %d taps answered with the edited ballot (lost: %v)", vr.TapsAnswered, want, vr.LostTaps)},
		check{votes != want || voters != int64(n), fmt.Sprintf("PostgreSQL has %d votes from %d participants; want %d from %d", votes, voters, want, n)},
	)...)
	r.noteBotEnd(botProc, botErr)
	return r, r.output(r.printVote, o, tableOut, stdout)
}

// printVote is the table of -mode vote.
func (r *report) printVote(w io.Writer) {
	vr := r.Vote
	r.printCeiling(w, func(row func(k, format string, args ...any)) {
		row("load", "a forum of %d participants with a reachable chat moved to voting (shortlist of %d); each then taps %d ballot buttons, %d students at a time; NOTIFY_INTERVAL %s",
			vr.Participants, vr.ShortlistItems, tapsPerParticipant, vr.Concurrency, vr.NotifyInterval)
		row("bot's limits", "%s", vr.BotLimits)
		row("fake's limits", "%s", vr.FakeLimits)
		row("prepared", "%.2f s (shortlist, joins: RecordJoin and a conversation in Redis each); MovePhase to voting took %.1f ms", vr.PrepareS, vr.MovePhaseMS)
		row("ballots", "%d of %d students in %.2f s = %.2f messages/s (first after %.3f s; %.2f/s from the first to the last)",
			vr.Ballots, vr.Participants, vr.BallotsS, vr.BallotsPerS, vr.FirstBallotS, vr.PacedPerS)
		row("429 Too Many Requests", "%d (max %d messages accepted in any 1-s window while the ballots went out)", vr.TooManyRequests, vr.MaxInWindow)
		row("taps", "%d of %d answered with the edited ballot in %.2f s = %.2f taps/s (%d at once over %d webhook connections; %d redelivered)",
			vr.TapsAnswered, vr.Participants*tapsPerParticipant, vr.TapsS, vr.TapsPerS, vr.Concurrency, vr.WebhookConns, vr.Redeliveries)
		row("tap → edited ballot", "p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms (n=%d)", vr.TapLatency.P50, vr.TapLatency.P95, vr.TapLatency.P99, vr.TapLatency.Max, vr.TapLatency.N)
		row("PostgreSQL", "%d votes from %d participants (want %d from %d)", vr.VotesStored, vr.Voters, vr.Participants*tapsPerParticipant, vr.Participants)
		row("per chat", "%d ballots sent twice; %d other messages; %d stray edits; %d to unknown chats; %d beyond %d a second into one chat",
			vr.ExtraBallots, vr.OtherMessages, vr.WrongEdits, vr.Strangers, vr.ChatViolations, botapi.ChatBurst)
		if b := r.Bot; b != nil {
			row("bot CPU", "%.2f s: %.3f ms/ballot, %.3f ms/tap (pid %d); peak RSS %.1f MB", b.CPUSeconds, vr.BotCPUMsBallot, vr.BotCPUMsTap, b.PID, b.PeakRSSMB)
		}
	}, "Ballots: from the start of MovePhase to the arrival at the fake Bot API of the last student's ballot. Taps: from a tap's POST to the webhook to the arrival of the edited ballot.")
}
