//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
)

// These tests run the real binary as a child process and end it with
// SIGKILL, as a crash, the OOM killer or a hard redeploy would: nothing of
// the program's own shutdown runs. (Linux only: the child is tied to the
// test process with Pdeathsig, so that it cannot outlive a crashed test.)

// napadBinary is built once per test binary run and copied into each test's
// temporary directory, so that nothing is left behind.
var napadBinary struct {
	once sync.Once
	data []byte
	err  error
}

// buildNapad returns the path of a freshly built napad binary, built with the
// race detector when the tests are.
func buildNapad(t *testing.T) string {
	t.Helper()
	napadBinary.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			napadBinary.err = fmt.Errorf("the go command is needed to build napad: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "napad-build-")
		if err != nil {
			napadBinary.err = err
			return
		}
		defer os.RemoveAll(dir)
		args := []string{"build", "-o", filepath.Join(dir, "napad")}
		if raceEnabled() {
			args = append(args, "-race")
		}
		cmd := exec.Command(goTool, append(args, ".")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			napadBinary.err = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
			return
		}
		napadBinary.data, napadBinary.err = os.ReadFile(filepath.Join(dir, "napad"))
	})
	if napadBinary.err != nil {
		t.Fatal(napadBinary.err)
	}
	path := filepath.Join(t.TempDir(), "napad")
	if err := os.WriteFile(path, napadBinary.data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// newChildApp prepares what newApp prepares without starting the program:
// the tests start it as a child process with startChild.
func newChildApp(t *testing.T) *app { return prepareApp(t) }

// child is one `napad serve` process.
type child struct {
	t    *testing.T
	cmd  *exec.Cmd
	logs *lockedBuffer
	done chan struct{} // closed when the process has ended
}

// startChild runs `napad serve` (long polling) and waits until it polls.
func startChild(t *testing.T, a *app, bin string) *child {
	t.Helper()
	c := &child{t: t, logs: &lockedBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(bin, "serve")
	for k, v := range a.env {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	// The child dies with the test process, whatever happens to it.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	began := time.Now()
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start napad serve: %v", err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		c.kill()
		c.check()
	})

	polling := func() bool {
		for _, call := range a.fake.CallsTo("getUpdates") {
			if call.Time.After(began) {
				return true
			}
		}
		return false
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitLong)
	for !polling() {
		select {
		case <-c.done:
			t.Fatalf("napad serve ended at start-up (%v):\n%s", c.cmd.ProcessState, c.logs)
		case <-deadline:
			t.Fatalf("napad serve did not call getUpdates within %s:\n%s", waitLong, c.logs)
		case <-tick.C:
		}
	}
	return c
}

// kill ends the process with SIGKILL and waits until it is gone.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.t.Errorf("napad serve (pid %d) did not end after SIGKILL", c.cmd.Process.Pid)
	}
}

// check fails the test on a data race or a panic in the child's output, and
// shows the child's warnings when the test failed.
func (c *child) check() {
	logs := c.logs.String()
	if strings.Contains(logs, "WARNING: DATA RACE") {
		c.t.Errorf("napad serve (pid %d) had a data race:\n%s", c.cmd.Process.Pid, logs)
	}
	if strings.Contains(logs, `"level":"ERROR","msg":"panic`) || strings.Contains(logs, "\npanic: ") {
		c.t.Errorf("napad serve (pid %d) panicked:\n%s", c.cmd.Process.Pid, logs)
	}
	if strings.Contains(logs, testToken) {
		c.t.Errorf("the bot token appears in the logs of napad serve (pid %d)", c.cmd.Process.Pid)
	}
	if c.t.Failed() {
		c.t.Logf("warnings and errors of napad serve (pid %d):", c.cmd.Process.Pid)
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
				c.t.Log(line)
			}
		}
	}
}

// killed9 is a student of the SIGKILL tests, somewhere in ideaFlow.
type killed9 struct {
	*student
	want  map[flows.StepID]string
	at    int // index in ideaFlow of the question the student was last asked
	first int // index in ideaFlow of the first question asked (the phone's language is not asked)
	// repeated is the question the bot asks twice: the update answered by it
	// came again after the kill, and the bot, not knowing whether its answer
	// got out before, says it again rather than leave the student waiting.
	repeated string
}

// answerCurrent answers the question the student is at and returns the
// update id; the answer to the last question is the tap on Submit.
func (k *killed9) answerCurrent() int64 {
	return k.answer(ideaFlow[k.at], k.want, nil)
}

// waitNext waits for the question after the one the student was at (or
// for the first one), passing over those the bot does not ask.
func (k *killed9) waitNext() {
	k.t.Helper()
	k.at = k.nextQuestion(k.at+1, len(ideaFlow)-1, nil)
}

