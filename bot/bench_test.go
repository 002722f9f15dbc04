package bot

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// Benchmarks of what the bot does around one flow step: decoding and
// encoding the stored conversation, a whole step against the real Redis,
// and turning the flow's replies into Telegram messages. Run with
//
//	go test ./bot -run '^$' -bench . -benchmem

var benchNow = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// benchAnswers are what students write, in each language: a few sentences,
// as long as real answers tend to be.
var benchAnswers = map[string][4]string{ // works well, improve, title, description
	"en": {
		"The new library and the teachers who listen to us.",
		"There is nowhere to sit outside during breaks, so everyone stands in the corridor.",
		"Benches in the school yard",
		"Put five benches and a little shade under the big linden tree, so we can sit outside between lessons and eat our snacks there.",
	},
	"cs": {
		"Nová knihovna a učitelé, kteří nás poslouchají.",
		"O přestávkách si venku nemáme kam sednout, takže všichni stojí na chodbě.",
		"Lavičky na školním dvoře",
		"Dát pět laviček a trochu stínu pod velkou lípu, abychom mohli o přestávkách sedět venku a svačit tam.",
	},
	"uk": {
		"Нова бібліотека і вчителі, які нас слухають.",
		"На перервах ніде сісти надворі, тому всі стоять у коридорі.",
		"Лавки на шкільному подвір'ї",
		"Поставити п'ять лавок і трохи тіні під великою липою, щоб ми могли сидіти надворі між уроками.",
	},
	"nb": {
		"Det nye biblioteket og lærerne som hører på oss.",
		"Det er ingen steder å sitte ute i friminuttene, så alle står i gangen.",
		"Benker i skolegården",
		"Sett fem benker og litt skygge under det store lindetreet, så vi kan sitte ute mellom timene og spise matpakken der.",
	},
}

// flowWalker drives the flow the way converse does, keeping the envelope as it
// would be stored after each update.
type flowWalker struct {
	tb     testing.TB
	lang   string
	pid    string
	update int64
	env    envelope
	last   flows.Result
}

// newFlowWalker is student i: a pseudonym, a language, and update ids from
// Telegram's (global, so far apart) sequence.
func newFlowWalker(tb testing.TB, i int) *flowWalker {
	return &flowWalker{
		tb:     tb,
		lang:   flows.Languages[i%len(flows.Languages)],
		pid:    participantID([]byte("bench-participant-key-0123456789abcdef"), 5_000_000_000+int64(i)*7919),
		update: 734_512_000 + int64(i)*31,
	}
}

func (w *flowWalker) do(in flows.Input) {
	w.tb.Helper()
	w.update += 1_009 // other students' updates in between
	in.EventID = strconv.FormatInt(w.update, 10)
	in.LanguageHint = w.lang
	in.Participant = w.pid
	res := flows.Handle(w.env.State, in, benchNow)
	for _, e := range res.Effects {
		if e.Joined == nil {
			w.tb.Fatalf("unexpected effect %+v", e)
		}
	}
	w.env.State = res.State
	w.env.remember(w.update)
	w.last = res
}

func (w *flowWalker) text(s string) { w.do(flows.Input{Kind: flows.InputText, Text: s}) }

// tap presses the button for value of the current question.
func (w *flowWalker) tap(step, value string) {
	w.tb.Helper()
	for _, r := range w.last.Replies {
		for _, row := range r.Buttons {
			for _, btn := range row {
				if strings.HasSuffix(btn.Data, "|"+step+"|"+value) {
					w.do(flows.Input{Kind: flows.InputButton, Text: btn.Data})
					return
				}
			}
		}
	}
	w.tb.Fatalf("no button %s|%s in %+v", step, value, w.last.Replies)
}

// walkTo answers the idea's questions until the student is at until.
func (w *flowWalker) walkTo(until flows.StepID) {
	w.tb.Helper()
	a := benchAnswers[w.lang]
	w.do(flows.Input{Kind: flows.InputJoin, Join: flows.JoinResult{Found: true, Forum: flows.Forum{
		ID: 7, Code: "Zk3xQ9mP2aLw8RtY", Name: "8.B – ZŠ Komenského", School: "ZŠ Komenského", Town: "Kolín", Open: true,
		Scope: "both", Languages: []string{"cs", "en", "nb", "uk"},
	}}})
	steps := []func(){
		func() { w.tap(string(flows.StepLanguage), w.lang) },
		func() { w.tap(string(flows.StepPrivacy), "ok") },
		func() { w.tap(string(flows.StepScope), "both") },
		func() { w.text(a[0]) },
		func() { w.text(a[1]) },
		func() { w.text(a[2]) },
		func() { w.text(a[3]) },
		func() { w.tap(string(flows.StepCategory), "public_space") },
		func() { w.do(flows.Input{Kind: flows.InputLocation, Lat: 50.0281, Lon: 15.2003}) },
		func() {
			w.do(flows.Input{Kind: flows.InputPhoto, PhotoID: "AgACAgQAAxkBAAIBY2Zk1q3Xb7pL9mN0cR4sT6uV8wX0yZ1aB2cD3eF4gH5iJ6kL7mN8oP9qR"})
		},
		func() { w.tap(string(flows.StepHelp), "yes") },
	}
	for _, step := range steps {
		if w.env.State.Step == until {
			break
		}
		step()
	}
	if w.env.State.Step != until {
		w.tb.Fatalf("walked to step %q, want %q", w.env.State.Step, until)
	}
}

