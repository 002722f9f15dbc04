package flows

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// conversation handles one input; it collects replies and effects as it goes.
type conversation struct {
	st      State
	in      Input
	now     time.Time
	replies []Reply
	effects []Effect
	forget  bool
	// The next question or summary shown: in place of the message whose
	// button was tapped (edit), with the answer tapped there (answered),
	// or after a welcome in the same message (intro). Fewer messages are
	// quicker on a slow phone, and more students fit under Telegram's
	// limit of 30 messages a second.
	edit     bool
	answered *Msg
	intro    *Msg
}

func (c *conversation) say(key string, data map[string]any, buttons ...[]Button) {
	c.replies = append(c.replies, Reply{Text: Msg{Key: key, Data: data}, Buttons: buttons})
}

// formalKeys are sentences both students and teachers or city staff are
// told, each with its version for teachers and staff: Czech and Ukrainian
// speak to students informally (ty, ти) and to adults formally (vy, ви).
var formalKeys = map[string]string{
	"error.tap_button":    "error.tap_button_formal",
	"error.text_expected": "error.text_expected_formal",
	"error.empty":         "error.empty_formal",
	"error.too_long":      "error.too_long_formal",
	"error.store":         "error.store_formal",
	"error.edited":        "error.edited_formal",
}

// addressed puts the replies in the words for who is told: teachers and
// staff get the formal ones. (A teacher's role is known at every teachers'
// question: see NeedsActor.)
func (c *conversation) addressed() {
	if !c.in.Actor.May(Teachers) {
		return
	}
	for i, r := range c.replies {
		if key, ok := formalKeys[r.Text.Key]; ok {
			c.replies[i].Text.Key = key
		}
	}
}

func (c *conversation) sayCount(key string, count int, data map[string]any, buttons ...[]Button) {
	c.replies = append(c.replies, Reply{Text: Msg{Key: key, Data: data, Count: &count}, Buttons: buttons})
}

func (c *conversation) handle() {
	switch w := c.in.What.(type) {
	case JoinLinkOpened:
		c.st.Pin = nil
		c.join(w)
	case JoinCodeRefused:
		c.joinCodeRefused(w)
	case CommandSent:
		c.command(w)
	case Tap:
		c.button(w.Data)
	case Submitted:
		c.submitted(w)
	case IdeasClosed:
		c.phaseView(w.Forum)
	case BallotLoaded:
		c.showBallot(w.Ballot, false)
	case VoteCast:
		c.voteCast(w)
	case ResultsPictureMade:
		c.replies = append(c.replies, Reply{Text: Msg{Key: "results.picture_caption", Data: map[string]any{"Forum": w.Forum.Name}}, File: &w.File})
	case ResultsLoaded:
		c.showResults(w)
	case ShortlistLoaded:
		c.showShortlist(w)
	case PhaseRefused:
		c.say(w.Reason, nil)
		c.replies = append(c.replies, c.card(w.Card))
	case SubmitQueued:
		c.queued()
	case SubmitFailed:
		c.say("submit.failed", nil, row(c.button1("button.try_again", buttonReview, "submit")))
	case SubmitLimited:
		c.sayCount("submit.limit", w.Limit, nil, row(c.button1("button.try_again", buttonReview, "submit")))
	case Edited:
		// What was answered stays answered; say how to change it instead.
		c.say("error.edited", nil)
	case InviteOpened:
		c.inviteOpened(w.Outcome)
	case ForumCreated:
		c.forumCreated(w.Forum)
	case ForumsListed:
		c.forumList(w.Forums)
	case CardReloaded:
		r := c.card(w.Card)
		r.Replace = true
		c.replies = append(c.replies, r)
	case InviteCreated:
		c.inviteCreated(w.Code, w.Town)
	case StoreFailed:
		c.say("error.store", nil)
	case NotAllowed:
		c.notAllowed()
	case MyIdeasListed:
		c.myIdeas(w.Ideas)
	case MyDataExported:
		c.myData(w.File)
	case Deleted:
		c.deleted()
	case ReviewNext:
		c.showReview(w.Item, w.Decided)
	case ReviewRefUnknown:
		c.endDecision()
		c.say("staffdecide.gone", map[string]any{"Ref": w.Ref})
	case IdeaLoaded:
		c.ideaLoaded(w)
	case OriginalChecked:
		c.originalChecked(w)
	case ExportForumsListed:
		c.exportForums(w.Format, w.Forums)
	case AnnounceForumsListed:
		c.announceForums(w.Forums)
	case AudienceCounted:
		c.audienceCounted(w.Forum, w.Reach)
	case AnnouncementCreated:
		c.announced(w.Forum, w.Recipients)
	case PinSaved:
		c.pinSaved(w)
	case PinNotSaved:
		c.pinNotSaved()
	case PinReviewNext:
		c.showPinReview(w)
	case MapFileMade:
		c.replies = append(c.replies, Reply{Text: Msg{Key: "mapsetup.file_caption", Data: map[string]any{"Forum": w.Forum.Name}}, File: &w.File})
	case HelpOfferSaved:
		c.helpSaved(w.Stored)
	case FileSent:
		c.fileSent(w)
	case ImportPlanned:
		c.importPlanned(w)
	case ImportRefused:
		c.importRefused(w.Name, w.Err)
	case ImportApplied:
		c.importApplied(w)
	case StatsLoaded:
		c.showStats(w.Stats)
	case StatsPictureMade:
		c.replies = append(c.replies, Reply{Text: Msg{Key: "stats.picture_caption"}, Picture: &w.File})
	case Exported:
		count := w.Count
		ready := "export.ready"
		if slices.Contains(PinFormats, w.Format) {
			ready = "export.ready_pins"
		}
		c.replies = append(c.replies, Reply{Text: Msg{Key: ready, Count: &count}, File: &w.File})
		if w.Format == "xlsx" || w.Format == "csv" {
			c.say("export.send_back", nil) // the round trip: decide in the file
		}
	default: // Text, Location, PhotoSent, Media: an answer
		c.answer()
	}
}