// advance answers questions until the student is asked question stop.
func (k *killed9) advance(code string, stop int) {
	k.t.Helper()
	if k.at < 0 {
		k.u.SendText("/start " + code)
		k.waitNext()
		k.first = k.at
	}
	for k.at < stop {
		k.answerCurrent()
		k.waitNext()
	}
}

// checkAskedOnce fails the test if a question of the flow was asked more
// than once (but for k.repeated, asked exactly twice), or one from the
// first was never asked: after a restart the conversation went on, it did
// not start again, and no handled update was handled twice. A message that
// asked a question and was then edited into the next one counts for both.
func (k *killed9) checkAskedOnce() {
	k.t.Helper()
	for i, step := range ideaFlow {
		n := k.count(step.ask, nil)
		want := 1
		switch {
		case i < k.first:
			want = 0
		case step.ask == k.repeated:
			want = 2
		}
		if n != want {
			k.t.Errorf("student %d (%s): %q asked %d times, want %d; chat:\n%v", k.u.ID(), k.lang, step.ask, n, want, k.a.fake.Sent(k.u.ID()))
		}
	}
}

// holdConfirmation holds the getUpdates call that will confirm the next
// update, created after this call: the offset of every call made so far is
// at most one past the last update handed out.
func holdConfirmation(fake *telegramtest.Server) *telegramtest.Hold {
	delivered := fake.DeliveredUpdateIDs()
	var last int64
	if len(delivered) > 0 {
		last = slices.Max(delivered)
	}
	return fake.HoldNext("getUpdates", func(c telegramtest.Call) bool {
		offset, _ := strconv.ParseInt(c.Params["offset"], 10, 64)
		return offset > last+1
	})
}

// deliveries counts how often an update was handed to the bot.
func deliveries(fake *telegramtest.Server, updateID int64) int {
	n := 0
	for _, id := range fake.DeliveredUpdateIDs() {
		if id == updateID {
			n++
		}
	}
	return n
}

// Students halfway through their ideas; the bot is killed with SIGKILL just
// after it answered the last of them, before it confirmed that update to
// Telegram; some students answer while no bot runs. A new process picks up
// every conversation where it was: each answer is taken as the answer to the
// question the student was at, nothing is asked twice, every idea arrives
// whole.
func TestKillMidConversation(t *testing.T) {
	bin := buildNapad(t)
	a := newChildApp(t)
	f := a.forum("8.B")
	first := startChild(t, a, bin)

	var students []*killed9
	for i, stop := range []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11} {
		lang := flows.Languages[i%len(flows.Languages)]
		k := &killed9{student: a.student(lang), want: flowtest.AnswersIn(lang), at: -1}
		students = append(students, k)
		if i == 0 {
			continue // the last to move, below
		}
		k.advance(f.Code, stop)
	}
	// The last student's answer is handled, and then the process is killed
	// while its next getUpdates — the one confirming that update — is on its
	// way: Telegram will deliver the update again.
	last := students[0]
	last.advance(f.Code, questionIndex(flows.StepPrivacy))
	confirm := holdConfirmation(a.fake)
	lastUpdate := last.answerCurrent()
	last.waitNext()
	last.repeated = ideaFlow[last.at].ask
	held := confirm.Wait(t, waitLong)
	if held.Params["offset"] != strconv.FormatInt(lastUpdate+1, 10) {
		t.Fatalf("the held getUpdates has offset %s, want %d", held.Params["offset"], lastUpdate+1)
	}
	first.kill()
	confirm.WaitGone(t, waitLong)
	confirm.Release()

	// Half of the students answer while no bot is running.
	for i, k := range students {
		if i%2 == 1 {
			k.answerCurrent()
		}
	}
	startChild(t, a, bin)
	refs := map[*killed9]string{}
	for i, k := range students {
		if i%2 == 0 {
			k.answerCurrent()
		}
		if k.at == len(ideaFlow)-1 { // that was Submit
			refs[k] = regexpRef.FindString(k.expectCount("submit.thanks", one()).Text)
		} else {
			k.waitNext()
		}
	}
	if n := deliveries(a.fake, lastUpdate); n != 2 {
		t.Errorf("the update handled but not confirmed before the kill was delivered %d times, want 2", n)
	}

	for _, k := range students {
		if refs[k] == "" {
			k.advance(f.Code, len(ideaFlow)-1)
			k.answerCurrent()
			refs[k] = regexpRef.FindString(k.expectCount("submit.thanks", one()).Text)
		}
		checkRow(t, a.suggestion(refs[k]), f, k.lang, k.want)
		k.checkAskedOnce()
	}
	if n := len(a.suggestions(f)); n != len(students) {
		t.Errorf("%d ideas stored, want %d", n, len(students))
	}
}

