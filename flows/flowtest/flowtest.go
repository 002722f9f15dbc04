// Package flowtest plays a student through the idea flow, for tests and
// benchmarks of every layer: what a student answers at each question is
// derived from the question itself (flows.IdeaSteps), so a new question
// needs no change here unless it wants a particular answer.
package flowtest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
)

// Action is what a student does at one question: tap a choice, write, drop
// a pin, send a photo or skip.
type Action struct {
	Step  flows.StepID
	Tap   string // the choice's value
	Text  string
	Pin   *Pin
	Photo string // a file id
	Skip  bool
}

// Pin is a place on the map.
type Pin struct{ Lat, Lon float64 }

// Forum is the forum students join in tests: both scopes, every language.
var Forum = flows.Forum{
	ID: 7, Code: "Zk3xQ9mP2aLw8RtY", Name: "8.B – ZŠ Komenského", School: "ZŠ Komenského", Town: "Kolín", Phase: flows.PhaseCollecting,
	Scope: "both", Languages: flows.Languages,
}

// Photo is a file id as Telegram gives them.
const Photo = "AgACAgQAAxkBAAIBY2Zk1q3Xb7pL9mN0cR4sT6uV8wX0yZ1aB2cD3eF4gH5iJ6kL7mN8oP9qR"

// Kolin is a pin in Kolín's main square.
var Kolin = Pin{Lat: 50.0281, Lon: 15.2003}

// Answers are what students write, per language: a few sentences, as long
// as real answers tend to be. A language without its own uses English.
var Answers = map[string]map[flows.StepID]string{
	"en": {
		flows.StepWorksWell:   "The new library and the teachers who listen to us.",
		flows.StepImprove:     "There is nowhere to sit outside during breaks, so everyone stands in the corridor.",
		flows.StepTitle:       "Benches in the school yard",
		flows.StepDescription: "Put five benches and a little shade under the big linden tree, so we can sit outside between lessons and eat our snacks there.",
	},
	"cs": {
		flows.StepWorksWell:   "Nová knihovna a učitelé, kteří nás poslouchají.",
		flows.StepImprove:     "O přestávkách si venku nemáme kam sednout, takže všichni stojí na chodbě.",
		flows.StepTitle:       "Lavičky na školním dvoře",
		flows.StepDescription: "Dát pět laviček a trochu stínu pod velkou lípu, abychom mohli o přestávkách sedět venku a svačit tam.",
	},
	"uk": {
		flows.StepWorksWell:   "Нова бібліотека і вчителі, які нас слухають.",
		flows.StepImprove:     "На перервах ніде сісти надворі, тому всі стоять у коридорі.",
		flows.StepTitle:       "Лавки на шкільному подвір'ї",
		flows.StepDescription: "Поставити п'ять лавок і трохи тіні під великою липою, щоб ми могли сидіти надворі між уроками.",
	},
	"nb": {
		flows.StepWorksWell:   "Det nye biblioteket og lærerne som hører på oss.",
		flows.StepImprove:     "Det er ingen steder å sitte ute i friminuttene, så alle står i gangen.",
		flows.StepTitle:       "Benker i skolegården",
		flows.StepDescription: "Sett fem benker og litt skygge under det store lindetreet, så vi kan sitte ute mellom timene og spise matpakken der.",
	},
}

// AnswersIn are the answers of a student writing in lang: English ones for
// a language without its own.
func AnswersIn(lang string) map[flows.StepID]string {
	if a, ok := Answers[lang]; ok {
		return a
	}
	return Answers["en"]
}

// Choices are the choices a student taps where the first would not do.
var Choices = map[flows.StepID]string{
	flows.StepScope:    "both",
	flows.StepCategory: "public_space",
	flows.StepHelp:     "yes",
}

// AnswerFor is what a student writing in lang does at step: every question
// answered, optional ones too.
func AnswerFor(step flows.Step, lang string) Action {
	a := Action{Step: step.ID}
	switch step.Answer.Kind {
	case flows.ChoiceAnswer:
		switch {
		case step.ID == flows.StepLanguage:
			a.Tap = lang
		case Choices[step.ID] != "":
			a.Tap = Choices[step.ID]
		default:
			a.Tap = step.Answer.Choices[0]
		}
	case flows.TextAnswer:
		a.Text = answerText(step.ID, lang)
	case flows.PlaceAnswer:
		a.Pin = &Kolin
	case flows.PhotoAnswer:
		a.Photo = Photo
	default:
		a.Skip = true
	}
	return a
}