func (c *conversation) do(e Effect) { c.effects = append(c.effects, e) }

// notAllowed closes whatever teachers' or staff's question was open: it
// went with the role.
func (c *conversation) notAllowed() {
	c.endDecision()
	c.st.Setup, c.st.Closing, c.st.Announce, c.st.Shortlist, c.st.Import = nil, nil, nil, nil, nil
	if c.st.Pending.asksAboutForum() || c.st.Pending == PendingItemTitle || c.st.Pending == PendingItemDescription {
		c.st.Pending = PendingNone
	}
	c.say("error.not_allowed", nil)
	c.continueIfInProgress()
}

// --- joining and commands ---

func (c *conversation) join(j JoinLinkOpened) {
	switch {
	case !j.Found:
		c.say("join.unknown", nil)
		c.continueIfInProgress()
	case j.Forum.PhaseAt(c.now) == PhaseClosed:
		c.say("join.closed", map[string]any{"Forum": j.Forum.Name})
		c.continueIfInProgress()
	case j.Forum.ID == c.st.ForumID && c.st.InProgress() && j.Forum.PhaseAt(c.now) == PhaseCollecting:
		c.intro = &Msg{Key: "join.welcome_back", Data: map[string]any{"Forum": j.Forum.Name}}
		c.ask()
	case j.Forum.ID != c.st.ForumID && c.st.InProgress() && c.hasContent():
		// Another forum's link mid-idea: ask before the unfinished idea goes.
		f := j.Forum
		f.OwnerID = "" // the student's state keeps nothing of the teacher
		c.st.SwitchForum = &f
		c.st.Pending = PendingSwitch
		c.askPending()
	default:
		c.enter(j.Forum, j.LastYear)
	}
}

// enter makes f the student's forum and starts an idea there; the welcome
// says what became of last year's ideas, if f follows a forum.
func (c *conversation) enter(f Forum, lastYear *LastYear) {
	if f.ID != c.st.ForumID {
		c.st.Submitted, c.st.LastRef, c.st.LastTitle = 0, "", ""
	}
	c.st.ForumID, c.st.ForumCode, c.st.ForumName = f.ID, f.Code, f.Name
	c.st.ForumScope, c.st.ForumLangs = "", nil
	if f.Scope == ScopeSchool || f.Scope == ScopeTown {
		c.st.ForumScope = f.Scope
	}
	if len(f.Languages) > 0 && len(f.Languages) < len(Languages) {
		c.st.ForumLangs = append([]string(nil), f.Languages...)
		if !slices.Contains(f.Languages, c.st.Lang) {
			c.st.Lang = f.Languages[0]
		}
	}
	if !c.in.Age.Asks() || c.st.AgeOK {
		c.do(CountJoin{Forum: f}) // otherwise once they said they are old enough
	}
	if f.PhaseAt(c.now) != PhaseCollecting {
		c.phaseView(f)
		return
	}
	welcome := Msg{Key: "join.welcome", Data: map[string]any{"Forum": f.Name, "Next": nextStep(f.ClosesAt)}}
	if lastYear != nil && len(lastYear.Chosen()) > 0 {
		c.replies = append(c.replies, Reply{Text: welcome})
		c.showLastYear(lastYear)
	} else {
		c.intro = &welcome // the welcome and the first question: one message
	}
	c.startIdea()
}

// command runs a command, if the person may use it; anything else is
// answered with /help (a student learns nothing about teachers' commands).
func (c *conversation) command(w CommandSent) {
	cmd, ok := CommandNamed(w.Name)
	if !ok || !c.in.Actor.May(cmd.Who) {
		cmd, _ = CommandNamed(CommandHelp)
	}
	if cmd.Name != CommandMap && !cmd.KeepsQuestion && cmd.Name != CommandLanguage {
		c.st.Pin = nil // another activity: what is typed next is not a place
	}
	if !cmd.KeepsQuestion {
		helping := c.st.Pending == PendingHelpContact
		deciding := c.st.Reviewing != "" || c.st.Pending == PendingIdeaRef
		c.endDecision()
		c.st.Pending, c.st.SwitchForum, c.st.Closing, c.st.Help = PendingNone, nil, nil, nil
		if helping && cmd.Name == CommandCancel {
			c.say("helper.nothing_stored", nil) // not the idea being written: only the question
			return
		}
		if deciding && cmd.Name == CommandCancel {
			c.say("staffdecide.cancelled", nil) // the staff member's question, not an idea
			return
		}
		if c.st.Announce != nil && cmd.Name == CommandCancel {
			c.st.Announce = nil
			c.say("announce.cancelled", nil)
			return
		}
		c.st.Announce = nil // any other command leaves the announcement
	}
	cmd.run(c, w)
}

