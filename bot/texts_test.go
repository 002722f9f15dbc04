package bot_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
)

type noLinks struct{}

func (noLinks) JoinLink(code string) string   { return "join:" + code }
func (noLinks) InviteLink(code string) string { return "invite:" + code }

// A channel with its own wording says it wherever there is one, also
// inside a message that wraps another; elsewhere, and in channels without
// one, the sentence is the common one.
func TestTextsInAVariant(t *testing.T) {
	rt, err := bot.New(bot.Config{ParticipantKey: []byte("k"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, bot.Stores{})
	if err != nil {
		t.Fatal(err)
	}
	web, telegram := rt.TextsIn(noLinks{}, "web"), rt.Texts(noLinks{})
	place := flows.Msg{Key: "place.ask"}
	wrapped := flows.Msg{Key: "layout.intro", Data: map[string]any{"Intro": flows.Msg{Key: "continue.ok"}, "Text": place}}
	for _, m := range []flows.Msg{place, wrapped} {
		if got := web.Render("en", m); strings.Contains(got, "📎") || !strings.Contains(got, "Type its name") {
			t.Errorf("web: %q", got)
		}
		if got := telegram.Render("en", m); !strings.Contains(got, "📎 → Location") {
			t.Errorf("telegram: %q", got)
		}
	}
	if web.Render("cs", flows.Msg{Key: "button.skip"}) != telegram.Render("cs", flows.Msg{Key: "button.skip"}) {
		t.Error("a sentence without a web wording differs on the web")
	}
}
