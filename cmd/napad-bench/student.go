package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
	"github.com/healthycities/napad/flows"
)

type benchMode int

const (
	modeClosed   benchMode = iota // answer as soon as the reply is there
	modeThink                     // pause an exponential think time first
	modeNotify                    // no students talking: status notifications (notify.go)
	modeVote                      // a whole forum votes: ballots, then taps (vote.go)
	modeAssembly                  // a class joins within a minute, at Telegram's limits (assembly.go)
	modeWeb                       // students in browsers: the web channel (web.go)
)

func (m benchMode) String() string {
	switch m {
	case modeThink:
		return "think"
	case modeAssembly:
		return "assembly"
	case modeNotify:
		return "notify"
	case modeVote:
		return "vote"
	case modeWeb:
		return "web"
	}
	return "closed"
}

// thinks says whether students pause before each answer.
func (m benchMode) thinks() bool { return m == modeThink || m == modeAssembly }

// answerPath is which answers students give where they have a choice of
// how long their idea gets.
type answerPath uint8

const (
	pathRandom   answerPath = iota // skip, pin, photo now and then (see answer)
	pathShortest                   // skip whatever has Skip; one sentence
	pathLongest                    // skip nothing: a pin, a photo, four sentences
)

var pathNames = map[string]answerPath{"random": pathRandom, "shortest": pathShortest, "longest": pathLongest}

// popConfig is how the simulated students behave.
type popConfig struct {
	students  int // simultaneous students (slots)
	mode      benchMode
	think     time.Duration // mean think time (think, assembly)
	ramp      time.Duration // first starts spread over this (think: evenly; assembly: at random)
	path      answerPath
	duration  time.Duration // > 0: a finished student is replaced until then
	ideas     int           // ideas per student
	stall     time.Duration // a conversation with no answer this long is lost
	seed      uint64
	userBase  int64 // Telegram id of slot 0's first student
	forumCode string
}

// population is every simulated student. Each slot holds one student at a
// time; with -duration a finished student is followed by a new one (a new
// Telegram account), so the number of simultaneous students stays the same
// without any of them tripping the bot's per-student rate limit.
type population struct {
	cfg     popConfig
	cls     *classifier
	t0      time.Time
	slots   []*slot
	enqueue func(job)

	updateSeq atomic.Int64
	cbSeq     atomic.Int64
	active    atomic.Int64 // slots still running
	stopping  atomic.Bool  // no new students, no new ideas
	done      chan struct{}
	doneOnce  sync.Once
	late      atomic.Int64 // messages for students already gone
	strangers atomic.Int64 // messages for chats of nobody
	bodies    sync.Pool
}

type phase uint8

const (
	phOff   phase = iota // no student, or the student is finished
	phThink              // the next update goes out when the timer fires
	phWait               // an update is out; waiting for the reply that asks something
)

type actKind uint8

const (
	actStart actKind = iota // /start <forum code>, as the join link sends
	actText
	actTap
	actLocation
	actPhoto
	actKinds
)

// actNames name the actions in the report.
var actNames = [actKinds]string{actStart: "join", actText: "text", actTap: "tap", actLocation: "pin", actPhoto: "photo"}

type action struct {
	kind     actKind
	text     string
	lat, lon float64
}

// slot is one simulated student at a time. Everything is guarded by mu,
// except postAt, which the deliverer sets.
type slot struct {
	p   *population
	idx int

	mu        sync.Mutex
	gen       int64 // how many students this slot has had, minus one
	id        int64 // the student's Telegram id (= private chat id)
	lang      string
	pcg       *rand.PCG
	rng       *rand.Rand
	phase     phase
	ideasLeft int
	msgSeq    int64         // message ids in the chat
	sentAt    time.Duration // the awaited update was handed to delivery
	postAt    atomic.Int64  // its POST began (ns since t0)
	next      action
	tap       string // callback data of the button to tap
	lastID    int64  // the message acted on
	lastText  string
	lastKB    string // its inline keyboard, JSON
	lastAsk   string // what it asked (question.id)
	cbuf      []string
	timer     *time.Timer
	// texts are the texts of the bot's last messages in the chat, for an
	// edit that changes only the buttons (editMessageReplyMarkup).
	texts     [4]shownText
	textsNext int

	st    slotStats
	lat   []uint32 // µs from POST to the reply that asks something
	latAt []uint16 // the second of the run each lat arrived in
	e2e   []uint32 // µs from handing the update over (incl. waiting for a webhook connection)
}

