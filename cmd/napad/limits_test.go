package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
)

// With Telegram's default limits, the bot sends at most a burst of three
// messages into one chat and then about one a second, and a 429 pauses every
// sender, not only the one that got it.
func TestE2ETelegramLimits(t *testing.T) {
	a := newApp(t, false, func(a *app) {
		delete(a.env, "TELEGRAM_MESSAGES_PER_SECOND")
		delete(a.env, "TELEGRAM_CHAT_MESSAGES_PER_SECOND")
	})

	t.Run("one chat", func(t *testing.T) {
		s := a.student("en")
		for range 6 {
			s.u.SendText("/help") // a student tapping the menu over and over
		}
		var times []time.Time
		deadline := time.Now().Add(waitLong)
		for len(times) < 6 && time.Now().Before(deadline) {
			times = times[:0]
			for _, c := range a.fake.CallsTo("sendMessage") {
				if c.Params["chat_id"] == strconv.FormatInt(s.u.ID(), 10) {
					times = append(times, c.Time)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(times) < 6 {
			t.Fatalf("%d answers to 6 requests", len(times))
		}
		for i := 0; i+3 < len(times); i++ {
			if span := times[i+3].Sub(times[i]); span < 900*time.Millisecond {
				t.Errorf("4 messages into one chat within %v", span)
			}
		}
	})

	t.Run("429 pauses everyone", func(t *testing.T) {
		first, second := a.student("en"), a.student("cs")
		a.fake.FailNext("sendMessage", 1, 429, "Too Many Requests: retry after 1", 1)
		first.u.SendText("/help")
		limited := a.fake.WaitCall(t, "sendMessage", func(c telegramtest.Call) bool { return c.Status == 429 }, waitLong)
		second.u.SendText("/help")
		second.expect("about.help")
		first.expect("about.help")
		for _, c := range a.fake.CallsTo("sendMessage") {
			if c.Params["chat_id"] == strconv.FormatInt(second.u.ID(), 10) && c.Time.Sub(limited.Time) < 900*time.Millisecond {
				t.Errorf("another student was answered %v after a 429 that asked for 1 s", c.Time.Sub(limited.Time))
			}
		}
	})
}
