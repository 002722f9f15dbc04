package flows

import (
	"strconv"
	"time"
)

// /announce: city staff send a short message to every participant of a
// forum. They pick the forum, write the message, see it exactly as students
// will (framed by the header students get), and confirm; the bot then
// creates a broadcast and sends it at Telegram's pace in the background.

// AnnounceDraft is an announcement being written.
type AnnounceDraft struct {
	// Tag is the event that began it: its buttons carry it (older ones are
	// stale), and the broadcast's idempotency key comes from it, so a
	// double tap or a redelivered "send" creates one broadcast.
	Tag     string `json:"t"`
	ForumID int64  `json:"f"`
	Forum   string `json:"n"`
	Reach   int    `json:"r"`           // participants it would reach, when the forum was picked
	Text    string `json:"x,omitempty"` // the message, once written
}

// Buttons of /announce.
const (
	buttonAnnounceForum = "anf" // forum id
	buttonAnnounceSend  = "ans" // send, cancel
)

// broadcastPace is how many messages a second a broadcast goes out at
// (Telegram's limit), for telling staff how long it takes.
const broadcastPace = 30

func (c *conversation) announceCommand(CommandSent) { c.do(ListAnnounceForums{}) }

func (c *conversation) announceForums(forums []Forum) {
	if len(forums) == 0 {
		c.say("announce.no_forums", nil)
		return
	}
	var buttons [][]Button
	for i, f := range forums {
		if i == maxListedForums {
			break
		}
		buttons = append(buttons, row(Button{Label: Msg{Key: "forum.list_item", Data: map[string]any{"Forum": f.Name}},
			Data: encodeButton("", buttonAnnounceForum, strconv.FormatInt(f.ID, 10))}))
	}
	c.say("announce.pick_forum", nil, buttons...)
}

func (c *conversation) announceButton(b buttonData) {
	switch b.step {
	case buttonAnnounceForum:
		id, err := strconv.ParseInt(b.value, 10, 64)
		if err != nil || id <= 0 {
			c.stale()
			return
		}
		c.do(CountAudience{ForumID: id})
	case buttonAnnounceSend:
		a := c.st.Announce
		if a == nil || b.draft != a.Tag || a.Text == "" {
			c.stale()
			return
		}
		c.st.Announce = nil
		switch b.value {
		case "send":
			c.do(CreateAnnouncement{Key: a.Tag, ForumID: a.ForumID, Announcement: Announcement{Forum: a.Forum, Text: a.Text}})
		default:
			c.say("announce.cancelled", nil)
		}
	default:
		c.stale()
	}
}

// audienceCounted starts the announcement once the forum is picked, unless
// nobody could be told.
func (c *conversation) audienceCounted(f Forum, reach int) {
	if reach == 0 {
		c.say("announce.nobody", map[string]any{"Forum": f.Name})
		return
	}
	c.st.Announce = &AnnounceDraft{Tag: c.in.EventID, ForumID: f.ID, Forum: f.Name, Reach: reach}
	c.say("announce.ask_text", map[string]any{"Forum": f.Name, "Max": MaxAnnouncementLen})
}

// announceText takes the message (typed again, it replaces the earlier one)
// and shows the preview.
func (c *conversation) announceText() {
	a := c.st.Announce
	answer, problem := Answer{}, &Msg{Key: "error.text_expected"}
	if text, isText := c.in.What.(Text); isText {
		answer, problem = c.validText(text.Text, MaxAnnouncementLen)
	}
	if problem != nil {
		c.replies = append(c.replies, Reply{Text: *problem})
		c.say("announce.ask_text", map[string]any{"Forum": a.Forum, "Max": MaxAnnouncementLen})
		return
	}
	a.Text = answer.Text
	c.say("announce.preview_intro", nil)
	c.replies = append(c.replies, Reply{Text: AnnouncementMsg(Announcement{Forum: a.Forum, Text: a.Text})})
	n := a.Reach
	c.sayCount("announce.confirm", n, map[string]any{"Forum": a.Forum}, row(
		Button{Label: Msg{Key: "button.announce_send", Count: &n}, Data: encodeButton(a.Tag, buttonAnnounceSend, "send")},
		Button{Label: Msg{Key: "button.cancel"}, Data: encodeButton(a.Tag, buttonAnnounceSend, "cancel")}))
}

// announced tells staff the broadcast is on its way, and how long it takes.
func (c *conversation) announced(forum string, recipients int) {
	c.sayCount("announce.sent", recipients, map[string]any{"Forum": forum})
	took := BroadcastDuration(recipients)
	if took < time.Minute {
		c.say("announce.eta_soon", nil)
		return
	}
	c.sayCount("announce.eta", int((took+time.Minute-1)/time.Minute), nil)
}

// BroadcastDuration is how long a broadcast to n participants takes at
// Telegram's 30 messages a second, at least.
func BroadcastDuration(n int) time.Duration {
	return time.Duration(n) * time.Second / broadcastPace
}
