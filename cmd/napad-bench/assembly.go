package main

// -mode assembly (issue 13, "Ten minutes in class"): a class that hears
// about the forum in an assembly joins within a minute, each student at a
// random moment of -ramp, and answers after exponential think times of mean
// -think. The bot paces its messages as it does for Telegram (its default
// limits), and the fake Bot API keeps Telegram's limits strictly: a message
// beyond -api-rate (30) within any sliding second, or beyond
// -api-chat-limit (1) into one chat within a second, is answered 429
// retry_after 1 (botapi.Limits.RefuseInChat).
//
// Edits (editMessageText, editMessageReplyMarkup, editMessageCaption) are
// never refused: Telegram documents limits for sending messages only (its
// Bots FAQ: about 30 messages a second overall, no more than one a second
// into one chat, short bursts tolerated) and says nothing about edits,
// which in practice it limits more loosely and unpredictably. So the fake
// counts, with editPairs, what edits would add if they counted as messages:
// a conversation that moves from sending to editing shows there whether it
// only moved its bursts where this fake does not look.

import (
	"fmt"
	"sync"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
)

// Issue 13's target for an assembly of 300 students thinking 10 s on
// average.
const assemblyTargetP95 = time.Second

// editPairs notes every message the fake took and every edit, per chat.
type editPairs struct {
	base time.Time

	mu      sync.Mutex
	last    map[int64]pairMark
	times   []time.Duration // every message taken and every edit since base, in order
	crowded int64
}

type pairMark struct {
	at   time.Duration
	edit bool
}

func newEditPairs(base time.Time) *editPairs {
	return &editPairs{base: base, last: map[int64]pairMark{}}
}

// note records a message (edit false) or an edit into a chat.
func (e *editPairs) note(chatID int64, edit bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := time.Since(e.base)
	e.times = append(e.times, t)
	if m, ok := e.last[chatID]; ok && t-m.at < time.Second && (edit || m.edit) {
		e.crowded++
	}
	e.last[chatID] = pairMark{at: t, edit: edit}
}

// stats are how many times a message or edit came into a chat within a
// second of the one before, one of the two an edit, and the most messages
// and edits together within any second.
func (e *editPairs) stats() (crowded int64, maxInWindow int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.crowded, botapi.MaxInWindow(e.times, time.Second)
}

// assemblyReport is what -mode assembly adds to a run's report.
type assemblyReport struct {
	BotLimits  string `json:"bot_limits"`
	FakeLimits string `json:"fake_limits"`
	EditLimits string `json:"edit_limits"`
	// TooManyRequests are the 429s, TooManyInChat those of them for the
	// limit per chat.
	TooManyRequests     int64 `json:"too_many_requests"`
	TooManyInChat       int64 `json:"too_many_requests_in_chat"`
	MaxInWindow         int   `json:"max_messages_in_1s_window"`
	MaxAttemptsInWindow int   `json:"max_attempts_in_1s_window"` // refused ones too
	// MaxWithEditsInWindow counts edits as messages; EditPairs are the
	// messages or edits into a chat within a second of the one before,
	// one of the two an edit: the 429s edits would add at 1 a second per
	// chat if Telegram counted them as messages.
	MaxWithEditsInWindow int     `json:"max_messages_and_edits_in_1s_window"`
	EditPairs            int64   `json:"edit_pairs_within_1s_in_a_chat"`
	TargetP95MS          float64 `json:"target_p95_ms"`
	TargetMet            bool    `json:"target_met"` // p95 within the target, no 429, nothing lost
}

// newAssemblyLimits are the fake's limits in assembly mode.
func newAssemblyLimits(o *options) *botapi.Limits {
	return botapi.NewLimits(o.apiRate, botapi.ChatBurst).RefuseInChat(o.apiChatLimit)
}

// setAssembly adds to r what the fake's limits saw.
func (r *report) setAssembly(o *options, api *fakeAPI) {
	ls := api.limits.Stats()
	crowded, withEdits := api.pairs.stats()
	botLimits, _ := limitsText(o.apiRate)
	a := &assemblyReport{
		BotLimits: botLimits,
		FakeLimits: fmt.Sprintf("429 retry_after 1 for a message beyond %d within any sliding second, or beyond %d into one chat within a second",
			o.apiRate, o.apiChatLimit),
		EditLimits:      "edits are never refused (Telegram documents no limit for them); counted in the pairs and the window with edits",
		TooManyRequests: ls.Refused, TooManyInChat: ls.RefusedInChat,
		MaxInWindow:          botapi.MaxInWindow(ls.Accepted, time.Second),
		MaxAttemptsInWindow:  botapi.MaxInWindow(ls.Attempts, time.Second),
		MaxWithEditsInWindow: withEdits, EditPairs: crowded,
		TargetP95MS: float64(assemblyTargetP95) / float64(time.Millisecond),
	}
	if o.apiChatLimit == 0 {
		a.FakeLimits = fmt.Sprintf("429 retry_after 1 for a message beyond %d within any sliding second; messages into one chat not refused", o.apiRate)
	}
	a.TargetMet = r.ReplyLatency.P95 <= a.TargetP95MS && a.TooManyRequests == 0 && r.IdeasLost == 0 && r.IdeasConfirmed > 0
	r.Assembly = a
	if a.TooManyRequests > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("the bot went over the fake's limits %d times (429; %d of them in one chat)",
			a.TooManyRequests, a.TooManyInChat))
	}
}

// printAssembly writes the rows of assembly mode.
func (r *report) printAssembly(row func(k, format string, args ...any)) {
	a := r.Assembly
	if a == nil {
		return
	}
	row("bot's limits", "%s", a.BotLimits)
	row("fake's limits", "%s; %s", a.FakeLimits, a.EditLimits)
	row("429s", "%d (%d for the limit per chat); at most %d messages taken within a second, %d tried",
		a.TooManyRequests, a.TooManyInChat, a.MaxInWindow, a.MaxAttemptsInWindow)
	row("if edits counted", "%d times a message or edit within 1 s of the one before in its chat, one of them an edit; at most %d messages and edits within a second",
		a.EditPairs, a.MaxWithEditsInWindow)
	met := "not met"
	if a.TargetMet {
		met = "met"
	}
	row("issue 13 target", "p95 ≤ %.0f ms, no 429, nothing lost: %s (p95 %.0f ms, %d × 429, %d lost)",
		a.TargetP95MS, met, r.ReplyLatency.P95, a.TooManyRequests, r.IdeasLost)
}
