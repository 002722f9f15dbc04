package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/redis"
)

// go test ./cmd/napad -run Soak -soak.long                  (2,000 students, three rounds of faults)
// go test ./cmd/napad -run Soak -soak.students 1000 [-soak.rounds 2] [-soak.failrate 0.01]
// (with ./cmd/napad only: the other packages do not know these flags)
var (
	soakStudents = flag.Int("soak.students", 0, "students in TestSoak (default 500, or 2000 with -soak.long)")
	soakRounds   = flag.Int("soak.rounds", 0, "rounds of Redis and PostgreSQL outages in TestSoak (default 1, or 3 with -soak.long)")
	soakLong     = flag.Bool("soak.long", false, "run TestSoak longer: more students and repeated faults")
	// Each 429 (retry after 1 s) pauses all of the bot's sending for a
	// second, as Telegram asks: 0.3% of some 12,000 calls are about twenty.
	soakFailRate = flag.Float64("soak.failrate", 0.003, "share of Bot API calls failing at random (429 or 5xx) in TestSoak")
)

const (
	soakRedisOutage = 2 * time.Second
	soakPGOutage    = 5 * time.Second
	// soakPatience is how long a student waits for an answer before
	// counting as stuck, per 500 students.
	soakPatience = 30 * time.Second
)

