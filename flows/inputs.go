package flows

import "time"

// Input is one event in the conversation: what happened, who did it, and
// what the bot looked up for it.
type Input struct {
	// What happened: one of the types below.
	What Happened
	// EventID is new for every event handled, never reused: a new idea's
	// draft id (and so its row in the database) and a forum set-up's key
	// come from it. (Ids the channel gives, like Telegram's update ids,
	// repeat over time; the draft, once in the state, is what makes
	// sending it twice store it once.)
	EventID string
	// LanguageHint is the person's app language, used until they choose.
	LanguageHint string
	// Age is the deployment's rule on students' age.
	Age AgeRule
	// Who sent it: a student, a teacher or city staff, and their pseudonym.
	Actor       Actor
	Participant string
	// Current is the student's forum as it is now, looked up (CheckForum)
	// before a new idea is started.
	Current *Forum
	// Card is a forum with its figures, looked up (LoadCard) before a tap
	// on a forum card is handled.
	Card *ForumCard
}

// Happened is what a person did in the chat, or the outcome of an effect.
// The set is closed: only the types in this file are inputs.
type Happened interface{ happened() }

// What a person does.
type (
	// Text is a message the person wrote.
	Text struct{ Text string }
	// Tap is a button tapped; Data is what the button carries.
	Tap struct{ Data string }
	// Location is a place shared on the map; Live: a moving location.
	Location struct {
		Lat, Lon float64
		Live     bool
	}
	// PhotoSent is a photo sent, by the channel's file id.
	PhotoSent struct{ FileID string }
	// Media is something not usable as an answer: a sticker, voice, video,
	// a file... Kind says which.
	Media struct{ Kind string }
	// CommandSent is /name, with what follows it (Arg).
	CommandSent struct{ Name, Arg string }
	// Edited is an edit of a message sent earlier.
	Edited struct{}
	// JoinLinkOpened is a forum's join link opened: what its code led to.
	JoinLinkOpened struct {
		Found bool
		Forum Forum
		// LastYear is the forum Forum follows, looked up with the code
		// (nil: none, or it could not be looked up).
		LastYear *LastYear
	}
	// FileSent is a document sent, by the channel's file id, with its
	// name and size in bytes.
	FileSent struct {
		FileID, Name string
		Size         int64
	}
	// InviteOpened is a teacher invite link opened, and what came of it.
	InviteOpened struct{ Outcome InviteOutcome }
)

