package flows

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is what teachers and city staff do in the chat: set up a forum
// for a class (/newforum), watch how many students take part (/forums), and
// invite teachers (/invite_teacher, staff only). Students who type these
// commands are answered as if they did not exist.

// Roles of the people the bot talks to.
const (
	RoleStudent = ""
	RoleTeacher = "teacher"
	RoleStaff   = "staff"
)

// Actor is who sent an input, as far as permissions go.
type Actor struct {
	Role string
	Town string // the teacher's town, from their invite
}

// ForumSetupSteps are the questions of /newforum, in order.
var ForumSetupSteps = []Step{
	{ID: SetupName, Question: "setup.name_ask", Answer: FreeText(100)},
	{ID: SetupSchool, Question: "setup.school_ask", Answer: FreeText(100)},
	{ID: SetupTown, Question: "setup.town_ask", Answer: FreeText(60)},
	{ID: SetupScope, Question: "setup.scope_ask", Answer: OneOf(Scopes...)},
	{ID: SetupCloses, Question: "setup.closes_ask", Answer: DateAnswer(), Optional: true},
	{ID: SetupLanguages, Question: "setup.languages_ask", Answer: SomeOf(Languages...)},
}

// Steps of /newforum.
const (
	SetupName      StepID = "fname"
	SetupSchool    StepID = "fschool"
	SetupTown      StepID = "ftown"
	SetupScope     StepID = "fscope"
	SetupCloses    StepID = "fcloses"
	SetupLanguages StepID = "flangs"
	SetupConfirm   StepID = "fconfirm"
)

// The answer kinds only teachers meet.
const (
	DateAnswerKind AnswerKind = iota + 100 // a day, e.g. 15.12.2026
	ManyAnswerKind                         // several of a few buttons, then Done
)

// DateAnswer accepts a day from today to a year ahead.
func DateAnswer() AnswerRule { return AnswerRule{Kind: DateAnswerKind} }

// SomeOf accepts one or more of the choices.
func SomeOf(choices ...string) AnswerRule { return AnswerRule{Kind: ManyAnswerKind, Choices: choices} }

// Setup is a forum being set up with /newforum.
type Setup struct {
	Step      StepID   `json:"s"`
	Tag       string   `json:"t"`
	Name      string   `json:"n,omitempty"`
	School    string   `json:"sc,omitempty"`
	Town      string   `json:"tw,omitempty"`
	Scope     string   `json:"sp,omitempty"`
	ClosesOn  string   `json:"c,omitempty"` // 2006-01-02, or "" for none
	Languages []string `json:"l,omitempty"`
}

// ForumSpec is a forum to create.
type ForumSpec struct {
	Name, School, Town, Scope string
	Languages                 []string
	ClosesOn                  string // 2006-01-02 in the city's time zone, or ""
	// Key is the same however often this set-up's "create" is handled, so
	// the forum is created once.
	Key string
	// Previous is the join code of last year's forum, which this one
	// follows ("": none); it must be a forum of the same town.
	Previous string
}

// ForumCard is a forum with its participation figures.
type ForumCard struct {
	Forum Forum
	Stats ForumStats
}

// InviteOutcome is what opening a teacher invite link led to.
type InviteOutcome struct {
	Result string // InviteAccepted, InviteUnknown, InviteUsed or InviteExpired
	Town   string
}

// JoinLink and InviteLink are links in a message; the bot writes them out,
// because only it knows its own username.
type (
	JoinLink   struct{ Code string }
	InviteLink struct{ Code string }
)

// forumScope is the locale key of a scope as teachers and staff say it
// ("School", where a student taps "My school").
var forumScope = map[string]string{
	ScopeSchool: "scope.forum_school",
	ScopeTown:   "scope.forum_town",
	ScopeBoth:   "scope.forum_both",
}

// maxListedForums is how many forums /forums shows as buttons.
const maxListedForums = 50