// start without a join code (a join link is a JoinLinkOpened).
func (c *conversation) start(CommandSent) {
	if !c.joined() {
		return
	}
	if c.st.InProgress() {
		c.intro = &Msg{Key: "join.welcome_back", Data: map[string]any{"Forum": c.st.ForumName}}
		c.ask()
		return
	}
	c.atRest(c.ask)
}

func (c *conversation) newCommand(CommandSent) {
	if c.joined() {
		c.newIdea()
	}
}

func (c *conversation) cancelCommand(CommandSent) {
	switch {
	case c.st.Setup != nil:
		c.st.Setup = nil
		c.say("setup.cancelled", nil)
	case !c.joined():
	case c.st.InProgress():
		c.cancel()
	default:
		c.say("cancel.nothing", nil, c.restRow())
	}
}

func (c *conversation) languageCommand(CommandSent) {
	c.st.Pending = PendingLanguage
	c.askPending()
}

func (c *conversation) help(CommandSent) {
	c.say("about.help", map[string]any{"Commands": helpLines(Everyone)})
	if c.in.Actor.May(Teachers) {
		c.say("about.help_teacher", map[string]any{"Commands": helpLines(Teachers)})
	}
	if c.in.Actor.May(Staff) {
		c.say("about.help_staff", map[string]any{"Commands": helpLines(Staff)})
	}
	switch {
	case c.st.Pin != nil && c.st.Pending == PendingNone:
		c.askPin()
	case c.st.InProgress() || c.st.Pending != PendingNone:
		c.ask()
	}
}

// joined says whether the student is in a forum, and tells them how to
// join one if not.
func (c *conversation) joined() bool {
	if !c.st.Joined() {
		c.say("start.how_to_join", nil)
		return false
	}
	return true
}

// newIdea starts another idea, asking first if that would throw one away.
func (c *conversation) newIdea() {
	switch {
	case c.st.InProgress() && c.hasContent():
		c.st.Pending = PendingRestart
		c.askPending()
	case c.st.InProgress():
		// Nothing written yet (say, "new idea" tapped twice): keep this draft,
		// so the buttons already on screen stay valid.
		c.ask()
	case c.in.Current == nil:
		// First make sure the forum still takes ideas: the teacher may have
		// closed it since the student joined.
		c.do(CheckForum{ForumID: c.st.ForumID})
	case c.in.Current.PhaseAt(c.now) != PhaseCollecting:
		c.phaseView(*c.in.Current)
	default:
		c.startIdea()
	}
}

func (c *conversation) startIdea() { c.startIdeaAt(nil) }

// startIdeaAt starts an idea; place, when set, is its place, marked on the
// map already.
func (c *conversation) startIdeaAt(place *Answer) {
	c.st.Setup = nil // a forum set-up left unfinished must not catch the answers
	c.st.Draft = c.in.EventID
	c.st.Answers = map[StepID]Answer{}
	c.st.Editing, c.st.Pending = false, PendingNone
	c.st.PlaceFromMap = place != nil
	if place != nil {
		c.st.Answers[StepPlace] = *place
	}
	if c.st.ForumScope != "" { // the forum is about the school, or the town, only
		c.st.Answers[StepScope] = Answer{Text: c.st.ForumScope}
	}
	c.st.Step = c.next(StepPrivacy)
	if !c.st.PrivacyOK {
		c.st.Step = c.next("")
	}
	if lang, ok := languageOf(c.in.LanguageHint); c.st.Step == StepLanguage && ok && slices.Contains(c.languages(), lang) {
		// The phone speaks a language the forum offers: no need to ask
		// (/language changes it, and Back on the next question too).
		c.st.Lang = lang
		c.st.Answers[StepLanguage] = Answer{Text: lang}
		c.st.Step = c.next(StepLanguage)
		hint := Msg{Key: "join.language_hint"}
		if c.intro != nil {
			hint = Msg{Key: "layout.intro", Data: map[string]any{"Intro": *c.intro, "Text": hint}}
		}
		c.intro = &hint
	}
	c.ask()
}

// skipped are questions the forum has already answered.
func (c *conversation) skipped(id StepID) bool {
	switch id {
	case StepScope:
		return c.st.ForumScope != ""
	case StepLanguage:
		return len(c.st.ForumLangs) == 1
	case StepAge:
		return !c.in.Age.Asks() || c.st.AgeOK
	case StepWorksWell, StepImprove:
		// Asked with the first idea in a forum: a second idea is one more
		// idea, not another survey.
		return c.st.Submitted > 0
	case StepPlace:
		return c.st.PlaceFromMap // its place was marked on the map
	}
	return false
}