// Hundreds of students write their ideas at the same time while Redis is
// cut for 2 s, PostgreSQL for 5 s, and the Bot API answers 429 (retry after
// 1 s) or 5xx to some calls at random. Each student reacts to what the bot
// says, as a real one would: waits when told the answer will come, taps
// "Try again" when asked to. Some students are held back so that each fault
// meets them at a chosen point: answering a question while Redis is down,
// tapping Submit or opening the join link while PostgreSQL is down (every
// other round Redis fails during the PostgreSQL outage too). In the end
// every student finished, every idea is in PostgreSQL exactly once, the
// outbox is empty, every student got the code of their idea (at most twice),
// and every student can be told what becomes of it (table contacts).
func TestSoak(t *testing.T) {
	students, rounds := 500, 1
	if *soakLong {
		students, rounds = 2000, 3
	}
	if *soakStudents > 0 {
		students = *soakStudents
	}
	if *soakRounds > 0 {
		rounds = *soakRounds
	}
	began := time.Now()

	var redisProxy, pgProxy *tcpProxy
	a := newApp(t, false, throughProxy("REDIS_URL", &redisProxy), throughProxy("DATABASE_URL", &pgProxy), func(a *app) {
		a.env["NOTIFY_INTERVAL"] = "100ms"
		a.env["LOG_LEVEL"] = "info" // debug lines of thousands of updates cost more than they tell
		// Telegram's sending limits would make this a test of patience: 500
		// students at once are minutes of messages at 30 a second, and
		// simulated students answer faster than one message a second.
		a.env["TELEGRAM_MESSAGES_PER_SECOND"] = "0"
		a.env["TELEGRAM_CHAT_MESSAGES_PER_SECOND"] = "0"
	})
	f := a.forum("Soak – ZŠ Komenského")
	texts := newSoakTexts(t, a)

	// Every round holds back three groups of students, each a few per cent.
	type round struct{ redis, pgSubmit, pgJoin *soakGate }
	plan := make([]round, rounds)
	group := max(students/20, 1)
	var ss []*soakStudent
	for i := range students {
		lang := flows.Languages[i%len(flows.Languages)]
		s := &soakStudent{texts: texts, fake: a.fake, u: a.student(lang).u, lang: lang, want: flowtest.AnswersIn(lang), seen: map[int]bool{},
			patience: soakPatience * time.Duration(max(1, students/500))}
		ss = append(ss, s)
	}
	next := 0
	take := func(n int, step int) *soakGate {
		g := &soakGate{step: step, release: make(chan struct{})}
		for ; n > 0 && next < len(ss); n-- {
			g.parked.Add(1)
			g.members++
			ss[next].gates = append(ss[next].gates, g)
			next++
		}
		return g
	}
	for r := range plan {
		plan[r] = round{
			redis:    take(2*group, questionIndex(flows.StepTitle)),  // answer the title while Redis is down
			pgSubmit: take(2*group, questionIndex(flows.StepReview)), // tap Submit while PostgreSQL is down
			pgJoin:   take(group, -1),                                // open the join link while PostgreSQL is down
		}
	}

	a.fake.FailRandomly(*soakFailRate, 20260601)
	// Each student gives up after its patience without an answer; this
	// only bounds the whole in case of a bug in the harness.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute+time.Duration(students)*100*time.Millisecond+time.Duration(rounds)*30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.leaveGates()
			s.err = s.run(ctx, f.Code, 0)
		}()
	}

	for r, p := range plan {
		if !p.redis.waitParked(ctx) {
			break
		}
		t.Logf("%5.1fs round %d: Redis cut for %v, %d students answering", time.Since(began).Seconds(), r+1, soakRedisOutage, p.redis.size())
		redisProxy.cut()
		p.redis.open()
		time.Sleep(soakRedisOutage) // the outage lasts this long
		redisProxy.restore()

		if !p.pgSubmit.waitParked(ctx) || !p.pgJoin.waitParked(ctx) {
			break
		}
		t.Logf("%5.1fs round %d: PostgreSQL cut for %v, %d students submitting, %d joining", time.Since(began).Seconds(), r+1, soakPGOutage, p.pgSubmit.size(), p.pgJoin.size())
		pgProxy.cut()
		p.pgSubmit.open()
		p.pgJoin.open()
		if r%2 == 1 {
			// Every other round Redis fails too, in the middle of the
			// PostgreSQL outage: an idea can be neither stored nor kept.
			time.Sleep(time.Second)
			t.Logf("%5.1fs round %d: Redis cut for %v as well", time.Since(began).Seconds(), r+1, soakRedisOutage)
			redisProxy.cut()
			time.Sleep(soakRedisOutage)
			redisProxy.restore()
			time.Sleep(soakPGOutage - soakRedisOutage - time.Second)
		} else {
			time.Sleep(soakPGOutage) // the outage lasts this long
		}
		pgProxy.restore()
	}
	for _, p := range plan { // if a round was cut short: let everyone go on
		p.redis.open()
		p.pgSubmit.open()
		p.pgJoin.open()
	}
	wg.Wait()
	studentsDone := time.Since(began)
	a.fake.FailRandomly(0, 0)

	// Every student finished with a code.
	var failed []string
	for _, s := range ss {
		if s.err != nil {
			failed = append(failed, fmt.Sprintf("student %d (%s): %v", s.u.ID(), s.lang, s.err))
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		t.Errorf("%d of %d students did not finish; the first:\n%s", len(failed), students, strings.Join(failed[:min(3, len(failed))], "\n\n"))
	}

	// The outbox is drained: whatever went there is in PostgreSQL.
	outbox, err := redis.Open(context.Background(), a.env["REDIS_URL"], a.env["REDIS_KEY_PREFIX"])
	if err != nil {
		t.Fatal(err)
	}
	defer outbox.Close()
	var left int64
	for deadline := time.Now().Add(10 * time.Second); ; {
		if left, err = outbox.OutboxLen(context.Background()); err != nil {
			t.Fatal(err)
		}
		if left == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the drainer runs every NOTIFY_INTERVAL
	}
	if left != 0 {
		t.Errorf("%d ideas are still in the outbox", left)
	}

	// Exactly one idea per student, each the one the student was told about.
	rows := a.suggestions(f)
	drafts, participants, refs := map[string]int{}, map[string]int{}, map[string]bool{}
	for _, r := range rows {
		drafts[r.DraftID]++
		participants[r.ParticipantID]++
		refs[r.Reference] = true
	}
	if len(rows) != students || len(drafts) != students || len(participants) != students {
		t.Errorf("%d ideas in PostgreSQL from %d drafts and %d students, want %d of each", len(rows), len(drafts), len(participants), students)
	}
	// Each student can be told what becomes of their idea: the chat to tell
	// them in is stored with it.
	conn, err := pgx.Connect(context.Background(), a.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var reachable int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM contacts c JOIN suggestions s USING (participant_id)
		WHERE s.forum_id = $1 AND NOT c.opted_out AND NOT c.unreachable`, f.ID).Scan(&reachable); err != nil {
		t.Fatal(err)
	}
	if reachable != len(rows) {
		t.Errorf("%d of the %d students with an idea can be told what becomes of it (table contacts)", reachable, len(rows))
	}

	var stats soakStats
	for _, s := range ss {
		if s.err != nil {
			continue
		}
		if !refs[s.ref] {
			t.Errorf("student %d was told code %q, which is not in PostgreSQL", s.u.ID(), s.ref)
		}
		told := 0
		for _, m := range versions(a.fake.Sent(s.u.ID())) {
			if strings.Contains(m.Text, s.ref) {
				told++
			}
		}
		// Twice when an update came again after Redis failed while saving:
		// the bot cannot know whether its answer got out, and says it again.
		if told < 1 || told > 2 {
			t.Errorf("student %d was told code %s %d times, want once (twice at most)", s.u.ID(), s.ref, told)
		}
		stats.add(s)
	}

	// The faults happened.
	randomFailures := map[int]int{}
	for _, c := range a.fake.Calls() {
		if c.Status == 429 || c.Status >= 500 {
			randomFailures[c.Status]++
		}
	}
	t.Logf("%d students, %d rounds of faults: all students done after %.1fs; Bot API failures by status %v; "+
		"%d students told to wait (Redis or PostgreSQL down), %d ideas kept in the outbox, %d asked to try again; "+
		"answers came within %v at the median, %v at the 99th percentile, %v at most",
		students, rounds, studentsDone.Seconds(), randomFailures, stats.waited, stats.queued, stats.retried,
		stats.percentile(50), stats.percentile(99), stats.percentile(100))
	if *soakFailRate > 0 && len(randomFailures) == 0 {
		t.Error("no Bot API call failed")
	}
	if stats.waited == 0 {
		t.Error("no student was told to wait: the outages were not felt")
	}
	if stats.queued == 0 {
		t.Error("no idea went to the outbox while PostgreSQL was down")
	}
	if !t.Failed() {
		soakReturningStudents(t, a, f, ss[:max(students/5, 1)], rows)
	}
}

// soakReturningStudents brings students back with a second idea after the
// city moved to a new bot token: Telegram's update ids start again, so the
// new updates repeat the ids of the first ideas'. Every idea is still stored
// exactly once, and no new one is taken for an old one.
func soakReturningStudents(t *testing.T, a *app, f flows.Forum, back []*soakStudent, before []postgres.StoredIdea) {
	oldIDs := a.fake.DeliveredUpdateIDs()
	a.stop()
	newToken := "987654321:AAH-napad_new_bot_token_0123456789abc"
	a.fake = telegramtest.New(t, newToken)
	a.env["TELEGRAM_BOT_TOKEN"], a.env["TELEGRAM_API_URL"] = newToken, a.fake.URL()
	a.start()
	a.fake.FailRandomly(*soakFailRate, 20261203)

	firstRef := map[int64]string{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range back {
		firstRef[s.u.ID()] = s.ref
		s.fake, s.u = a.fake, a.fake.NewUser(s.u.ID(), "Student", s.lang)
		s.ref, s.err, s.seen, s.second = "", nil, map[int]bool{}, true
		s.want = maps.Clone(s.want)
		s.want[flows.StepTitle] = fmt.Sprintf("Druhý nápad %d", s.u.ID())
		wg.Add(1)
		go func() { defer wg.Done(); s.err = s.run(ctx, f.Code, questionIndex(flows.StepScope)) }()
	}
	wg.Wait()
	a.fake.FailRandomly(0, 0)

	newIDs := a.fake.DeliveredUpdateIDs()
	if len(newIDs) == 0 || !slices.Contains(oldIDs, newIDs[0]) {
		t.Fatalf("the new bot's first update id is not one the old bot used: the returning students test nothing")
	}
	rows := a.suggestions(f)
	if want := len(before) + len(back); len(rows) != want {
		t.Errorf("%d ideas after %d students came back with a second one, want %d", len(rows), len(back), want)
	}
	byRef := map[string]postgres.StoredIdea{}
	drafts := map[string]int{}
	for _, r := range rows {
		byRef[r.Reference] = r
		drafts[r.DraftID]++
	}
	for d, n := range drafts {
		if n != 1 {
			t.Errorf("draft %s stored %d times", d, n)
		}
	}
	for _, s := range back {
		switch {
		case s.err != nil:
			t.Errorf("returning student %d (%s): %v", s.u.ID(), s.lang, s.err)
		case s.ref == firstRef[s.u.ID()]:
			t.Errorf("returning student %d was told the code of their first idea, %s", s.u.ID(), s.ref)
		case byRef[s.ref].Title != s.want[flows.StepTitle]:
			t.Errorf("returning student %d: idea %s is %q, want their second idea", s.u.ID(), s.ref, byRef[s.ref].Title)
		case byRef[firstRef[s.u.ID()]].Title == s.want[flows.StepTitle]:
			t.Errorf("returning student %d: their first idea %s was overwritten", s.u.ID(), firstRef[s.u.ID()])
		}
	}
	t.Logf("%d students came back with a second idea on a new bot whose update ids repeat the old ones", len(back))
}

// soakGate holds a group of students at a step until the test opens it.
type soakGate struct {
	step    int // index in ideaFlow of the question they stop at; -1: before joining
	members int
	parked  sync.WaitGroup
	release chan struct{}
	once    sync.Once
}

func (g *soakGate) size() int { return g.members }

// waitParked waits until every student of the group arrived (or gave up).
func (g *soakGate) waitParked(ctx context.Context) bool {
	done := make(chan struct{})
	go func() { g.parked.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

func (g *soakGate) open() { g.once.Do(func() { close(g.release) }) }

// soakTexts are the patterns and labels students recognise, per language,
// prepared up front because the student helpers may only fail the test
// from its own goroutine.
type soakTexts struct {
	patterns map[string]map[string]*regexp.Regexp // lang → key → pattern
	labels   map[string]map[string]string         // lang → key → button label
}

func newSoakTexts(t *testing.T, a *app) *soakTexts {
	t.Helper()
	x := &soakTexts{patterns: map[string]map[string]*regexp.Regexp{}, labels: map[string]map[string]string{}}
	for _, lang := range flows.Languages {
		s := &student{a: a, t: t, lang: lang}
		x.patterns[lang], x.labels[lang] = map[string]*regexp.Regexp{}, map[string]string{}
		for _, step := range ideaFlow {
			x.patterns[lang][step.ask] = s.pattern(step.ask, nil)
		}
		for _, key := range []string{"submit.queued", "submit.code_later", "submit.failed", "bot.try_again_later"} {
			x.patterns[lang][key] = s.pattern(key, nil)
		}
		x.patterns[lang]["submit.thanks"] = s.pattern("submit.thanks", one())
		two := 2 // a returning student's second idea
		x.patterns[lang]["submit.thanks.second"] = s.pattern("submit.thanks", &two)
		for _, q := range ideaFlow {
			for _, c := range q.step.Answer.Choices {
				key := flows.ChoiceLabel(q.step.ID, c)
				x.labels[lang][key] = s.render(key)
			}
		}
		for _, key := range []string{"button.submit", "button.try_again"} {
			x.labels[lang][key] = s.render(key)
		}
	}
	return x
}

// soakStudent is a simulated student running in a goroutine of its own.
type soakStudent struct {
	texts *soakTexts
	fake  *telegramtest.Server
	u     *telegramtest.User
	lang  string
	want  map[flows.StepID]string
	gates []*soakGate
	// patience is how long the student waits for an answer.
	patience time.Duration

	ref     string
	second  bool // writing their second idea: the thanks count it
	err     error
	waits   []time.Duration // how long each answer took
	seen    map[int]bool    // "answer will come" notices counted, by message id
	waited  int
	queued  bool
	retried int
}

func (s *soakStudent) re(key string) *regexp.Regexp { return s.texts.patterns[s.lang][key] }

// run goes through the whole idea, stopping at gates, and keeps the code.
// The join link leads to question from or one after it: the first the bot
// asks (for a new student the privacy notice, as the phone's language is
// one the forum offers; the scope for one who returns). Each answer leads
// to whichever question still ahead the bot asks next (a second idea has
// no "what works" and "what to improve").
func (s *soakStudent) run(ctx context.Context, code string, from int) error {
	s.gate(ctx, -1)
	asked, i, err := s.askedNext(ctx, func() error { s.u.SendText("/start " + code); return nil }, from)
	if err != nil {
		return err
	}
	for i < len(ideaFlow)-1 {
		s.gate(ctx, i)
		if asked, i, err = s.askedNext(ctx, func() error { return s.answer(i, asked) }, i+1); err != nil {
			return err
		}
	}
	s.gate(ctx, len(ideaFlow)-1)
	return s.submit(ctx, asked)
}

// askedNext acts and waits for one of the questions from ideaFlow[from] on,
// and says which one it is.
func (s *soakStudent) askedNext(ctx context.Context, act func() error, from int) (telegramtest.SentMessage, int, error) {
	var keys []string
	for _, q := range ideaFlow[from:] {
		keys = append(keys, q.ask)
	}
	m, err := s.do(ctx, act, keys...)
	if err != nil {
		return m, 0, err
	}
	for i := from; i < len(ideaFlow); i++ {
		if s.re(ideaFlow[i].ask).MatchString(m.Text) {
			return m, i, nil
		}
	}
	return m, 0, fmt.Errorf("%q asks none of the questions", m.Text)
}

// gate waits at a gate of this step, if the student has one.
func (s *soakStudent) gate(ctx context.Context, step int) {
	for i, g := range s.gates {
		if g != nil && g.step == step {
			s.gates[i] = nil
			g.parked.Done()
			select {
			case <-g.release:
			case <-ctx.Done():
			}
		}
	}
}

// leaveGates lets the test go on if the student stopped before a gate.
func (s *soakStudent) leaveGates() {
	for i, g := range s.gates {
		if g != nil {
			s.gates[i] = nil
			g.parked.Done()
		}
	}
}

// answer answers question i, asked in message asked.
func (s *soakStudent) answer(i int, asked telegramtest.SentMessage) error {
	_, err := answer(s.u, s.lang, ideaFlow[i], s.want, nil, func(key string) (int64, error) { return 0, s.tap(asked, key) })
	return err
}

// tap presses a button of msg; User.Tap would fail the test from this
// goroutine if the button were missing, so it is looked for first.
func (s *soakStudent) tap(msg telegramtest.SentMessage, key string) error {
	label := s.texts.labels[s.lang][key]
	if _, ok := msg.Button(label); !ok || msg.Deleted {
		return fmt.Errorf("no button %q on %s", label, msg)
	}
	s.u.Tap(msg, label)
	return nil
}

// do acts and waits for a message matching one of keys, as a student would:
// a notice that the answer will come means waiting on.
func (s *soakStudent) do(ctx context.Context, act func() error, keys ...string) (telegramtest.SentMessage, error) {
	if err := act(); err != nil {
		return telegramtest.SentMessage{}, err
	}
	began := time.Now()
	stepCtx, cancel := context.WithTimeout(ctx, s.patience)
	defer cancel()
	wait := s.re("bot.try_again_later")
	m, err := s.fake.Await(stepCtx, s.u.ID(), func(m telegramtest.SentMessage) bool {
		if wait.MatchString(m.Text) {
			if !s.seen[m.MessageID] {
				s.seen[m.MessageID] = true
				s.waited++
			}
			return false
		}
		return slices.ContainsFunc(keys, func(k string) bool { return s.re(k).MatchString(m.Text) })
	})
	s.waits = append(s.waits, time.Since(began))
	if err != nil {
		return m, fmt.Errorf("waiting for %v: %w", keys, err)
	}
	return m, nil
}

// submit taps Submit until the idea is saved, and waits for its code.
func (s *soakStudent) submit(ctx context.Context, review telegramtest.SentMessage) error {
	msg, button := review, "button.submit"
	thanks := "submit.thanks"
	if s.second {
		thanks = "submit.thanks.second"
	}
	for attempt := 1; ; attempt++ {
		m, err := s.do(ctx, func() error { return s.tap(msg, button) }, thanks, "submit.queued", "submit.failed")
		if err != nil {
			return err
		}
		switch {
		case s.re(thanks).MatchString(m.Text):
			s.ref = regexpRef.FindString(m.Text)
		case s.re("submit.queued").MatchString(m.Text):
			// Saved; the code comes when PostgreSQL is back.
			s.queued = true
			began := time.Now()
			stepCtx, cancel := context.WithTimeout(ctx, s.patience)
			later, err := s.fake.Await(stepCtx, s.u.ID(), func(m telegramtest.SentMessage) bool { return s.re("submit.code_later").MatchString(m.Text) })
			cancel()
			s.waits = append(s.waits, time.Since(began))
			if err != nil {
				return fmt.Errorf("waiting for the code of an idea kept in the outbox: %w", err)
			}
			s.ref = regexpRef.FindString(later.Text)
		default: // could not be saved: "tap Try again in a minute"
			if attempt == 5 {
				return errors.New("the idea could not be saved after 5 attempts")
			}
			s.retried++
			msg, button = m, "button.try_again"
			continue
		}
		if s.ref == "" {
			return fmt.Errorf("no code in the confirmation")
		}
		return nil
	}
}

type soakStats struct {
	waits                   []time.Duration
	waited, queued, retried int
}

func (st *soakStats) add(s *soakStudent) {
	st.waits = append(st.waits, s.waits...)
	if s.waited > 0 {
		st.waited++
	}
	if s.queued {
		st.queued++
	}
	st.retried += s.retried
}

func (st *soakStats) percentile(p int) time.Duration {
	if len(st.waits) == 0 {
		return 0
	}
	slices.Sort(st.waits)
	i := min(len(st.waits)*p/100, len(st.waits)-1)
	return st.waits[i].Round(time.Millisecond)
}
