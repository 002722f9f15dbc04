package flows

import "encoding/json"

// Broadcasts are one message to every participant of a forum: staff's
// /announce, and (with forum phases) "voting is open" and the results. The
// conversation only asks for one (CreateAnnouncement); the bot sends it to
// each recipient, rendered by the renderer of its kind in the recipient's
// language (bot.RegisterBroadcast).

// Kinds of broadcast.
const (
	// BroadcastKindAnnounce is a short message from city staff (/announce).
	BroadcastKindAnnounce = "announce"
	// BroadcastKindVotingOpen tells every participant that voting opened,
	// with their ballot.
	BroadcastKindVotingOpen = "voting_open"
	// BroadcastKindResults gives every participant the ranked results.
	BroadcastKindResults = "results"
)

// PhaseBroadcast is the kind of broadcast a forum's move into phase makes,
// or "" when the move is not announced.
func PhaseBroadcast(phase string) string {
	switch phase {
	case PhaseVoting:
		return BroadcastKindVotingOpen
	case PhaseResults:
		return BroadcastKindResults
	}
	return ""
}

// MaxAnnouncementLen is how long staff's message may be, in characters:
// short enough to read on a phone, far within Telegram's 4,096.
const MaxAnnouncementLen = 1000

// Broadcast is a broadcast to create.
type Broadcast struct {
	ForumID int64
	Kind    string
	// Payload is what the kind's renderer needs beyond the forum and the
	// participant (an announcement's text); stored as JSON.
	Payload   json.RawMessage
	CreatedBy string // pseudonym of the staff member; "" from the CLI
	// Key makes creating it idempotent: the same key, one broadcast.
	Key string
}

// BroadcastDelivery is one recipient of a broadcast, leased to one sender.
type BroadcastDelivery struct {
	BroadcastID   int64
	ForumID       int64
	Kind          string
	Payload       json.RawMessage
	ParticipantID string
	Language      string
	// ChatID is where to send it; 0 when the stored chat cannot be opened
	// (sealed with a key the store lacks): tried again later.
	ChatID int64
	Tries  int // failed sends before this one
}

// Announcement is the payload of an announce broadcast.
type Announcement struct {
	Forum string `json:"forum"` // the forum's name, for the header
	Text  string `json:"text"`  // staff's words, cleaned, as written
}

// AnnouncementMsg is what a student is sent for an announcement: staff's
// words as written, under a header in the student's language. The preview
// staff see is the same message.
func AnnouncementMsg(a Announcement) Msg {
	return Msg{Key: "broadcast.announce", Data: map[string]any{"Forum": a.Forum, "Text": a.Text}}
}
