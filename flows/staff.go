package flows

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// What city staff do in the chat: go through new ideas one by one (/review)
// and take the ideas home as a file (/export). Only staff may; anyone else
// is answered as if the commands did not exist.

// PendingDuplicate asks staff for the reference of the idea a reviewed one repeats.
const PendingDuplicate Pending = "duplicate"

// ReviewItem is an idea as staff review it.
type ReviewItem struct {
	Ref, Forum, Title, Description, WorksWell, Improve, Scope, Category, PlaceText, PhotoID string
	Lat, Lon                                                                                *float64
	Flagged                                                                                 bool
	SentAt                                                                                  time.Time
	// The language the student wrote in, and whether they would help (yes,
	// maybe, no).
	Language, WantsToHelp string
	// What became of it: its status, the answer to its author, why it is
	// hidden and the idea it repeats ("" for none).
	Status, Answer, HiddenReason, DuplicateOf string
}

// Review decisions.
const (
	DecisionAccept    = "accept"
	DecisionDuplicate = "duplicate"
	DecisionStatus    = "status" // sets ReviewDecision.Status
	DecisionUnhide    = "unhide" // publishes a hidden idea again
)

// DecisionStatuses are the statuses a DecisionStatus may set: a duplicate
// needs its original (DecisionDuplicate), and nothing goes back to new.
var DecisionStatuses = []string{StatusUnderReview, StatusSelected, StatusInProgress, StatusDone, StatusNotFeasible}

// ReviewDecision is what staff decided about one idea.
type ReviewDecision struct {
	Ref, Decision, DuplicateOf string
	// Status is what a DecisionStatus sets; Answer is what the author is
	// told with a status or a duplicate ("" keeps the answer they have).
	Status, Answer string
}

var exportFormatLabels = map[string]string{
	"xlsx": "button.export_xlsx", "csv": "button.export_csv", "geojson": "button.export_geojson",
	"map": "button.export_map", "pinsgeojson": "button.export_pinsgeojson", "pinscsv": "button.export_pinscsv",
}

// exportable reports whether staff may ask for a file in format.
func exportable(format string) bool {
	return slices.Contains(ExportFormats, format) || slices.Contains(PinFormats, format)
}

// Buttons of staff messages.
const (
	buttonStaffReview  = "rv"  // "<ref>:<decision>" on a /review card (see reviewButton)
	buttonStaffIdea    = "ri"  // the same, on an idea shown with /idea
	buttonExportFormat = "ex"  // xlsx, csv, geojson
	buttonExportForum  = "exf" // "<format>:<forum id, 0 for all>"
	maxReviewSkips     = 200
)

func (c *conversation) reviewCommand(CommandSent) {
	c.st.ReviewSkip = nil
	c.do(NextReview{})
}

func (c *conversation) exportCommand(CommandSent) {
	var ideas, pins []Button
	for _, f := range ExportFormats {
		ideas = append(ideas, Button{Label: Msg{Key: exportFormatLabels[f]}, Data: encodeButton("", buttonExportFormat, f)})
	}
	for _, f := range PinFormats {
		pins = append(pins, Button{Label: Msg{Key: exportFormatLabels[f]}, Data: encodeButton("", buttonExportFormat, f)})
	}
	// The map's files one per row: their names are long for three on a phone.
	c.say("export.pick_format", nil, append([][]Button{ideas}, chunks(pins, 1)...)...)
}

