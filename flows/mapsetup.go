package flows

import (
	"slices"
	"strconv"
	"strings"
)

// A forum's map, as its teacher (or staff) sets it up from the forum card:
//
//   - 📍 the town on the map: they send a pin on the town's centre, then tap
//     how far the town reaches; pins further out are questioned;
//   - 💭 feelings of the forum's own, beside the standard four: one per
//     line, up to MaxOwnFeelings (or "-" for none);
//   - 🗺️ the map file: every pin of the forum on a map page to open in a
//     browser.

// The questions about a forum's map (State.Closing is the forum).
const (
	PendingMapCentre   Pending = "mapcentre"
	PendingMapFeelings Pending = "mapfeelings"
)

// Buttons of the forum card for its map: "<forum id>" asks; the radius
// buttons are "<forum id>:<km>".
const (
	buttonForumMapArea     = "fa"
	buttonForumMapFeelings = "ff"
	buttonForumMapFile     = "fm"
)

// MapRadiiKm are the sizes a forum's area may have: a school's
// neighbourhood, a town, a town with its villages.
var MapRadiiKm = []int{2, 5, 10, 30}

// asksAboutForum reports whether p asks a teacher about one of a forum's
// settings (State.Closing is the forum).
func (p Pending) asksAboutForum() bool {
	return p.asksForumDay() || p == PendingMapCentre || p == PendingMapFeelings
}

// forumMapButton handles the card's map buttons (the forum is loaded and
// the person may manage it).
func (c *conversation) forumMapButton(b buttonData, f Forum) {
	_, arg, _ := strings.Cut(b.value, ":")
	ref := &ForumRef{ID: f.ID, Code: f.Code, Name: f.Name}
	switch {
	case b.step == buttonForumMapFile && arg == "":
		c.do(MakeMapFile{ForumID: f.ID})
	case b.step == buttonForumMapFeelings && arg == "":
		c.st.Setup, c.st.MapCentre = nil, nil
		c.st.Pending, c.st.Closing = PendingMapFeelings, ref
		c.askPending()
	case b.step == buttonForumMapArea && arg == "":
		c.st.Setup, c.st.MapCentre = nil, nil
		c.st.Pending, c.st.Closing = PendingMapCentre, ref
		c.askPending()
	case b.step == buttonForumMapArea && c.st.MapCentre != nil && c.st.Closing != nil && c.st.Closing.ID == f.ID:
		km, err := strconv.Atoi(arg)
		if err != nil || !slices.Contains(MapRadiiKm, km) {
			c.stale()
			return
		}
		area := MapArea{Lat: c.st.MapCentre.Lat, Lon: c.st.MapCentre.Lon, RadiusKm: float64(km)}
		c.st.Pending, c.st.Closing, c.st.MapCentre = PendingNone, nil, nil
		c.do(SetForumMap{ForumID: f.ID, Code: f.Code, Area: &area})
	default:
		c.stale()
	}
}

// mapSetupAnswer takes the town's centre, or the forum's own feelings.
func (c *conversation) mapSetupAnswer() {
	f := c.st.Closing
	if c.st.Pending == PendingMapCentre {
		pin, ok := c.in.What.(Location)
		if !ok || pin.Live || !validCoordinates(pin.Lat, pin.Lon) {
			c.say("mapsetup.centre_expected", nil)
			c.askPending()
			return
		}
		c.st.MapCentre = &MapArea{Lat: round6(pin.Lat), Lon: round6(pin.Lon)}
		var buttons []Button
		for _, km := range MapRadiiKm {
			buttons = append(buttons, Button{Label: Msg{Key: "mapsetup.radius", Data: map[string]any{"Km": km}},
				Data: encodeButton("", buttonForumMapArea, strconv.FormatInt(f.ID, 10)+":"+strconv.Itoa(km))})
		}
		c.say("mapsetup.ask_radius", map[string]any{"Forum": f.Name}, buttons)
		return
	}
	text, ok := c.pendingText(MaxOwnFeelings * (MaxOwnFeeling + 1))
	if !ok {
		return
	}
	feelings := []string{}
	if strings.TrimSpace(text) != "-" {
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				feelings = append(feelings, line)
			}
		}
	}
	if len(feelings) > MaxOwnFeelings || slices.ContainsFunc(feelings, func(s string) bool { return Length(s) > MaxOwnFeeling }) {
		c.say("mapsetup.feelings_too_many", map[string]any{"Max": MaxOwnFeelings, "MaxLen": MaxOwnFeeling})
		c.askPending()
		return
	}
	c.st.Pending, c.st.Closing = PendingNone, nil
	c.do(SetForumMap{ForumID: f.ID, Code: f.Code, Feelings: feelings})
}

// askMapSetup asks the pending question about a forum's map.
func (c *conversation) askMapSetup() {
	f := c.st.Closing
	switch {
	case c.st.Pending == PendingMapFeelings:
		c.say("mapsetup.ask_feelings", map[string]any{"Forum": f.Name, "Max": MaxOwnFeelings})
	case c.st.MapCentre != nil:
		c.say("mapsetup.centre_expected", nil)
	default:
		c.say("mapsetup.ask_centre", map[string]any{"Forum": f.Name})
	}
}

// mapCardButtons are the forum card's buttons for its map.
func mapCardButtons(f Forum) [][]Button {
	id := strconv.FormatInt(f.ID, 10)
	return [][]Button{
		row(Button{Label: Msg{Key: "mapsetup.button_area"}, Data: encodeButton("", buttonForumMapArea, id)},
			Button{Label: Msg{Key: "mapsetup.button_feelings"}, Data: encodeButton("", buttonForumMapFeelings, id)}),
		row(Button{Label: Msg{Key: "mapsetup.button_file"}, Data: encodeButton("", buttonForumMapFile, id)}),
	}
}

// mapSettings is the card's line about the forum's map.
func mapSettings(f Forum) Msg {
	own := strings.Join(f.Feelings, ", ")
	if !f.Area.Set() {
		return Msg{Key: "mapsetup.card_no_area", Data: map[string]any{"Own": own, "HasOwn": own != ""}}
	}
	return Msg{Key: "mapsetup.card_area", Data: map[string]any{"Km": f.Area.RadiusKm, "Link": MapLink(f.Area.Lat, f.Area.Lon), "Own": own, "HasOwn": own != ""}}
}