type slotStats struct {
	students, studentsDone, studentsLost int
	ideasDone, ideasLost                 int
	updates                              int
	actions                              [actKinds]int
	unsolicited                          int
	rerendered                           int // edits asking again what the student just answered
	notes                                map[string]int
	lostWhy                              map[string]int
}

func newPopulation(cfg popConfig, cls *classifier) *population {
	p := &population{cfg: cfg, cls: cls, done: make(chan struct{})}
	p.bodies.New = func() any { return new(bytes.Buffer) }
	p.updateSeq.Store(500_000_000)
	p.slots = make([]*slot, cfg.students)
	for i := range p.slots {
		pcg := rand.NewPCG(0, 0)
		p.slots[i] = &slot{p: p, idx: i, gen: -1, pcg: pcg, rng: rand.New(pcg),
			lat: make([]uint32, 0, 16), latAt: make([]uint16, 0, 16), e2e: make([]uint32, 0, 16)}
	}
	return p
}

func (p *population) now() time.Duration { return time.Since(p.t0) }

// start lets the students begin: all at once in closed loop, spread evenly
// over the ramp in think mode, each at a random moment of the ramp in
// assembly mode (a class scanning the QR code).
func (p *population) start(t0 time.Time) {
	p.t0 = t0
	p.active.Store(int64(len(p.slots)))
	n := len(p.slots)
	joins := rand.New(rand.NewPCG(p.cfg.seed, 0x6a6f696e))
	for i, s := range p.slots {
		var delay time.Duration
		switch {
		case p.cfg.mode == modeAssembly && p.cfg.ramp > 0:
			delay = time.Duration(joins.Int64N(int64(p.cfg.ramp)))
		case p.cfg.mode == modeThink && n > 1:
			delay = time.Duration(int64(p.cfg.ramp) * int64(i) / int64(n))
		}
		s.mu.Lock()
		s.begin(delay)
		s.mu.Unlock()
	}
}

// begin puts a new student in the slot. s.mu is held.
func (s *slot) begin(delay time.Duration) {
	s.gen++
	s.id = s.p.cfg.userBase + s.gen*int64(len(s.p.slots)) + int64(s.idx)
	// Each student's choices depend on the seed and on who they are only,
	// not on how the run was scheduled.
	s.pcg.Seed(s.p.cfg.seed, uint64(s.idx)<<24^uint64(s.gen))
	s.lang = flows.Languages[s.rng.IntN(len(flows.Languages))]
	s.ideasLeft = max(1, s.p.cfg.ideas)
	s.msgSeq = 0
	s.lastID, s.lastAsk, s.texts = 0, "", [4]shownText{}
	s.st.students++
	s.next = action{kind: actStart, text: "/start " + s.p.cfg.forumCode}
	s.phase = phThink
	s.schedule(delay)
}

// schedule sends s.next after delay. s.mu is held.
func (s *slot) schedule(delay time.Duration) {
	if delay <= 0 {
		s.fire()
		return
	}
	s.phase = phThink
	gen := s.gen
	s.timer = time.AfterFunc(delay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.phase == phThink && s.gen == gen {
			s.fire()
		}
	})
}

// thinkTime is how long the student pauses before answering.
func (s *slot) thinkTime() time.Duration {
	if !s.p.cfg.mode.thinks() {
		return 0
	}
	return time.Duration(s.rng.ExpFloat64() * float64(s.p.cfg.think))
}

