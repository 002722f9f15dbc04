package flows

// The vocabulary Nápad shares between the conversation, the stores, the
// exports and the command line. Every list of allowed values is declared
// here, once; the stores validate against these lists, and the texts behind
// each value are in locales/*.toml ("status.<status>", "cat.<category>", ...).

// Languages a student can talk to the bot in, Czech first. This order is the
// canonical one: language buttons and a forum's stored languages follow it.
// Each has its file, locales/<code>.toml, which also gives the language's
// own name (language.self).
var Languages = []string{"cs", "en", "nb", "uk"}

// LanguageAliases are app languages close enough to one of Languages to be
// spoken to in it.
var LanguageAliases = map[string]string{"sk": "cs", "no": "nb", "nn": "nb"}

// Scopes say what an idea, or a forum, is about.
const (
	ScopeSchool = "school"
	ScopeTown   = "town"
	ScopeBoth   = "both"
)

// Scopes are all scopes, in the order they are offered.
var Scopes = []string{ScopeSchool, ScopeTown, ScopeBoth}

// Categories of an idea, shown as buttons.
var Categories = []string{
	"school", "environment", "transport", "leisure",
	"culture", "public_space", "community", "misc",
}

// Channels are how an idea reached Nápad (Idea.Channel): staff see it in
// the exports, to know whom each way of taking part reaches.
const (
	ChannelTelegram = "telegram"
	ChannelWeb      = "web"
)

// Channels are all channels, Telegram first: ideas stored before the web
// channel existed came through Telegram.
var Channels = []string{ChannelTelegram, ChannelWeb}

// ExportFormats are the files staff can get the ideas in.
var ExportFormats = []string{"xlsx", "csv", "geojson"}

// PinFormats are the files staff can get the emotional map's pins in: the
// map page (HTML), GeoJSON and CSV.
var PinFormats = []string{"map", "pinsgeojson", "pinscsv"}

// Statuses: what became of an idea.
const (
	StatusNew         = "new"
	StatusUnderReview = "under_review"
	StatusSelected    = "selected"
	StatusInProgress  = "in_progress"
	StatusDone        = "done"
	StatusNotFeasible = "not_feasible"
	StatusDuplicate   = "duplicate"
)

// Statuses an idea can have, in the order ideas usually go through them.
var Statuses = []string{
	StatusNew, StatusUnderReview, StatusSelected, StatusInProgress, StatusDone, StatusNotFeasible, StatusDuplicate,
}

// Reasons for which staff hide an idea: it is taken out of exports and lists.
const (
	HideAbusive      = "abusive"
	HideOffTopic     = "off_topic"
	HidePersonalData = "personal_data"
)

// HideReasons are all reasons to hide an idea.
var HideReasons = []string{HideAbusive, HideOffTopic, HidePersonalData}

// HidePrefix starts a review decision that hides the idea: HidePrefix + reason.
const HidePrefix = "hide_"

// InvitePrefix starts the deep-link parameter of a teacher invite link
// (?start=t_<code>). Join codes share that parameter, so none starts with it.
const InvitePrefix = "t_"

// What opening a teacher invite link can lead to (InviteOutcome.Result).
const (
	InviteAccepted = "accepted" // the invite was valid: its opener is now a teacher
	InviteUnknown  = "unknown"  // no such invite
	InviteUsed     = "used"     // someone already used it
	InviteExpired  = "expired"  // it was not used in time
)

// Notification is a change of an idea's status to tell its author about.
type Notification struct {
	IdeaID        int64 // the idea's id in the store
	ParticipantID string
	ChatID        int64
	Language      string
	Reference     string
	Title         string
	Status        string
	Answer        string // the city's answer; "" when there is none
}

// ItemStatuses are the public answer of the school or town to a shortlist
// item: the idea statuses that say what became of it. "new" is no answer
// (none is stored), and "duplicate" cannot happen to an item, whose
// near-duplicates were merged into it when the shortlist was picked.
var ItemStatuses = []string{StatusUnderReview, StatusSelected, StatusInProgress, StatusDone, StatusNotFeasible}