// languages are those the student may pick: the forum's, or all.
func (c *conversation) languages() []string {
	if len(c.st.ForumLangs) > 0 {
		return c.st.ForumLangs
	}
	return Languages
}

// choices are the buttons of a question.
func (c *conversation) choices(step Step) []string {
	switch step.ID {
	case StepLanguage:
		return c.languages()
	case StepAge:
		return c.in.Age.choices()
	}
	return step.Answer.Choices
}

func (c *conversation) continueIfInProgress() {
	if c.st.InProgress() {
		c.ask()
	}
}

// --- buttons ---

// button routes a tap by the kind of button, if the person may tap it.
func (c *conversation) button(data string) {
	b, ok := parseButton(data)
	if !ok {
		c.stale()
		return
	}
	kind, _ := buttonKindOf(b.step)
	if !c.in.Actor.May(kind.Who) {
		c.stale()
		return
	}
	if b.step != buttonMap && b.step != buttonPickLanguage {
		c.st.Pin = nil // a button of another activity: the map is left
	}
	kind.run(c, b)
}

func (c *conversation) deleteButton(b buttonData) {
	if c.st.Pending != PendingDelete {
		c.stale()
		return
	}
	c.st.Pending = PendingNone
	c.confirmDelete(b.value)
}

func (c *conversation) newIdeaButton(buttonData) {
	c.st.Pending = PendingNone
	if c.joined() {
		c.newIdea()
	}
}

func (c *conversation) pickLanguageButton(b buttonData) {
	if c.st.Pending != PendingLanguage || !slices.Contains(c.languages(), b.value) {
		c.stale()
		return
	}
	c.st.Lang, c.st.Pending = b.value, PendingNone
	c.say("language.changed", nil)
	if c.joined() {
		c.ask()
	}
}

// ideaButton handles the buttons of the idea being written.
func (c *conversation) ideaButton(b buttonData) {
	if c.st.Step == StepDone && b.step == buttonReview && b.value == "submit" {
		if c.st.LastRef == "" { // kept safe, its code still on the way
			c.say("submit.queued", nil, c.restRow())
			return
		}
		c.say("submit.already", map[string]any{"Ref": c.st.LastRef}, c.restRow())
		return
	}
	if b.draft != c.st.Draft || !c.st.InProgress() {
		c.stale()
		return
	}
	if b.step != string(c.st.Step) && c.st.Answers[StepID(b.step)].Text == b.value && c.st.Pending == PendingNone {
		// The same choice tapped again (a double tap): it is already recorded.
		return
	}
	if c.st.Pending != PendingNone {
		if b.step != buttonConfirm {
			c.stale()
			return
		}
		c.confirm(b.value)
		return
	}
	// What comes next is shown in place of the tapped message.
	c.edit = true
	switch b.step {
	case buttonNav:
		// Back and Skip carry their question: one tapped on an earlier
		// question's message (further up the chat) must not act on, nor
		// turn that old message into, the question the student is at.
		where, from, tagged := strings.Cut(b.value, ":")
		if tagged && from != string(c.st.Step) {
			c.stale()
			return
		}
		c.edit = tagged || where == "cancel" // an untagged button may be one sent before they were tagged
		c.navigate(where)
	case buttonEdit:
		if c.st.Step != StepReview || !slices.Contains(Editable, StepID(b.value)) {
			c.stale()
			return
		}
		c.st.Step, c.st.Editing = StepID(b.value), true
		c.st.PlaceFromMap = c.st.PlaceFromMap && c.st.Step != StepPlace
		c.ask()
	case buttonReview:
		if c.st.Step != StepReview {
			c.stale()
			return
		}
		switch b.value {
		case "submit":
			c.do(SubmitIdea{Idea: c.submission()})
		case "cancel":
			c.cancel()
		default:
			c.stale()
		}
	default:
		step, ok := StepByID(StepID(b.step))
		if !ok || step.ID != c.st.Step || step.Answer.Kind != ChoiceAnswer || !slices.Contains(c.choices(step), b.value) {
			c.stale()
			return
		}
		if step.ID != StepPrivacy { // "OK" is no answer worth repeating
			c.answered = &Msg{Key: ChoiceLabel(step.ID, b.value)}
		}
		c.record(step, Answer{Text: b.value})
	}
}

// stale answers a button that no longer fits (or never did) and shows where
// the student really is, so there is always a way on.
func (c *conversation) stale() {
	c.edit = false // the question goes under the explanation
	c.say("error.stale_button", nil)
	switch {
	case c.st.Pending != PendingNone:
		c.askPending()
	case c.st.Pin != nil:
		c.askPin()
	case c.st.InProgress():
		c.ask()
	case c.st.Joined():
		c.say("idle.hint", nil, c.restRow())
	case c.in.Actor.May(Teachers):
		// Teachers and staff join no forum: how to join is not for them.
	default:
		c.say("start.how_to_join", nil)
	}
}

