package flows

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Staff decide about an idea on its card, in /review or shown with /idea:
// accept it, give it a status, mark it a duplicate, hide it or publish it
// again. A decision the student must hear a reason for (StatusNeedsAnswer)
// is taken only with the answer staff write when asked.

// Deciding is a decision about State.Reviewing that waits for staff's
// words: the status it sets, the original a duplicate repeats (once
// given), and whether it was taken on the /idea view (shown again after)
// rather than in /review.
type Deciding struct {
	Status   string `json:"s"`
	Of       string `json:"o,omitempty"`
	FromIdea bool   `json:"i,omitempty"`
}

// IdeaView is one idea as staff look it up (/idea): its card and its
// latest changes, oldest first; Earlier is how many older ones were left
// out.
type IdeaView struct {
	Item    ReviewItem
	History []IdeaChange
	Earlier int
}

// MaxIdeaHistory is how many changes /idea shows: a message holds them.
const MaxIdeaHistory = 20

// IdeaChange is one entry of an idea's history.
type IdeaChange struct {
	At time.Time
	// By is who made it: a shortened pseudonym, or "" for the command line.
	By   string
	Kind string // one of the Change* kinds
	// Status is the new status (ChangeStatus); Answered: an answer to the
	// author came with it. Reason is why it was hidden (ChangeHide).
	Status   string
	Answered bool
	Reason   string
}

// The kinds of change in an idea's history.
const (
	ChangeStatus = "status" // its status changed
	ChangeAnswer = "answer" // only the answer to its author changed
	ChangeHide   = "hide"
	ChangeUnhide = "unhide"
)

// statusPrefix starts a decision button that sets a status: st_<status>.
const statusPrefix = "st_"

// maxRefChars bounds the characters after "N-" of a reference typed or
// carried by a button (stored ones have 4 or 5).
const maxRefChars = 12

