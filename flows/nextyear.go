package flows

// Next year's forum starts with what became of last year's: a student who
// joins a forum that follows another is shown, after the welcome, the items
// last year's class chose and the public answer to each.

// MaxLastYearItems is how many of last year's items the welcome lists: a
// short message, like the shortlist it comes from (about ten).
const MaxLastYearItems = 10

// LastYear is the forum a forum follows, with its ranked shortlist.
type LastYear struct {
	Forum   Forum
	Results []ItemResult // ranked (see Rank)
}

// Chosen are the items last year's class chose: when they voted, the items
// with at least one vote, most votes first; when they never voted, the
// shortlist as it was picked. At most MaxLastYearItems.
func (y LastYear) Chosen() []ItemResult {
	voted := false
	for _, r := range y.Results {
		voted = voted || r.Votes > 0
	}
	var chosen []ItemResult
	for _, r := range y.Results {
		if len(chosen) == MaxLastYearItems {
			break
		}
		if !voted || r.Votes > 0 {
			chosen = append(chosen, r)
		}
	}
	return chosen
}

// showLastYear lists what became of last year's chosen items, each with
// its answer's status and the staff's words in the student's language when
// written in it. Nothing when last year's forum had no shortlist.
func (c *conversation) showLastYear(y *LastYear) {
	if y == nil {
		return
	}
	var lines Lines
	for _, r := range y.Chosen() {
		status := Msg{Key: "lastyear.no_answer"}
		if r.Item.AnswerStatus != "" {
			status = Msg{Key: "status." + r.Item.AnswerStatus}
		}
		lines = append(lines, Msg{Key: "lastyear.item", Data: map[string]any{
			"Title": r.Item.Text(c.st.Lang).Title, "Status": status, "Answer": r.Item.Answer(c.st.Lang),
		}})
	}
	if len(lines) == 0 {
		return
	}
	c.say("lastyear.intro", map[string]any{"Forum": y.Forum.Name, "Items": lines})
}
