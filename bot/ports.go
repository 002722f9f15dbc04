package bot

import (
	"context"
	"io"
	"time"

	"github.com/healthycities/napad/flows"
)

// ConversationStore keeps each student's live conversation as an opaque blob.
// An update handles a conversation only in its turn: one update at a time,
// in the order of update ids, across all replicas of the bot.
type ConversationStore interface {
	// Begin waits for update updateID's turn on the conversation key.
	Begin(ctx context.Context, key string, updateID int64) (ConversationTurn, error)
}

// ConversationTurn is an update's exclusive turn on a conversation. Exactly
// one of Commit, Forget or End ends it.
type ConversationTurn interface {
	// State is the conversation as the turn found it (nil: a new one).
	State() []byte
	// WaitedForOthers: another update, or another delivery of this one,
	// held the conversation first.
	WaitedForOthers() bool
	// Commit saves the new state; saved is false if the turn had run out
	// and someone else changed the conversation meanwhile.
	Commit(ctx context.Context, data []byte, ttl time.Duration) (saved bool, err error)
	// Forget deletes the conversation.
	Forget(ctx context.Context) error
	// End leaves the conversation as it was.
	End(ctx context.Context) error
}

// OutboxStore keeps finished ideas while PostgreSQL is unreachable. Every
// replica drains it: an entry is leased (ClaimOutbox, oldest first) before it
// is stored, and then removed (DoneOutbox), given back (FailOutbox) or
// moved aside to the dead letters (FailOutbox, DeadOutbox).
type OutboxStore interface {
	PutOutbox(ctx context.Context, id string, data []byte) error
	// lease is the holder's token, handed back to the other three.
	ClaimOutbox(ctx context.Context, skip []string) (id string, data []byte, lease string, err error)
	DoneOutbox(ctx context.Context, id, lease string) (bool, error)
	// FailOutbox ends a failed attempt; with count the failure counts
	// against the entry, and the maxTries-th moves it to the dead letters.
	FailOutbox(ctx context.Context, id, lease string, count bool, maxTries int) (tries int, dead bool, err error)
	DeadOutbox(ctx context.Context, id, lease string) (bool, error)
	// A student's entries (ids "<participant>:<draft>"): ForgetOutbox
	// returns once none of them can reach PostgreSQL any more.
	ForgetOutbox(ctx context.Context, idPrefix string) error
	OutboxOf(ctx context.Context, idPrefix string) (map[string][]byte, error)
}

// OutboxResealer is what ResealOutbox needs of the outbox: every entry, and
// replacing one that has not changed since it was read.
type OutboxResealer interface {
	AllOutbox(ctx context.Context) (map[string][]byte, error)
	ReplaceOutbox(ctx context.Context, id string, old, data []byte) (bool, error)
}

// ForumStore finds, creates and changes forums, and counts who took part.
type ForumStore interface {
	ForumByCode(ctx context.Context, code string) (forum flows.Forum, found bool, err error)
	// ForumByShortCode finds a forum by its short join code as someone
	// typed it (flows.NormalJoinCode reads it).
	ForumByShortCode(ctx context.Context, typed string) (forum flows.Forum, found bool, err error)
	ForumByID(ctx context.Context, id int64) (forum flows.Forum, found bool, err error)
	ForumsByOwner(ctx context.Context, ownerID string) ([]flows.Forum, error)
	AllForums(ctx context.Context) ([]flows.Forum, error)
	CreateForum(ctx context.Context, spec flows.ForumSpec, ownerID string, closesAt time.Time) (flows.Forum, error)
	SetForumOpen(ctx context.Context, code string, open bool) error
	SetForumClosesAt(ctx context.Context, code string, closesAt time.Time) error
	// SetForumQRChoice sets whether the forum's QR code offers Telegram or
	// the browser (true), or opens Telegram.
	SetForumQRChoice(ctx context.Context, code string, choice bool) error
	// RecordJoin counts a participant as joined, and keeps chat (0: none)
	// to reach them with the forum's broadcasts.
	RecordJoin(ctx context.Context, forumID int64, participantID, language string, chat int64) error
	ForumStats(ctx context.Context, forumID int64) (flows.ForumStats, error)
}