func answerText(id flows.StepID, lang string) string {
	if t, ok := AnswersIn(lang)[id]; ok {
		return t
	}
	return "An answer to " + string(id)
}

// Steps are the idea's questions from from (inclusive; "" for the first)
// up to until (exclusive; StepReview for all), in the order they are asked.
func Steps(from, until flows.StepID) []flows.Step {
	var steps []flows.Step
	in := from == ""
	for _, s := range flows.IdeaSteps {
		if s.ID == until {
			break
		}
		in = in || s.ID == from
		if in {
			steps = append(steps, s)
		}
	}
	return steps
}

// ButtonData finds the data of the button that taps value at step among
// buttons' data, as the flow encodes it ("<draft>|<step>|<value>").
func ButtonData(data []string, step flows.StepID, value string) (string, bool) {
	for _, d := range data {
		if strings.HasSuffix(d, "|"+string(step)+"|"+value) {
			return d, true
		}
	}
	return "", false
}

// Walker plays one student through flows.Handle, keeping the state as it
// would be stored after each event.
type Walker struct {
	TB    testing.TB
	Lang  string
	PID   string
	Now   time.Time
	Event int64 // the last event's id
	// Events are the ids of every event so far, oldest first.
	Events []int64
	State  flows.State
	Last   flows.Result
}

// Do hands the flow one input. Effects other than counting the join are
// not expected on the way to the review.
func (w *Walker) Do(in flows.Input) {
	w.TB.Helper()
	w.Event += 1_009 // other students' events in between
	w.Events = append(w.Events, w.Event)
	in.EventID = strconv.FormatInt(w.Event, 10)
	in.LanguageHint = w.Lang
	in.Participant = w.PID
	res := flows.Handle(w.State, in, w.Now)
	for _, e := range res.Effects {
		if _, ok := e.(flows.CountJoin); !ok {
			w.TB.Fatalf("unexpected effect %+v", e)
		}
	}
	w.State = res.State
	w.Last = res
}

// Act does a at the current question.
func (w *Walker) Act(a Action) {
	w.TB.Helper()
	switch {
	case a.Tap != "":
		var data []string
		for _, r := range w.Last.Replies {
			for _, row := range r.Buttons {
				for _, b := range row {
					data = append(data, b.Data)
				}
			}
		}
		d, ok := ButtonData(data, a.Step, a.Tap)
		if !ok {
			w.TB.Fatalf("no button %s|%s in %+v", a.Step, a.Tap, w.Last.Replies)
		}
		w.Do(flows.Input{What: flows.Tap{Data: d}})
	case a.Text != "":
		w.Do(flows.Input{What: flows.Text{Text: a.Text}})
	case a.Pin != nil:
		w.Do(flows.Input{What: flows.Location{Lat: a.Pin.Lat, Lon: a.Pin.Lon}})
	case a.Photo != "":
		w.Do(flows.Input{What: flows.PhotoSent{FileID: a.Photo}})
	default:
		w.TB.Fatalf("cannot act %+v", a)
	}
}

// Join opens the join link of forum f.
func (w *Walker) Join(f flows.Forum) {
	w.Do(flows.Input{What: flows.JoinLinkOpened{Found: true, Forum: f}})
}

// WalkTo joins Forum and answers the idea's questions until the student is
// at until (flows.StepReview: all answered).
func (w *Walker) WalkTo(until flows.StepID) {
	w.TB.Helper()
	if !w.State.Joined() {
		w.Join(Forum)
	}
	for range len(flows.IdeaSteps) {
		if w.State.Step == until {
			return
		}
		step, ok := flows.StepByID(w.State.Step)
		if !ok {
			break
		}
		w.Act(AnswerFor(step, w.Lang))
	}
	if w.State.Step != until {
		w.TB.Fatalf("walked to step %q, want %q", w.State.Step, until)
	}
}
