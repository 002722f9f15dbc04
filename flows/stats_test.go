package flows_test

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/healthycities/napad/flows"
)

// statsOf is the store's Stats, in memory: the overview, or one forum of it.
func (s *student) statsOf(forumID int64) flows.Stats {
	s.t.Helper()
	if forumID == 0 {
		return s.overview
	}
	for _, f := range s.overview.Forums {
		if f.Forum.ID == forumID {
			forum := f.Forum
			return flows.Stats{Forum: &forum, Total: f.StatsBlock}
		}
	}
	s.t.Fatalf("no forum %d in the overview", forumID)
	return flows.Stats{}
}

// block is a forum's figures: ideas in most categories, some more than
// others, all about the school, half of them new.
func block(joined, submitters, ideas, hidden int) flows.StatsBlock {
	b := flows.StatsBlock{Joined: joined, Submitters: submitters, Ideas: ideas, Hidden: hidden,
		ByCategory: map[string]int{}, ByScope: map[string]int{flows.ScopeSchool: ideas}, ByStatus: map[string]int{}}
	for i := range ideas {
		b.ByCategory[flows.Categories[bits.Len(uint(i))%len(flows.Categories)]]++
		b.ByStatus[flows.Statuses[i%2*(1+i/2%(len(flows.Statuses)-1))]]++
	}
	return b
}

func sampleOverview() flows.Stats {
	quiet := testForum
	quiet.ID, quiet.Name = 9, "6.C – ZŠ Tichá"
	gym := testForum
	gym.ID, gym.Name = 8, "9.A – Gymnázium"
	total := block(61, 40, 57, 3)
	total.ByScope = map[string]int{flows.ScopeSchool: 30, flows.ScopeTown: 20, flows.ScopeBoth: 7}
	return flows.Stats{Total: total, Forums: []flows.ForumStatsBlock{
		{Forum: testForum, StatsBlock: block(30, 25, 45, 3)},
		{Forum: gym, StatsBlock: block(28, 15, 12, 0)},
		{Forum: quiet, StatsBlock: block(3, 0, 0, 0)},
	}}
}

// What staff see of the overview: all forums with the busiest listed,
// one forum, back to all, and a forum without ideas (no picture).
func TestTranscriptStats(t *testing.T) {
	for _, lang := range []string{"en", "cs"} {
		s := newStaff(t, lang)
		s.overview = sampleOverview()
		s.command(flows.CommandStats)
		forum := func(name string) string {
			return s.render(flows.Msg{Key: "forum.list_item", Data: map[string]any{"Forum": name}})
		}
		s.tap(forum(testForum.Name))
		s.tap(s.label("button.all_forums"))
		s.tap(forum("6.C – ZŠ Tichá"))
		golden(t, "stats."+lang, s.log.String())

		if len(s.pictures) != 3 {
			t.Fatalf("%s: %d pictures asked for, want 3 (not of a forum without ideas)", lang, len(s.pictures))
		}
		if p := s.pictures[1]; p.Lang != lang || p.Stats.Forum == nil || p.Stats.Forum.ID != testForum.ID || p.Stats.Total.Ideas != 45 {
			t.Errorf("%s: the forum's picture was asked as %+v", lang, p)
		}
		if p := s.pictures[0]; p.Stats.Forum != nil || p.Stats.Total.Ideas != 57 {
			t.Errorf("%s: the overview's picture was asked as %+v", lang, p)
		}
	}
}

// Students and teachers get the answer to a command that does not exist,
// and the overview's buttons do nothing for them.
func TestOnlyStaffSeeStats(t *testing.T) {
	for _, actor := range []flows.Actor{{}, {Role: flows.RoleTeacher, Town: "Kolín"}} {
		unknown := newStudent(t, "en")
		unknown.actor = actor
		want := unknown.do("/nosuch", flows.Input{What: flows.CommandSent{Name: "nosuch"}})

		s := newStudent(t, "en")
		s.actor = actor
		s.overview = sampleOverview()
		res := s.command(flows.CommandStats)
		if len(res.Effects) != 0 || len(s.pictures) != 0 {
			t.Errorf("%q /stats: %+v", actor.Role, res.Effects)
		}
		if got, want := replyKeys(res), replyKeys(want); !slices.Equal(got, want) {
			t.Errorf("%q /stats answered %s, an unknown command %s", actor.Role, got, want)
		}
		if res := s.press("|stat|7"); len(res.Effects) != 0 {
			t.Errorf("%q tapped a forum of the overview: %+v", actor.Role, res.Effects)
		}
	}
	if !flows.NeedsActor(flows.State{}, flows.Input{What: flows.CommandSent{Name: flows.CommandStats}}) {
		t.Error("/stats must look the role up")
	}
	// Forged buttons change nothing.
	s := newStaff(t, "en")
	for _, data := range []string{"|stat|x", "|stat|-3"} {
		if res := s.press(data); len(res.Effects) != 0 || !slices.Equal(replyKeys(res), []string{"error.stale_button"}) {
			t.Errorf("pressed %q: %+v, %v", data, res.Effects, replyKeys(res))
		}
	}
}

// A city with many forums of long names gets an overview that fits one
// Telegram message, in every language, with at most 10 forums listed.
func TestStatsFitOneMessage(t *testing.T) {
	long := string([]rune(strings.Repeat("Гімназія імені Тараса Шевченка, 8-Б клас ", 5))[:200])
	start := string([]rune(long)[:20])
	overview := flows.Stats{Total: block(123456, 98765, 543210, 4321)}
	for i := range 300 {
		f := testForum
		f.ID, f.Name = int64(100+i), fmt.Sprintf("%d %s", i, long)
		overview.Forums = append(overview.Forums, flows.ForumStatsBlock{Forum: f, StatsBlock: block(1000, 999, 3000-i, 10)})
	}
	for _, lang := range flows.Languages {
		s := newStaff(t, lang)
		s.overview = overview
		res := s.command(flows.CommandStats)
		if len(res.Replies) != 2 || res.Replies[1].Picture == nil {
			t.Fatalf("%s: replies %v, want the overview and its picture", lang, replyKeys(res))
		}
		text := s.render(res.Replies[0].Text)
		if n := len(utf16.Encode([]rune(text))); n > 4096 {
			t.Errorf("%s: the overview is %d UTF-16 units, more than a message holds", lang, n)
		}
		if len(res.Replies[0].Buttons) != 10 {
			t.Errorf("%s: %d forum buttons, want 10", lang, len(res.Replies[0].Buttons))
		}
		more := strings.TrimSpace(s.render(flows.Msg{Key: "stats.more_forums", Count: ptr(290)}))
		for _, want := range []string{"9 " + start, more} { // the tenth forum, and how many more
			if !strings.Contains(text, want) {
				t.Errorf("%s: the overview lacks %q:\n%s", lang, want, text)
			}
		}
		if strings.Contains(text, "10 "+start) {
			t.Errorf("%s: an eleventh forum is listed", lang)
		}
	}
}