// fire hands the update for s.next to delivery. s.mu is held.
func (s *slot) fire() {
	if s.p.stopping.Load() {
		s.finish(false, "run ended")
		return
	}
	body := s.p.bodies.Get().(*bytes.Buffer)
	body.Reset()
	_ = json.NewEncoder(body).Encode(s.update())
	s.phase = phWait
	s.sentAt = s.p.now()
	s.st.updates++
	s.st.actions[s.next.kind]++
	s.p.enqueue(job{s: s, body: body})
}

// botMessage implements messageSink: the bot showed something in a chat, in
// a new message (messageID 0) or by editing one (a tapped question may turn
// into the next one).
func (p *population) botMessage(chatID, messageID int64, text, keyboard string) (int64, bool) {
	off := chatID - p.cfg.userBase
	if off < 0 || len(p.slots) == 0 {
		p.strangers.Add(1)
		return 0, false
	}
	s := p.slots[off%int64(len(p.slots))]
	gen := off / int64(len(p.slots))
	now := p.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen > s.gen || (gen == s.gen && s.gen < 0) {
		p.strangers.Add(1)
		return 0, false
	}
	edit := messageID != 0
	if !edit {
		s.msgSeq++
		messageID = s.msgSeq
	}
	if gen < s.gen || s.phase == phOff {
		p.late.Add(1)
		return messageID, true
	}
	if edit && text == "" {
		text = s.textOf(messageID) // new buttons under the same text
	}
	s.remember(messageID, text)
	if keyboard == "" {
		// Said without buttons: the welcome, the place question with its
		// location keyboard, "👌", a tapped question losing its buttons —
		// or a complaint the report counts.
		if key := p.cls.note(s.lang, text); key != "" {
			s.note(key)
		}
		return messageID, true
	}
	if s.phase != phWait {
		s.st.unsolicited++
		return messageID, true
	}
	datas := callbackData(keyboard, s.cbuf[:0])
	s.cbuf = datas[:0]
	q := s.p.question(s.lang, text, datas)
	if edit && messageID == s.lastID && q.id() == s.lastAsk {
		// The question just answered, shown again (with the answer marked,
		// say): not the reply the student waits for.
		s.st.rerendered++
		return messageID, true
	}
	if post := time.Duration(s.postAt.Load()); post > 0 && post <= now {
		s.lat = append(s.lat, micros(now-post))
		s.latAt = append(s.latAt, uint16(min(now/time.Second, 65535)))
	}
	s.e2e = append(s.e2e, micros(now-s.sentAt))
	s.lastID, s.lastAsk = messageID, q.id()
	s.lastText, s.lastKB = text, keyboard
	s.react(q, datas)
	return messageID, true
}

// shownText is the text of one of the bot's messages.
type shownText struct {
	id   int64
	text string
}

// remember keeps the text of the message id, in place of the oldest.
func (s *slot) remember(id int64, text string) {
	for i := range s.texts {
		if s.texts[i].id == id {
			s.texts[i].text = text
			return
		}
	}
	s.texts[s.textsNext] = shownText{id: id, text: text}
	s.textsNext = (s.textsNext + 1) % len(s.texts)
}

// textOf is the text of the message id, if it is one of the last few.
func (s *slot) textOf(id int64) string {
	for _, t := range s.texts {
		if t.id == id {
			return t.text
		}
	}
	return ""
}

func micros(d time.Duration) uint32 {
	if d < 0 {
		return 0
	}
	return uint32(min(int64(d/time.Microsecond), 1<<32-1))
}

func (s *slot) note(key string) {
	if s.st.notes == nil {
		s.st.notes = map[string]int{}
	}
	s.st.notes[key]++
}

// askKind is what a message with buttons asks of a student.
type askKind uint8

const (
	askUnknown askKind = iota // buttons a student cannot make sense of
	askReview                 // the summary: Send
	askChoice                 // one of the idea's choice questions (or the language)
	askConfirm                // "are you sure?"
	askTyped                  // a question with only Back/Skip/Cancel: its text says which
	askDone                   // "Add another idea": the idea went through, or not
	askOther                  // buttons of a step the bench does not know: a choice all the same
)