// Buttons of teachers' messages.
const (
	buttonSetup     = "fs" // a choice in /newforum
	buttonSetupLang = "fl" // toggle a language
	buttonSetupNav  = "fn" // back, skip, cancel, done, create, use preset town
	buttonForumCard = "fc" // open a forum's card
	buttonForumQR   = "fq" // show the QR code again
	// buttonForumQRChoice: the QR code opens Telegram (0) or a page that
	// offers Telegram or the browser (1): "<id>:<0|1>".
	buttonForumQRChoice = "fw"
	buttonForumOpen     = "fo" // close (0) or reopen (1): "<id>:<0|1>"
	buttonForumClose    = "fd" // change the closing date
	// move to another phase: "<id>:<from>:<to>" asks, with ":yes" or ":no" answers
	buttonForumPhase = "fp"
	// buttonForumPicture makes the results picture to project.
	buttonForumPicture = "fr"
	// the day voting opens (o) or closes (c): "<id>:<o|c>" asks, with
	// ":none" or ":keep" answers
	buttonForumVoteDay = "fv"
)

// Which of the voting days a button is about.
const (
	voteOpens  = "o"
	voteCloses = "c"
)

func (c *conversation) inviteTeacher(w CommandSent) {
	town := strings.TrimSpace(w.Arg)
	if town == "" {
		town = c.in.Actor.Town
	}
	if town == "" {
		c.say("invite.need_town", nil)
		return
	}
	c.do(CreateInvite{Town: town})
}

func (c *conversation) newForum(CommandSent) {
	c.st.Setup = &Setup{Step: SetupName, Tag: c.in.EventID, Town: c.in.Actor.Town, Languages: append([]string(nil), Languages...)}
	c.askSetup()
}

func (c *conversation) forums(CommandSent) { c.do(ListForums{}) }

// setupAnswer handles text while a forum is being set up.
func (c *conversation) setupAnswer() {
	su := c.st.Setup
	step, ok := setupStep(su.Step)
	if !ok || su.Step == SetupConfirm || (step.Answer.Kind != TextAnswer && step.Answer.Kind != DateAnswerKind) {
		c.say("error.tap_button", nil)
		c.askSetup()
		return
	}
	text, ok := c.in.What.(Text)
	if !ok {
		c.say("error.text_expected", nil)
		c.askSetup()
		return
	}
	if step.Answer.Kind == DateAnswerKind {
		day, problem := parseDay(text.Text, c.now)
		if problem != "" {
			c.say(problem, nil)
			c.askSetup()
			return
		}
		su.ClosesOn = day
		c.nextSetup()
		return
	}
	a, problem := c.validText(text.Text, step.Answer.MaxLen)
	if problem != nil {
		c.replies = append(c.replies, Reply{Text: *problem})
		c.askSetup()
		return
	}
	switch su.Step {
	case SetupName:
		su.Name = a.Text
	case SetupSchool:
		su.School = a.Text
	case SetupTown:
		su.Town = a.Text
	}
	c.nextSetup()
}

// setupButton handles a tap on a /newforum button.
func (c *conversation) setupButton(b buttonData) {
	su := c.st.Setup
	if su == nil || b.draft != su.Tag {
		c.stale()
		return
	}
	switch b.step {
	case buttonSetup:
		if step, ok := setupStep(su.Step); ok && step.Answer.Kind == ChoiceAnswer && slices.Contains(step.Answer.Choices, b.value) {
			su.Scope = b.value
			c.nextSetup()
			return
		}
	case buttonSetupLang:
		if su.Step == SetupLanguages && slices.Contains(Languages, b.value) {
			su.Languages = toggle(su.Languages, b.value)
			c.askSetupReplacing()
			return
		}
	case buttonSetupNav:
		if c.setupNav(b.value) {
			return
		}
	}
	c.stale()
}

func (c *conversation) setupNav(what string) bool {
	su := c.st.Setup
	switch {
	case what == "cancel":
		c.st.Setup = nil
		c.say("setup.cancelled", nil)
	case what == "back" && su.Step != SetupName:
		su.Step = previousSetup(su.Step)
		c.askSetup()
	case what == "skip" && su.Step == SetupCloses:
		su.ClosesOn = ""
		c.nextSetup()
	case what == "town" && su.Step == SetupTown && c.in.Actor.Town != "":
		su.Town = c.in.Actor.Town
		c.nextSetup()
	case what == "done" && su.Step == SetupLanguages:
		if len(su.Languages) == 0 {
			c.say("setup.languages_none", nil)
			c.askSetup()
			return true
		}
		c.nextSetup()
	case what == "create" && su.Step == SetupConfirm:
		spec := ForumSpec{Name: su.Name, School: su.School, Town: su.Town, Scope: su.Scope, Languages: su.Languages, ClosesOn: su.ClosesOn, Key: su.Tag}
		c.do(CreateForum{Spec: spec})
	default:
		return false
	}
	return true
}

