package main

// -mode web: the students are in browsers (the web channel, bot/web)
// instead of Telegram. Each is a webtest.Client: it opens the forum's join
// link, reads the chat page, and posts its answers as the page's forms
// do, page by page.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/healthycities/napad/bot/web/webtest"
	"github.com/healthycities/napad/flows"
)

// webReport is what -mode web measured beyond the common report.
type webReport struct {
	Target    string `json:"target"`
	Addresses string `json:"addresses"` // where the students seem to come from (X-Forwarded-For)
	PhotoKB   int    `json:"photo_kb"`  // the JPEG each photo upload sends
	PhotoSize string `json:"photo_size"`

	Requests       int64              `json:"requests"`
	RequestsPerS   float64            `json:"requests_per_s"`
	BusiestReqS    int                `json:"busiest_second_requests"`
	RequestLatency latency            `json:"latency_request"`
	ByRequest      map[string]latency `json:"latency_by_request"`
	// ActionLatency: from a student's post (or opening the join link)
	// until the page it leads to has been read, redirects included.
	ActionLatency latency          `json:"latency_action_to_page"`
	Status        map[string]int64 `json:"status"`
	NetErrors     int64            `json:"network_errors"`
	Errors        int64            `json:"errors"` // network errors and statuses other than 2xx/3xx

	RequestsPerIdea float64 `json:"requests_per_idea"`
	PagesPerIdea    float64 `json:"pages_per_idea"` // HTML pages shown (GET), ÷ confirmed ideas
	PageKB          float64 `json:"page_kb_mean"`   // mean size of a page shown
	PageKBMax       float64 `json:"page_kb_max"`
	Reopened        int     `json:"chat_reopened"` // the chat opened again after an error page
	Resubmitted     int     `json:"resubmitted"`   // requests sent again after no answer within -stall

	IdeasBefore *int64 `json:"ideas_before,omitempty"` // the forum's ideas before the run
}

// webOptions are -mode web's flags.
const (
	defaultPhotoSize = "1600x1200"
	// maxErrorsInARow: a student who gets this many error pages (or
	// network errors) one after the other gives up.
	maxErrorsInARow = 5
	// maxAskedAgain: the same question shown this many times after an
	// answer loses the conversation.
	maxAskedAgain = 4
	// maxResubmits: a request not answered within -stall is sent again
	// this many times before the conversation is lost.
	maxResubmits = 2
)

// webRun is one run of -mode web.
type webRun struct {
	o         *options
	base      string
	forum     string
	cls       *classifier
	transport *http.Transport
	photo     []byte
	t0        time.Time
	ctx       context.Context

	active, actions atomic.Int64
	students        []*webStudent
}

// webStudent is one student in a browser.
type webStudent struct {
	run       *webRun
	idx       int
	lang      string
	rng       *rand.Rand
	c         *webtest.Client
	ideasLeft int

	// what it measured; read once it has finished
	reqs        map[string][]uint32 // µs per request kind
	reqAt       []uint16            // the second of the run each request ended in
	status      map[int]int64
	netErrs     int64
	act         []uint32 // µs per action, until its page was read
	actAt       []uint16
	actions     [actKinds]int
	pages       int
	pageBytes   int64
	pageMax     int
	reopened    int
	resubmitted int
	done        int // ideas confirmed
	lostWhy     string
	notes       map[string]int
}