// question is what a message asks, as a student reads it: the buttons' data
// names the choice questions, the text the questions to type an answer to.
type question struct {
	kind askKind
	step string // askChoice, askOther: the buttons' step
	key  string // askTyped, askDone: the text's message key
}

// id tells questions apart, to notice one asked again.
func (q question) id() string { return string('0'+rune(q.kind)) + q.step + "/" + q.key }

func (p *population) question(lang, text string, datas []string) question {
	return classify(p.cls, lang, text, datas)
}

// classify reads what a message with text and buttons with datas asks, as
// a student who speaks lang reads it.
func classify(cls *classifier, lang, text string, datas []string) question {
	var choice, other string
	var nav, newIdea, review, confirm bool
	for _, d := range datas {
		switch step, _ := splitData(d); step {
		case "nav":
			nav = true
		case "new":
			newIdea = true
		case "rev":
			review = true
		case "cf":
			confirm = true
		default:
			if slices.Contains(choiceSteps, step) {
				choice = step
			} else if other == "" {
				other = step
			}
		}
	}
	switch {
	case review:
		return question{kind: askReview}
	case choice != "":
		return question{kind: askChoice, step: choice}
	case confirm:
		return question{kind: askConfirm}
	case nav:
		return question{kind: askTyped, key: cls.question(lang, text)}
	case newIdea:
		return question{kind: askDone, key: cls.done(lang, text)}
	case other != "":
		return question{kind: askOther, step: other}
	}
	return question{}
}

// react does what a student does about a question. s.mu is held.
func (s *slot) react(q question, datas []string) {
	switch q.kind {
	case askConfirm:
		s.note("confirmation asked")
	case askDone:
		switch q.key {
		case "submit.thanks", "submit.queued":
			s.st.ideasDone++
			s.ideasLeft--
			if s.ideasLeft > 0 && !s.p.stopping.Load() {
				s.do(tapValue(datas, "new", "go"))
				return
			}
			s.finish(true, "")
		default:
			s.lose("unexpected: " + orUnknown(q.key))
		}
		return
	}
	s.do(decide(q, datas, s.lang, s.p.cfg.path, s.rng))
}

// do makes the move, after thinking. s.mu is held.
func (s *slot) do(m move) {
	if m.lose != "" {
		s.lose(m.lose)
		return
	}
	if m.act.kind == actTap {
		s.tap = m.data
	}
	s.next = m.act
	s.schedule(s.thinkTime())
}

// move is what a student does next: an action (a tap: of the button with
// data), or giving the conversation up (lose says why).
type move struct {
	act  action
	data string
	lose string
}

func tapMove(data string) move  { return move{act: action{kind: actTap}, data: data} }
func textMove(text string) move { return move{act: action{kind: actText, text: text}} }
func loseMove(why string) move  { return move{lose: why} }

// decide is what a student who speaks lang answers to a question whose
// buttons have datas, taking the path's answers where there is a choice;
// rng makes the choices. An idea sent (askDone) is the caller's business:
// it knows how many the student has left.
func decide(q question, datas []string, lang string, path answerPath, rng *rand.Rand) move {
	switch q.kind {
	case askReview:
		return tapValue(datas, "rev", "submit")
	case askChoice, askOther:
		return choose(datas, q.step, lang, rng)
	case askConfirm:
		return tapValue(datas, "cf", "no")
	case askTyped:
		return answer(datas, q.key, lang, path, rng)
	case askDone:
		return loseMove("unexpected: " + orUnknown(q.key))
	}
	return loseMove("unexpected buttons")
}

func orUnknown(key string) string {
	if key == "" {
		return "unrecognised message"
	}
	return key
}

