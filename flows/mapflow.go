package flows

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// The emotional map, as a conversation. A student opens it with /map, or
// the map button under a thank-you or in the menu, and for each place:
//
//  1. sends the place: a pin they moved to it on the map (never a live
//     location), or its name typed when their device has no map;
//     a pin far outside the forum's town is questioned;
//  2. taps how they feel about it: 😊 I like it, 😟 I feel unsafe,
//     🛠️ should change, 🏀 I spend free time here, or one of the forum's
//     own feelings;
//  3. writes one line about it, or skips;
//
// and the pin is stored. The next place can be sent straight away, so
// several pins follow each other without starting over; or the student
// suggests an idea for the place just marked, or finishes.

// The map's steps (PinDraft.Step).
const (
	pinAtPlace   = "place"   // which place?
	pinAtFar     = "far"     // the pin is far from the forum's town: really there?
	pinAtFeeling = "feeling" // how do you feel about it?
	pinAtComment = "comment" // one line about it, or skip
	pinAtSaving  = "saving"  // stored, or waiting to try again
)

// buttonMap is every button of the map: "<pin draft>|mp|<what>", with what
// one of start, f:<feeling>, far:yes|no, back, skip, retry, idea, done.
const buttonMap = "mp"

// PinDraft is the place being marked: what the student gave so far.
type PinDraft struct {
	ID      string   `json:"i"` // tags its buttons; the pin is stored once per ID
	Step    string   `json:"s"`
	Lat     *float64 `json:"la,omitempty"`
	Lon     *float64 `json:"lo,omitempty"`
	Place   string   `json:"pt,omitempty"`
	Feeling string   `json:"f,omitempty"`
	Comment string   `json:"c,omitempty"`
	// FarKm: the pin is this far from the forum's town (asked about).
	FarKm int `json:"fk,omitempty"`
	// What the forum was like when the map was opened: its own feelings,
	// its area, and whether it takes ideas (for "an idea for this place").
	Own        []string `json:"o,omitempty"`
	Area       *MapArea `json:"ar,omitempty"`
	Collecting bool     `json:"co,omitempty"`
	// Saved are the pins stored since the map was opened; Last is the place
	// of the last one, for an idea about it.
	Saved int     `json:"n,omitempty"`
	Last  *Answer `json:"lp,omitempty"`
}

// feelings are the feelings a student may pick in this forum, as codes.
func (p *PinDraft) feelings() []string {
	codes := slices.Clone(Feelings)
	for i := range p.Own {
		codes = append(codes, OwnFeeling(i))
	}
	return codes
}

// OwnFeeling is the code of a forum's i-th own feeling (from 0).
func OwnFeeling(i int) string { return "own" + strconv.Itoa(i+1) }

// mapCommand opens the map: first the forum is looked up, for its area and
// its own feelings, and whether it still takes part.
func (c *conversation) mapCommand(CommandSent) {
	if !c.joined() {
		return
	}
	switch {
	case c.st.Pin != nil:
		c.askPin() // already marking a place: carry on there
	case !c.st.PrivacyOK || (c.in.Age.Asks() && !c.st.AgeOK):
		// What is kept and why comes first, with the first idea's questions.
		c.say("map.privacy_first", nil)
		c.ask()
	case c.in.Current == nil:
		c.do(CheckForum{ForumID: c.st.ForumID})
	case c.in.Current.PhaseAt(c.now) == PhaseClosed:
		c.say("join.closed", map[string]any{"Forum": c.in.Current.Name})
	default:
		f := c.in.Current
		p := &PinDraft{ID: c.in.EventID, Step: pinAtPlace, Collecting: f.PhaseAt(c.now) == PhaseCollecting}
		p.Own = slices.Clone(f.Feelings[:min(len(f.Feelings), MaxOwnFeelings)])
		if f.Area.Set() {
			area := f.Area
			p.Area = &area
		}
		c.st.Pin = p
		c.askPin()
	}
}

// mapButton handles the map's buttons.
func (c *conversation) mapButton(b buttonData) {
	if b.value == "start" { // the map button under a thank-you, or a hint
		c.mapCommand(CommandSent{Name: CommandMap})
		return
	}
	p := c.st.Pin
	if p == nil || b.draft != p.ID {
		c.stale()
		return
	}
	what, arg, _ := strings.Cut(b.value, ":")
	if what == "f" && p.Step == pinAtComment && p.Feeling == arg {
		return // the same feeling tapped twice: it is recorded already
	}
	c.edit = true
	switch {
	case what == "f" && p.Step == pinAtFeeling && slices.Contains(p.feelings(), arg):
		p.Feeling, p.Step = arg, pinAtComment
		c.answered = &Msg{Key: "layout.plain", Data: map[string]any{"Text": c.feelingLabel(arg)}}
		c.askPin()
	case what == "far" && p.Step == pinAtFar && arg == "yes":
		p.Step = pinAtFeeling
		c.askPin()
	case what == "far" && p.Step == pinAtFar && arg == "no":
		p.Lat, p.Lon, p.FarKm, p.Step = nil, nil, 0, pinAtPlace
		c.askPin()
	case what == "back" && p.Step == pinAtFeeling:
		p.Lat, p.Lon, p.Place, p.Step = nil, nil, "", pinAtPlace
		c.askPin()
	case what == "back" && p.Step == pinAtComment:
		p.Feeling, p.Step = "", pinAtFeeling
		c.askPin()
	case what == "skip" && p.Step == pinAtComment:
		p.Comment = ""
		c.savePin()
	case what == "retry" && p.Step == pinAtSaving && p.Feeling != "":
		c.edit = false
		c.savePin()
	case what == "idea" && p.Step == pinAtPlace && p.Last != nil && p.Collecting:
		c.ideaForPlace()
	case what == "done":
		c.finishMap()
	default:
		c.stale()
	}
}

