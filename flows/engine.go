// Package flows is the conversation itself: which question comes next, what
// counts as a valid answer, and what the student is told. It is plain Go with
// no knowledge of Telegram, Redis or SQL, so it can be read, tested and reused
// by another channel (a web form) unchanged.
//
// The whole engine is one pure function:
//
//	Handle(state, input, now) → (new state, replies, effects)
package flows

import (
	"slices"
	"strings"
	"time"
)

// StepID names one question of a flow.
type StepID string

// Step is one question: what is asked and what answer it takes.
type Step struct {
	ID       StepID
	Question string // locale key of the question
	Answer   AnswerRule
	Optional bool // the student may skip it
	// ByScope: the question is put in words for the chosen scope, the
	// locale key "<Question>_<scope>" (school, town, both).
	ByScope bool
}

// AnswerKind is what sort of answer a question takes.
type AnswerKind int

// The kinds of answer.
const (
	ChoiceAnswer AnswerKind = iota + 1 // one of a few buttons
	TextAnswer                         // free text up to MaxLen characters
	PlaceAnswer                        // a pin on the map, or a typed place
	PhotoAnswer                        // a photo
)

// AnswerRule says which answers a question accepts.
type AnswerRule struct {
	Kind    AnswerKind
	Choices []string
	MaxLen  int // characters, for text and typed places
}

// OneOf accepts a tap on one of the given choices.
func OneOf(choices ...string) AnswerRule { return AnswerRule{Kind: ChoiceAnswer, Choices: choices} }

// FreeText accepts text of at most maxLen characters.
func FreeText(maxLen int) AnswerRule { return AnswerRule{Kind: TextAnswer, MaxLen: maxLen} }

// PlaceOnMap accepts a shared pin or a typed place name of at most maxLen characters.
func PlaceOnMap(maxLen int) AnswerRule { return AnswerRule{Kind: PlaceAnswer, MaxLen: maxLen} }

// Photo accepts one photo.
func Photo() AnswerRule { return AnswerRule{Kind: PhotoAnswer} }

// Answer is what the student gave for one question. Choices are kept in Text.
type Answer struct {
	Text    string   `json:"t,omitempty"`
	Lat     *float64 `json:"la,omitempty"`
	Lon     *float64 `json:"lo,omitempty"`
	Photo   string   `json:"ph,omitempty"`
	Skipped bool     `json:"k,omitempty"`
}

// Pending is a yes/no or pick question laid over the current step.
type Pending string

// The questions that can be pending.
const (
	PendingNone     Pending = ""
	PendingCancel   Pending = "cancel"   // throw the draft away?
	PendingRestart  Pending = "restart"  // start a new idea although one is unfinished?
	PendingLanguage Pending = "language" // pick a language (/language)
	PendingSwitch   Pending = "switch"   // join another forum although an idea is unfinished?
	// A teacher is asked for a forum's new closing date.
	PendingClosingDate Pending = "closing"
	// A teacher is asked for the day voting opens, or its last day.
	PendingVoteOpens  Pending = "voteopens"
	PendingVoteCloses Pending = "votecloses"
	// A teacher is asked for a merged shortlist item's title, then its
	// description (see State.Shortlist).
	PendingItemTitle       Pending = "itemtitle"
	PendingItemDescription Pending = "itemdesc"
	// Staff are asked what to tell the student about a decision
	// (State.Deciding), or which idea /idea should show.
	PendingStaffAnswer Pending = "staffanswer"
	PendingIdeaRef     Pending = "idearef"
)

// asksForumDay reports whether p asks a teacher for one of a forum's days
// (State.Closing is the forum).
func (p Pending) asksForumDay() bool {
	return p == PendingClosingDate || p == PendingVoteOpens || p == PendingVoteCloses
}

// ForumRef is what the conversation remembers of a forum.
type ForumRef struct {
	ID   int64  `json:"i"`
	Code string `json:"c,omitempty"`
	Name string `json:"n,omitempty"`
}