// callbackData lists the callback_data values of an inline keyboard into
// buf, without decoding the JSON: the bot's button data never contains
// escapes (only [A-Za-z0-9_:|-]).
func callbackData(keyboard string, buf []string) []string {
	const key = `"callback_data":"`
	for {
		_, rest, ok := strings.Cut(keyboard, key)
		if !ok {
			return buf
		}
		data, rest, ok := strings.Cut(rest, `"`)
		if !ok {
			return buf
		}
		buf, keyboard = append(buf, data), rest
	}
}

// splitData splits button data "<draft>|<step>|<value>".
func splitData(d string) (step, value string) {
	_, rest, _ := strings.Cut(d, "|")
	step, value, _ = strings.Cut(rest, "|")
	return step, value
}

// tapValue taps the button with that step and value.
func tapValue(datas []string, step, value string) move {
	if d, ok := button(datas, step, value); ok {
		return tapMove(d)
	}
	return loseMove("no button " + step + "|" + value)
}

// button is the data of the button with that step and value.
func button(datas []string, step, value string) (string, bool) {
	for _, d := range datas {
		// Back and Skip carry their question after a colon ("skip:place").
		if st, v := splitData(d); st == step && (v == value || strings.HasPrefix(v, value+":")) {
			return d, true
		}
	}
	return "", false
}

// choose picks an answer of a choice question: the student's own language
// (wherever it is offered: the bot may offer the phone's), OK to the privacy
// notice, anything for the rest.
func choose(datas []string, step, lang string, rng *rand.Rand) move {
	var options []string
	for _, d := range datas {
		st, v := splitData(d)
		if st != step {
			continue
		}
		if v == lang || v == "ok" {
			return tapMove(d)
		}
		options = append(options, d)
	}
	if len(options) == 0 {
		return loseMove("no choice")
	}
	return tapMove(options[rng.IntN(len(options))])
}

// answer types (or skips, or sends a pin or a photo for) a question that has
// only Back/Skip/Cancel buttons, the one with message key key. Which
// questions come, and which have Skip, is the bot's business: the student
// answers what is asked.
func answer(datas []string, key, lang string, path answerPath, rng *rand.Rand) move {
	pool, ok := answers[lang]
	if !ok { // a language without answers of its own (a new one) writes English
		pool = answers["en"]
	}
	skip, canSkip := button(datas, "nav", "skip")
	if path == pathShortest && canSkip {
		return tapMove(skip)
	}
	random := path == pathRandom
	r := rng.Float64()
	if step, ok := questionSteps[key]; ok {
		key = step.Question // "works.ask_school" is "works.ask"
	}
	switch key {
	case "works.ask":
		if random && canSkip && r < 0.15 {
			return tapMove(skip)
		}
		return textMove(pick(rng, pool.works))
	case "improve.ask":
		return textMove(pick(rng, pool.improve))
	case "title.ask":
		return textMove(pick(rng, pool.titles))
	case "description.ask":
		n := 1 + rng.IntN(4)
		switch path {
		case pathShortest:
			n = 1
		case pathLongest:
			n = 4
		}
		desc := pick(rng, pool.sentences)
		for range n - 1 {
			desc += " " + pick(rng, pool.sentences)
		}
		return textMove(desc)
	case "place.ask":
		switch {
		case !random || r < 0.5:
			return move{act: action{kind: actLocation, lat: 50.0281 + (rng.Float64()-0.5)*0.04, lon: 15.2003 + (rng.Float64()-0.5)*0.06}}
		case r < 0.8 || !canSkip:
			return textMove(pick(rng, pool.places))
		default:
			return tapMove(skip)
		}
	case "photo.ask":
		if !random || r < 0.6 || !canSkip {
			return move{act: action{kind: actPhoto}}
		}
		return tapMove(skip)
	}
	step, ok := questionSteps[key]
	switch {
	case !ok:
		return loseMove("unexpected: " + orUnknown(key))
	case random && canSkip && r < 0.3:
		return tapMove(skip)
	case step.Answer.Kind == flows.PhotoAnswer:
		return move{act: action{kind: actPhoto}}
	}
	// A question added to the flow: a sentence, as long as it may be.
	text := []rune(pick(rng, pool.sentences))
	return textMove(string(text[:min(step.Answer.MaxLen, len(text))]))
}

