package bot

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// shortCodeForums has one forum, whose short code is K7Q2-M9XD, and counts
// how often a short code was looked up.
type shortCodeForums struct {
	ForumStore
	mu      sync.Mutex
	lookups int
}

var codedForum = flows.Forum{ID: 9, Code: "Zk3xQ9mP2aLw8RtY", ShortCode: "K7Q2M9XD", Name: "8.B", Phase: flows.PhaseCollecting}

func (f *shortCodeForums) ForumByShortCode(_ context.Context, typed string) (flows.Forum, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if code, _ := flows.NormalJoinCode(typed); code == codedForum.ShortCode {
		return codedForum, true, nil
	}
	return flows.Forum{}, false, nil
}

func (f *shortCodeForums) RecordJoin(context.Context, int64, string, string, int64) error { return nil }

func (f *shortCodeForums) lookedUp() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups
}

// The limit on wrong join codes, counted in a real Redis: five wrong codes
// are answered and counted, the sixth is refused without a look-up (and so
// is the right code then), and a right code is not counted.
func TestWrongJoinCodesAreLimited(t *testing.T) {
	store, url, prefix := redistest.NewWithPrefix(t)
	raw, err := redis.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	forums := &shortCodeForums{}
	rt, err := New(Config{ParticipantKey: []byte("k")}, Stores{
		Conversations: turns{store}, Forums: forums, People: formerTeacher{}, JoinCodes: store,
	})
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]int64{}
	send := func(pid string, in flows.Input) []string {
		t.Helper()
		events[pid]++
		ch := &recordingChannel{}
		ev := Event{ID: events[pid], Key: events[pid], Participant: pid, Chat: 1, LanguageHint: "en", Input: in}
		if out := rt.Converse(t.Context(), ch, ev); out != Handled {
			t.Fatalf("outcome %s", out)
		}
		return ch.keys()
	}
	text := func(s string) flows.Input { return flows.Input{What: flows.Text{Text: s}} }

	guesser := rt.ParticipantID("test-user:1")
	for i, code := range []string{"AAAA-AAAA", "/join BBBB-BBBB", "cccc cccc", "DDDDDDDD", "EEEE-EEEE"} {
		in := text(code)
		if code[0] == '/' {
			in = flows.Input{What: flows.CommandSent{Name: flows.CommandJoin, Arg: code[len("/join "):]}}
		}
		if keys := send(guesser, in); len(keys) != 1 || keys[0] != "joincode.unknown" {
			t.Fatalf("wrong code #%d: %v", i+1, keys)
		}
	}
	if n, err := store.WrongJoinCodes(t.Context(), guesser); err != nil || n != wrongJoinCodes {
		t.Fatalf("%d wrong codes counted, %v; want %d", n, err, wrongJoinCodes)
	}
	for _, code := range []string{"FFFF-FFFF", "K7Q2-M9XD"} {
		if keys := send(guesser, text(code)); len(keys) != 1 || keys[0] != "joincode.wait" {
			t.Errorf("%s after five wrong codes: %v", code, keys)
		}
	}
	if n := forums.lookedUp(); n != wrongJoinCodes {
		t.Errorf("%d codes looked up, want %d: none after the fifth wrong one", n, wrongJoinCodes)
	}
	if n, _ := store.WrongJoinCodes(t.Context(), guesser); n != wrongJoinCodes {
		t.Errorf("refused codes were counted: %d", n)
	}
	if left, err := raw.PTTL(t.Context(), prefix+"{"+guesser+"}:joins").Result(); err != nil || left <= wrongJoinCodeWindow-time.Minute || left > wrongJoinCodeWindow {
		t.Errorf("the window has %v left, %v; want just under %v", left, err, wrongJoinCodeWindow)
	}

	// A student who mistyped once gets in with the right code, which does
	// not count; /join alone asks for the code.
	student := rt.ParticipantID("test-user:2")
	send(student, text("K7Q2-M9XF"))
	if keys := send(student, flows.Input{What: flows.CommandSent{Name: flows.CommandJoin}}); len(keys) != 1 || keys[0] != "joincode.ask" {
		t.Errorf("/join alone: %v", keys)
	}
	if keys := send(student, text("k7q2 m9xd")); len(keys) == 0 || keys[0] != "layout.intro" { // the welcome with the first question
		t.Errorf("the right code: %v", keys)
	}
	if n, _ := store.WrongJoinCodes(t.Context(), student); n != 1 {
		t.Errorf("%d wrong codes counted, want 1: the right one does not count", n)
	}
}
