package bot

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// Benchmarks of what the bot does around one flow step: decoding and
// encoding the stored conversation, a whole step against the real Redis,
// and turning the flow's replies into Telegram messages. Run with
//
//	go test ./bot -run '^$' -bench . -benchmem

var benchNow = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// newWalker is student i: a pseudonym, a language, and event ids from
// Telegram's (global, so far apart) sequence.
func newWalker(tb testing.TB, i int) *flowtest.Walker {
	return &flowtest.Walker{
		TB:    tb,
		Lang:  flows.Languages[i%len(flows.Languages)],
		PID:   Pseudonym([]byte("bench-participant-key-0123456789abcdef"), "telegram-user:"+strconv.FormatInt(5_000_000_000+int64(i)*7919, 10)),
		Event: 734_512_000 + int64(i)*31,
		Now:   benchNow,
	}
}

// midFlowEnvelope is student i's stored conversation halfway through an
// idea: scope, what works, what to improve, title and description answered,
// the category asked.
func midFlowEnvelope(tb testing.TB, i int) (pid string, env envelope) {
	tb.Helper()
	return walkedEnvelope(tb, i, flows.StepCategory)
}

// walkedEnvelope is student i's stored conversation at step until.
func walkedEnvelope(tb testing.TB, i int, until flows.StepID) (pid string, env envelope) {
	tb.Helper()
	w := newWalker(tb, i)
	w.WalkTo(until)
	env = envelope{State: w.State}
	for _, id := range w.Events {
		env.remember(id)
	}
	return w.PID, env
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
	pid, env := walkedEnvelope(b, 1, flows.StepDescription)
	data, err := json.Marshal(env)
	if err != nil {
		b.Fatal(err)
	}
	saveConversation(b, store, pid, data)
	in := flows.Input{What: flows.Text{Text: flowtest.Answers["en"][flows.StepDescription]}, LanguageHint: "en", Participant: pid}
	update := int64(900_000_000)
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		update++
		turn, err := store.Begin(ctx, pid, update)
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

// saveConversation stores data as pid's conversation, as converse does.
func saveConversation(tb testing.TB, store *redis.Store, pid string, data []byte) {
	tb.Helper()
	turn, err := store.Begin(tb.Context(), pid, 1)
	if err != nil {
		tb.Fatal(err)
	}
	if ok, err := turn.Commit(tb.Context(), data, 30*24*time.Hour); err != nil || !ok {
		tb.Fatalf("save: %v %v", ok, err)
	}
}