// validRef reports whether ref looks like a reference: "N-" and a few
// capital letters or digits.
func validRef(ref string) bool {
	code, ok := strings.CutPrefix(ref, "N-")
	if !ok || code == "" || len(code) > maxRefChars {
		return false
	}
	for _, r := range code {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// parseRef reads a reference as staff type it: in any case, with or
// without "N-".
func parseRef(typed string) (string, bool) {
	ref := strings.ToUpper(strings.TrimSpace(typed))
	if !strings.HasPrefix(ref, "N-") {
		ref = "N-" + ref
	}
	return ref, validRef(ref)
}

// deciding is the decision waiting for staff's words; a state written
// before decisions had one asks for a duplicate's original.
func (c *conversation) deciding() Deciding {
	if c.st.Deciding == nil {
		return Deciding{Status: StatusDuplicate}
	}
	return *c.st.Deciding
}

// endDecision closes a question a decision (or /idea) asked.
func (c *conversation) endDecision() {
	switch c.st.Pending {
	case PendingDuplicate, PendingStaffAnswer, PendingIdeaRef:
		c.st.Pending = PendingNone
	}
	c.st.Reviewing, c.st.Deciding = "", nil
}

// cancelDecision drops the question a decision about ref asked (its
// Cancel button).
func (c *conversation) cancelDecision(ref string) {
	if c.st.Reviewing != ref || (c.st.Pending != PendingDuplicate && c.st.Pending != PendingStaffAnswer) {
		c.stale()
		return
	}
	c.endDecision()
	c.say("staffdecide.cancelled", nil)
}

// askDecision asks the question of a decision waiting for staff's words.
func (c *conversation) askDecision() {
	ref := c.st.Reviewing
	cancel := row(Button{Label: Msg{Key: "button.cancel"}, Data: encodeButton("", buttonStaffReview, ref+":cancel")})
	d := c.deciding()
	switch {
	case c.st.Pending == PendingDuplicate:
		c.say("staffreview.dup_ask", map[string]any{"Ref": ref}, cancel)
	case d.Status == StatusDuplicate:
		c.say("staffdecide.dup_answer_ask", map[string]any{"Ref": ref, "Of": d.Of, "Max": MaxStaffAnswer}, cancel)
	default:
		c.say("staffdecide.answer_ask", map[string]any{"Ref": ref, "Status": staffStatus(d.Status), "Max": MaxStaffAnswer}, cancel)
	}
}

// staffAnswer handles what staff wrote for the student about a decision,
// and takes the decision with it. The question stays open until the
// decision is stored, so a failed store can be answered by sending the
// answer again.
func (c *conversation) staffAnswer() {
	answer, ok := c.pendingText(MaxStaffAnswer)
	if !ok {
		return
	}
	d, ref := c.deciding(), c.st.Reviewing
	decision := ReviewDecision{Ref: ref, Decision: DecisionStatus, Status: d.Status, Answer: answer}
	if d.Status == StatusDuplicate {
		decision = ReviewDecision{Ref: ref, Decision: DecisionDuplicate, DuplicateOf: d.Of, Answer: answer}
	}
	c.do(StoreReview{Decision: decision, FromIdea: d.FromIdea})
}

// decided says what was done with an idea; the question it asked, if
// any, is answered.
func (c *conversation) decided(d ReviewDecision) {
	c.endDecision()
	data := map[string]any{"Ref": d.Ref, "Of": d.DuplicateOf}
	switch {
	case d.Decision == DecisionAccept:
		c.say("staffreview.accepted", data)
	case strings.HasPrefix(d.Decision, HidePrefix):
		c.say("staffreview.hidden", data)
	case d.Decision == DecisionUnhide:
		c.say("staffdecide.unhidden", data)
	case d.Decision == DecisionDuplicate:
		c.say("staffreview.duplicate", data)
	case d.Answer != "":
		data["Status"] = staffStatus(d.Status)
		c.say("staffdecide.status_answered", data)
	default:
		data["Status"] = staffStatus(d.Status)
		c.say("staffdecide.status_set", data)
	}
}

// ideaCard is an idea as staff see it. What became of it is shown when
// something did, or always (on /idea).
func ideaCard(item ReviewItem, always bool) Msg {
	none := Msg{Key: "review.none"}
	orNone := func(s string) any {
		if s == "" {
			return none
		}
		return s
	}
	place, mapLink := orNone(item.PlaceText), any("")
	if item.Lat != nil && item.Lon != nil {
		place = Msg{Key: "review.pin", Data: map[string]any{"Lat": *item.Lat, "Lon": *item.Lon}}
		mapLink = Msg{Key: "staffcard.map", Data: map[string]any{"Link": MapLink(*item.Lat, *item.Lon)}}
	}
	flag := any("")
	if item.Flagged {
		flag = Msg{Key: "staffreview.flagged"}
	}
	language := any(item.Language)
	if slices.Contains(Languages, item.Language) {
		language = Msg{Key: "lang." + item.Language}
	}
	help := any(none)
	if step, _ := StepByID(StepHelp); slices.Contains(step.Answer.Choices, item.WantsToHelp) {
		help = Msg{Key: "staffhelp." + item.WantsToHelp}
	}
	state := any("")
	if always || item.Status != StatusNew || item.HiddenReason != "" || item.Answer != "" {
		state = ideaState(item)
	}
	return Msg{Key: "staffreview.card", Data: map[string]any{
		"Ref": item.Ref, "Forum": item.Forum, "Date": item.SentAt, "Flag": flag,
		"Title": item.Title, "Scope": Msg{Key: forumScope[item.Scope]}, "WorksWell": orNone(item.WorksWell),
		"Improve": item.Improve, "Description": item.Description, "Category": Msg{Key: "cat." + item.Category}, "Place": place,
		"Map": mapLink, "Language": language, "Help": help, "State": state,
	}}
}

// ideaState is what became of an idea, for its card.
func ideaState(item ReviewItem) Msg {
	data := map[string]any{"Status": staffStatus(item.Status), "Answer": "", "Hidden": "", "Of": ""}
	if item.Answer != "" {
		data["Answer"] = Msg{Key: "staffcard.answer", Data: map[string]any{"Answer": item.Answer}}
	}
	if item.HiddenReason != "" {
		data["Hidden"] = Msg{Key: "staffcard.hidden", Data: map[string]any{"Reason": hideReason(item.HiddenReason)}}
	}
	if item.Status == StatusDuplicate && item.DuplicateOf != "" {
		data["Of"] = Msg{Key: "staffcard.duplicate_of", Data: map[string]any{"Of": item.DuplicateOf}}
	}
	return Msg{Key: "staffcard.state", Data: data}
}

// MapLink is a link to the place on OpenStreetMap, with a marker.
func MapLink(lat, lon float64) string {
	la, lo := strconv.FormatFloat(lat, 'f', 5, 64), strconv.FormatFloat(lon, 'f', 5, 64)
	return "https://www.openstreetmap.org/?mlat=" + la + "&mlon=" + lo + "#map=18/" + la + "/" + lo
}

// staffStatus is a status as staff call it (a value the vocabulary does
// not know is shown as it is).
func staffStatus(status string) any {
	if slices.Contains(Statuses, status) {
		return Msg{Key: "staffstatus." + status}
	}
	return status
}

// hideReason is why an idea is hidden, as staff call it.
func hideReason(reason string) any {
	if slices.Contains(HideReasons, reason) {
		return Msg{Key: "staffhidden." + reason}
	}
	return reason
}

// decisionButtons are the decisions under an idea's card; kind says where
// it is shown (buttonStaffReview or buttonStaffIdea).
func decisionButtons(kind string, item ReviewItem) [][]Button {
	btn := func(label, what string) Button {
		return Button{Label: Msg{Key: label}, Data: encodeButton("", kind, item.Ref+":"+what)}
	}
	last := row(btn("staffbutton.hide", "hide"))
	if item.HiddenReason != "" {
		last = row(btn("staffbutton.unhide", DecisionUnhide))
	}
	if kind == buttonStaffReview {
		last = append(last, btn("button.review_skip", "skip"))
	}
	return [][]Button{
		row(btn("button.review_accept", DecisionAccept)),
		row(btn("staffbutton.selected", statusPrefix+StatusSelected), btn("staffbutton.in_progress", statusPrefix+StatusInProgress),
			btn("staffbutton.done", statusPrefix+StatusDone)),
		row(btn("staffbutton.not_feasible", statusPrefix+StatusNotFeasible), btn("button.review_duplicate", "dup")),
		last,
	}
}

// ideaCommand is /idea N-XXXX: one idea with its history, to decide from.
func (c *conversation) ideaCommand(w CommandSent) {
	c.argOrAsk(w, PendingIdeaRef, c.findIdea)
}

// ideaRef handles the reference typed for "which idea?".
func (c *conversation) ideaRef() {
	if ref, ok := c.typedRef(); ok {
		c.st.Pending = PendingNone
		c.do(LoadIdea{Ref: ref})
	}
}

// typedRef is the reference written for a question that asks for one;
// when it is none, staff are told so and asked again.
func (c *conversation) typedRef() (string, bool) {
	text, _ := c.in.What.(Text)
	ref, ok := parseRef(text.Text)
	switch {
	case strings.TrimSpace(text.Text) == "":
		c.say("error.text_expected", nil)
	case !ok:
		c.say("staffidea.bad_ref", nil)
	default:
		return ref, true
	}
	c.askPending()
	return "", false
}

func (c *conversation) findIdea(typed string) {
	ref, ok := parseRef(typed)
	if !ok {
		c.say("staffidea.bad_ref", nil)
		return
	}
	c.do(LoadIdea{Ref: ref})
}

// ideaLoaded shows an idea looked up with /idea, or shows it again after
// a decision taken on it.
func (c *conversation) ideaLoaded(w IdeaLoaded) {
	if w.Decided != nil {
		c.decided(*w.Decided)
	}
	if w.Idea == nil {
		c.say("staffidea.unknown", map[string]any{"Ref": w.Ref})
		return
	}
	v := w.Idea
	var history Lines
	if v.Earlier > 0 {
		n := v.Earlier
		history = append(history, Msg{Key: "staffidea.earlier", Count: &n})
	}
	for _, ch := range v.History {
		if line, ok := changeLine(ch); ok {
			history = append(history, line)
		}
	}
	if len(history) == 0 {
		history = Lines{{Key: "staffidea.no_history"}}
	}
	r := Reply{
		Text:    Msg{Key: "staffidea.view", Data: map[string]any{"Card": ideaCard(v.Item, true), "History": history}},
		Buttons: decisionButtons(buttonStaffIdea, v.Item),
	}
	if w.Decided == nil { // shown again after a decision: the photo is further up
		r.PhotoID = v.Item.PhotoID
	}
	c.replies = append(c.replies, r)
}

// changeLine is one line of an idea's history.
func changeLine(ch IdeaChange) (Msg, bool) {
	by := any(ch.By)
	if ch.By == "" {
		by = Msg{Key: "staffidea.by_cli"}
	}
	data := map[string]any{"At": ch.At, "By": by}
	switch ch.Kind {
	case ChangeStatus:
		data["Status"] = staffStatus(ch.Status)
		if ch.Answered {
			return Msg{Key: "staffidea.status_answered", Data: data}, true
		}
		return Msg{Key: "staffidea.status", Data: data}, true
	case ChangeAnswer:
		return Msg{Key: "staffidea.answer", Data: data}, true
	case ChangeHide:
		data["Reason"] = hideReason(ch.Reason)
		return Msg{Key: "staffidea.hidden", Data: data}, true
	case ChangeUnhide:
		return Msg{Key: "staffidea.unhidden", Data: data}, true
	}
	return Msg{}, false
}
