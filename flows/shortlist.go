package flows

import (
	"slices"
	"strconv"
	"strings"
)

// This file is the shortlist screen: the forum's teacher and staff pick the
// shortlist in the chat, from the forum card. The screen lists the items and
// the ideas not on the shortlist yet (a page at a time: a class may send 60
// ideas); an idea goes on as its own item with one tap, or several are
// picked and merged into one item with a title (and a short description)
// the teacher types. The store keeps the rules (how many items, whose
// ideas, not once voting has begun) and the bot re-checks the role and
// that the forum is the teacher's own for every change.

// buttonShortlist is every button of the screen: "<forum>:<action>[:<arg>]".
const buttonShortlist = "sl"

// The actions of the shortlist screen's buttons.
const (
	shortlistOpen       = "o" // open the screen, or go to page arg
	shortlistAdd        = "a" // the idea arg as its own item
	shortlistPick       = "t" // pick the idea arg for a merge, or unpick it
	shortlistMerge      = "m" // merge the picked ideas: ask for a title
	shortlistSkip       = "s" // no description for the merged item
	shortlistRemove     = "r" // remove item arg: ask first
	shortlistRemoveYes  = "y" // yes, remove item arg
	shortlistBackToList = "n" // back to the list (no removal, no merge)
)

// CandidatesPerPage is how many ideas one page of the screen lists.
const CandidatesPerPage = 8

// ShortlistScreen is the shortlist screen a teacher or staff member has
// open: which forum, the page, the ideas picked to merge, the item whose
// removal is being confirmed, and the merged item's title once typed.
type ShortlistScreen struct {
	ForumID  int64    `json:"f"`
	Page     int      `json:"p,omitempty"`
	Picked   []string `json:"m,omitempty"`
	Removing int64    `json:"r,omitempty"`
	Title    string   `json:"t,omitempty"`
}

// ShortlistNotYours is a refusal the bot adds to the store's: a teacher
// changing another teacher's forum.
const ShortlistNotYours = "not_yours"

// shortlistRefusals say why the store refused a change of the shortlist.
var shortlistRefusals = map[string]string{
	ShortlistFull:       "shortlist.refused_full",
	ShortlistOtherForum: "shortlist.refused_other_forum",
	ShortlistHidden:     "shortlist.refused_hidden",
	ShortlistTaken:      "shortlist.refused_taken",
	ShortlistUnknown:    "shortlist.refused_unknown",
	ShortlistFrozen:     "shortlist.refused_frozen",
	ShortlistNeedsTitle: "shortlist.refused_needs_title",
	ShortlistBadText:    "shortlist.refused_bad_text",
}

// shortlistButton handles a tap on the screen (or the card's "Shortlist").
func (c *conversation) shortlistButton(b buttonData) {
	parts := strings.SplitN(b.value, ":", 3)
	forumID, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || forumID <= 0 || len(parts) < 2 {
		c.stale()
		return
	}
	action, arg := parts[1], ""
	if len(parts) == 3 {
		arg = parts[2]
	}
	screen := c.st.Shortlist
	if action == shortlistOpen || action == shortlistAdd {
		if screen == nil || screen.ForumID != forumID {
			screen = &ShortlistScreen{ForumID: forumID}
			c.st.Shortlist = screen
		}
	} else if screen == nil || screen.ForumID != forumID {
		c.stale() // a screen of another forum, or one closed since
		return
	}
	c.leaveShortlistQuestion()
	screen.Removing = 0
	if action != shortlistSkip {
		screen.Title = "" // a merge left half-way: Skip on its question is stale now
	}
	switch action {
	case shortlistOpen:
		page, err := strconv.Atoi(arg)
		if arg != "" && (err != nil || page < 0) {
			c.stale()
			return
		}
		screen.Page = page
		c.do(LoadShortlist{ForumID: forumID})
	case shortlistAdd:
		if arg == "" {
			c.stale()
			return
		}
		c.do(AddShortlistItem{ForumID: forumID, Refs: []string{arg}})
	case shortlistPick:
		if arg == "" {
			c.stale()
			return
		}
		screen.Picked = toggleRef(screen.Picked, arg)
		c.do(LoadShortlist{ForumID: forumID})
	case shortlistMerge:
		if len(screen.Picked) < 2 {
			c.stale()
			return
		}
		c.st.Pending = PendingItemTitle
		c.askPending()
	case shortlistRemove, shortlistRemoveYes:
		item, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || item <= 0 {
			c.stale()
			return
		}
		if action == shortlistRemove {
			screen.Removing = item
			c.do(LoadShortlist{ForumID: forumID})
			return
		}
		c.do(RemoveShortlistItem{ForumID: forumID, ItemID: item})
	case shortlistSkip:
		if screen.Title == "" {
			c.stale()
			return
		}
		c.merge("")
	case shortlistBackToList:
		c.do(LoadShortlist{ForumID: forumID})
	default:
		c.stale()
	}
}

// leaveShortlistQuestion drops the merge's question when a button of the
// screen is tapped instead of answering it.
func (c *conversation) leaveShortlistQuestion() {
	if c.st.Pending == PendingItemTitle || c.st.Pending == PendingItemDescription {
		c.st.Pending = PendingNone
	}
}

