package telegramtest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
)

func TestFailRandomly(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	ctx := context.Background()
	send := func() error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "ahoj"})
		return err
	}

	srv.FailRandomly(1, 7)
	codes := map[int]int{}
	for range 40 {
		err := send()
		var tooMany *bot.TooManyRequestsError
		switch {
		case errors.As(err, &tooMany):
			if tooMany.RetryAfter != 1 {
				t.Errorf("429 with retry_after %d, want 1", tooMany.RetryAfter)
			}
			codes[429]++
		case err != nil && strings.Contains(err.Error(), "500"):
			codes[500]++
		case err != nil && strings.Contains(err.Error(), "502"):
			codes[502]++
		default:
			t.Fatalf("rate 1: err = %v", err)
		}
	}
	if codes[429] == 0 || codes[500] == 0 || codes[502] == 0 {
		t.Errorf("failures by code %v, want all of 429, 500 and 502", codes)
	}
	if n := len(srv.Sent(u.ID())); n != 0 {
		t.Errorf("%d failed messages were recorded as sent", n)
	}

	srv.FailNext("sendMessage", 1, 403, "", 0)
	if err := send(); !errors.Is(err, bot.ErrorForbidden) {
		t.Errorf("FailNext did not take precedence: %v", err)
	}

	srv.FailRandomly(0.3, 1)
	failed := 0
	for range 200 {
		if send() != nil {
			failed++
		}
	}
	if failed < 30 || failed > 90 {
		t.Errorf("rate 0.3: %d of 200 calls failed", failed)
	}

	srv.FailRandomly(0, 0)
	for range 20 {
		if err := send(); err != nil {
			t.Fatalf("after FailRandomly(0, 0): %v", err)
		}
	}
}

// With limits of 5 messages a second, the 6th within a second is refused with
// 429 and not sent; edits do not count.
func TestLimitMessages(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	ctx := context.Background()
	limits := botapi.NewLimits(5, 3)
	srv.LimitMessages(limits)
	for i := range 5 {
		if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "ahoj"}); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	var tooMany *bot.TooManyRequestsError
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "ahoj"}); !errors.As(err, &tooMany) || tooMany.RetryAfter != 1 {
		t.Errorf("6th message within a second: err = %v, want 429 retry after 1", err)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: u.ID(), MessageID: 1, Text: "upraveno"}); err != nil {
		t.Errorf("an edit was limited: %v", err)
	}
	if n := len(srv.Sent(u.ID())); n != 5 {
		t.Errorf("%d messages sent, want 5", n)
	}
	if s := limits.Stats(); s.Refused != 1 || s.ChatViolations != 2 {
		t.Errorf("refused %d, per-chat violations %d; want 1, 2 (the 4th and 5th into one chat)", s.Refused, s.ChatViolations)
	}
	srv.LimitMessages(nil)
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "ahoj"}); err != nil {
		t.Errorf("without limits: %v", err)
	}
}

func TestHoldNext(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	u := srv.NewUser(42, "Eva", "cs")
	ctx := context.Background()

	hold := srv.HoldNext("SendMessage", func(c telegramtest.Call) bool { return c.Params["text"] == "second" })
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "first"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "second"})
		done <- err
	}()
	held := hold.Wait(t, 2*time.Second)
	if held.Params["text"] != "second" || held.Status != 0 {
		t.Errorf("held call %+v", held)
	}
	if sent := srv.Sent(u.ID()); len(sent) != 1 {
		t.Errorf("while held: %d messages sent, want 1", len(sent))
	}
	select {
	case err := <-done:
		t.Fatalf("the held call returned: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	hold.Release()
	if err := <-done; err != nil {
		t.Fatalf("released call: %v", err)
	}
	if sent := srv.WaitSent(t, u.ID(), 2, time.Second); sent[1].Text != "second" {
		t.Errorf("after release: %v", sent)
	}
	hold.Release() // again: nothing

	// A call the bot gives up on while it is held is never carried out.
	gone := srv.HoldNext("sendMessage", nil)
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		_, err := b.SendMessage(cctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "never"})
		done <- err
	}()
	gone.Wait(t, 2*time.Second)
	cancel()
	if err := <-done; err == nil {
		t.Error("a cancelled held call succeeded")
	}
	call := srv.WaitCall(t, "sendMessage", func(c telegramtest.Call) bool { return c.Params["text"] == "never" }, 2*time.Second)
	if call.Status != telegramtest.StatusClientGone {
		t.Errorf("abandoned held call: status %d", call.Status)
	}
	gone.Release()
	if n := len(srv.Sent(u.ID())); n != 2 {
		t.Errorf("%d messages sent, want 2", n)
	}

	// A hold released before any call arrives catches nothing.
	srv.HoldNext("sendMessage", nil).Release()
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "free"}); err != nil {
		t.Fatal(err)
	}
}

func TestAwaitFromManyGoroutines(t *testing.T) {
	srv := telegramtest.New(t, token)
	b := newBot(t, srv)
	ctx := context.Background()
	var users []*telegramtest.User
	for i := range 50 {
		users = append(users, srv.NewUser(int64(100+i), "U", "en"))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(users))
	for _, u := range users {
		u.SendText("ping")
		wg.Add(1)
		go func() {
			defer wg.Done()
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			m, err := srv.Await(wctx, u.ID(), func(m telegramtest.SentMessage) bool { return m.Text == "pong" })
			if err == nil && m.ChatID != u.ID() {
				err = errors.New("a message of another chat")
			}
			errs <- err
		}()
	}
	for _, u := range users {
		if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.ID(), Text: "pong"}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	// On timeout, an error with what the chat holds.
	u := users[0]
	u.SendText("again")
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := srv.Await(wctx, u.ID(), func(m telegramtest.SentMessage) bool { return m.Text == "pong" })
	if err == nil || !strings.Contains(err.Error(), `"pong"`) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Await after the reply it waits for was sent before the action: %v", err)
	}
}