// pinAnswer takes what the student sent while marking a place.
func (c *conversation) pinAnswer() {
	p := c.st.Pin
	switch p.Step {
	case pinAtPlace:
		c.pinPlace()
	case pinAtComment:
		text, ok := c.in.What.(Text)
		if !ok {
			c.say("error.text_expected", nil)
			c.askPin()
			return
		}
		a, problem := c.validText(text.Text, MaxPinComment)
		if problem != nil {
			c.replies = append(c.replies, Reply{Text: *problem})
			c.askPin()
			return
		}
		p.Comment = strings.Join(strings.Fields(a.Text), " ") // one line, as asked
		c.savePin()
	case pinAtSaving:
		c.say("map.saving", nil, c.pinRetryRow())
	default: // a feeling or a yes/no is tapped, not written
		c.say("error.tap_button", nil)
		c.askPin()
	}
}

// pinPlace takes the place: a pin moved to it, or its name.
func (c *conversation) pinPlace() {
	p := c.st.Pin
	switch w := c.in.What.(type) {
	case Location:
		if w.Live {
			c.say("map.live_location", nil)
			c.askPin()
			return
		}
		if !validCoordinates(w.Lat, w.Lon) {
			c.say("map.place_expected", nil)
			c.askPin()
			return
		}
		lat, lon := round6(w.Lat), round6(w.Lon)
		p.Lat, p.Lon, p.Place, p.Step = &lat, &lon, "", pinAtFeeling
		if p.Area != nil {
			if km := DistanceKm(p.Area.Lat, p.Area.Lon, lat, lon); km > p.Area.RadiusKm {
				p.FarKm, p.Step = int(math.Round(km)), pinAtFar
			}
		}
	case Text:
		a, problem := c.validText(w.Text, MaxPinPlace)
		if problem != nil {
			c.replies = append(c.replies, Reply{Text: *problem})
			c.askPin()
			return
		}
		p.Lat, p.Lon, p.Place, p.Step = nil, nil, a.Text, pinAtFeeling
	default:
		c.say("map.place_expected", nil)
		c.askPin()
		return
	}
	c.askPin()
}

// savePin asks to store the pin; the outcome is PinSaved or PinNotSaved.
func (c *conversation) savePin() {
	p := c.st.Pin
	p.Step = pinAtSaving
	c.do(SavePin{Pin: Pin{
		DraftID: p.ID, ForumID: c.st.ForumID, Lat: p.Lat, Lon: p.Lon, PlaceText: p.Place,
		Feeling: p.Feeling, Comment: p.Comment, Language: c.st.Lang, AgeBand: c.st.AgeBand,
		CreatedAt: c.now.UTC(),
	}})
}

// pinSaved: the pin is stored; the next place may come straight away.
func (c *conversation) pinSaved(w PinSaved) {
	p := c.st.Pin
	if p == nil || p.Step != pinAtSaving {
		return // the student moved on meanwhile
	}
	last := Answer{Text: p.Place, Lat: p.Lat, Lon: p.Lon}
	next := &PinDraft{ID: c.in.EventID, Step: pinAtPlace, Own: p.Own, Area: p.Area, Collecting: p.Collecting,
		Saved: p.Saved + 1, Last: &last}
	if next.ID == p.ID { // the same event cannot tag two pins
		next.ID += "n"
	}
	c.st.Pin = next
	count := w.Count
	// "Saved" and the next place's question: one message.
	c.intro = &Msg{Key: "map.saved", Count: &count}
	c.askPin()
}

// pinNotSaved: the pin could not be stored now; it stays, to be sent again.
func (c *conversation) pinNotSaved() {
	if c.st.Pin == nil {
		return
	}
	c.say("map.not_saved", nil, c.pinRetryRow())
}

func (c *conversation) pinRetryRow() []Button {
	return row(c.pinButton("button.try_again", "retry"), c.pinButton("map.button_done", "done"))
}

// ideaForPlace starts an idea whose place is the one just marked; an idea
// being written takes the place, unless it has one.
func (c *conversation) ideaForPlace() {
	place := *c.st.Pin.Last
	c.st.Pin = nil
	c.edit = false
	current := c.st.Answers[StepPlace]
	switch {
	case !c.st.InProgress() || !c.hasContent():
		c.startIdeaAt(&place)
	case current.Text != "" || current.Lat != nil:
		c.say("map.idea_busy", nil)
		c.ask()
	default:
		c.st.Answers[StepPlace], c.st.PlaceFromMap = place, true
		if c.st.Step == StepPlace {
			c.st.Step = c.next(StepPlace)
		}
		c.say("map.idea_place_added", nil)
		c.ask()
	}
}

