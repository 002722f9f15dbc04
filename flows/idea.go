package flows

import "slices"

// This file is the conversation "Můj nápad pro školu | město" (my idea for my
// school | my town), written as data: one line per question, in the order a
// student meets them. The texts behind the keys are in locales/*.toml.

// IdeaSteps are the questions, in order. Back goes to the one above, Cancel
// (once something is written) throws the draft away, after asking, and
// optional questions have Skip. "What works" and "what to improve" are
// asked in words for the chosen scope, and only for the student's first
// idea in a forum.
var IdeaSteps = []Step{
	{ID: StepLanguage, Question: "language.ask", Answer: OneOf(Languages...)},
	{ID: StepAge, Question: "age.ask", Answer: OneOf(append(AgeBands, AgeOldEnough, AgeTooYoung)...)},
	{ID: StepPrivacy, Question: "privacy.notice", Answer: OneOf("ok")},
	{ID: StepScope, Question: "scope.ask", Answer: OneOf(Scopes...)},
	{ID: StepWorksWell, Question: "works.ask", Answer: FreeText(1000), Optional: true, ByScope: true},
	{ID: StepImprove, Question: "improve.ask", Answer: FreeText(1000), ByScope: true},
	{ID: StepTitle, Question: "title.ask", Answer: FreeText(100)},
	{ID: StepDescription, Question: "description.ask", Answer: FreeText(2000), Optional: true},
	{ID: StepCategory, Question: "category.ask", Answer: OneOf(Categories...)},
	{ID: StepPlace, Question: "place.ask", Answer: PlaceOnMap(200), Optional: true},
	{ID: StepPhoto, Question: "photo.ask", Answer: Photo(), Optional: true},
	{ID: StepHelp, Question: "help.ask", Answer: OneOf("yes", "maybe", "no")},
}

// Step names, short because they travel inside button data (64 bytes at most).
const (
	StepLanguage    StepID = "lang"
	StepAge         StepID = "age"
	StepPrivacy     StepID = "privacy"
	StepScope       StepID = "scope"
	StepWorksWell   StepID = "works"
	StepImprove     StepID = "improve"
	StepTitle       StepID = "title"
	StepDescription StepID = "desc"
	StepCategory    StepID = "cat"
	StepPlace       StepID = "place"
	StepPhoto       StepID = "photo"
	StepHelp        StepID = "help"
	// After the questions: the student checks everything and sends it.
	StepReview StepID = "review"
	// The idea was sent; the student may add another.
	StepDone StepID = "done"
	// In a forum, with no idea in progress (after Cancel).
	StepIdle StepID = ""
)

// Editable are the answers shown on the review screen, each with an Edit button.
var Editable = []StepID{
	StepScope, StepWorksWell, StepImprove, StepTitle, StepDescription,
	StepCategory, StepPlace, StepPhoto, StepHelp,
}

// ownField are the questions whose answers have a field of their own in
// Idea (and a column in the database).
var ownField = []StepID{
	StepScope, StepWorksWell, StepImprove, StepTitle, StepDescription,
	StepCategory, StepPlace, StepPhoto, StepHelp,
}

// MoreQuestions are the idea's questions whose text or choice is stored in
// Idea.More: every question but the language, the privacy notice and
// those with a field of their own. (The age group, asked once, goes with
// each of the student's ideas.)
func MoreQuestions() []Step {
	var more []Step
	for _, s := range IdeaSteps {
		if s.ID != StepLanguage && s.ID != StepPrivacy && !slices.Contains(ownField, s.ID) {
			more = append(more, s)
		}
	}
	return more
}