func pick(rng *rand.Rand, from []string) string { return from[rng.IntN(len(from))] }

// lose gives up the conversation: the bot said something no student could
// go on from.
func (s *slot) lose(why string) { s.finish(false, why) }

// finish ends the current student's conversation and, while the run lasts,
// puts a new student in the slot. s.mu is held.
func (s *slot) finish(ok bool, why string) {
	if s.phase == phOff {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.phase = phOff
	if ok {
		s.st.studentsDone++
	} else {
		s.st.studentsLost++
		s.st.ideasLost++
		if s.st.lostWhy == nil {
			s.st.lostWhy = map[string]int{}
		}
		s.st.lostWhy[why]++
	}
	p := s.p
	if p.cfg.duration > 0 && !p.stopping.Load() && p.now() < p.cfg.duration {
		s.begin(s.thinkTime())
		return
	}
	if p.active.Add(-1) == 0 {
		p.doneOnce.Do(func() { close(p.done) })
	}
}

// watch loses the conversations whose update the bot has had for longer
// than the stall timeout without answering. An update still waiting for a
// webhook connection is Telegram's queue, not the bot's: it does not stall.
func (p *population) watch() {
	now := p.now()
	for _, s := range p.slots {
		s.mu.Lock()
		if post := time.Duration(s.postAt.Load()); s.phase == phWait && post >= s.sentAt && now-post > p.cfg.stall {
			s.finish(false, "stalled: no answer within "+p.cfg.stall.String())
		}
		s.mu.Unlock()
	}
}

// stop ends every conversation still going (the run's time is up).
func (p *population) stop(why string) {
	p.stopping.Store(true)
	for _, s := range p.slots {
		s.mu.Lock()
		s.finish(false, why)
		s.mu.Unlock()
	}
}

// update is what Telegram sends for a student's message or tap.
type update struct {
	ID            int64          `json:"update_id"`
	Message       *message       `json:"message,omitempty"`
	CallbackQuery *callbackQuery `json:"callback_query,omitempty"`
}

type callbackQuery struct {
	ID           string      `json:"id"`
	From         botapi.User `json:"from"`
	Message      *message    `json:"message"` // the message tapped
	ChatInstance string      `json:"chat_instance"`
	Data         string      `json:"data"`
}

// update is the update for s.next, as Telegram would send it.
func (s *slot) update() *update {
	u := &update{ID: s.p.updateSeq.Add(1)}
	now := time.Now().Unix()
	student := botapi.User{ID: s.id, FirstName: "Student", LanguageCode: s.lang}
	if s.next.kind == actTap {
		u.CallbackQuery = &callbackQuery{
			ID:   strconv.FormatInt(4_000_000_000_000_000_000+s.p.cbSeq.Add(1), 10),
			From: student,
			Message: &message{ID: s.lastID, From: &fakeBot, Chat: privateChat(s.id), Date: now, Text: s.lastText,
				ReplyMarkup: json.RawMessage(s.lastKB)},
			ChatInstance: botapi.ChatInstance(s.id),
			Data:         s.tap,
		}
		return u
	}
	s.msgSeq++
	m := &message{ID: s.msgSeq, From: &student, Chat: privateChat(s.id), Date: now}
	switch s.next.kind {
	case actStart, actText:
		m.Text, m.Entities = s.next.text, botapi.CommandEntities(s.next.text)
	case actLocation:
		m.Location = &botapi.Location{Latitude: s.next.lat, Longitude: s.next.lon}
	case actPhoto:
		m.Photo = botapi.PhotoSizes("AgACAgIAAxkBAAIB"+strconv.FormatInt(s.id*131+s.msgSeq, 10), 182311)
	}
	u.Message = m
	return u
}