// JoinCodeCounter counts the short join codes each person typed that led to
// no forum, in a window that starts with the first (see joincode.go).
type JoinCodeCounter interface {
	// WrongJoinCodes is how many wrong codes the participant typed in their
	// current window (0: none, or the window is over).
	WrongJoinCodes(ctx context.Context, participantID string) (int, error)
	// CountWrongJoinCode counts one more and returns the count; the first
	// starts a window of the given length.
	CountWrongJoinCode(ctx context.Context, participantID string, window time.Duration) (int, error)
}

// IdeaStore stores finished ideas durably, once per draft however often asked.
type IdeaStore interface {
	Submit(ctx context.Context, s flows.Idea) (reference string, err error)
	// IdeasSince counts a participant's ideas in a forum since a time, but
	// for the one of draftID.
	IdeasSince(ctx context.Context, participantID string, forumID int64, since time.Time, draftID string) (int, error)
}

// StaffStore is what city staff work with: the review queue and exports.
type StaffStore interface {
	NextForReview(ctx context.Context, skip []string) (flows.ReviewItem, bool, error)
	// Review stores a decision, audited, and tells the author as `napad
	// status set` does; known is false when the idea, or a duplicate's
	// original, does not exist.
	Review(ctx context.Context, d flows.ReviewDecision, actor string) (known bool, err error)
	// StaffIdea is one idea with its latest changes (found: it exists).
	StaffIdea(ctx context.Context, ref string) (view flows.IdeaView, found bool, err error)
	// Export writes the ideas of a forum (0: all) in format to w, with
	// headers and words in lang (the staff member's language; "": the
	// city's default).
	Export(ctx context.Context, format string, forumID int64, lang string, w io.Writer) (rows int, err error)
	// Audit records what a teacher or staff member did (actor: their pseudonym).
	Audit(ctx context.Context, actor, action, target string, after any) error
	// Stats is the overview of a forum (0: of all forums).
	Stats(ctx context.Context, forumID int64) (flows.Stats, error)
	// PlanImport works out what a spreadsheet staff sent back (an export
	// they edited, named name) would change; a file it refuses gives an
	// error wrapping a *flows.ImportError.
	PlanImport(ctx context.Context, name string, data []byte) (flows.ImportPlan, error)
	// ApplyImport makes the changes, audited and told to the students, if
	// they are still those of the plan with wantHash (else applied is
	// false and plan is what the file would change now).
	ApplyImport(ctx context.Context, name string, data []byte, wantHash, actor string) (plan flows.ImportPlan, applied bool, err error)
}

// PeopleStore knows who is a teacher, and hands out teacher invites.
type PeopleStore interface {
	RoleOf(ctx context.Context, participantID string) (role, town string, err error)
	CreateInvite(ctx context.Context, town, createdBy string, expiresAt time.Time) (code string, err error)
	// RedeemInvite's result is flows.InviteAccepted, InviteUnknown, InviteUsed
	// or InviteExpired.
	RedeemInvite(ctx context.Context, code, participantID string, now time.Time) (town, result string, err error)

	// A student's own data.
	IdeasOf(ctx context.Context, participantID string) ([]flows.MyIdea, error)
	DataOf(ctx context.Context, participantID string) ([]byte, error)
	DeleteParticipant(ctx context.Context, participantID string) (bool, error)
	// Not to tell a student what became of their ideas any more: they said
	// /stop or blocked the bot; their chat is forgotten. (How to reach them
	// is stored with each idea.)
	StopContact(ctx context.Context, participantID string, optOut bool) error
}