func (c *conversation) navigate(where string) {
	step, ok := StepByID(c.st.Step)
	switch {
	case where == "cancel":
		c.cancel()
	case where == "back" && c.st.Editing:
		c.st.Step, c.st.Editing = StepReview, false
		c.ask()
	case where == "back" && c.st.Step == StepReview:
		c.st.Step = IdeaSteps[len(IdeaSteps)-1].ID
		c.ask()
	case where == "back" && ok && c.previous(step.ID) != "":
		c.st.Step = c.previous(step.ID)
		c.ask()
	case where == "skip" && ok && step.Optional:
		c.record(step, Answer{Skipped: true})
	default:
		c.stale()
	}
}

func (c *conversation) confirm(answer string) {
	pending := c.st.Pending
	c.st.Pending = PendingNone
	switch {
	case pending == PendingCancel && answer == "yes":
		c.discard()
	case pending == PendingRestart && answer == "yes":
		c.startIdea()
	case pending == PendingSwitch && answer == "yes" && c.st.SwitchForum != nil:
		next := *c.st.SwitchForum
		c.st.SwitchForum = nil
		c.enter(next, nil) // last year's ideas stay out of the state: too big to keep for a question
	case pending == PendingSwitch && answer == "no":
		c.st.SwitchForum = nil
		c.say("continue.ok", nil)
		c.ask()
	case answer == "no":
		c.say("continue.ok", nil)
		c.ask()
	default:
		c.st.Pending = pending
		c.stale()
	}
}

// cancel throws the idea away, asking first if the student wrote anything.
func (c *conversation) cancel() {
	if c.hasContent() {
		c.st.Pending = PendingCancel
		c.askPending()
		return
	}
	c.discard()
}

func (c *conversation) discard() {
	c.st.Step, c.st.Answers, c.st.Editing, c.st.Draft = StepIdle, nil, false, ""
	c.say("cancel.done", nil, c.restRow())
}

// hasWritten reports whether the student typed, pinned or photographed
// anything for this idea: before that, there is nothing to cancel.
func (c *conversation) hasWritten() bool {
	for id, a := range c.st.Answers {
		step, ok := StepByID(id)
		if ok && step.Answer.Kind != ChoiceAnswer && !a.Skipped {
			return true
		}
	}
	return false
}

func (c *conversation) hasContent() bool {
	for id, a := range c.st.Answers {
		if id != StepLanguage && id != StepPrivacy && !a.Skipped {
			return true
		}
	}
	return false
}

// --- answers ---

func (c *conversation) answer() {
	switch {
	case (c.st.Setup != nil || c.st.Closing != nil || c.st.Shortlist != nil) && !c.in.Actor.May(Teachers),
		(c.st.Reviewing != "" || c.st.Announce != nil || c.st.Import != nil || c.st.Pending == PendingIdeaRef) && !c.in.Actor.May(Staff):
		c.notAllowed() // the role ended while its question was open
		return
	case c.st.Pending == PendingJoinCode:
		c.joinCodeText()
		return
	case c.st.Setup != nil:
		c.setupAnswer()
		return
	case c.st.Pending.asksForumDay() && c.st.Closing != nil:
		c.closingDate()
		return
	case (c.st.Pending == PendingMapCentre || c.st.Pending == PendingMapFeelings) && c.st.Closing != nil:
		c.mapSetupAnswer()
		return
	case c.st.Pending == PendingDuplicate && c.st.Reviewing != "":
		c.duplicateOf()
		return
	case c.st.Pending == PendingStaffAnswer && c.st.Reviewing != "":
		c.staffAnswer()
		return
	case c.st.Pending == PendingIdeaRef:
		c.ideaRef()
		return
	case c.st.Announce != nil:
		c.announceText()
		return
	case (c.st.Pending == PendingItemTitle || c.st.Pending == PendingItemDescription) && c.st.Shortlist != nil:
		c.shortlistText()
		return
	case c.st.Pending == PendingHelpContact && c.st.Help != nil:
		c.helpContact()
		return
	case !c.st.Joined():
		c.joinCodeText()
		return
	case c.st.Pin != nil && c.st.Pending == PendingNone:
		c.pinAnswer()
		return
	case c.st.Pending != PendingNone:
		c.say("error.tap_button", nil)
		c.askPending()
		return
	case c.st.Step == StepDone:
		c.atRest(c.doneHint)
		return
	case c.st.Step == StepIdle:
		c.atRest(func() { c.say("idle.hint", nil, c.restRow()) })
		return
	case c.st.Step == StepReview:
		c.say("error.tap_button", nil)
		c.ask()
		return
	}
	step, ok := StepByID(c.st.Step)
	if !ok { // a state written by an older version: start the idea afresh
		c.startIdea()
		return
	}
	answer, problem := c.validate(step)
	if problem != nil {
		c.replies = append(c.replies, Reply{Text: *problem})
		c.ask()
		return
	}
	c.record(step, answer)
}