// State is everything the bot remembers about one student's conversation.
// It is stored between messages (short JSON names keep it small).
type State struct {
	Lang        string            `json:"l,omitempty"`
	ForumID     int64             `json:"fi,omitempty"`
	ForumCode   string            `json:"fc,omitempty"`
	ForumName   string            `json:"fn,omitempty"`
	Step        StepID            `json:"s,omitempty"`
	Draft       string            `json:"d,omitempty"` // id of the idea being written; tags its buttons
	Answers     map[StepID]Answer `json:"a,omitempty"`
	Editing     bool              `json:"e,omitempty"` // answering from the review screen
	Pending     Pending           `json:"p,omitempty"`
	SwitchForum *Forum            `json:"swf,omitempty"` // the forum of a join link opened mid-idea
	// What the forum lets students choose: a fixed scope, its languages.
	ForumScope string   `json:"fs,omitempty"`
	ForumLangs []string `json:"fl,omitempty"`
	// Setup is a forum a teacher is setting up; Closing, the forum whose
	// closing date is being changed.
	Setup   *Setup    `json:"su,omitempty"`
	Closing *ForumRef `json:"cl,omitempty"`
	// Shortlist is the shortlist screen a teacher or staff member has open.
	Shortlist *ShortlistScreen `json:"sls,omitempty"`
	// Staff reviewing ideas: the one whose original is asked for, and those
	// skipped in this round.
	Reviewing  string   `json:"rvw,omitempty"`
	ReviewSkip []string `json:"rvs,omitempty"`
	// PinSkip are the map comments skipped in this round of /pins.
	PinSkip []int64 `json:"pks,omitempty"`
	// Deciding is the decision about Reviewing that waits for staff's words.
	Deciding *Deciding `json:"dc,omitempty"`
	// Announce is staff's announcement being written (/announce).
	Announce *AnnounceDraft `json:"an,omitempty"`
	// Import is a spreadsheet staff sent back, waiting for their "apply".
	Import *ImportDraft `json:"im,omitempty"`
	// Help is the chosen item whose helper is asked how to reach them.
	Help *HelpRef `json:"hl,omitempty"`
	// Pin is the place being marked on the emotional map (mapflow.go); an
	// idea being written waits meanwhile.
	Pin *PinDraft `json:"pn,omitempty"`
	// PlaceFromMap: the idea's place is a pin from the map, so its
	// question is not asked.
	PlaceFromMap bool `json:"pm,omitempty"`
	// MapCentre is the centre of a forum's area, sent by its teacher, while
	// the radius is asked (State.Closing is the forum).
	MapCentre *MapArea `json:"mc,omitempty"`
	PrivacyOK bool     `json:"ok,omitempty"`
	// AgeOK: the student said they are old enough (AgeRule); AgeBand is
	// their age group, when asked.
	AgeOK     bool   `json:"ag,omitempty"`
	AgeBand   string `json:"ab,omitempty"`
	Submitted int    `json:"n,omitempty"` // ideas sent in this forum
	LastRef   string `json:"r,omitempty"` // reference of the last idea sent
	// LastTitle is its title, for the thank-you said again (Repeat).
	LastTitle string `json:"rt,omitempty"`
	// Quiet: the student said /stop; later ideas keep no way to reach them,
	// even if they had sent none before (and so had no contact to mark).
	Quiet bool `json:"q,omitempty"`
}

// Joined reports whether the student has joined a forum.
func (s State) Joined() bool { return s.ForumID != 0 }

// InProgress reports whether an idea is being written.
func (s State) InProgress() bool {
	return s.Joined() && s.Step != StepIdle && s.Step != StepDone
}

// Msg is a sentence to show: a locale key and the values it needs.
// A value in Data may itself be a Msg, translated in the same language.
// Times (time.Time, already in the city's zone) and numbers go in as they
// are: the locale writes them in the reader's language.
type Msg struct {
	Key   string
	Data  map[string]any
	Count *int // picks the plural form
}