// What the bot did when the conversation asked (see effects.go).
type (
	// Submitted: the idea was stored under Ref; ideas are taken until
	// ClosesAt (zero: no date, or not known).
	Submitted struct {
		Ref      string
		ClosesAt time.Time
	}
	// IdeasClosed: the forum takes no ideas any more (it is past
	// collecting); the idea was not stored, the draft stays.
	IdeasClosed struct{ Forum Forum }
	// SubmitQueued: the idea could not be stored in the database now, but
	// it is kept safe and will be stored by itself; its reference comes later.
	SubmitQueued struct{}
	// SubmitFailed: the idea could not be stored, nor kept; the draft stays.
	SubmitFailed struct{}
	// SubmitLimited: the student sent Limit ideas to this forum in the last
	// day already; the draft stays, to be sent later.
	SubmitLimited struct{ Limit int }
	// StoreFailed: what a teacher or staff member asked for could not be
	// done now.
	StoreFailed struct{}
	// NotAllowed: what was asked for needs a role the person no longer has.
	NotAllowed struct{}
	// ForumCreated is the forum a teacher set up.
	ForumCreated struct{ Forum Forum }
	// ForumsListed are the forums a teacher may see.
	ForumsListed struct{ Forums []Forum }
	// CardReloaded is a forum card to show again, in place of the old one.
	CardReloaded struct{ Card ForumCard }
	// PhaseRefused: a phase move was not made (Reason, a locale key); the
	// card is shown as it is.
	PhaseRefused struct {
		Reason string
		Card   ForumCard
	}
	// BallotLoaded is the student's ballot.
	BallotLoaded struct{ Ballot Ballot }
	// VoteCast is what became of a vote (one of the Vote* outcomes), with
	// the ballot as it is after.
	VoteCast struct {
		Outcome string
		Ballot  Ballot
	}
	// ResultsLoaded is a forum's ranked shortlist.
	ResultsLoaded struct {
		Forum   Forum
		Results []ItemResult
		// Places are the map's most marked places, when it has any.
		Places *Reply
	}
	// ResultsPictureMade is a forum's results picture (a PNG file).
	ResultsPictureMade struct {
		Forum Forum
		File  File
	}
	// ShortlistLoaded is a forum's shortlist and the ideas that may go on
	// it (every visible idea, with the item carrying it), after Done (a
	// locale key, or "") or a change Refused.
	ShortlistLoaded struct {
		Forum      Forum
		Items      []ShortlistItem
		Candidates []ShortlistCandidate
		Done       string
		Refused    *ShortlistError
	}
	// InviteCreated is a new teacher invite for Town.
	InviteCreated struct{ Code, Town string }
	// MyIdeasListed are the student's ideas.
	MyIdeasListed struct{ Ideas []MyIdea }
	// MyDataExported is everything stored about the student.
	MyDataExported struct{ File File }
	// Deleted: the student's data was deleted.
	Deleted struct{}
	// ReviewNext is the next idea to review (nil when none), after the
	// decision taken on the last one (nil: none).
	ReviewNext struct {
		Item    *ReviewItem
		Decided *ReviewDecision
	}
	// ReviewRefUnknown: the idea a decision named (Ref) does not exist:
	// nothing was changed.
	ReviewRefUnknown struct{ Ref string }
	// IdeaLoaded is the idea Ref with its history (nil: no such idea),
	// after the decision taken on it (nil: none).
	IdeaLoaded struct {
		Ref     string
		Idea    *IdeaView
		Decided *ReviewDecision
	}
	// OriginalChecked: whether the idea Ref, named as a duplicate's
	// original, exists.
	OriginalChecked struct {
		Ref   string
		Found bool
	}
	// ExportForumsListed are the forums to choose from for an export in Format.
	ExportForumsListed struct {
		Format string
		Forums []Forum
	}
	// Exported is the export file, with Count ideas.
	Exported struct {
		File   File
		Count  int
		Format string
	}
	// AnnounceForumsListed are the forums staff may announce to.
	AnnounceForumsListed struct{ Forums []Forum }
	// AudienceCounted: a broadcast to Forum would reach Reach participants.
	AudienceCounted struct {
		Forum Forum
		Reach int
	}
	// AnnouncementCreated: the announcement to Forum goes to Recipients
	// participants.
	AnnouncementCreated struct {
		Forum      string
		Recipients int
	}
	// HelpOfferSaved: the way to reach a helper was stored, or (not
	// Stored) refused: the item is no chosen one carrying their idea.
	HelpOfferSaved struct{ Stored bool }
	// PinSaved: the pin was stored; the student has Count pins in the forum.
	PinSaved struct{ Count int }
	// PinNotSaved: the pin could not be stored now; it stays, to be sent again.
	PinNotSaved struct{}
	// PinReviewNext is the next map comment to check (nil: none left),
	// after the last decision: "hidden", "kept", "gone" or "".
	PinReviewNext struct {
		Pin     *PinReview
		Decided string
	}
	// MapFileMade is a forum's map page (an HTML file).
	MapFileMade struct {
		Forum Forum
		File  File
	}
	// ImportPlanned is what the file staff sent back would change.
	ImportPlanned struct {
		FileID, Name string
		Plan         ImportPlan
	}
	// ImportRefused: the file was not taken, for Err's reason.
	ImportRefused struct {
		Name string
		Err  ImportError
	}
	// ImportApplied: the file's changes were made (Applied), or nothing was
	// because the ideas changed since the preview, and Plan is what the
	// file would change now.
	ImportApplied struct {
		FileID, Name string
		Plan         ImportPlan
		Applied      bool
	}
	// StatsLoaded is the staff's overview.
	StatsLoaded struct{ Stats Stats }
	// StatsPictureMade is the overview's picture (a PNG file).
	StatsPictureMade struct{ File File }
	// JoinCodeRefused: a typed join code (Code, as stored) leads to no
	// forum, or (Limited) the person typed too many wrong codes lately and
	// it was not even looked up. A code that leads to a forum comes back
	// as the JoinLinkOpened its link gives.
	JoinCodeRefused struct {
		Code    string
		Limited bool
	}
)

func (Text) happened()                 {}
func (Tap) happened()                  {}
func (Location) happened()             {}
func (PhotoSent) happened()            {}
func (Media) happened()                {}
func (CommandSent) happened()          {}
func (Edited) happened()               {}
func (JoinLinkOpened) happened()       {}
func (InviteOpened) happened()         {}
func (Submitted) happened()            {}
func (SubmitQueued) happened()         {}
func (SubmitFailed) happened()         {}
func (SubmitLimited) happened()        {}
func (StoreFailed) happened()          {}
func (NotAllowed) happened()           {}
func (ForumCreated) happened()         {}
func (ForumsListed) happened()         {}
func (CardReloaded) happened()         {}
func (IdeasClosed) happened()          {}
func (PhaseRefused) happened()         {}
func (BallotLoaded) happened()         {}
func (VoteCast) happened()             {}
func (ResultsLoaded) happened()        {}
func (ResultsPictureMade) happened()   {}
func (InviteCreated) happened()        {}
func (MyIdeasListed) happened()        {}
func (MyDataExported) happened()       {}
func (Deleted) happened()              {}
func (ReviewNext) happened()           {}
func (ReviewRefUnknown) happened()     {}
func (IdeaLoaded) happened()           {}
func (OriginalChecked) happened()      {}
func (ExportForumsListed) happened()   {}
func (Exported) happened()             {}
func (AnnounceForumsListed) happened() {}
func (AudienceCounted) happened()      {}
func (AnnouncementCreated) happened()  {}
func (ShortlistLoaded) happened()      {}
func (HelpOfferSaved) happened()       {}
func (FileSent) happened()             {}
func (ImportPlanned) happened()        {}
func (ImportRefused) happened()        {}
func (ImportApplied) happened()        {}
func (StatsLoaded) happened()          {}
func (StatsPictureMade) happened()     {}
func (JoinCodeRefused) happened()      {}
func (PinSaved) happened()             {}
func (PinNotSaved) happened()          {}
func (MapFileMade) happened()          {}
func (PinReviewNext) happened()        {}