// validate turns the input into an answer for the step, or says what is wrong.
func (c *conversation) validate(step Step) (Answer, *Msg) {
	rule := step.Answer
	switch rule.Kind {
	case ChoiceAnswer:
		return Answer{}, &Msg{Key: "error.tap_button"}
	case TextAnswer:
		text, ok := c.in.What.(Text)
		if !ok {
			return Answer{}, &Msg{Key: "error.text_expected"}
		}
		return c.validText(text.Text, rule.MaxLen)
	case PlaceAnswer:
		switch w := c.in.What.(type) {
		case Location:
			if w.Live {
				return Answer{}, &Msg{Key: "error.live_location"}
			}
			if !validCoordinates(w.Lat, w.Lon) {
				return Answer{}, &Msg{Key: "error.place_expected"}
			}
			return Answer{Lat: &w.Lat, Lon: &w.Lon}, nil
		case Text:
			return c.validText(w.Text, rule.MaxLen)
		}
		return Answer{}, &Msg{Key: "error.place_expected"}
	case PhotoAnswer:
		photo, ok := c.in.What.(PhotoSent)
		if !ok || photo.FileID == "" {
			return Answer{}, &Msg{Key: "error.photo_expected"}
		}
		return Answer{Photo: photo.FileID}, nil
	}
	return Answer{}, &Msg{Key: "error.tap_button"}
}

func (c *conversation) validText(raw string, maxLen int) (Answer, *Msg) {
	text := CleanText(raw)
	if text == "" {
		return Answer{}, &Msg{Key: "error.empty"}
	}
	if n := Length(text); n > maxLen {
		over := n - maxLen
		return Answer{}, &Msg{Key: "error.too_long", Data: map[string]any{"Max": maxLen}, Count: &over}
	}
	return Answer{Text: text}, nil
}

// pendingText is the text written for a pending question, of at most
// maxLen characters; when it is not one, the person is told why and asked
// again.
func (c *conversation) pendingText(maxLen int) (string, bool) {
	text, ok := c.in.What.(Text)
	if !ok {
		c.say("error.text_expected", nil)
		c.askPending()
		return "", false
	}
	a, problem := c.validText(text.Text, maxLen)
	if problem != nil {
		c.replies = append(c.replies, Reply{Text: *problem})
		c.askPending()
		return "", false
	}
	return a.Text, true
}

// record keeps a valid answer and moves on.
func (c *conversation) record(step Step, a Answer) {
	if c.st.Answers == nil { // an empty map is not stored
		c.st.Answers = map[StepID]Answer{}
	}
	c.st.Answers[step.ID] = a
	switch step.ID {
	case StepLanguage:
		c.st.Lang = a.Text
	case StepAge:
		delete(c.st.Answers, StepAge) // kept with the student, not the idea
		if !c.ageAnswered(a.Text) {
			return
		}
	case StepPrivacy:
		c.st.PrivacyOK = true
	}
	if c.st.Editing {
		c.st.Step, c.st.Editing = StepReview, false
	} else {
		c.st.Step = c.next(step.ID)
	}
	c.ask()
}

func (c *conversation) submitted(w Submitted) {
	c.st.Submitted++
	c.st.LastRef = w.Ref
	title := c.st.Answers[StepTitle].Text
	c.st.LastTitle = title
	// The idea now lives in the database; the live state keeps no copy.
	c.st.Step, c.st.Answers, c.st.Editing, c.st.Draft = StepDone, nil, false, ""
	n := c.st.Submitted
	// In place of the summary with its Send button: sent, it is done with.
	c.replies = append(c.replies, Reply{Replace: true, Buttons: [][]Button{c.restRow()},
		Text: Msg{Key: "submit.thanks", Count: &n, Data: map[string]any{"Ref": w.Ref, "Title": title, "Next": nextStep(w.ClosesAt)}}})
}

func (c *conversation) doneHint() {
	if c.st.LastRef == "" { // its reference is still on its way
		c.say("idle.hint", nil, c.restRow())
		return
	}
	c.say("done.hint", map[string]any{"Ref": c.st.LastRef}, c.restRow())
}

// queued is submitted without a reference yet: the bot sends it when the
// database has the idea.
func (c *conversation) queued() {
	c.st.Submitted++
	c.st.LastRef, c.st.LastTitle = "", ""
	c.st.Step, c.st.Answers, c.st.Editing, c.st.Draft = StepDone, nil, false, ""
	c.say("submit.queued", nil, c.restRow())
}

func (c *conversation) submission() Idea {
	a := c.st.Answers
	s := Idea{
		DraftID:     c.st.Draft,
		ForumID:     c.st.ForumID,
		Language:    c.st.Lang,
		Scope:       a[StepScope].Text,
		WorksWell:   a[StepWorksWell].Text,
		Improve:     a[StepImprove].Text,
		Title:       a[StepTitle].Text,
		Description: a[StepDescription].Text,
		Category:    a[StepCategory].Text,
		PlaceText:   a[StepPlace].Text,
		Latitude:    a[StepPlace].Lat,
		Longitude:   a[StepPlace].Lon,
		PhotoFileID: a[StepPhoto].Photo,
		WantsToHelp: a[StepHelp].Text,
		SubmittedAt: c.now.UTC(),
		Quiet:       c.st.Quiet,
	}
	if c.st.AgeBand != "" {
		a = maps.Clone(a)
		a[StepAge] = Answer{Text: c.st.AgeBand}
	}
	for _, step := range MoreQuestions() {
		if t := a[step.ID].Text; t != "" {
			if s.More == nil {
				s.More = map[string]string{}
			}
			s.More[string(step.ID)] = t
		}
	}
	return s
}