// NotificationStore hands the notifier the status notifications that are
// due, each to one notifier only for a while (a lease), and records what
// became of them. Notifications nobody may get (after /stop, a blocked bot,
// a hidden idea) are never handed out. A notification whose chat the store
// cannot open (sealed with a key it lacks) comes with ChatID 0.
type NotificationStore interface {
	DueNotifications(ctx context.Context, now time.Time, limit int) ([]flows.Notification, error)
	MarkNotified(ctx context.Context, ideaID int64, at time.Time) error
	// RetryNotification records a failed send; gaveUp says it will not be
	// tried again.
	RetryNotification(ctx context.Context, ideaID int64, at time.Time) (gaveUp bool, err error)
	DropNotification(ctx context.Context, ideaID int64, at time.Time) error
}

// ShortlistStore is a forum's shortlist as its teacher and staff pick it:
// the same rules for the chat and the command line. A change it refuses
// comes back as an error wrapping a *flows.ShortlistError.
type ShortlistStore interface {
	ShortlistCandidates(ctx context.Context, forumID int64) ([]flows.ShortlistCandidate, error)
	Shortlist(ctx context.Context, forumID int64) ([]flows.ShortlistItem, error)
	AddToShortlist(ctx context.Context, forumID int64, refs []string, lang string, text *flows.ItemText, actor string) (flows.ShortlistItem, error)
	RemoveFromShortlist(ctx context.Context, forumID, itemID int64, actor string) error
}

// VotingStore moves forums through their phases and keeps the votes on
// their shortlists. A vote counts once however often it is asked for.
type VotingStore interface {
	// MovePhase moves a forum from one phase to another if it is still in
	// from (an error wrapping flows.ErrPhaseChanged if not), audited.
	MovePhase(ctx context.Context, code, from, to, actor string, backwardsConfirmed bool) (moved bool, err error)
	// AdvanceDuePhases makes the moves whose dates have come; each move is
	// returned to one caller only, however many replicas ask.
	AdvanceDuePhases(ctx context.Context, now time.Time) ([]flows.PhaseMoved, error)
	// SetVoteDays changes when voting opens and closes (nil: as it is; a
	// zero time: no date), audited; voting closing before it opens is an
	// error wrapping flows.ErrVoteDaysOrder.
	SetVoteDays(ctx context.Context, code string, opensAt, closesAt *time.Time, actor string) error
	Ballot(ctx context.Context, forumID int64, participantID string) (flows.Ballot, error)
	// Vote gives or takes back a vote; outcome is one of flows.Vote*.
	Vote(ctx context.Context, forumID, itemID int64, participantID, language string, vote bool, now time.Time) (outcome string, ballot flows.Ballot, err error)
	Results(ctx context.Context, forumID int64) ([]flows.ItemResult, error)
	// SaveHelpOffer stores how to reach a participant about a chosen item
	// they offered to help with, once per item and participant.
	SaveHelpOffer(ctx context.Context, participantID string, itemID int64, contact string) error
}

// PinStore keeps the emotional map's pins. A pin's comment is checked by
// staff like an idea; a hidden pin stays out of the class's results and
// the teacher's map.
type PinStore interface {
	// SavePin stores a pin once per participant and DraftID however often
	// asked; count is the participant's pins in the forum afterwards.
	SavePin(ctx context.Context, p flows.Pin) (count int, err error)
	// TopPlaces are the places of a forum with the most visible pins of
	// each feeling, at most perFeeling of each, most pins first.
	TopPlaces(ctx context.Context, forumID int64, perFeeling int) ([]flows.TopPlace, error)
	// SetForumMap sets a forum's area (nil: as it is) and its own feelings
	// (nil: as they are; empty: none), audited.
	SetForumMap(ctx context.Context, code string, area *flows.MapArea, feelings []string, actor string) error
	// NextPinForReview is the next pin comment no staff member has checked,
	// flagged ones first, passing over skip (found false: none).
	NextPinForReview(ctx context.Context, skip []int64) (pin flows.PinReview, found bool, err error)
	// ReviewPin marks a pin's comment as checked, hiding the pin or not,
	// audited (found false: no such pin).
	ReviewPin(ctx context.Context, id int64, hide bool, actor string) (found bool, err error)
}