// shortlistText handles the merged item's title, then its description.
func (c *conversation) shortlistText() {
	text, ok := c.in.What.(Text)
	if !ok {
		c.say("error.text_expected", nil)
		c.askPending()
		return
	}
	limit := MaxItemTitle
	if c.st.Pending == PendingItemDescription {
		limit = MaxItemDescription
	}
	a, problem := c.validText(text.Text, limit)
	if problem != nil {
		c.replies = append(c.replies, Reply{Text: *problem})
		c.askPending()
		return
	}
	if c.st.Pending == PendingItemTitle {
		c.st.Shortlist.Title = a.Text
		c.st.Pending = PendingItemDescription
		c.askPending()
		return
	}
	c.merge(a.Text)
}

// merge asks the store for one item of the picked ideas, in the words (and
// the language) of the teacher.
func (c *conversation) merge(description string) {
	screen := c.st.Shortlist
	c.st.Pending = PendingNone
	c.do(AddShortlistItem{ForumID: screen.ForumID, Refs: slices.Clone(screen.Picked), Lang: c.st.Lang,
		Text: &ItemText{Title: screen.Title, Description: description}})
	screen.Title = ""
}

// askShortlistQuestion asks for the merged item's title or description.
func (c *conversation) askShortlistQuestion() {
	screen := c.st.Shortlist
	back := c.shortlistButton1("button.cancel", screen.ForumID, shortlistBackToList, "")
	if c.st.Pending == PendingItemTitle {
		c.say("shortlist.title_ask", map[string]any{"Count": len(screen.Picked), "Refs": strings.Join(screen.Picked, ", "), "Max": MaxItemTitle}, row(back))
		return
	}
	skip := c.shortlistButton1("button.skip", screen.ForumID, shortlistSkip, "")
	c.say("shortlist.description_ask", map[string]any{"Title": screen.Title, "Max": MaxItemDescription}, row(skip, back))
}

func (c *conversation) shortlistButton1(label string, forumID int64, action, arg string) Button {
	return Button{Label: Msg{Key: label}, Data: shortlistData(forumID, action, arg)}
}

// shortlistData is a screen button's data: "|sl|<forum>:<action>[:<arg>]",
// at most 64 bytes with a reference of up to 30 characters.
func shortlistData(forumID int64, action, arg string) string {
	value := strconv.FormatInt(forumID, 10) + ":" + action
	if arg != "" {
		value += ":" + arg
	}
	return encodeButton("", buttonShortlist, value)
}