// reviewButton handles a decision tapped on an idea's card, the value
// "<ref>:<what>": accept, hide (asks why), hide_<reason>, unhide,
// st_<status>, dup (asks for the original), skip (/review only), or cancel
// (the question a decision asked).
func (c *conversation) reviewButton(b buttonData) {
	ref, what, _ := strings.Cut(b.value, ":")
	fromIdea := b.step == buttonStaffIdea
	if !validRef(ref) {
		c.stale()
		return
	}
	switch {
	case what == "cancel":
		c.cancelDecision(ref)
	case what == "skip" && !fromIdea:
		c.endDecision()
		if len(c.st.ReviewSkip) < maxReviewSkips {
			c.st.ReviewSkip = append(c.st.ReviewSkip, ref)
		}
		c.do(NextReview{Skip: c.st.ReviewSkip})
	case what == "hide":
		c.endDecision()
		btn := func(reason string) Button {
			return Button{Label: Msg{Key: "button." + HidePrefix + reason}, Data: encodeButton("", b.step, ref+":"+HidePrefix+reason)}
		}
		c.say("staffdecide.hide_ask", map[string]any{"Ref": ref},
			row(btn(HideAbusive), btn(HideOffTopic)), row(btn(HidePersonalData)))
	case what == "dup":
		c.endDecision()
		c.st.Pending, c.st.Reviewing, c.st.Deciding = PendingDuplicate, ref, &Deciding{Status: StatusDuplicate, FromIdea: fromIdea}
		c.askPending()
	default:
		d, ok := decisionOf(ref, what)
		if !ok {
			c.stale()
			return
		}
		c.endDecision()
		if StatusNeedsAnswer(d.Status) { // the student must hear why: ask first
			c.st.Pending, c.st.Reviewing, c.st.Deciding = PendingStaffAnswer, ref, &Deciding{Status: d.Status, FromIdea: fromIdea}
			c.askPending()
			return
		}
		c.do(StoreReview{Decision: d, FromIdea: fromIdea})
	}
}

// decisionOf is the decision a button's what stands for, if any.
func decisionOf(ref, what string) (ReviewDecision, bool) {
	d := ReviewDecision{Ref: ref, Decision: what}
	reason, hiding := strings.CutPrefix(what, HidePrefix)
	status, setting := strings.CutPrefix(what, statusPrefix)
	switch {
	case what == DecisionAccept, what == DecisionUnhide, hiding && slices.Contains(HideReasons, reason):
	case setting && slices.Contains(DecisionStatuses, status):
		d.Decision, d.Status = DecisionStatus, status
	default:
		return ReviewDecision{}, false
	}
	return d, true
}

func (c *conversation) exportButton(b buttonData) {
	switch b.step {
	case buttonExportFormat:
		if !exportable(b.value) {
			c.stale()
			return
		}
		c.do(ListExportForums{Format: b.value})
	case buttonExportForum:
		format, id, _ := strings.Cut(b.value, ":")
		forumID, err := strconv.ParseInt(id, 10, 64)
		if !exportable(format) || err != nil || forumID < 0 {
			c.stale()
			return
		}
		c.do(ExportIdeas{Format: format, ForumID: forumID})
	default:
		c.stale()
	}
}

// duplicateOf handles the reference typed for "a duplicate of which
// idea?": an idea that exists, and not the same one, is asked about next.
func (c *conversation) duplicateOf() {
	ref, ok := c.typedRef()
	switch {
	case !ok:
	case ref == c.st.Reviewing:
		c.say("staffdecide.dup_self", nil)
		c.askPending()
	default:
		c.do(CheckOriginal{Ref: ref})
	}
}

// originalChecked goes on with a duplicate once its original was looked up.
func (c *conversation) originalChecked(w OriginalChecked) {
	if c.st.Pending != PendingDuplicate || c.st.Reviewing == "" {
		return // the question went meanwhile
	}
	if !w.Found {
		c.say("staffreview.dup_unknown", map[string]any{"Ref": w.Ref})
		c.askPending()
		return
	}
	c.st.Pending, c.st.Deciding = PendingStaffAnswer, &Deciding{Status: StatusDuplicate, Of: w.Ref, FromIdea: c.deciding().FromIdea}
	c.askPending()
}

// showReview shows the next idea to review, after saying what was done
// with the last one (if anything).
func (c *conversation) showReview(item *ReviewItem, decided *ReviewDecision) {
	if decided != nil {
		c.decided(*decided)
	}
	if item == nil {
		c.say("staffreview.empty", nil)
		return
	}
	c.replies = append(c.replies, Reply{
		Text:    ideaCard(*item, false),
		PhotoID: item.PhotoID,
		Buttons: decisionButtons(buttonStaffReview, *item),
	})
}

func (c *conversation) exportForums(format string, forums []Forum) {
	buttons := [][]Button{row(Button{Label: Msg{Key: "button.all_forums"}, Data: encodeButton("", buttonExportForum, format+":0")})}
	for i, f := range forums {
		if i == maxListedForums {
			break
		}
		buttons = append(buttons, row(Button{Label: Msg{Key: "forum.list_item", Data: map[string]any{"Forum": f.Name}},
			Data: encodeButton("", buttonExportForum, format+":"+strconv.FormatInt(f.ID, 10))}))
	}
	c.say("export.pick_forum", nil, buttons...)
}
