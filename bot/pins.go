package bot

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

// topPlacesPerFeeling is how many of the map's places the class's results
// name for each feeling.
const topPlacesPerFeeling = 3

// savePin stores a pin of the emotional map. One the database cannot take
// stays in the student's conversation, to be sent again (PinNotSaved).
func (rt *Runtime) savePin(ctx context.Context, x effect, e flows.SavePin) (flows.Input, bool) {
	p := e.Pin
	p.ParticipantID = x.pid
	p.Flagged = locales.MayBeProfane(p.Comment, p.PlaceText)
	count, err := rt.stores.Pins.SavePin(ctx, p)
	if err != nil {
		rt.log.Error("storing a pin failed", "forum_id", p.ForumID, "err", err)
		return outcome(flows.PinNotSaved{})
	}
	rt.log.Info("pin stored", "forum_id", p.ForumID, "feeling", p.Feeling, "typed", p.Lat == nil)
	return outcome(flows.PinSaved{Count: count})
}

func (rt *Runtime) setForumMap(ctx context.Context, x effect, e flows.SetForumMap) (flows.Input, bool) {
	if err := rt.stores.Pins.SetForumMap(ctx, e.Code, e.Area, e.Feelings, x.pid); err != nil {
		return rt.failed("setting a forum's map failed", err)
	}
	x.written()
	rt.log.Info("forum map changed", "forum_id", e.ForumID, "area", e.Area != nil, "feelings", len(e.Feelings))
	return rt.reloadCard(ctx, e.ForumID)
}

func (rt *Runtime) setQRChoice(ctx context.Context, x effect, e flows.SetQRChoice) (flows.Input, bool) {
	if err := rt.stores.Forums.SetForumQRChoice(ctx, e.Code, e.Choice); err != nil {
		return rt.failed("changing what a forum's QR code opens failed", err)
	}
	x.written()
	rt.audit(ctx, x.pid, "forums.qr_choice", e.Code, map[string]any{"choice": e.Choice})
	return rt.reloadCard(ctx, e.ForumID)
}

// QRLink is what forum f's QR code opens: its Telegram join link, or, when
// the forum offers the browser too (or there is no Telegram), the web
// channel's page for it at publicURL ("": none, so Telegram's link).
func QRLink(f flows.Forum, telegramLink, publicURL string) string {
	if publicURL != "" && (f.QRChoice || telegramLink == "") {
		return strings.TrimSuffix(publicURL, "/") + "/j/" + f.Code
	}
	return telegramLink
}

// exportName is the name of an export file made on day.
func exportName(format string, day time.Time) string {
	date := day.Format("2006-01-02")
	switch format {
	case mapFormat:
		return "napad-map-" + date + ".html"
	case "pinsgeojson":
		return "napad-pins-" + date + ".geojson"
	case "pinscsv":
		return "napad-pins-" + date + ".csv"
	}
	return "napad-ideas-" + date + "." + format
}

// mapFormat is the export format of the map page (see StaffStore.Export).
const mapFormat = "map"

func (rt *Runtime) makeMapFile(ctx context.Context, x effect, e flows.MakeMapFile) (flows.Input, bool) {
	f, found, err := rt.stores.Forums.ForumByID(ctx, e.ForumID)
	if err != nil || !found {
		return rt.failed("loading a forum for its map failed", errors.Join(err, errors.New("forum not found")))
	}
	var buf bytes.Buffer
	pins, err := rt.stores.Staff.Export(ctx, mapFormat, e.ForumID, x.st.Lang, &buf)
	if err != nil {
		return rt.failed("making a forum's map failed", err)
	}
	rt.audit(ctx, x.pid, "pins.map", f.Code, map[string]any{"pins": pins})
	name := "napad-map-" + f.ShortCode + "-" + rt.now().Format("2006-01-02") + ".html"
	return outcome(flows.MapFileMade{Forum: rt.local(f), File: flows.File{Name: name, Data: buf.Bytes()}})
}

// topPlaces are the map's most marked places of a forum, for its results;
// without them the results are shown all the same.
func (rt *Runtime) topPlaces(ctx context.Context, f flows.Forum) (flows.Reply, bool) {
	if rt.stores.Pins == nil {
		return flows.Reply{}, false
	}
	places, err := rt.stores.Pins.TopPlaces(ctx, f.ID, topPlacesPerFeeling)
	if err != nil {
		rt.log.Warn("loading the map's top places failed", "forum_id", f.ID, "err", err)
		return flows.Reply{}, false
	}
	return flows.TopPlacesReply(places, f.Feelings)
}

func (rt *Runtime) nextPinReview(ctx context.Context, skip []int64, decided string) (flows.Input, bool) {
	p, found, err := rt.stores.Pins.NextPinForReview(ctx, skip)
	if err != nil {
		return rt.failed("finding the next map comment to check failed", err)
	}
	next := flows.PinReviewNext{Decided: decided}
	if found {
		next.Pin = &p
	}
	return outcome(next)
}

func (rt *Runtime) storePinReview(ctx context.Context, x effect, e flows.StorePinReview) (flows.Input, bool) {
	found, err := rt.stores.Pins.ReviewPin(ctx, e.ID, e.Hide, x.pid)
	if err != nil {
		return rt.failed("storing a decision on a pin failed", err)
	}
	x.written()
	decided := "gone"
	if found {
		decided = map[bool]string{true: "hidden", false: "kept"}[e.Hide]
	}
	return rt.nextPinReview(ctx, e.Skip, decided)
}
