package telegram

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
)

// Benchmarks of turning the flow's replies into Telegram messages. Run with
//
//	go test ./bot/telegram -run '^$' -bench . -benchmem

// renderBot is a Bot with just what rendering needs.
func renderBot(b *testing.B) *Bot {
	b.Helper()
	rt, err := bot.New(bot.Config{Logger: slog.New(slog.DiscardHandler)}, bot.Stores{})
	if err != nil {
		b.Fatal(err)
	}
	tg := &Bot{username: "napad_bot"}
	tg.texts = rt.Texts(tg)
	return tg
}

// benchRender renders every reply of one flow result, as send does for
// ordinary messages.
func benchRender(b *testing.B, lang string, replies []flows.Reply) {
	tg := renderBot(b)
	msgs := 0
	for _, r := range replies {
		for _, m := range tg.messages(42, lang, r) {
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
			tg.messages(42, lang, r)
		}
	}
	b.ReportMetric(float64(msgs), "msgs/op")
}

// BenchmarkRenderQuestion renders the category question (after the
// description): text plus nine buttons, eight of them categories.
func BenchmarkRenderQuestion(b *testing.B) {
	w := &flowtest.Walker{TB: b, Lang: "en"}
	w.WalkTo(flows.StepCategory)
	benchRender(b, w.Lang, w.Last.Replies)
}

// BenchmarkRenderPlace renders the place question: one message, the
// category just tapped above it, with Back, Skip and Cancel.
func BenchmarkRenderPlace(b *testing.B) {
	w := &flowtest.Walker{TB: b, Lang: "en"}
	w.WalkTo(flows.StepPlace)
	benchRender(b, w.Lang, w.Last.Replies)
}

// BenchmarkRenderReview renders the review screen: every answer in one
// text (with nested messages) and eleven buttons.
func BenchmarkRenderReview(b *testing.B) {
	w := &flowtest.Walker{TB: b, Lang: "en"}
	w.WalkTo(flows.StepReview)
	benchRender(b, w.Lang, w.Last.Replies)
}