// showShortlist is the screen, in place of the message tapped: what was
// just done or refused on top, then the items and a page of the ideas not
// on the shortlist yet. Once voting has begun it only shows the items.
func (c *conversation) showShortlist(v ShortlistLoaded) {
	screen := c.st.Shortlist
	if screen == nil || screen.ForumID != v.Forum.ID {
		screen = &ShortlistScreen{ForumID: v.Forum.ID}
		c.st.Shortlist = screen
	}
	if v.Refused != nil && v.Refused.Reason == ShortlistNotYours {
		c.st.Shortlist = nil
		c.say("forum.not_yours", nil)
		return
	}
	var free []ShortlistCandidate
	for _, cand := range v.Candidates {
		if cand.ItemID == 0 {
			free = append(free, cand)
		}
	}
	// Ideas picked that went on the shortlist meanwhile, or were hidden, are
	// picked no more.
	screen.Picked = slices.DeleteFunc(screen.Picked, func(ref string) bool {
		return !slices.ContainsFunc(free, func(cand ShortlistCandidate) bool { return cand.Ref == ref })
	})
	if screen.Removing != 0 && c.askRemoval(v) {
		return
	}
	screen.Removing = 0
	pages := max((len(free)+CandidatesPerPage-1)/CandidatesPerPage, 1)
	screen.Page = min(max(screen.Page, 0), pages-1)
	editable := ShortlistEditable(v.Forum.Phase)
	id := v.Forum.ID

	var items Lines
	for _, it := range v.Items {
		n := len(it.Ideas)
		items = append(items, Msg{Key: "shortlist.item", Count: &n, Data: map[string]any{"N": it.Position, "Title": it.Text(c.st.Lang).Title}})
	}
	if len(items) == 0 {
		items = Lines{{Key: "shortlist.no_items"}}
	}
	data := map[string]any{"Forum": v.Forum.Name, "Items": items, "Count": len(v.Items), "Max": v.Forum.ShortlistSize}
	notice := Lines{}
	if v.Done != "" {
		notice = append(notice, Msg{Key: v.Done})
	}
	if v.Refused != nil {
		key, known := shortlistRefusals[v.Refused.Reason]
		if !known {
			key = "error.store"
		}
		notice = append(notice, Msg{Key: key, Data: map[string]any{"Ref": v.Refused.Ref, "Max": v.Forum.ShortlistSize}})
	}
	data["Notice"] = notice

	var rows [][]Button
	if !editable {
		data["Candidates"] = Msg{Key: "shortlist.frozen"}
	} else {
		from := screen.Page * CandidatesPerPage
		page := free[min(from, len(free)):min(from+CandidatesPerPage, len(free))]
		var lines Lines
		for _, cand := range page {
			lines = append(lines, c.candidateLine(cand, slices.Contains(screen.Picked, cand.Ref)))
			pick := "shortlist.pick_button"
			if slices.Contains(screen.Picked, cand.Ref) {
				pick = "shortlist.picked_button"
			}
			rows = append(rows, row(
				Button{Label: Msg{Key: "shortlist.add_button", Data: map[string]any{"Ref": cand.Ref}}, Data: shortlistData(id, shortlistAdd, cand.Ref)},
				Button{Label: Msg{Key: pick, Data: map[string]any{"Ref": cand.Ref}}, Data: shortlistData(id, shortlistPick, cand.Ref)}))
		}
		if len(free) == 0 {
			data["Candidates"] = Msg{Key: "shortlist.no_candidates"}
		} else {
			data["Candidates"] = Msg{Key: "shortlist.candidates", Data: map[string]any{
				"Lines": lines, "Page": screen.Page + 1, "Pages": pages, "Total": len(free)}}
		}
		if len(screen.Picked) >= 2 {
			count := len(screen.Picked)
			rows = append(rows, row(Button{Label: Msg{Key: "shortlist.merge_button", Count: &count}, Data: shortlistData(id, shortlistMerge, "")}))
		}
		var nav []Button
		if screen.Page > 0 {
			nav = append(nav, Button{Label: Msg{Key: "button.page_previous"}, Data: shortlistData(id, shortlistOpen, strconv.Itoa(screen.Page-1))})
		}
		if screen.Page+1 < pages {
			nav = append(nav, Button{Label: Msg{Key: "button.page_next"}, Data: shortlistData(id, shortlistOpen, strconv.Itoa(screen.Page+1))})
		}
		if len(nav) > 0 {
			rows = append(rows, nav)
		}
		var removes []Button
		for _, it := range v.Items {
			removes = append(removes, Button{Label: Msg{Key: "shortlist.remove_button", Data: map[string]any{"N": it.Position}},
				Data: shortlistData(id, shortlistRemove, strconv.FormatInt(it.ID, 10))})
		}
		rows = append(rows, chunks(removes, 5)...)
	}
	if len(screen.Picked) > 0 && editable {
		data["Picked"] = Msg{Key: "shortlist.picked", Data: map[string]any{"Refs": strings.Join(screen.Picked, ", ")}}
	} else {
		data["Picked"] = ""
	}
	rows = append(rows, row(Button{Label: Msg{Key: "button.back_to_card"}, Data: encodeButton("", buttonForumCard, strconv.FormatInt(id, 10))}))
	c.replies = append(c.replies, Reply{Text: Msg{Key: "shortlist.screen", Data: data}, Buttons: rows, Replace: true})
}

// candidateLine is one idea on the screen: its reference, title, category,
// place (typed, or a pin), and how many ideas were marked as its duplicates.
func (c *conversation) candidateLine(cand ShortlistCandidate, picked bool) Msg {
	place := any(cand.Place)
	switch {
	case cand.Place == "" && cand.Pinned:
		place = Msg{Key: "shortlist.pin"}
	case cand.Place == "":
		place = Msg{Key: "review.none"}
	}
	category := any(cand.Category) // one the questions no longer offer, as stored
	if step, ok := StepByID(StepCategory); ok && slices.Contains(step.Answer.Choices, cand.Category) {
		category = Msg{Key: ChoiceLabel(StepCategory, cand.Category)}
	}
	similar := any("")
	if n := cand.Similar; n > 0 {
		similar = Msg{Key: "shortlist.similar", Count: &n}
	}
	return Msg{Key: "shortlist.candidate", Data: map[string]any{
		"Ref": cand.Ref, "Title": cand.Title, "Category": category, "Place": place, "Picked": picked, "Similar": similar}}
}

// askRemoval asks before an item goes; false if the item is gone already.
func (c *conversation) askRemoval(v ShortlistLoaded) bool {
	screen := c.st.Shortlist
	i := slices.IndexFunc(v.Items, func(it ShortlistItem) bool { return it.ID == screen.Removing })
	if i < 0 || !ShortlistEditable(v.Forum.Phase) {
		return false
	}
	it := v.Items[i]
	item := strconv.FormatInt(it.ID, 10)
	n := len(it.Ideas)
	c.replies = append(c.replies, Reply{
		Text: Msg{Key: "shortlist.remove_confirm", Count: &n, Data: map[string]any{"N": it.Position, "Title": it.Text(c.st.Lang).Title}},
		Buttons: [][]Button{row(
			c.shortlistButton1("shortlist.remove_yes", v.Forum.ID, shortlistRemoveYes, item),
			c.shortlistButton1("shortlist.remove_no", v.Forum.ID, shortlistBackToList, ""))},
		Replace: true,
	})
	return true
}

func toggleRef(refs []string, ref string) []string {
	if i := slices.Index(refs, ref); i >= 0 {
		return slices.Delete(slices.Clone(refs), i, i+1)
	}
	return append(slices.Clone(refs), ref)
}