func (c *conversation) nextSetup() {
	su := c.st.Setup
	next := SetupConfirm
	for i, s := range ForumSetupSteps {
		if s.ID == su.Step && i+1 < len(ForumSetupSteps) {
			next = ForumSetupSteps[i+1].ID
		}
	}
	su.Step = next
	c.askSetup()
}

func previousSetup(id StepID) StepID {
	if id == SetupConfirm {
		return ForumSetupSteps[len(ForumSetupSteps)-1].ID
	}
	for i, s := range ForumSetupSteps {
		if s.ID == id && i > 0 {
			return ForumSetupSteps[i-1].ID
		}
	}
	return SetupName
}

func setupStep(id StepID) (Step, bool) {
	for _, s := range ForumSetupSteps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

func (c *conversation) askSetupReplacing() {
	c.askSetup()
	c.replies[len(c.replies)-1].Replace = true
}

// askSetup shows the current /newforum question, or the summary to confirm.
func (c *conversation) askSetup() {
	su := c.st.Setup
	if _, ok := setupStep(su.Step); !ok && su.Step != SetupConfirm {
		su.Step = SetupName // a state written by another version: start the questions again
	}
	btn := func(label, kind, value string) Button {
		return Button{Label: Msg{Key: label}, Data: encodeButton(su.Tag, kind, value)}
	}
	nav := []Button{}
	if su.Step != SetupName {
		nav = append(nav, btn("button.back", buttonSetupNav, "back"))
	}
	nav = append(nav, btn("button.cancel", buttonSetupNav, "cancel"))
	if su.Step == SetupConfirm {
		c.say("setup.summary", c.setupData(), row(btn("button.create_forum", buttonSetupNav, "create")), nav)
		return
	}
	step, _ := setupStep(su.Step)
	var rows [][]Button
	switch su.Step {
	case SetupTown:
		if c.in.Actor.Town != "" {
			rows = append(rows, row(Button{Label: Msg{Key: "setup.town_use", Data: map[string]any{"Town": c.in.Actor.Town}}, Data: encodeButton(su.Tag, buttonSetupNav, "town")}))
		}
	case SetupScope:
		var r []Button
		for _, choice := range step.Answer.Choices {
			r = append(r, btn(forumScope[choice], buttonSetup, choice))
		}
		rows = append(rows, r)
	case SetupCloses:
		nav = append([]Button{btn("button.no_closing_date", buttonSetupNav, "skip")}, nav...)
	case SetupLanguages:
		var langs []Button
		for _, l := range Languages {
			key := "setup.language_off"
			if slices.Contains(su.Languages, l) {
				key = "setup.language_on"
			}
			langs = append(langs, Button{Label: Msg{Key: key, Data: map[string]any{"Language": Msg{Key: "lang." + l}}}, Data: encodeButton(su.Tag, buttonSetupLang, l)})
		}
		rows = append(rows, chunks(langs, 2)...)
		rows = append(rows, row(btn("button.done", buttonSetupNav, "done")))
	}
	rows = append(rows, nav)
	c.say(step.Question, map[string]any{"Max": step.Answer.MaxLen}, rows...)
}

func (c *conversation) setupData() map[string]any {
	su := c.st.Setup
	closes := any(Msg{Key: "forum.no_closing_date"})
	if su.ClosesOn != "" {
		closes = displayDay(su.ClosesOn)
	}
	var langs []string
	for _, l := range su.Languages {
		langs = append(langs, strings.ToUpper(l))
	}
	return map[string]any{
		"Name": su.Name, "School": su.School, "Town": su.Town, "Scope": Msg{Key: forumScope[su.Scope]},
		"Closes": closes, "Languages": strings.Join(langs, ", "),
	}
}

// --- results of what teachers asked for ---

func (c *conversation) forumCreated(f Forum) {
	c.st.Setup = nil
	c.say("setup.created", map[string]any{"Forum": f.Name, "Link": JoinLink{Code: f.Code}, "Code": FormatJoinCode(f.ShortCode)})
	c.replies = append(c.replies, c.qrReply(f), c.card(ForumCard{Forum: f}))
}

func (c *conversation) qrReply(f Forum) Reply {
	return Reply{Text: Msg{Key: "forum.qr_caption", Data: map[string]any{"Forum": f.Name, "Link": JoinLink{Code: f.Code}, "Code": FormatJoinCode(f.ShortCode)}}, QR: &f}
}

func (c *conversation) forumList(forums []Forum) {
	if len(forums) == 0 {
		c.say("forum.none", nil)
		return
	}
	var buttons []Button
	for _, f := range forums {
		// ":new": the card comes as a new message and the list stays.
		buttons = append(buttons, Button{Label: Msg{Key: "forum.list_item", Data: map[string]any{"Forum": f.Name}}, Data: encodeButton("", buttonForumCard, strconv.FormatInt(f.ID, 10)+":new")})
		if len(buttons) == maxListedForums {
			break // Telegram limits a keyboard's size; the newest come first
		}
	}
	c.sayCount("forum.list", len(forums), nil, chunks(buttons, 1)...)
}

// card shows a forum's participation, with what a teacher can do with it.
func (c *conversation) card(fc ForumCard) Reply {
	f, s := fc.Forum, fc.Stats
	id := strconv.FormatInt(f.ID, 10)
	status := Msg{Key: "forum.status_open"}
	switch f.Phase {
	case PhaseCollecting:
		if !f.ClosesAt.IsZero() && !c.now.Before(f.ClosesAt) {
			status = Msg{Key: "forum.status_past_closing"}
		}
	case PhaseClosed:
		status = Msg{Key: "forum.status_closed"}
	default: // counts only: who voted for what is nobody's business
		status = Msg{Key: phaseStatus[f.Phase], Data: map[string]any{"Voted": s.Voted, "Joined": s.Joined}}
	}
	closes := any(Msg{Key: "forum.no_closing_date"})
	if !f.ClosesAt.IsZero() {
		// It closes at the first moment after its last day.
		closes = f.ClosesAt.Add(-time.Second)
	}
	last := any(Msg{Key: "forum.no_submission_yet"})
	if !s.LastIdea.IsZero() {
		last = lastIdea(s.LastIdea, c.now)
	}
	openButton := Button{Label: Msg{Key: "button.close_forum"}, Data: encodeButton("", buttonForumOpen, id+":0")}
	if f.Phase == PhaseClosed {
		openButton = Button{Label: Msg{Key: "button.reopen_forum"}, Data: encodeButton("", buttonForumOpen, id+":1")}
	}
	return Reply{
		Text: Msg{Key: "forum.card", Data: map[string]any{
			"Forum": f.Name, "Status": status, "Joined": s.Joined, "InProgress": s.InProgress,
			"Submitted": s.Submitted, "Last": last, "Closes": closes, "Link": JoinLink{Code: f.Code},
			"Code": FormatJoinCode(f.ShortCode), "Voting": votingSettings(f), "Pins": s.Pins, "Map": mapSettings(f),
			"QRChoice": f.QRChoice,
		}},
		Buttons: append([][]Button{
			row(Button{Label: Msg{Key: "button.refresh"}, Data: encodeButton("", buttonForumCard, id)},
				Button{Label: Msg{Key: "button.show_qr"}, Data: encodeButton("", buttonForumQR, id)}),
			row(openButton, Button{Label: Msg{Key: "button.closing_date"}, Data: encodeButton("", buttonForumClose, id)}),
		}, slices.Concat(voteDayButtons(f), phaseButtons(f), shortlistCardButtons(f), mapCardButtons(f), qrChoiceButtons(f))...),
	}
}

// votingSettings is the card's line on voting: its days, the shortlist's
// size and the votes per student (these two only the city changes, with
// `napad forum set`, so the card says so).
func votingSettings(f Forum) Msg {
	none := Msg{Key: "forum.no_vote_day"}
	opens, closes := any(none), any(none)
	if !f.VoteOpensAt.IsZero() {
		opens = f.VoteOpensAt
	}
	if !f.VoteClosesAt.IsZero() {
		closes = f.VoteClosesAt.Add(-time.Second) // the first moment after its last day
	}
	return Msg{Key: "forum.voting_settings", Data: map[string]any{
		"Opens": opens, "Closes": closes, "Size": f.ShortlistSize, "Votes": f.VotesPerParticipant}}
}

// voteDayButtons change the days voting opens (until it has) and closes
// (until it has).
func voteDayButtons(f Forum) [][]Button {
	id := strconv.FormatInt(f.ID, 10)
	opens := Button{Label: Msg{Key: "button.vote_opens"}, Data: encodeButton("", buttonForumVoteDay, id+":"+voteOpens)}
	closes := Button{Label: Msg{Key: "button.vote_closes"}, Data: encodeButton("", buttonForumVoteDay, id+":"+voteCloses)}
	switch f.Phase {
	case PhaseCollecting, PhaseShortlisting:
		return [][]Button{row(opens, closes)}
	case PhaseVoting:
		return [][]Button{row(closes)}
	}
	return nil
}

// shortlistCardButtons open the shortlist screen: to pick it while ideas
// come and after, to see it once voting has begun.
func shortlistCardButtons(f Forum) [][]Button {
	if f.Phase == PhaseClosed {
		return nil
	}
	return [][]Button{row(Button{Label: Msg{Key: "button.shortlist"}, Data: shortlistData(f.ID, shortlistOpen, "")})}
}

// phaseStatus is the card's status line in the phases after collecting.
var phaseStatus = map[string]string{
	PhaseShortlisting: "forum.status_shortlisting",
	PhaseVoting:       "forum.status_voting",
	PhaseResults:      "forum.status_results",
}

// phaseMoves are the card's button moving a forum on into a phase, and the
// question it asks first.
var phaseMoves = map[string]struct{ button, confirm string }{
	PhaseShortlisting: {"button.phase_shortlisting", "phase.confirm_shortlisting"},
	PhaseVoting:       {"button.phase_voting", "phase.confirm_voting"},
	PhaseResults:      {"button.phase_results", "phase.confirm_results"},
}

// phaseButtons move the forum on from its card (each asks first); in
// results, one goes back to voting, with a warning.
func phaseButtons(f Forum) [][]Button {
	id := strconv.FormatInt(f.ID, 10)
	move := func(label, to string) Button {
		return Button{Label: Msg{Key: label}, Data: encodeButton("", buttonForumPhase, id+":"+f.Phase+":"+to)}
	}
	switch f.Phase {
	case PhaseResults:
		picture := Button{Label: Msg{Key: "button.results_picture"}, Data: encodeButton("", buttonForumPicture, id)}
		return [][]Button{row(picture), row(move("button.phase_back", PhaseVoting))}
	case PhaseCollecting, PhaseShortlisting, PhaseVoting:
		next := NextPhase(f.Phase)
		return [][]Button{row(move(phaseMoves[next].button, next))}
	}
	return nil
}

// phaseButton handles the phase buttons of a card: the first tap asks,
// "yes" moves, from the phase the card showed (if the forum has moved on
// meanwhile, nothing happens and the card shows where it is).
func (c *conversation) phaseButton(card ForumCard, arg string) {
	parts := strings.Split(arg, ":")
	if len(parts) < 2 || len(parts) > 3 {
		c.stale()
		return
	}
	from, to := parts[0], parts[1]
	allowed, backwards := PhaseMove(from, to)
	if !allowed || to == PhaseClosed {
		c.stale()
		return
	}
	f := card.Forum
	id := strconv.FormatInt(f.ID, 10)
	switch {
	case f.Phase != from:
		c.say("phase.changed", nil)
		c.replies = append(c.replies, c.card(card))
	case len(parts) == 2:
		key := phaseMoves[to].confirm
		if backwards {
			key = "phase.confirm_back"
		}
		answer := func(label, yes string) Button {
			return Button{Label: Msg{Key: label}, Data: encodeButton("", buttonForumPhase, id+":"+from+":"+to+":"+yes)}
		}
		c.say(key, map[string]any{"Forum": f.Name}, row(answer("button.phase_yes", "yes"), answer("button.phase_no", "no")))
	case parts[2] == "yes":
		c.do(MovePhase{ForumID: f.ID, Code: f.Code, From: from, To: to})
	case parts[2] == "no":
		c.say("phase.unchanged", nil)
	default:
		c.stale()
	}
}

// forumButton handles taps on a forum card: the bot has loaded the forum
// (in.Card) and the flow checks it is the teacher's own.
func (c *conversation) forumButton(b buttonData) {
	id, arg, _ := strings.Cut(b.value, ":")
	forumID, err := strconv.ParseInt(id, 10, 64)
	if err != nil || forumID <= 0 {
		c.stale()
		return
	}
	card := c.in.Card
	if card == nil || card.Forum.ID != forumID {
		// First the bot loads the forum; then this runs again with it.
		c.do(LoadCard{ForumID: forumID})
		return
	}
	if !c.mayManage(card.Forum) {
		c.say("forum.not_yours", nil)
		return
	}
	switch b.step {
	case buttonForumCard:
		r := c.card(*card)
		r.Replace = arg != "new"
		c.replies = append(c.replies, r)
	case buttonForumQR:
		c.replies = append(c.replies, c.qrReply(card.Forum))
	case buttonForumOpen:
		if arg != "0" && arg != "1" {
			c.stale()
			return
		}
		c.do(SetForumOpen{ForumID: forumID, Code: card.Forum.Code, Open: arg == "1"})
	case buttonForumPhase:
		c.phaseButton(*card, arg)
	case buttonForumPicture:
		c.do(MakeResultsPicture{ForumID: forumID})
	case buttonForumMapArea, buttonForumMapFeelings, buttonForumMapFile:
		c.forumMapButton(b, card.Forum)
	case buttonForumQRChoice:
		if arg != "0" && arg != "1" {
			c.stale()
			return
		}
		c.do(SetQRChoice{ForumID: forumID, Code: card.Forum.Code, Choice: arg == "1"})
	case buttonForumVoteDay:
		c.voteDayButton(card.Forum, arg)
	case buttonForumClose:
		switch arg {
		case "": // from the card: ask for the day
			c.st.Setup = nil
			c.st.Pending, c.st.Closing = PendingClosingDate, &ForumRef{ID: forumID, Code: card.Forum.Code, Name: card.Forum.Name}
			c.askPending()
		case "none":
			c.st.Pending, c.st.Closing = PendingNone, nil
			c.do(SetClosingDate{ForumID: forumID, Code: card.Forum.Code})
		case "keep":
			c.st.Pending, c.st.Closing = PendingNone, nil
			c.say("forum.closing_unchanged", nil)
		default:
			c.stale()
		}
	default:
		c.stale()
	}
}

func (c *conversation) mayManage(f Forum) bool { return c.in.Actor.MayManage(c.in.Participant, f) }

// MayManage reports whether the actor (participant, by pseudonym) may
// manage forum f: staff any forum, a teacher their own. The bot asks it
// again where a shortlist changes.
func (a Actor) MayManage(participant string, f Forum) bool {
	return a.Role == RoleStaff || (a.Role == RoleTeacher && f.OwnerID != "" && f.OwnerID == participant)
}

// closingDate handles the answer to "until when?" asked from a card.
func (c *conversation) closingDate() {
	f := c.st.Closing
	text, ok := c.in.What.(Text)
	if !ok {
		c.say("error.text_expected", nil)
		c.askPending()
		return
	}
	day, problem := parseDay(text.Text, c.now)
	if problem != "" {
		c.say(problem, nil)
		c.askPending()
		return
	}
	pending := c.st.Pending
	c.st.Pending, c.st.Closing = PendingNone, nil
	switch pending {
	case PendingVoteOpens, PendingVoteCloses:
		c.do(SetVoteDay{ForumID: f.ID, Code: f.Code, Closes: pending == PendingVoteCloses, Day: day})
	default:
		c.do(SetClosingDate{ForumID: f.ID, Code: f.Code, Day: day})
	}
}

// voteDayButton handles the card's buttons for the days voting opens and
// closes: the first tap asks for the day (typed, as the closing date).
func (c *conversation) voteDayButton(f Forum, arg string) {
	which, answer, _ := strings.Cut(arg, ":")
	pending := map[string]Pending{voteOpens: PendingVoteOpens, voteCloses: PendingVoteCloses}[which]
	switch {
	case pending == "":
		c.stale()
	case answer == "":
		c.st.Setup = nil
		c.st.Pending, c.st.Closing = pending, &ForumRef{ID: f.ID, Code: f.Code, Name: f.Name}
		c.askPending()
	case answer == "none":
		c.st.Pending, c.st.Closing = PendingNone, nil
		c.do(SetVoteDay{ForumID: f.ID, Code: f.Code, Closes: which == voteCloses})
	case answer == "keep":
		c.st.Pending, c.st.Closing = PendingNone, nil
		c.say("forum.vote_day_unchanged", nil)
	default:
		c.stale()
	}
}

func (c *conversation) inviteCreated(code, town string) {
	c.say("invite.created", map[string]any{"Town": town, "Link": InviteLink{Code: code}, "Days": 7})
}

func (c *conversation) inviteOpened(o InviteOutcome) {
	switch o.Result {
	case InviteAccepted:
		c.say("invite.accepted", map[string]any{"Town": o.Town})
	case InviteUsed:
		c.say("invite.used", nil)
	case InviteExpired:
		c.say("invite.expired", nil)
	default:
		c.say("invite.unknown", nil)
	}
}

// parseDay reads a day a teacher typed: 15.12.2026, 15. 12. 2026, 15.12.26,
// 15.12. or 15.12 (the next such day), 15/12/2026, 15 12 2026 or 2026-12-15.
// It must be from today to a year ahead, in the city's time zone (now's).
func parseDay(text string, now time.Time) (day string, problem string) {
	text = strings.TrimSpace(text)
	today := startOfDay(now)
	var t time.Time
	if strings.Count(text, "-") == 2 {
		parsed, err := time.ParseInLocation("2006-01-02", text, now.Location())
		if err != nil {
			return "", "error.date"
		}
		t = parsed
	} else {
		parts := strings.FieldsFunc(text, func(r rune) bool { return r == '.' || r == '/' || r == ' ' })
		nums := make([]int, len(parts))
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil {
				return "", "error.date"
			}
			nums[i] = n
		}
		switch len(nums) {
		case 2: // no year: the next such day
			t = time.Date(now.Year(), time.Month(nums[1]), nums[0], 0, 0, 0, 0, now.Location())
			if t.Before(today) {
				t = t.AddDate(1, 0, 0)
			}
		case 3:
			year := nums[2]
			if year < 100 {
				year += 2000
			}
			t = time.Date(year, time.Month(nums[1]), nums[0], 0, 0, 0, 0, now.Location())
		default:
			return "", "error.date"
		}
		// time.Date accepts 31.2. and moves it to March; a teacher meant something else.
		if len(nums) >= 2 && (t.Day() != nums[0] || int(t.Month()) != nums[1]) {
			return "", "error.date"
		}
	}
	if t.Before(today) {
		return "", "error.date_past"
	}
	if t.After(now.AddDate(1, 0, 0)) {
		return "", "error.date_far"
	}
	return t.Format("2006-01-02"), ""
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// lastIdea says when the last idea came, only roughly: today, in the past
// week, or earlier. Anything finer would let a teacher who watched the
// class tell who sent it.
func lastIdea(t, now time.Time) Msg {
	switch {
	case !t.Before(startOfDay(now)):
		return Msg{Key: "forum.last_today"}
	case !t.Before(startOfDay(now).AddDate(0, 0, -6)):
		return Msg{Key: "forum.last_week"}
	}
	return Msg{Key: "forum.last_earlier"}
}

// displayDay is a day as stored (2006-01-02), as a time for the message to
// write in its language.
func displayDay(day string) any {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return day
	}
	return t
}

func toggle(list []string, v string) []string {
	if slices.Contains(list, v) {
		var out []string
		for _, x := range list {
			if x != v {
				out = append(out, x)
			}
		}
		return out
	}
	var out []string
	for _, l := range Languages { // keep the canonical order
		if l == v || slices.Contains(list, l) {
			out = append(out, l)
		}
	}
	return out
}

// qrChoiceButtons switch what the forum's QR code opens: Telegram, or a
// page offering Telegram or the browser, for students without Telegram.
func qrChoiceButtons(f Forum) [][]Button {
	id := strconv.FormatInt(f.ID, 10)
	if f.QRChoice {
		return [][]Button{row(Button{Label: Msg{Key: "button.qr_telegram_only"}, Data: encodeButton("", buttonForumQRChoice, id+":0")})}
	}
	return [][]Button{row(Button{Label: Msg{Key: "button.qr_choice"}, Data: encodeButton("", buttonForumQRChoice, id+":1")})}
}