// Lines are messages shown one per line, as one value of a Msg's Data.
type Lines []Msg

// Button is one inline button: its label and the data it sends back.
type Button struct {
	Label Msg
	Data  string
}

// Reply is one message to the student.
type Reply struct {
	Text    Msg
	Buttons [][]Button
	// QR, when set, is a forum whose QR code picture goes with the text.
	QR *Forum
	// Replace asks to show this in place of the message whose button was
	// tapped (a refreshed card, a toggled choice), if there is one.
	Replace bool
	// File, when set, is sent as a document with the text as its caption.
	File *File
	// Picture, when set, is a PNG sent as a photo with the text as its
	// caption: seen at once in the chat, where a document must be opened.
	Picture *File
	// PhotoID, when set, is a photo students sent, shown before the text.
	PhotoID string
}

// Result is the outcome of handling one input.
type Result struct {
	State   State
	Replies []Reply
	Effects []Effect
	// Forget asks to delete the stored conversation instead of saving State.
	Forget bool
}

// Handle is the conversation: given where the student is and what they did,
// it decides where they are now, what they are told, and what must be stored.
func Handle(st State, in Input, now time.Time) Result {
	c := &conversation{st: st.clone(), in: in, now: now}
	c.st.repair()
	if c.st.Lang == "" {
		c.st.Lang = LanguageFor(in.LanguageHint)
	}
	c.handle()
	c.addressed()
	return Result{State: c.st, Replies: c.replies, Effects: c.effects, Forget: c.forget}
}

// Run handles in and then, one by one, the effects the conversation asks
// for: do carries an effect out and may hand back its outcome (ok), which
// is handled in turn, from the same person; its effects join the queue.
// The result has every reply in order, and in Effects every effect that
// was carried out. in is given to do for the effects that look something
// up and handle the input again.
func Run(st State, in Input, now time.Time, do func(st State, in Input, e Effect) (next Input, ok bool)) Result {
	res := Handle(st, in, now)
	queue := res.Effects
	for len(queue) > 0 {
		effect := queue[0]
		queue = queue[1:]
		next, ok := do(res.State, in, effect)
		if !ok {
			continue
		}
		next.EventID, next.LanguageHint, next.Participant, next.Actor = in.EventID, in.LanguageHint, in.Participant, in.Actor
		out := Handle(res.State, next, now)
		res.State = out.State
		res.Forget = res.Forget || out.Forget
		res.Replies = append(res.Replies, out.Replies...)
		res.Effects = append(res.Effects, out.Effects...)
		queue = append(queue, out.Effects...)
	}
	return res
}

// Repeat is what the conversation says again when its last answer may not
// have reached the student (the bot stopped after saving the conversation and
// before sending): the idea's confirmation if that was the last thing, else
// the question the student is at. Nothing changes.
func Repeat(st State) []Reply {
	c := &conversation{st: st.clone()}
	c.st.repair()
	switch {
	case c.st.Step == StepAge && c.st.Pending == PendingNone:
		// Its buttons depend on the deployment's age rule, which a repeat
		// does not know: the question already shown stays the one to answer.
	case c.st.Pin != nil && c.st.Pending == PendingNone:
		c.askPin()
	case c.st.Step == StepDone && c.st.LastRef != "" && c.st.Pending == PendingNone:
		c.sayCount("submit.thanks", c.st.Submitted, map[string]any{"Ref": c.st.LastRef, "Title": c.st.LastTitle, "Next": nextStep(time.Time{})}, c.restRow())
	case c.st.Joined() || c.st.Pending != PendingNone:
		c.ask()
	}
	return c.replies
}

// LanguageFor picks the supported language closest to an app language code.
func LanguageFor(code string) string {
	if lang, ok := languageOf(code); ok {
		return lang
	}
	if code == "" {
		return Languages[0]
	}
	// Any other app language: English is the one most students share.
	return "en"
}