// --- asking ---

// ask shows the current question again (or the review, or the idle hint).
func (c *conversation) ask() {
	if c.st.Pending != PendingNone {
		c.askPending()
		return
	}
	switch c.st.Step {
	case StepReview:
		c.review()
		return
	case StepDone:
		c.doneHint()
		return
	case StepIdle:
		c.say("idle.hint", nil, c.restRow())
		return
	}
	step, ok := StepByID(c.st.Step)
	if !ok {
		c.startIdea()
		return
	}
	data := map[string]any{"Forum": c.st.ForumName, "Max": step.Answer.MaxLen, "Min": c.in.Age.Min}
	question := step.Question
	if step.ID == StepAge && !c.in.Age.AskBand {
		question = "age.ask_min"
	}
	if scope := c.st.Answers[StepScope].Text; step.ByScope && slices.Contains(Scopes, scope) {
		question += "_" + scope
	}
	var rows [][]Button
	for _, chunk := range chunks(c.choices(step), choicesPerRow(step)) {
		var r []Button
		for _, choice := range chunk {
			b := c.button1(ChoiceLabel(step.ID, choice), string(step.ID), choice)
			if step.ID == StepAge {
				b.Label.Data = map[string]any{"Min": c.in.Age.Min}
			}
			r = append(r, b)
		}
		rows = append(rows, r)
	}
	if nav := c.navRow(step); len(nav) > 0 {
		rows = append(rows, nav)
	}
	c.show(Msg{Key: question, Data: data}, rows)
}

// show adds the next question or summary: in place of the tapped message
// when the student tapped an answer (with that answer above it), and after
// the welcome when they just joined.
func (c *conversation) show(text Msg, buttons [][]Button) {
	replace := c.edit && len(c.replies) == 0
	switch {
	case c.intro != nil:
		text = Msg{Key: "layout.intro", Data: map[string]any{"Intro": *c.intro, "Text": text}}
		c.intro = nil
	case replace && c.answered != nil:
		text = Msg{Key: "layout.answered", Data: map[string]any{"Answer": *c.answered, "Text": text}}
	}
	c.answered = nil
	c.replies = append(c.replies, Reply{Text: text, Buttons: buttons, Replace: replace})
}

func (c *conversation) navRow(step Step) []Button {
	var nav []Button
	if c.st.Editing || c.previous(step.ID) != "" {
		nav = append(nav, c.button1("button.back", buttonNav, "back:"+string(step.ID)))
	}
	if step.Optional {
		nav = append(nav, c.button1("button.skip", buttonNav, "skip:"+string(step.ID)))
	}
	if c.hasWritten() { // before, there is nothing to throw away
		nav = append(nav, c.button1("button.cancel", buttonNav, "cancel"))
	}
	return nav
}

func (c *conversation) askPending() {
	switch c.st.Pending {
	case PendingLanguage:
		var buttons []Button
		for _, l := range c.languages() {
			buttons = append(buttons, Button{Label: Msg{Key: "lang." + l}, Data: encodeButton("", buttonPickLanguage, l)})
		}
		c.say("language.pick", nil, chunks(buttons, 2)...)
	case PendingCancel:
		c.say("cancel.confirm", nil, row(
			c.button1("button.yes_delete", buttonConfirm, "yes"),
			c.button1("button.no_continue", buttonConfirm, "no")))
	case PendingRestart:
		c.say("restart.confirm", nil, row(
			c.button1("button.start_over", buttonConfirm, "yes"),
			c.button1("button.continue", buttonConfirm, "no")))
	case PendingDuplicate, PendingStaffAnswer:
		c.askDecision()
	case PendingIdeaRef:
		c.say("staffidea.ask", nil)
	case PendingJoinCode:
		c.say("joincode.ask", nil)
	case PendingDelete:
		c.say("delete.confirm", nil, row(
			Button{Label: Msg{Key: "button.delete_all"}, Data: encodeButton("", buttonDeleteAll, "yes")},
			Button{Label: Msg{Key: "button.keep_data"}, Data: encodeButton("", buttonDeleteAll, "no")}))
	case PendingClosingDate:
		f := c.st.Closing
		id := strconv.FormatInt(f.ID, 10)
		c.say("forum.closes_ask", map[string]any{"Forum": f.Name}, row(
			Button{Label: Msg{Key: "button.no_closing_date"}, Data: encodeButton("", buttonForumClose, id+":none")},
			Button{Label: Msg{Key: "button.keep_closing_date"}, Data: encodeButton("", buttonForumClose, id+":keep")}))
	case PendingItemTitle, PendingItemDescription:
		c.askShortlistQuestion()
	case PendingMapCentre, PendingMapFeelings:
		c.askMapSetup()
	case PendingHelpContact:
		c.say("helper.ask_contact", map[string]any{"Max": MaxHelpContact})
	case PendingVoteOpens, PendingVoteCloses:
		f := c.st.Closing
		which, key := voteOpens, "forum.vote_opens_ask"
		if c.st.Pending == PendingVoteCloses {
			which, key = voteCloses, "forum.vote_closes_ask"
		}
		value := strconv.FormatInt(f.ID, 10) + ":" + which
		c.say(key, map[string]any{"Forum": f.Name}, row(
			Button{Label: Msg{Key: "button.no_vote_date"}, Data: encodeButton("", buttonForumVoteDay, value+":none")},
			Button{Label: Msg{Key: "button.keep_closing_date"}, Data: encodeButton("", buttonForumVoteDay, value+":keep")}))
	case PendingSwitch:
		data := map[string]any{"Forum": c.st.ForumName}
		if c.st.SwitchForum != nil {
			data["NewForum"] = c.st.SwitchForum.Name
		}
		c.say("switch.confirm", data, row(
			c.button1("button.switch_forum", buttonConfirm, "yes"),
			c.button1("button.continue", buttonConfirm, "no")))
	}
}