func runWeb(ctx context.Context, o *options, log *slog.Logger, tableOut, stdout io.Writer) (*report, error) {
	cls, err := newClassifier()
	if err != nil {
		return nil, err
	}
	photo, err := benchPhoto(o.photoSize)
	if err != nil {
		return nil, err
	}
	sess := newSession(o)
	w := &webRun{o: o, cls: cls, photo: photo, base: strings.TrimSuffix(o.target, "/"), forum: o.forum}
	var bot *botProcess
	if o.spawn != "" {
		settings, err := newBotSettings(o, sess, "")
		if err != nil {
			return nil, err
		}
		settings.token, settings.webhookURL, settings.secret = "", "", "" // the web channel alone
		settings.web = true
		if bot, err = launchWeb(ctx, o, sess, settings, log); err != nil {
			return nil, err
		}
		defer func() { _ = bot.stop() }()
		w.base = "http://" + settings.listen
		if w.forum == "" {
			w.forum = demoFromLog(bot.logPath)
		}
	}
	w.transport = &http.Transport{
		Proxy: nil, MaxIdleConns: o.students, MaxIdleConnsPerHost: o.students, IdleConnTimeout: 90 * time.Second,
		ResponseHeaderTimeout: o.stall,
	}
	defer w.transport.CloseIdleConnections()
	if w.forum == "" {
		if w.forum, err = demoFromHome(w.base, w.transport); err != nil {
			return nil, err
		}
	}

	// Before.
	var ideasBefore, authorsBefore int64
	if o.databaseURL != "" {
		if ideasBefore, authorsBefore, err = countIdeas(ctx, o.databaseURL, w.forum); err != nil {
			return nil, err
		}
	}
	before, err := watchStores(ctx, o.redisURL, o.databaseURL)
	if err != nil {
		return nil, err
	}
	defer before.close(context.WithoutCancel(ctx))
	rdb, redisBefore, pgw, pgBefore := before.rdb, before.redis, before.pgw, before.pg
	botPID := o.botPID
	if bot != nil {
		botPID = bot.pid()
	}
	var watch *botWatch
	selfBefore := selfCPU()
	busyBefore, totalBefore := machineCPU()
	if botPID > 0 {
		if watch, err = watchBot(botPID); err != nil {
			return nil, err
		}
		defer func() { _, _ = watch.stop() }()
	}

	log.Info("running", "mode", "web", "students", o.students, "site", w.base, "forum", w.forum)
	runCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	w.ctx = runCtx
	w.t0 = time.Now()
	var wg sync.WaitGroup
	w.students = make([]*webStudent, o.students)
	w.active.Store(int64(o.students))
	for i := range w.students {
		st, err := w.newStudent(i)
		if err != nil {
			cancel()
			wg.Wait()
			return nil, err
		}
		w.students[i] = st
		var delay time.Duration
		if o.students > 1 {
			delay = time.Duration(int64(o.ramp) * int64(i) / int64(o.students))
		}
		wg.Go(func() {
			defer w.active.Add(-1)
			st.play(delay)
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	var runErr error
	tick := time.NewTicker(250 * time.Millisecond)
	lastLog := time.Now()
wait:
	for {
		select {
		case <-finished:
			break wait
		case <-tick.C:
			if bot != nil && bot.exited() {
				runErr = fmt.Errorf("napad serve stopped during the run (%v)", bot.err)
				cancel()
				<-finished
				break wait
			}
			if time.Since(lastLog) >= 5*time.Second {
				lastLog = time.Now()
				log.Info("progress", "elapsed", time.Since(w.t0).Round(time.Second), "actions", w.actions.Load(), "running", w.active.Load())
			}
		}
	}
	tick.Stop()
	wall := time.Since(w.t0)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var procAfter procSample
	if watch != nil {
		if procAfter, err = watch.stop(); err != nil {
			return nil, err
		}
	}
	selfAfter := selfCPU()
	busyAfter, totalAfter := machineCPU()
	if runErr != nil {
		return nil, errors.New(runErr.Error() + "\nthe bot's log ends:\n" + bot.logTail(10))
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
	removedKeys := int64(-1)
	if bot != nil && rdb != nil && !o.keepRedis {
		if removedKeys, err = deleteKeys(ctx, rdb, sess.prefix); err != nil {
			log.Warn("removing the run's Redis keys", "prefix", sess.prefix, "err", err)
		}
	}
	var pgAfter pgSnap
	pgHow := ""
	if pgw != nil {
		if pgAfter, pgHow, err = pgw.settledSnap(ctx, bot != nil, o.pgSettle); err != nil {
			return nil, err
		}
	}

	r := w.report(wall)
	if bot != nil {
		r.RedisPrefix = sess.prefix
		if removedKeys >= 0 {
			r.RedisKeysRemoved = &removedKeys
		}
	}
	if o.databaseURL != "" {
		ideas, authors, err := countIdeas(ctx, o.databaseURL, w.forum)
		if err != nil {
			return nil, err
		}
		r.Web.IdeasBefore = &ideasBefore
		r.setIdeas(ideas-ideasBefore, authors-authorsBefore)
		if want := int64(o.students * o.ideas); ideas-ideasBefore != want {
			r.Problems = append(r.Problems, fmt.Sprintf("%d ideas stored for %d students sending %d each (%d expected)",
				ideas-ideasBefore, o.students, o.ideas, want))
		}
	}
	if pgw != nil {
		r.setPostgres(pgw, pgAfter.minus(pgBefore), pgHow)
	}
	if rdb != nil {
		r.setRedis(redisBefore, redisAfter)
	}
	if watch != nil {
		watch.report(r, procAfter)
	} else {
		r.setBench(selfAfter-selfBefore, busyAfter-busyBefore, totalAfter-totalBefore)
	}
	if r.Web.Errors > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d requests failed (statuses %s, %d network errors)",
			r.Web.Errors, statusText(errorStatuses(r.Web.Status)), r.Web.NetErrors))
	}
	if bot != nil {
		r.BotLog = bot.logPath
		r.noteBotEnd(bot, botErr)
	}
	return r, r.output(r.printWeb, o, tableOut, stdout)
}

// launchWeb starts `napad serve` without a Telegram token and waits until
// it is ready (/readyz on METRICS_ADDR).
func launchWeb(ctx context.Context, o *options, s session, b botSettings, log *slog.Logger) (*botProcess, error) {
	logPath := o.botLog
	if logPath == "" {
		logPath = os.TempDir() + "/napad-bench-" + s.runID + ".log"
	}
	bot, err := spawnBot(o.spawn, b.env(), logPath)
	if err != nil {
		return nil, err
	}
	log.Info("started napad serve (web channel only)", "pid", bot.pid(), "listen", b.listen, "log", logPath)
	ctx, cancel := context.WithTimeout(ctx, o.waitBot)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if bot.exited() {
			return nil, fmt.Errorf("napad serve stopped at start-up (%v); its log ends:\n%s", bot.err, bot.logTail(15))
		}
		if resp, err := client.Get("http://" + b.metrics + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return bot, nil
			}
		}
		select {
		case <-ctx.Done():
			_ = bot.stop()
			return nil, fmt.Errorf("napad serve was not ready within %s; its log ends:\n%s", o.waitBot, bot.logTail(15))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// demoLine is what `napad serve` prints when it is ready:
// "Nápad is running. Open http://localhost:PORT in a browser; the demo forum: http://localhost:PORT/j/<code>".
var demoLine = regexp.MustCompile(`the demo forum: \S*/j/([A-Za-z0-9_-]+)`)

// demoFromLog is the demo forum's join code from the bot's output, or "".
func demoFromLog(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if m := demoLine.FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return ""
}

var demoLink = regexp.MustCompile(`href="/j/([A-Za-z0-9_-]+)\?web=1"`)

// demoFromHome is the demo forum's join code from the home page's link.
func demoFromHome(base string, t http.RoundTripper) (string, error) {
	c, err := webtest.New(base, webtest.WithTransport(t))
	if err != nil {
		return "", err
	}
	if err := c.Open("/"); err != nil {
		return "", fmt.Errorf("the home page: %w", err)
	}
	m := demoLink.FindStringSubmatch(c.Page())
	if m == nil {
		return "", fmt.Errorf("the home page of %s links no demo forum: give -forum CODE", base)
	}
	return m[1], nil
}

// benchPhoto is the JPEG the students upload: size ("WxH") pixels of
// gradients and noise, so that it neither compresses to nothing nor is
// any cheaper to decode than a photo.
func benchPhoto(size string) ([]byte, error) {
	ws, hs, ok := strings.Cut(size, "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	if !ok || errW != nil || errH != nil || w < 1 || h < 1 || w*h > 50_000_000 {
		return nil, fmt.Errorf("-photo-size must be WxH, at most 50 million pixels (got %q)", size)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			n := uint8(rng.IntN(24))
			img.SetRGBA(x, y, color.RGBA{uint8(x*255/w) + n, uint8(y*255/h) + n, uint8((x+y)%256)/2 + n, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (w *webRun) newStudent(i int) (*webStudent, error) {
	pcg := rand.NewPCG(w.o.seed, uint64(i)<<24)
	st := &webStudent{run: w, idx: i, rng: rand.New(pcg), ideasLeft: w.o.ideas,
		reqs: map[string][]uint32{}, status: map[int]int64{}}
	st.lang = flows.Languages[st.rng.IntN(len(flows.Languages))]
	addr := i
	if w.o.webAddresses > 0 {
		addr = i % w.o.webAddresses
	}
	c, err := webtest.New(w.base,
		webtest.WithTransport(w.transport),
		webtest.WithHook(st.record),
		// The phone's language, as the pages and the conversation start in.
		webtest.WithHeader("Accept-Language", st.lang),
		webtest.WithHeader("X-Forwarded-For", studentAddress(addr)))
	if err != nil {
		return nil, err
	}
	st.c = c
	return st, nil
}

// studentAddress is the address the nth student seems to come from, as a
// reverse proxy would say (X-Forwarded-For): 10.x.y.z.
func studentAddress(n int) string {
	return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
}

// record is the client's hook: one request done.
func (st *webStudent) record(method, path string, d time.Duration, status int) {
	kind := method + " " + requestKind(path)
	st.reqs[kind] = append(st.reqs[kind], micros(d))
	st.reqAt = append(st.reqAt, uint16(min(time.Since(st.run.t0)/time.Second, 65535)))
	if status == 0 {
		st.netErrs++
		return
	}
	st.status[status]++
}

// requestKind is a path without what differs between students.
func requestKind(path string) string {
	switch {
	case strings.HasPrefix(path, "/j/"):
		return "/j/{code}"
	case strings.HasPrefix(path, "/photo/"):
		return "/photo/{id}"
	case strings.HasPrefix(path, "/f/"):
		return "/f/{id}"
	}
	return path
}

// play is the student's whole visit: the join link after delay, then the
// questions, page by page, until every idea went through or the
// conversation is lost.
func (st *webStudent) play(delay time.Duration) {
	if !st.pause(delay) {
		st.lostWhy = "run ended"
		return
	}
	forum := st.run.forum
	join := func() error { return st.c.Open("/j/" + forum + "?web=1") }
	err := st.perform(actStart, join)
	retry := join // what a browser sends again when the connection breaks
	errorsInARow, resubmits, askedAgain := 0, 0, 0
	lastID, lastAsk := -1, ""
	for {
		var se *webtest.StatusError
		if err != nil && !errors.As(err, &se) {
			// No answer (-stall passed, or the connection broke): the
			// browser sends the same request again, a post with its form's
			// nonce, which the server takes for the same event.
			if resubmits++; resubmits > maxResubmits {
				st.lostWhy = "no answer: " + errorText(err)
				return
			}
			if !st.pause(st.think()) {
				st.lostWhy = "run ended"
				return
			}
			st.resubmitted++
			err = st.perform(actKinds, retry)
			continue
		}
		resubmits = 0
		if err != nil || st.c.URL() == nil || !strings.HasPrefix(st.c.URL().Path, "/c") {
			// An error page (too many requests, unavailable): back to the
			// chat after a pause, as a student would.
			errorsInARow++
			if errorsInARow >= maxErrorsInARow {
				st.lostWhy = fmt.Sprintf("%d error pages in a row, the last: %v", errorsInARow, errorText(err))
				return
			}
			if !st.pause(st.think()) {
				st.lostWhy = "run ended"
				return
			}
			st.reopened++
			retry = func() error { return st.c.Open("/c") }
			err = st.perform(actKinds, retry)
			lastID = -1 // the question still open is no answer refused
			continue
		}
		errorsInARow = 0
		if n := st.c.Notice(); n != "" {
			st.note("notice " + n)
		}
		e, ok := latestQuestion(st.c.Entries())
		if !ok {
			st.lostWhy = "no question on the page"
			return
		}
		datas := make([]string, len(e.Buttons))
		for i, b := range e.Buttons {
			datas[i] = b.Data
		}
		q := classify(st.run.cls, st.lang, e.Text, datas)
		if e.ID == lastID && q.id() == lastAsk {
			// The answer did not move the conversation on: answered again.
			st.note("question asked again")
			if askedAgain++; askedAgain >= maxAskedAgain {
				st.lostWhy = "the same question after " + strconv.Itoa(askedAgain) + " answers"
				return
			}
		} else {
			askedAgain = 0
		}
		lastID, lastAsk = e.ID, q.id()
		var m move
		switch q.kind {
		case askConfirm:
			st.note("confirmation asked")
			m = decide(q, datas, st.lang, st.run.o.pathValue(), st.rng)
		case askDone:
			if q.key != "submit.thanks" && q.key != "submit.queued" {
				st.lostWhy = "unexpected: " + orUnknown(q.key)
				return
			}
			st.done++
			st.ideasLeft--
			if st.ideasLeft <= 0 {
				return
			}
			m = tapValue(datas, "new", "go")
		default:
			m = decide(q, datas, st.lang, st.run.o.pathValue(), st.rng)
		}
		if m.lose != "" {
			st.lostWhy = m.lose
			return
		}
		if !st.pause(st.think()) {
			st.lostWhy = "run ended"
			return
		}
		retry = st.c.Resubmit
		err = st.perform(m.act.kind, func() error {
			switch m.act.kind {
			case actTap:
				return st.c.TapData(m.data)
			case actText:
				return st.c.Text(m.act.text)
			case actLocation:
				return st.c.Location(m.act.lat, m.act.lon)
			case actPhoto:
				return st.c.Photo(st.run.photo)
			}
			return fmt.Errorf("no action %d", m.act.kind)
		})
	}
}

// latestQuestion is the latest message with buttons: what the page asks.
func latestQuestion(entries []webtest.Entry) (webtest.Entry, bool) {
	for i := len(entries) - 1; i >= 0; i-- {
		if len(entries[i].Buttons) > 0 {
			return entries[i], true
		}
	}
	return webtest.Entry{}, false
}

// errorText says what went wrong, briefly: the status of an error page.
func errorText(err error) string {
	var se *webtest.StatusError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("HTTP %d", se.Code)
	case err == nil:
		return "not the chat page"
	}
	return err.Error()
}

// perform does one action (kind actKinds: opening the chat again) and
// measures it until its page was read.
func (st *webStudent) perform(kind actKind, do func() error) error {
	start := time.Now()
	err := do()
	d := time.Since(start)
	if kind < actKinds {
		st.actions[kind]++
		st.act = append(st.act, micros(d))
		st.actAt = append(st.actAt, uint16(min(time.Since(st.run.t0)/time.Second, 65535)))
		st.run.actions.Add(1)
	}
	if page := len(st.c.Page()); page > 0 {
		st.pages++
		st.pageBytes += int64(page)
		st.pageMax = max(st.pageMax, page)
	}
	return err
}

func (st *webStudent) think() time.Duration {
	if st.run.o.think <= 0 {
		return 0
	}
	return time.Duration(st.rng.ExpFloat64() * float64(st.run.o.think))
}

// pause waits d; false if the run ended meanwhile.
func (st *webStudent) pause(d time.Duration) bool {
	ctx := st.run.ctx
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (st *webStudent) note(key string) {
	if st.notes == nil {
		st.notes = map[string]int{}
	}
	st.notes[key]++
}

func (o *options) pathValue() answerPath { return pathNames[o.path] }

// report gathers the students' measurements.
func (w *webRun) report(wall time.Duration) *report {
	o := w.o
	r := &report{
		Mode: "web", Students: o.students, StudentsTotal: o.students, IdeasPerStudent: o.ideas, Path: o.path, Seed: o.seed,
		Forum: w.forum, WallS: wall.Seconds(), ThinkMeanMS: float64(o.think) / float64(time.Millisecond), RampS: o.ramp.Seconds(),
	}
	wr := &webReport{Target: w.base, ByRequest: map[string]latency{}, Status: map[string]int64{}, PhotoKB: len(w.photo) >> 10,
		PhotoSize: o.photoSize, Addresses: "one per student (X-Forwarded-For 10.x.y.z)"}
	if o.webAddresses > 0 {
		wr.Addresses = fmt.Sprintf("%d shared by the students (X-Forwarded-For 10.x.y.z)", o.webAddresses)
	}
	if o.spawn == "" {
		wr.Addresses += "; counted per address only if the server trusts X-Forwarded-For (TRUST_PROXY)"
	}
	byKind := map[string][]uint32{}
	var all, act []uint32
	var reqAt, actAt []uint16
	var pageBytes int64
	for _, st := range w.students {
		if st == nil {
			continue
		}
		for k, ls := range st.reqs {
			byKind[k] = append(byKind[k], ls...)
			all = append(all, ls...)
		}
		reqAt = append(reqAt, st.reqAt...)
		act = append(act, st.act...)
		actAt = append(actAt, st.actAt...)
		for code, n := range st.status {
			wr.Status[strconv.Itoa(code)] += n
			if code >= 400 {
				wr.Errors += n
			}
		}
		wr.NetErrors += st.netErrs
		for k, n := range st.actions {
			if n > 0 {
				if r.Actions == nil {
					r.Actions = map[string]int{}
				}
				r.Actions[actNames[k]] += n
			}
		}
		pageBytes += st.pageBytes
		wr.PageKBMax = max(wr.PageKBMax, float64(st.pageMax)/1024)
		wr.Reopened += st.reopened
		wr.Resubmitted += st.resubmitted
		r.IdeasConfirmed += st.done
		if st.lostWhy == "" {
			r.StudentsCompleted++
		} else {
			r.StudentsLost++
			r.IdeasLost += st.ideasLeft
			if r.LostWhy == nil {
				r.LostWhy = map[string]int{}
			}
			r.LostWhy[st.lostWhy]++
		}
		for k, n := range st.notes {
			if r.BotSaid == nil {
				r.BotSaid = map[string]int{}
			}
			r.BotSaid[k] += n
		}
		r.Updates += int64(len(st.act))
	}
	wr.Errors += wr.NetErrors
	wr.Requests = int64(len(all))
	wr.RequestsPerS = ratio(float64(wr.Requests), wall.Seconds())
	wr.RequestLatency, wr.ActionLatency = summarize(all), summarize(act)
	for k, ls := range byKind {
		wr.ByRequest[k] = summarize(ls)
	}
	perSec := map[uint16]int{}
	for _, s := range reqAt {
		perSec[s]++
	}
	for _, n := range perSec {
		wr.BusiestReqS = max(wr.BusiestReqS, n)
	}
	pages := 0
	for k, ls := range byKind {
		if strings.HasPrefix(k, "GET /c") || strings.HasPrefix(k, "GET /j/") {
			pages += len(ls)
		}
	}
	ideas := float64(r.IdeasConfirmed)
	wr.RequestsPerIdea, wr.PagesPerIdea = ratio(float64(wr.Requests), ideas), ratio(float64(pages), ideas)
	shown := 0
	for _, st := range w.students {
		if st != nil {
			shown += st.pages
		}
	}
	wr.PageKB = ratio(float64(pageBytes)/1024, float64(shown))
	r.UpdatesPerS = ratio(float64(r.Updates), wall.Seconds())
	r.ActionsPerIdea = ratio(float64(r.Updates), ideas)
	r.Timeline = timeline(act, actAt)
	for i := range r.Timeline {
		if r.Busiest == nil || r.Timeline[i].Replies > r.Busiest.Replies {
			r.Busiest = &r.Timeline[i]
		}
	}
	r.ReplyLatency = wr.ActionLatency
	r.Web = wr
	return r
}

// errorStatuses are the statuses of 400 and above among m.
func errorStatuses(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if code, _ := strconv.Atoi(k); code >= 400 {
			out[k] = v
		}
	}
	return out
}

// printWeb is the table of -mode web.
func (r *report) printWeb(w io.Writer) {
	wr := r.Web
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	fmt.Fprintf(tw, "napad-bench\n")
	{
		load := fmt.Sprintf("%d students in browsers (the web channel), starting over %g s, think time (mean %.0f ms), %d idea(s) each",
			r.Students, r.RampS, r.ThinkMeanMS, r.IdeasPerStudent)
		if r.ThinkMeanMS == 0 {
			load = fmt.Sprintf("%d students in browsers (the web channel), starting over %g s, answering at once, %d idea(s) each",
				r.Students, r.RampS, r.IdeasPerStudent)
		}
		if r.Path != "" && r.Path != "random" {
			load += ", the " + r.Path + " path"
		}
		row("load", "%s; seed %d", load, r.Seed)
		row("site", "%s, forum %s; students' addresses: %s; photos %s px (%d KB JPEG)", wr.Target, r.Forum, wr.Addresses, wr.PhotoSize, wr.PhotoKB)
		row("throughput", "%d requests in %.2f s = %.0f requests/s (busiest second %d); %d actions = %.0f actions/s",
			wr.Requests, r.WallS, wr.RequestsPerS, wr.BusiestReqS, r.Updates, r.UpdatesPerS)
		row("errors", "%d (HTTP %s; %d network errors or no answer within -stall); sent again %d times, the chat opened again after an error page %d times",
			wr.Errors, statusText(wr.Status), wr.NetErrors, wr.Resubmitted, wr.Reopened)
		row("conversations", "%d completed, %d lost; students %d (%d finished, %d lost)%s",
			r.IdeasConfirmed, r.IdeasLost, r.Students, r.StudentsCompleted, r.StudentsLost, whyText(r.LostWhy))
		if r.IdeasStored != nil {
			row("ideas in PostgreSQL", "%d new for forum %s (%d before), from %d new students; %d beyond the confirmations (duplicates)",
				*r.IdeasStored, r.Forum, deref64(wr.IdeasBefore), *r.IdeaAuthors, *r.Duplicates)
		} else {
			row("ideas in PostgreSQL", "not checked (give -database-url)")
		}
		row("per idea", "%.2f actions (%s), %.2f requests, %.2f pages; a page %.1f KB on average, %.1f KB the largest",
			r.ActionsPerIdea, actionsText(r.Actions, r.IdeasConfirmed), wr.RequestsPerIdea, wr.PagesPerIdea, wr.PageKB, wr.PageKBMax)
		lat := func(name string, l latency) {
			row(name, "p50 %.2f  p95 %.2f  p99 %.2f  max %.2f ms  (n=%d)", l.P50, l.P95, l.P99, l.Max, l.N)
		}
		lat("latency per request", wr.RequestLatency)
		for _, k := range slices.Sorted(maps.Keys(wr.ByRequest)) {
			lat("  "+k, wr.ByRequest[k])
		}
		lat("action → page shown", wr.ActionLatency)
		if b := r.Busiest; b != nil {
			row("  busiest second", "%d actions in second %d: p50 %.2f  p99 %.2f  max %.2f ms (the JSON has every second)", b.Replies, b.T, b.P50, b.P99, b.Max)
		}
		if b := r.Bot; b != nil {
			row("bot CPU", "%.2f s = %.3f ms/action, %.3f ms/request (pid %d)", b.CPUSeconds, b.CPUMsPerUpdate,
				ratio(b.CPUSeconds*1000, float64(wr.Requests)), b.PID)
			row("bot memory", "peak RSS %.1f MB (VmHWM), max sampled VmRSS during the run %.1f MB", b.PeakRSSMB, b.MaxSampledRSSMB)
		} else {
			row("bot CPU, memory", "not measured (give -bot-pid, or use -spawn)")
		}
		if rr := r.Redis; rr != nil {
			row("Redis", "%.2f commands/action (%d; %s); Redis CPU %.2f s", rr.CommandsPerUpdate, rr.Commands, perUpdateText(rr.PerUpdate), rr.CPUSeconds)
		}
		if pg := r.Postgres; pg != nil {
			row("PostgreSQL", "%.2f transactions/idea, %.3f/action; rows inserted %.2f/idea, updated %.2f/idea (%d commits, %d rollbacks)",
				pg.XactsPerIdea, pg.XactsPerUpdate, pg.InsertedPerIdea, pg.UpdatedPerIdea, pg.Delta.XactCommit, pg.Delta.XactRollback)
		}
		if len(r.BotSaid) > 0 {
			row("noticed", "%s", strings.TrimPrefix(whyText(r.BotSaid), " — "))
		}
	}
	row("bench", "%.2f s CPU = %.3f ms/request; machine busy %.0f%% of %.0f CPUs", r.Bench.CPUSeconds,
		ratio(r.Bench.CPUSeconds*1000, float64(wr.Requests)), r.Bench.MachineBusyPct, r.Bench.CPUs)
	if r.BotLog != "" {
		row("bot log", "%s", r.BotLog)
	}
	if r.RedisKeysRemoved != nil {
		row("Redis keys", "%d under %s removed after the run (-keep-redis keeps them)", *r.RedisKeysRemoved, r.RedisPrefix)
	}
	tw.Flush()
	if r.Redis != nil {
		fmt.Fprintf(w, "Redis measured: %s.\n", r.Redis.Measured)
	}
	if r.Postgres != nil {
		fmt.Fprintf(w, "PostgreSQL measured: %s.\n", r.Postgres.Measured)
	}
	fmt.Fprintln(w, "Latency per request: from sending a request until its body was read (a post's 303 and the GET /c it leads to are two requests). "+
		"Action → page shown: from a student's post (or opening the join link) until the page it leads to was read, redirects included. "+
		"Per action: ÷ the students' actions (a post and its page, or the join link and the chat page).")
	for _, p := range r.Problems {
		fmt.Fprintln(w, "PROBLEM:", p)
	}
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