// languageOf is the supported language an app language code is (or is
// close to, as Slovak to Czech); ok is false for any other code.
func languageOf(code string) (lang string, ok bool) {
	code = strings.ToLower(code)
	if i := strings.IndexAny(code, "-_"); i > 0 {
		code = code[:i]
	}
	switch {
	case code != "" && slices.Contains(Languages, code):
		return code, true
	case LanguageAliases[code] != "":
		return LanguageAliases[code], true
	}
	return "", false
}

// maxTag is the longest set-up tag or draft id kept: event ids are far
// shorter.
const maxTag = 24

// repair drops a pending question whose subject is missing, as in a state
// written by another version of the bot: better to ask nothing than crash.
func (s *State) repair() {
	if !validRef(s.Reviewing) {
		s.Reviewing = ""
	}
	// Tags and drafts go into button data: one that could not have been
	// made here (not plain, or too long for 64 bytes) makes no buttons.
	if s.Setup != nil && (!plainToken(s.Setup.Tag) || len(s.Setup.Tag) > maxTag) {
		s.Setup = nil
	}
	if !plainToken(s.Draft) || len(s.Draft) > maxTag {
		s.Draft = ""
	}
	if s.Pin != nil && (!plainToken(s.Pin.ID) || len(s.Pin.ID) > maxTag || !s.Joined()) {
		s.Pin = nil
	}
	switch {
	case s.Pending.asksAboutForum() && s.Closing == nil,
		s.Pending == PendingDuplicate && s.Reviewing == "",
		s.Pending == PendingStaffAnswer && (s.Reviewing == "" || s.Deciding == nil),
		s.Pending == PendingSwitch && s.SwitchForum == nil,
		(s.Pending == PendingItemTitle || s.Pending == PendingItemDescription) && s.Shortlist == nil,
		s.Pending == PendingHelpContact && s.Help == nil:
		s.Pending = PendingNone
	}
	if s.Pending != PendingMapCentre {
		s.MapCentre = nil
	}
	if s.Pending != PendingDuplicate && s.Pending != PendingStaffAnswer {
		s.Reviewing, s.Deciding = "", nil // only a decision's question has them
	}
	if s.Pending == PendingCancel || s.Pending == PendingRestart {
		if !s.InProgress() {
			s.Pending = PendingNone
		}
	}
}

// clone copies everything Handle may change, so the caller's state stays as it was.
func (s State) clone() State {
	if s.Answers != nil {
		answers := make(map[StepID]Answer, len(s.Answers))
		for k, v := range s.Answers {
			answers[k] = v
		}
		s.Answers = answers
	}
	if s.ForumLangs != nil {
		s.ForumLangs = append([]string(nil), s.ForumLangs...)
	}
	if s.Setup != nil {
		su := *s.Setup
		su.Languages = append([]string(nil), su.Languages...)
		s.Setup = &su
	}
	if s.Closing != nil {
		cl := *s.Closing
		s.Closing = &cl
	}
	if s.Announce != nil {
		a := *s.Announce
		s.Announce = &a
	}
	if s.Shortlist != nil {
		sl := *s.Shortlist
		sl.Picked = append([]string(nil), sl.Picked...)
		s.Shortlist = &sl
	}
	if s.Help != nil {
		h := *s.Help
		s.Help = &h
	}
	if s.MapCentre != nil {
		m := *s.MapCentre
		s.MapCentre = &m
	}
	if s.Pin != nil {
		p := *s.Pin
		p.Own = slices.Clone(p.Own)
		s.Pin = &p
	}
	if s.Deciding != nil {
		d := *s.Deciding
		s.Deciding = &d
	}
	if s.SwitchForum != nil {
		f := *s.SwitchForum
		f.Languages = append([]string(nil), f.Languages...)
		s.SwitchForum = &f
	}
	return s
}
