package flows

import (
	"slices"
	"strconv"
	"strings"
)

// Staff check the comments students wrote on the map, as they check ideas
// (/pins): flagged ones first, each shown with Hide and Keep. A hidden pin
// stays out of the class's results and the teacher's map file.

// buttonPinReview is a decision on a pin: "<pin id>:hide|keep|skip".
const buttonPinReview = "pr"

// maxPinSkips is how many pins one round of /pins passes over at most.
const maxPinSkips = 200

func (c *conversation) pinsCommand(CommandSent) {
	c.st.PinSkip = nil
	c.do(NextPinReview{})
}

func (c *conversation) pinReviewButton(b buttonData) {
	id, what, _ := strings.Cut(b.value, ":")
	pinID, err := strconv.ParseInt(id, 10, 64)
	if err != nil || pinID <= 0 {
		c.stale()
		return
	}
	switch what {
	case "hide", "keep":
		c.do(StorePinReview{ID: pinID, Hide: what == "hide", Skip: c.st.PinSkip})
	case "skip":
		if len(c.st.PinSkip) < maxPinSkips && !slices.Contains(c.st.PinSkip, pinID) {
			c.st.PinSkip = append(c.st.PinSkip, pinID)
		}
		c.do(NextPinReview{Skip: c.st.PinSkip})
	default:
		c.stale()
	}
}

// showPinReview shows the next comment to check, after what became of the
// last one.
func (c *conversation) showPinReview(w PinReviewNext) {
	if w.Decided != "" {
		c.say("pinreview."+w.Decided, nil)
	}
	if w.Pin == nil {
		c.say("pinreview.none", nil)
		return
	}
	p := w.Pin
	feeling := Msg{Key: "feeling." + p.Feeling}
	if p.FeelingLabel != "" {
		feeling = Msg{Key: "layout.plain", Data: map[string]any{"Text": p.FeelingLabel}}
	}
	var place any = Msg{Key: "summary.pin"}
	if p.PlaceText != "" {
		place = p.PlaceText
	}
	id := strconv.FormatInt(p.ID, 10)
	btn := func(label, what string) Button {
		return Button{Label: Msg{Key: label}, Data: encodeButton("", buttonPinReview, id+":"+what)}
	}
	c.say("pinreview.card", map[string]any{"Flagged": p.Flagged, "Forum": p.Forum, "Feeling": feeling, "Place": place, "Comment": p.Comment},
		row(btn("pinreview.button_hide", "hide"), btn("pinreview.button_keep", "keep")), row(btn("pinreview.button_skip", "skip")))
}
