package telegramtest

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
)

// Faults beyond FailNext and SetDown: random failures under load, and calls
// held on their way, for stopping a bot at an exact point.

// randomFailures is the state of FailRandomly. Guarded by Server.mu.
type randomFailures struct {
	rate float64
	rng  *rand.Rand
}

// FailRandomly makes a share rate (0 to 1) of all later calls fail, as
// Telegram does now and then under load: about half of the failures are 429
// Too Many Requests with parameters.retry_after = 1, the others 500 Internal
// Server Error or 502 Bad Gateway. A failed call is not carried out (a
// message is not sent, getUpdates hands nothing out and confirms nothing).
// seed makes the sequence of decisions repeatable; which call gets which
// decision still depends on the order in which calls arrive. Calls queued by
// FailNext fail first. FailRandomly(0, 0) stops it.
func (s *Server) FailRandomly(rate float64, seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rate <= 0 {
		s.random = nil
		return
	}
	s.random = &randomFailures{rate: min(rate, 1), rng: rand.New(rand.NewPCG(uint64(seed), 0x6e61706164))}
}

// randomFailureLocked decides whether this call fails, and how.
func (s *Server) randomFailureLocked() *botapi.Error {
	r := s.random
	if r == nil || r.rng.Float64() >= r.rate {
		return nil
	}
	switch r.rng.IntN(4) {
	case 0, 1:
		return botapi.TooManyRequests(1)
	case 2:
		return botapi.Fail(http.StatusInternalServerError, 0)
	}
	return botapi.Fail(http.StatusBadGateway, 0)
}

// StatusClientGone is the Status of a call that was held (HoldNext) while
// the bot gave up on it: its request was cancelled or its process died. The
// fake did not carry it out. (499 is the status proxies log for it.)
const StatusClientGone = 499

// Hold is a call kept waiting by HoldNext.
type Hold struct {
	srv     *Server
	method  string // lower case
	match   func(Call) bool
	arrived chan struct{} // closed when a call is held
	release chan struct{} // closed by Release
	gone    chan struct{} // closed when the bot gave up on the held call
	once    sync.Once
	call    Call // the held call once arrived; guarded by srv.mu
}

// HoldNext makes the next call of method (case-insensitive) whose parameters
// match (nil matches any) wait, before the fake carries it out, until
// Release: as if the request were still on its way to Telegram. Meanwhile
// the call is in Calls with Status 0. If the bot gives up on the call while
// it is held (it cancels the request, or its process dies), the call is not
// carried out and is recorded with StatusClientGone. Use it to stop a bot at
// an exact point, e.g. to kill it after it stored an idea but before the
// confirmation reached the student. Held calls are let go when the test
// ends. Several holds may be armed; each catches one call. match runs while
// the server is locked: it must not call the Server.
func (s *Server) HoldNext(method string, match func(Call) bool) *Hold {
	h := &Hold{
		srv:     s,
		method:  strings.ToLower(method),
		match:   match,
		arrived: make(chan struct{}),
		release: make(chan struct{}),
		gone:    make(chan struct{}),
	}
	s.mu.Lock()
	s.holds = append(s.holds, h)
	s.mu.Unlock()
	return h
}

// Wait waits until a call is held and returns it (Status 0); it fails the
// test after timeout.
func (h *Hold) Wait(t testing.TB, timeout time.Duration) Call {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-h.arrived:
	case <-timer.C:
		t.Fatalf("telegramtest: no %s call was held within %v\n%s", h.method, timeout, h.srv.dump(0))
	case <-h.srv.ctx.Done():
		t.Fatalf("telegramtest: the server stopped while waiting for a held %s call", h.method)
	}
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	return copyCall(h.call)
}

// WaitGone waits until the bot has given up on the held call (its process
// died, or it cancelled the request); it fails the test after timeout. A test
// that kills the bot calls it before Release: the fake notices a closed
// connection a moment after the process is gone, and a call released before
// that would still be carried out.
func (h *Hold) WaitGone(t testing.TB, timeout time.Duration) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-h.gone:
	case <-timer.C:
		t.Fatalf("telegramtest: the bot did not give up on the held %s call within %v", h.method, timeout)
	}
}

// Release lets the held call go on to be carried out; if no call is held
// yet, the hold is disarmed instead. Calling it again does nothing.
func (h *Hold) Release() {
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	h.once.Do(func() { close(h.release) })
	for i, o := range h.srv.holds {
		if o == h {
			h.srv.holds = append(h.srv.holds[:i:i], h.srv.holds[i+1:]...)
			break
		}
	}
}

// takeHoldLocked returns the armed hold that catches call, disarming it.
func (s *Server) takeHoldLocked(call Call) *Hold {
	for i, h := range s.holds {
		if strings.EqualFold(h.method, call.Method) && (h.match == nil || h.match(copyCall(call))) {
			s.holds = append(s.holds[:i:i], s.holds[i+1:]...)
			h.call = copyCall(call)
			close(h.arrived)
			return h
		}
	}
	return nil
}

// holdLocked keeps the call waiting until it is released (true), or until
// the caller or the server goes away (false). s.mu is released meanwhile.
func (s *Server) holdLocked(ctx context.Context, h *Hold) bool {
	s.notifyLocked()
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case <-h.release:
		return ctx.Err() == nil
	case <-ctx.Done():
		close(h.gone)
	case <-s.ctx.Done():
	}
	return false
}
