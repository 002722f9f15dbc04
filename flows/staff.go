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
}

// Review decisions.
const (
	DecisionAccept    = "accept"
	DecisionDuplicate = "duplicate"
)

// ReviewDecision is what staff decided about one idea.
type ReviewDecision struct {
	Ref, Decision, DuplicateOf string
}

var exportFormatLabels = map[string]string{
	"xlsx": "button.export_xlsx", "csv": "button.export_csv", "geojson": "button.export_geojson",
}

// Buttons of staff messages.
const (
	buttonStaffReview  = "rv"  // "<ref>:<accept|hide_abusive|hide_off_topic|hide_personal_data|dup|skip>"
	buttonExportFormat = "ex"  // xlsx, csv, geojson
	buttonExportForum  = "exf" // "<format>:<forum id, 0 for all>"
	maxReviewSkips     = 200
)

func (c *conversation) reviewCommand(CommandSent) {
	c.st.ReviewSkip = nil
	c.do(NextReview{})
}

func (c *conversation) exportCommand(CommandSent) {
	var buttons []Button
	for _, f := range ExportFormats {
		buttons = append(buttons, Button{Label: Msg{Key: exportFormatLabels[f]}, Data: encodeButton("", buttonExportFormat, f)})
	}
	c.say("export.pick_format", nil, buttons)
}

func (c *conversation) reviewButton(b buttonData) {
	ref, what, _ := strings.Cut(b.value, ":")
	switch {
	case what == DecisionAccept:
		c.do(StoreReview{Decision: ReviewDecision{Ref: ref, Decision: DecisionAccept}})
	case strings.HasPrefix(what, HidePrefix) && slices.Contains(HideReasons, strings.TrimPrefix(what, HidePrefix)):
		c.do(StoreReview{Decision: ReviewDecision{Ref: ref, Decision: what}})
	case what == "dup":
		c.st.Pending, c.st.Reviewing = PendingDuplicate, ref
		c.askPending()
	case what == "skip":
		if len(c.st.ReviewSkip) < maxReviewSkips {
			c.st.ReviewSkip = append(c.st.ReviewSkip, ref)
		}
		c.do(NextReview{Skip: c.st.ReviewSkip})
	default:
		c.stale()
	}
}

func (c *conversation) exportButton(b buttonData) {
	switch b.step {
	case buttonExportFormat:
		if !slices.Contains(ExportFormats, b.value) {
			c.stale()
			return
		}
		c.do(ListExportForums{Format: b.value})
	case buttonExportForum:
		format, id, _ := strings.Cut(b.value, ":")
		forumID, err := strconv.ParseInt(id, 10, 64)
		if !slices.Contains(ExportFormats, format) || err != nil || forumID < 0 {
			c.stale()
			return
		}
		c.do(ExportIdeas{Format: format, ForumID: forumID})
	default:
		c.stale()
	}
}

// duplicateOf handles the reference typed for "a duplicate of which idea?".
func (c *conversation) duplicateOf() {
	text, _ := c.in.What.(Text)
	ref := strings.ToUpper(strings.TrimSpace(text.Text))
	if ref == "" {
		c.say("error.text_expected", nil)
		c.askPending()
		return
	}
	if !strings.HasPrefix(ref, "N-") {
		ref = "N-" + ref
	}
	reviewing := c.st.Reviewing
	c.st.Pending, c.st.Reviewing = PendingNone, ""
	c.do(StoreReview{Decision: ReviewDecision{Ref: reviewing, Decision: DecisionDuplicate, DuplicateOf: ref}})
}

// showReview shows the next idea to review, after saying what was done
// with the last one (done is a locale key, or "").
func (c *conversation) showReview(item *ReviewItem, done string, doneData map[string]any) {
	if done != "" {
		c.say(done, doneData)
	}
	if item == nil {
		c.say("staffreview.empty", nil)
		return
	}
	none := Msg{Key: "review.none"}
	orNone := func(s string) any {
		if s == "" {
			return none
		}
		return s
	}
	place := orNone(item.PlaceText)
	if item.Lat != nil && item.Lon != nil {
		place = Msg{Key: "review.pin", Data: map[string]any{"Lat": *item.Lat, "Lon": *item.Lon}}
	}
	flag := any("")
	if item.Flagged {
		flag = Msg{Key: "staffreview.flagged"}
	}
	btn := func(label, what string) Button {
		return Button{Label: Msg{Key: label}, Data: encodeButton("", buttonStaffReview, item.Ref+":"+what)}
	}
	c.replies = append(c.replies, Reply{
		Text: Msg{Key: "staffreview.card", Data: map[string]any{
			"Ref": item.Ref, "Forum": item.Forum, "Date": item.SentAt, "Flag": flag,
			"Title": item.Title, "Scope": Msg{Key: "scope." + item.Scope}, "WorksWell": orNone(item.WorksWell),
			"Improve": item.Improve, "Description": item.Description, "Category": Msg{Key: "cat." + item.Category}, "Place": place,
		}},
		PhotoID: item.PhotoID,
		Buttons: [][]Button{
			row(btn("button.review_accept", DecisionAccept)),
			row(btn("button.hide_abusive", HidePrefix+HideAbusive), btn("button.hide_off_topic", HidePrefix+HideOffTopic)),
			row(btn("button.hide_personal_data", HidePrefix+HidePersonalData), btn("button.review_duplicate", "dup")),
			row(btn("button.review_skip", "skip")),
		},
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