// midFlowEnvelope is student i's stored conversation halfway through an
// idea: scope, what works, what to improve, title and description answered,
// the category asked.
func midFlowEnvelope(tb testing.TB, i int) (pid string, env envelope) {
	tb.Helper()
	w := newFlowWalker(tb, i)
	w.walkTo(flows.StepCategory)
	return w.pid, w.env
}

func BenchmarkEnvelopeEncode(b *testing.B) {
	_, env := midFlowEnvelope(b, 1) // English
	var data []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if data, err = json.Marshal(env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "bytes/state")
}

func BenchmarkEnvelopeDecode(b *testing.B) {
	_, env := midFlowEnvelope(b, 1)
	data, err := json.Marshal(env)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var back envelope
		if err := json.Unmarshal(data, &back); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "bytes/state")
}

// BenchmarkConverseStep is one update's work on the conversation without
// Telegram: take the conversation's turn in the real Redis (reading the
// state), decode, handle a text answer, encode, save and end the turn. That
// is converse minus the effects and the sending: two Redis round trips.
func BenchmarkConverseStep(b *testing.B) {
	store := redistest.New(b)
	ctx := context.Background()
	w := newFlowWalker(b, 1)
	w.walkTo(flows.StepDescription)
	data, err := json.Marshal(w.env)
	if err != nil {
		b.Fatal(err)
	}
	redistest.Put(b, store, w.pid, data, time.Hour)
	in := flows.Input{Kind: flows.InputText, Text: benchAnswers["en"][3], LanguageHint: "en", Participant: w.pid}
	update := int64(900_000_000)
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		update++
		turn, err := store.Begin(ctx, w.pid, update)
		if err != nil {
			b.Fatal(err)
		}
		var env envelope
		if err := json.Unmarshal(turn.State(), &env); err != nil {
			b.Fatal(err)
		}
		in.EventID = strconv.FormatInt(update, 10)
		// Always answer the same question: keep the stored state as it was,
		// but save it (with the new update remembered) as converse does.
		res := flows.Handle(env.State, in, benchNow)
		if res.State.Step != flows.StepCategory {
			b.Fatalf("at step %q", res.State.Step)
		}
		env.remember(update)
		out, err = json.Marshal(env)
		if err != nil {
			b.Fatal(err)
		}
		if ok, err := turn.Commit(ctx, out, time.Hour); err != nil || !ok {
			b.Fatalf("commit: %v %v", ok, err)
		}
	}
	b.ReportMetric(float64(len(out)), "bytes/state")
}

// renderBot is a Bot with just what rendering needs.
func renderBot(b *testing.B) *Bot {
	b.Helper()
	catalog, err := locales.Load()
	if err != nil {
		b.Fatal(err)
	}
	return &Bot{catalog: catalog, log: slog.New(slog.DiscardHandler), username: "napad_bot"}
}

// benchRender renders every reply of one flow result, as send does for
// ordinary messages.
func benchRender(b *testing.B, lang string, replies []flows.Reply) {
	bot := renderBot(b)
	msgs := 0
	for _, r := range replies {
		for _, m := range bot.messages(42, lang, r) {
			if strings.Contains(m.Text, ".") && !strings.Contains(m.Text, " ") {
				b.Fatalf("untranslated key %q", m.Text)
			}
			msgs++
		}
	}
	if msgs == 0 {
		b.Fatal("nothing to render")
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range replies {
			bot.messages(42, lang, r)
		}
	}
	b.ReportMetric(float64(msgs), "msgs/op")
}

// BenchmarkRenderQuestion renders the category question (after the
// description): text plus nine buttons, eight of them categories.
func BenchmarkRenderQuestion(b *testing.B) {
	w := newFlowWalker(b, 1)
	w.walkTo(flows.StepCategory)
	benchRender(b, w.lang, w.last.Replies)
}

// BenchmarkRenderPlace renders the place question: two messages, one with
// the location keyboard.
func BenchmarkRenderPlace(b *testing.B) {
	w := newFlowWalker(b, 1)
	w.walkTo(flows.StepPlace)
	benchRender(b, w.lang, w.last.Replies)
}

// BenchmarkRenderReview renders the review screen: every answer in one
// text (with nested messages) and eleven buttons.
func BenchmarkRenderReview(b *testing.B) {
	w := newFlowWalker(b, 1)
	w.walkTo(flows.StepReview)
	benchRender(b, w.lang, w.last.Replies)
}
