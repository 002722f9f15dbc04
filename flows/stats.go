package flows

import (
	"cmp"
	"slices"
	"strconv"
)

// The staff's overview (/stats): how many students took part and what
// their ideas are about, overall and per forum, as a short message and a
// picture. Only staff may; anyone else is answered as if the command did
// not exist. The bot draws the picture (MakeStatsPicture): flows only asks.

// StatsBlock is what one forum, or all of them, collected. Students are
// counted once however many forums or ideas they have; ideas whose author
// was forgotten (retention) still count as ideas, not as students.
type StatsBlock struct {
	Joined     int // students who joined
	Submitters int // students who sent at least one idea, hidden ones too
	Ideas      int // ideas, but for hidden ones
	Hidden     int // ideas staff hid: in none of the counts below
	// The ideas (not hidden) by category, scope and status. Ideas of no
	// known category are counted as CategoryOther.
	ByCategory, ByScope, ByStatus map[string]int
}

// ForumStatsBlock is one forum's part of the overview.
type ForumStatsBlock struct {
	Forum Forum
	StatsBlock
}

// Stats is the overview of all forums or, with Forum set, of that one.
type Stats struct {
	Forum *Forum // nil: all forums
	Total StatsBlock
	// Forums are every forum's own figures, most ideas first (for all
	// forums only).
	Forums []ForumStatsBlock
}

// CategoryOther is the category ideas of no known category are counted in.
const CategoryOther = "misc"

// Tally is one word of the vocabulary and how many ideas have it.
type Tally struct {
	Key string
	N   int
}

// Categories are the counts of every category, most ideas first; a tie
// keeps the order of Categories.
func (b StatsBlock) Categories() []Tally {
	out := counts(Categories, b.ByCategory, false)
	slices.SortStableFunc(out, func(x, y Tally) int { return cmp.Compare(y.N, x.N) })
	return out
}

// Scopes are the counts of every scope, in the order of Scopes.
func (b StatsBlock) Scopes() []Tally { return counts(Scopes, b.ByScope, false) }

// Statuses are the counts of the statuses some idea has, in the order of
// Statuses.
func (b StatsBlock) Statuses() []Tally { return counts(Statuses, b.ByStatus, true) }

func counts(keys []string, n map[string]int, skipNone bool) []Tally {
	out := make([]Tally, 0, len(keys))
	for _, k := range keys {
		if !skipNone || n[k] > 0 {
			out = append(out, Tally{Key: k, N: n[k]})
		}
	}
	return out
}

const (
	buttonStats = "stat" // forum id, 0 for all forums
	// maxStatsForums is how many forums the overview lists (with a button
	// each): the busiest ones; the rest are counted.
	maxStatsForums = 10
	// maxStatsForumName is how much of a forum's name the overview shows,
	// so that the message stays within Telegram's 4,096 characters.
	maxStatsForumName = 60
)

func (c *conversation) statsCommand(CommandSent) { c.do(LoadStats{}) }

func (c *conversation) statsButton(b buttonData) {
	id, err := strconv.ParseInt(b.value, 10, 64)
	if err != nil || id < 0 {
		c.stale()
		return
	}
	c.do(LoadStats{ForumID: id})
}

// showStats says the overview and asks for its picture.
func (c *conversation) showStats(s Stats) {
	scope := any(Msg{Key: "stats.all_forums"})
	if s.Forum != nil {
		scope = clip(s.Forum.Name, maxStatsForumName)
	}
	t := s.Total
	if t.Ideas == 0 && t.Hidden == 0 {
		c.say("stats.no_ideas", map[string]any{"Scope": scope, "Joined": t.Joined}, c.statsButtons(s)...)
		return
	}
	hidden := any("")
	if t.Hidden > 0 {
		hidden = Msg{Key: "stats.hidden", Data: map[string]any{"N": t.Hidden}}
	}
	var categories, statuses Lines
	for _, n := range t.Categories() {
		categories = append(categories, Msg{Key: "stats.line", Data: map[string]any{"Name": Msg{Key: "cat." + n.Key}, "N": n.N}})
	}
	for _, n := range t.Statuses() {
		statuses = append(statuses, Msg{Key: "stats.line", Data: map[string]any{"Name": Msg{Key: "stats.status." + n.Key}, "N": n.N}})
	}
	forums := any("")
	if s.Forum == nil && len(s.Forums) > 0 {
		forums = c.statsForums(s.Forums)
	}
	c.say("stats.overview", map[string]any{
		"Scope": scope, "Joined": t.Joined, "Submitters": t.Submitters, "Ideas": t.Ideas, "Hidden": hidden,
		"Categories": categories, "Statuses": statuses, "Forums": forums,
		"School": t.ByScope[ScopeSchool], "Town": t.ByScope[ScopeTown], "Both": t.ByScope[ScopeBoth],
	}, c.statsButtons(s)...)
	if t.Ideas > 0 {
		c.do(MakeStatsPicture{Stats: s, Lang: c.st.Lang})
	}
}

// statsForums lists the forums with most ideas, and how many more there are.
func (c *conversation) statsForums(forums []ForumStatsBlock) Msg {
	var lines Lines
	for i, f := range forums[:min(len(forums), maxStatsForums)] {
		lines = append(lines, Msg{Key: "stats.forum", Data: map[string]any{
			"N": i + 1, "Forum": clip(f.Forum.Name, maxStatsForumName), "Ideas": f.Ideas, "Submitters": f.Submitters, "Joined": f.Joined,
		}})
	}
	more := any("")
	if n := len(forums) - maxStatsForums; n > 0 {
		more = Msg{Key: "stats.more_forums", Count: &n}
	}
	return Msg{Key: "stats.forums", Data: map[string]any{"Forums": lines, "More": more}}
}

// statsButtons pick one of the listed forums, or, from one forum, all again.
func (c *conversation) statsButtons(s Stats) [][]Button {
	if s.Forum != nil {
		return [][]Button{row(Button{Label: Msg{Key: "button.all_forums"}, Data: encodeButton("", buttonStats, "0")})}
	}
	var buttons [][]Button
	for _, f := range s.Forums[:min(len(s.Forums), maxStatsForums)] {
		buttons = append(buttons, row(Button{Label: Msg{Key: "forum.list_item", Data: map[string]any{"Forum": f.Forum.Name}},
			Data: encodeButton("", buttonStats, strconv.FormatInt(f.Forum.ID, 10))}))
	}
	return buttons
}

// clip shortens s to at most n characters, marking the cut with "…".
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