// The bot is killed with SIGKILL while a submission is in flight: the idea
// is in PostgreSQL and its update not yet confirmed to Telegram. A new
// process gets the update again; there is still exactly one idea, and the
// student gets its confirmation.
func TestKillMidSubmission(t *testing.T) {
	bin := buildNapad(t)

	// Killed while the confirmation is on its way to Telegram: the idea is
	// stored and the conversation saved, but the student has not heard.
	t.Run("confirmation in flight", func(t *testing.T) {
		a := newChildApp(t)
		f := a.forum("7.A")
		first := startChild(t, a, bin)
		k := &killed9{student: a.student("cs"), want: flowtest.AnswersIn("cs"), at: -1}
		k.advance(f.Code, len(ideaFlow)-1)

		thanks := k.pattern("submit.thanks", one())
		chatID := strconv.FormatInt(k.u.ID(), 10)
		// The thank-you takes the summary's place: an edit.
		inFlight := a.fake.HoldNext("editMessageText", func(c telegramtest.Call) bool {
			return c.Params["chat_id"] == chatID && thanks.MatchString(c.Params["text"])
		})
		tap := k.answerCurrent()
		held := inFlight.Wait(t, waitLong)
		rows := a.suggestions(f)
		if len(rows) != 1 {
			t.Fatalf("%d ideas stored when the confirmation was sent, want 1", len(rows))
		}
		ref := rows[0].Reference
		if !strings.Contains(held.Params["text"], ref) {
			t.Fatalf("the held confirmation %q lacks the stored reference %s", held.Params["text"], ref)
		}
		first.kill()
		inFlight.WaitGone(t, waitLong)
		inFlight.Release()

		startChild(t, a, bin)
		// /help comes after the tap in the same chat: once it is answered,
		// the tap delivered again has been handled.
		k.u.SendText("/help")
		k.expect("about.help")
		confirmed := false
		for _, m := range versions(a.fake.Sent(k.u.ID())) {
			confirmed = confirmed || thanks.MatchString(m.Text) && strings.Contains(m.Text, ref)
		}
		if !confirmed {
			t.Errorf("the student never got the confirmation of idea %s: the new process got the tap on Submit again "+
				"and answered nothing. Chat:\n%v", ref, a.fake.Sent(k.u.ID()))
		}
		checkOneIdea(t, a, f, k, tap, ref, 1)
	})

	// Killed after the confirmation was sent, while the getUpdates that
	// confirms the update is on its way: the update comes again and must
	// change nothing.
	t.Run("update not confirmed", func(t *testing.T) {
		a := newChildApp(t)
		f := a.forum("7.B")
		first := startChild(t, a, bin)
		k := &killed9{student: a.student("en"), want: flowtest.AnswersIn("en"), at: -1}
		k.advance(f.Code, len(ideaFlow)-1)

		confirm := holdConfirmation(a.fake)
		tap := k.answerCurrent()
		ref := regexpRef.FindString(k.expectCount("submit.thanks", one()).Text)
		confirm.Wait(t, waitLong)
		first.kill()
		confirm.WaitGone(t, waitLong)
		confirm.Release()

		startChild(t, a, bin)
		// /help comes after the tap in the same chat: once it is answered,
		// the tap delivered again has been handled.
		k.u.SendText("/help")
		k.expect("about.help")
		// Sent before the kill and, as the tap came again, once more.
		checkOneIdea(t, a, f, k, tap, ref, 2)
	})
}

// checkOneIdea checks that the submission's update reached the bot twice,
// that there is one idea, and that the student was told its code told times.
func checkOneIdea(t *testing.T, a *app, f flows.Forum, k *killed9, tap int64, ref string, told int) {
	t.Helper()
	if n := deliveries(a.fake, tap); n != 2 {
		t.Errorf("the tap on Submit was delivered %d times, want 2 (before and after the kill)", n)
	}
	rows := a.suggestions(f)
	if len(rows) != 1 || rows[0].Reference != ref {
		var refs []string
		for _, r := range rows {
			refs = append(refs, r.Reference)
		}
		t.Errorf("ideas stored: %v, want exactly [%s]", refs, ref)
	} else {
		checkRow(t, rows[0], f, k.lang, k.want)
	}
	var texts []string
	for _, m := range versions(a.fake.Sent(k.u.ID())) {
		if strings.Contains(m.Text, ref) {
			texts = append(texts, m.Text)
		}
	}
	if len(texts) != told {
		t.Errorf("the student was told about idea %s %d times, want %d: %q", ref, len(texts), told, texts)
	}
	k.checkAskedOnce()
}