// review shows every answer, one line per question, with a button to
// change each and one to send.
func (c *conversation) review() {
	var answers Lines
	for _, id := range Editable {
		if (id == StepWorksWell || id == StepImprove) && c.skipped(id) {
			continue // not asked with this idea
		}
		step, _ := StepByID(id)
		answers = append(answers, Msg{Key: "summary." + string(id), Data: map[string]any{"Value": c.shown(step)}})
	}
	data := map[string]any{"Answers": answers}
	var edits []Button
	for _, id := range Editable {
		if c.skipped(id) && !(id == StepPlace && c.st.PlaceFromMap) {
			continue
		}
		edits = append(edits, c.button1("edit."+string(id), buttonEdit, string(id)))
	}
	rows := chunks(edits, 2)
	rows = append(rows,
		row(c.button1("button.submit", buttonReview, "submit")),
		row(c.button1("button.delete_idea", buttonReview, "cancel")))
	c.show(Msg{Key: "review.summary", Data: data}, rows)
}

// shown is the answer to step as the summary shows it.
func (c *conversation) shown(step Step) any {
	a := c.st.Answers[step.ID]
	switch {
	case step.Answer.Kind == ChoiceAnswer && a.Text != "":
		return Msg{Key: ChoiceLabel(step.ID, a.Text)}
	case a.Lat != nil && a.Lon != nil:
		return Msg{Key: "summary.pin"} // the student knows where: coordinates say nothing
	case a.Photo != "":
		return Msg{Key: "review.photo_attached"}
	case a.Text != "":
		return a.Text
	}
	return Msg{Key: "review.none"}
}

// --- helpers ---

func (c *conversation) button1(label, step, value string) Button {
	return Button{Label: Msg{Key: label}, Data: encodeButton(c.st.Draft, step, value)}
}

// restRow is what a student may start when nothing is being written:
// another idea, or marking places on the map.
func (c *conversation) restRow() []Button { return row(c.newIdea1(), mapButton1()) }

// newIdea1 is the button that starts another idea.
func (c *conversation) newIdea1() Button {
	return Button{Label: Msg{Key: "button.new_idea"}, Data: encodeButton("", buttonNewIdea, "go")}
}

// next is the question after id ("" for the first), skipping what the forum answered.
func (c *conversation) next(id StepID) StepID {
	found := id == ""
	for _, s := range IdeaSteps {
		if found && !c.skipped(s.ID) {
			return s.ID
		}
		found = found || s.ID == id
	}
	return StepReview
}

func (c *conversation) previous(id StepID) StepID {
	if _, answered := c.st.Answers[StepPrivacy]; id != StepLanguage && id != StepPrivacy && !answered && c.previousAll(id) == StepPrivacy {
		return "" // a later idea starts here: language and privacy were settled before
	}
	return c.previousAll(id)
}

func (c *conversation) previousAll(id StepID) StepID {
	prev := StepID("")
	for _, s := range IdeaSteps {
		if s.ID == id {
			return prev
		}
		if !c.skipped(s.ID) {
			prev = s.ID
		}
	}
	return ""
}

// ChoiceLabel is the locale key of a choice's button: "<step>.<choice>".
func ChoiceLabel(step StepID, choice string) string { return string(step) + "." + choice }

// StepByID is the idea question with this id.
func StepByID(id StepID) (Step, bool) {
	for _, s := range IdeaSteps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

func choicesPerRow(s Step) int {
	if len(s.Answer.Choices) > 3 {
		return 2
	}
	return 3
}

func row(buttons ...Button) []Button { return buttons }

func chunks[T any](items []T, size int) [][]T {
	var out [][]T
	for len(items) > 0 {
		n := min(size, len(items))
		out = append(out, items[:n])
		items = items[n:]
	}
	return out
}

func validCoordinates(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && !(lat == 0 && lon == 0)
}
