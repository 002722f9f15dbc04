//go:build linux

package main

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
)

// SIGTERM while a student's answer is being handled: napad serve stops
// taking updates, finishes the one in flight (the student gets the next
// question, the update is confirmed) and exits, cleanly, within 10 s.
func TestSigtermFinishesWhatIsInFlight(t *testing.T) {
	bin := buildNapad(t)
	a := newChildApp(t)
	f := a.forum("9.C")
	c := startChild(t, a, bin)
	s := a.studentOnPhone("en", "de") // asked the language
	s.u.SendText("/start " + f.Code)
	s.expect("language.ask")

	// The tapped language's message becomes the privacy notice: an edit.
	chatID := strconv.FormatInt(s.u.ID(), 10)
	inFlight := a.fake.HoldNext("editMessageText", func(call telegramtest.Call) bool { return call.Params["chat_id"] == chatID })
	tap := s.tap("lang.en")
	inFlight.Wait(t, waitLong)
	stopped := time.Now()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the process is shutting down meanwhile
	inFlight.Release()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("napad serve did not exit within 10 s of SIGTERM")
	}
	t.Logf("exited %v after SIGTERM", time.Since(stopped).Round(time.Millisecond))
	if code := c.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
	s.expect("privacy.notice") // the answer in flight went out
	if n := a.fake.PendingUpdates(); n != 0 {
		t.Errorf("%d updates left unconfirmed after a clean shutdown (the tap was %d)", n, tap)
	}
	// Nothing new is taken after SIGTERM: an answer sent now waits for the
	// next process, which continues the conversation.
	s.tap("privacy.ok")
	startChild(t, a, bin)
	s.expect("scope.ask")
}
