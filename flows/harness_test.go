package flows_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

var testForum = flows.Forum{ID: 7, Code: "Zk3xQ9mP2aLw8RtY", Name: "8.B – ZŠ Komenského", School: "ZŠ Komenského", Town: "Kolín", Open: true}

var clock = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// student drives the flow like a student in a chat would, and writes down
// the conversation as text, rendered in the student's language.
type student struct {
	t       testing.TB
	catalog *locales.Catalog
	hint    string
	state   flows.State
	last    []flows.Reply
	events  int
	refs    int
	log     strings.Builder
	stored  []flows.Submission
	failDB  bool
}

func newStudent(t testing.TB, languageHint string) *student {
	t.Helper()
	c, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	return &student{t: t, catalog: c, hint: languageHint}
}

func (s *student) do(label string, in flows.Input) flows.Result {
	s.t.Helper()
	s.events++
	in.EventID = strconv.Itoa(1000 + s.events)
	in.LanguageHint = s.hint
	res := flows.Handle(s.state, in, clock)
	replies := res.Replies
	state := res.State
	for _, e := range res.Effects {
		if e.Submit == nil {
			continue
		}
		next := flows.Input{Kind: flows.InputSubmitFailed}
		if !s.failDB {
			s.stored = append(s.stored, *e.Submit)
			s.refs++
			next = flows.Input{Kind: flows.InputSubmitted, Reference: fmt.Sprintf("N-T%03d", s.refs)}
		}
		r2 := flows.Handle(state, next, clock)
		state = r2.State
		replies = append(replies, r2.Replies...)
	}
	s.state = roundTrip(s.t, state)
	s.last = replies
	fmt.Fprintf(&s.log, "student: %s\n", label)
	for _, r := range replies {
		s.write(r)
	}
	s.log.WriteString("\n")
	return res
}

func (s *student) render(m flows.Msg) string {
	s.t.Helper()
	text, err := s.catalog.Render(s.state.Lang, m)
	if err != nil {
		s.t.Fatalf("render %s: %v", m.Key, err)
	}
	return text
}

func (s *student) write(r flows.Reply) {
	for i, line := range strings.Split(s.render(r.Text), "\n") {
		prefix := "  bot: "
		if i > 0 {
			prefix = "       "
		}
		fmt.Fprintf(&s.log, "%s%s\n", prefix, line)
	}
	for _, row := range r.Buttons {
		var labels []string
		for _, b := range row {
			labels = append(labels, "["+s.render(b.Label)+"]")
		}
		fmt.Fprintf(&s.log, "       %s\n", strings.Join(labels, " "))
	}
	if r.ShareLocation != nil {
		fmt.Fprintf(&s.log, "       keyboard: [%s]\n", s.render(*r.ShareLocation))
	}
	if r.RemoveKeyboard {
		s.log.WriteString("       keyboard removed\n")
	}
}

func (s *student) join(f flows.Forum) flows.Result {
	return s.do("opens the join link of “"+f.Name+"”", flows.Input{Kind: flows.InputJoin, Join: flows.JoinResult{Found: true, Forum: f}})
}

func (s *student) text(t string) flows.Result {
	label := t
	if len(label) > 60 {
		label = label[:60] + "…"
	}
	return s.do("writes “"+label+"”", flows.Input{Kind: flows.InputText, Text: t})
}

func (s *student) command(name string) flows.Result {
	return s.do("/"+name, flows.Input{Kind: flows.InputCommand, Text: name})
}

// tap presses the button with this label in the latest replies.
func (s *student) tap(label string) flows.Result {
	s.t.Helper()
	for i := len(s.last) - 1; i >= 0; i-- {
		for _, row := range s.last[i].Buttons {
			for _, b := range row {
				if s.render(b.Label) == label {
					return s.do("taps ["+label+"]", flows.Input{Kind: flows.InputButton, Text: b.Data})
				}
			}
		}
	}
	s.t.Fatalf("no button %q in the last replies:\n%s", label, s.log.String())
	return flows.Result{}
}

// buttonData returns the data of a button in the latest replies.
func (s *student) buttonData(label string) string {
	s.t.Helper()
	for _, r := range s.last {
		for _, row := range r.Buttons {
			for _, b := range row {
				if s.render(b.Label) == label {
					return b.Data
				}
			}
		}
	}
	s.t.Fatalf("no button %q", label)
	return ""
}

func (s *student) press(data string) flows.Result {
	return s.do("sends button data “"+data+"”", flows.Input{Kind: flows.InputButton, Text: data})
}

func (s *student) keys() []string {
	var keys []string
	for _, r := range s.last {
		keys = append(keys, r.Text.Key)
	}
	return keys
}

func (s *student) label(key string) string {
	return s.render(flows.Msg{Key: key})
}

// golden compares the transcript with testdata/name.golden.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./flows -update` to create it)", err)
	}
	if string(want) != got {
		t.Errorf("transcript %s differs from the golden file; run `go test ./flows -update` and review the diff.\n--- got ---\n%s", name, got)
	}
}

// roundTrip stores and loads the state as the bot does between messages.
func roundTrip(t testing.TB, st flows.State) flows.State {
	t.Helper()
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back flows.State
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	return back
}