// finishMap closes the map, and goes back to the idea being written, if any.
func (c *conversation) finishMap() {
	saved := 0
	if c.st.Pin != nil {
		saved = c.st.Pin.Saved
	}
	c.st.Pin = nil
	back := c.st.InProgress()
	var buttons [][]Button
	if !back {
		buttons = [][]Button{c.restRow()}
	}
	key := "map.finished"
	if back {
		key += "_back"
	}
	if saved == 0 {
		c.say(strings.Replace(key, "finished", "closed", 1), nil, buttons...)
	} else {
		c.sayCount(key, saved, nil, buttons...)
	}
	if back {
		c.edit = false
		c.ask()
	}
}

// askPin shows the map's current question.
func (c *conversation) askPin() {
	p := c.st.Pin
	done := c.pinButton("map.button_done", "done")
	switch p.Step {
	case pinAtPlace:
		key := "map.ask_place"
		if p.Saved > 0 {
			key = "map.ask_next_place"
		}
		buttons := []Button{}
		if p.Last != nil && p.Collecting {
			buttons = append(buttons, c.pinButton("map.button_idea", "idea"))
		}
		buttons = append(buttons, done)
		c.show(Msg{Key: key, Data: map[string]any{"Forum": c.st.ForumName}}, chunks(buttons, 1))
	case pinAtFar:
		c.show(Msg{Key: "map.far", Data: map[string]any{"Km": p.FarKm, "Forum": c.st.ForumName}}, [][]Button{row(
			c.pinButton("map.button_far_yes", "far:yes"), c.pinButton("map.button_far_no", "far:no"))})
	case pinAtFeeling:
		var standard, own []Button
		for _, f := range p.feelings() {
			b := Button{Label: c.feelingLabel(f), Data: encodeButton(p.ID, buttonMap, "f:"+f)}
			if slices.Contains(Feelings, f) {
				standard = append(standard, b)
			} else {
				own = append(own, b)
			}
		}
		rows := append(chunks(standard, 2), chunks(own, 1)...)
		rows = append(rows, row(c.pinButton("button.back", "back"), done))
		c.show(Msg{Key: "map.ask_feeling", Data: map[string]any{"Place": c.pinShown()}}, rows)
	case pinAtComment:
		c.show(Msg{Key: "map.ask_comment", Data: map[string]any{"Max": MaxPinComment}}, [][]Button{
			row(c.pinButton("button.skip", "skip")), row(c.pinButton("button.back", "back"), done)})
	case pinAtSaving:
		c.say("map.saving", nil, c.pinRetryRow())
	}
}

// pinShown is the place as the feeling question names it.
func (c *conversation) pinShown() any {
	if p := c.st.Pin; p.Place != "" {
		return p.Place
	}
	return Msg{Key: "summary.pin"}
}

// feelingLabel is a feeling's words: the locale's, or the forum's own.
func (c *conversation) feelingLabel(code string) Msg {
	if p := c.st.Pin; p != nil {
		for i, own := range p.Own {
			if OwnFeeling(i) == code {
				return Msg{Key: "layout.plain", Data: map[string]any{"Text": own}}
			}
		}
	}
	return Msg{Key: "feeling." + code}
}

func (c *conversation) pinButton(label, value string) Button {
	return Button{Label: Msg{Key: label}, Data: encodeButton(c.st.Pin.ID, buttonMap, value)}
}

// mapButton1 opens the map from any message.
func mapButton1() Button {
	return Button{Label: Msg{Key: "button.map"}, Data: encodeButton("", buttonMap, "start")}
}

// DistanceKm is the distance between two points on the Earth, in km
// (haversine: plenty for "is this pin in town").
func DistanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	const earthKm = 6371.0
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKm * math.Asin(math.Sqrt(min(1, a)))
}

// round6 keeps six decimals: about 10 cm, more than any phone knows.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// TopPlacesReply is the map's most marked places of each feeling, for the
// class's results; ok is false when the forum has no pins.
func TopPlacesReply(places []TopPlace, own []string) (Reply, bool) {
	if len(places) == 0 {
		return Reply{}, false
	}
	var lines Lines
	for _, tp := range places {
		feeling := Msg{Key: "feeling." + tp.Feeling}
		for i, words := range own {
			if OwnFeeling(i) == tp.Feeling {
				feeling = Msg{Key: "layout.plain", Data: map[string]any{"Text": words}}
			}
		}
		var where any = tp.Label
		if tp.Label == "" && tp.Lat != nil && tp.Lon != nil {
			where = Msg{Key: "map.top_pinned", Data: map[string]any{"Link": MapLink(*tp.Lat, *tp.Lon)}}
		}
		lines = append(lines, Msg{Key: "map.top_place", Data: map[string]any{"Feeling": feeling, "Place": where, "Pins": tp.Pins}})
	}
	return Reply{Text: Msg{Key: "map.top_places", Data: map[string]any{"Places": lines}}}, true
}
