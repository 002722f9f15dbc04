package flows

// Effect is something the conversation asks the outside world to do. The
// bot does it and, where there is an outcome, hands it back as an input
// (see Run). The set is closed: only the types in this file are effects.
type Effect interface{ effect() }

// What the conversation asks for.
type (
	// SubmitIdea stores a finished idea (outcome: Submitted, SubmitQueued or
	// SubmitFailed).
	SubmitIdea struct{ Idea Idea }
	// CountJoin counts the student as a participant of the forum.
	CountJoin struct{ Forum Forum }
	// CheckForum looks the student's forum up into Input.Current, then the
	// input is handled again.
	CheckForum struct{ ForumID int64 }
	// LoadCard looks a forum and its figures up into Input.Card, then the
	// input is handled again.
	LoadCard struct{ ForumID int64 }
	// CreateForum creates the forum a teacher set up (ForumCreated).
	CreateForum struct{ Spec ForumSpec }
	// ListForums lists the forums the teacher may see (ForumsListed).
	ListForums struct{}
	// SetForumOpen closes or reopens a forum (CardReloaded).
	SetForumOpen struct {
		ForumID int64
		Code    string
		Open    bool
	}
	// SetClosingDate sets (or, with Day "", removes) a forum's closing date;
	// Day is 2006-01-02 in the city's time zone (CardReloaded).
	SetClosingDate struct {
		ForumID int64
		Code    string
		Day     string
	}
	// SetVoteDay sets (or, with Day "", removes) the day voting opens, or
	// (Closes) its last day; Day is 2006-01-02 in the city's time zone
	// (CardReloaded, or PhaseRefused).
	SetVoteDay struct {
		ForumID int64
		Code    string
		Closes  bool
		Day     string
	}
	// MovePhase moves a forum from phase From to To, confirmed by a teacher
	// or staff member (CardReloaded, or PhaseRefused).
	MovePhase struct {
		ForumID  int64
		Code     string
		From, To string
	}
	// LoadBallot looks up the student's ballot in a forum (BallotLoaded).
	LoadBallot struct{ ForumID int64 }
	// CastVote gives (Vote) or takes back a vote for a shortlist item (VoteCast).
	CastVote struct {
		ForumID, ItemID int64
		Vote            bool
	}
	// LoadResults looks up a forum's ranked shortlist (ResultsLoaded).
	LoadResults struct{ ForumID int64 }
	// MakeResultsPicture draws a forum's results for its teacher to project
	// (ResultsPictureMade).
	MakeResultsPicture struct{ ForumID int64 }
	// LoadShortlist looks up a forum's shortlist and the ideas that may go
	// on it (ShortlistLoaded), for its teacher or staff.
	LoadShortlist struct{ ForumID int64 }
	// AddShortlistItem makes one shortlist item of the ideas Refs: one idea
	// in its own words (Text nil), or several merged with Text in Lang
	// (ShortlistLoaded, with what was done or why not).
	AddShortlistItem struct {
		ForumID int64
		Refs    []string
		Lang    string
		Text    *ItemText
	}
	// RemoveShortlistItem takes an item off the shortlist (ShortlistLoaded).
	RemoveShortlistItem struct{ ForumID, ItemID int64 }
	// CreateInvite makes a teacher invite for a town (InviteCreated).
	CreateInvite struct{ Town string }
	// ListMyIdeas lists the student's ideas (MyIdeasListed).
	ListMyIdeas struct{}
	// ExportMyData gathers everything stored about the student (MyDataExported).
	ExportMyData struct{}
	// StopMessages: no more messages about the student's ideas.
	StopMessages struct{}
	// DeleteMe erases everything stored about the student (Deleted).
	DeleteMe struct{}
	// NextReview finds the next idea for staff to review, passing over
	// those skipped in this round (ReviewNext).
	NextReview struct{ Skip []string }
	// StoreReview stores what staff decided, then finds the next idea
	// (ReviewNext), or with FromIdea shows the idea again (IdeaLoaded);
	// ReviewRefUnknown if an idea it names does not exist.
	StoreReview struct {
		Decision ReviewDecision
		FromIdea bool
	}
	// LoadIdea looks one idea up with its history, for staff (IdeaLoaded).
	LoadIdea struct{ Ref string }
	// CheckOriginal looks up whether the idea a duplicate repeats exists
	// (OriginalChecked).
	CheckOriginal struct{ Ref string }
	// ListExportForums lists the forums to export from, in Format
	// (ExportForumsListed).
	ListExportForums struct{ Format string }
	// ExportIdeas makes the export file of a forum (0: all) in Format (Exported).
	ExportIdeas struct {
		Format  string
		ForumID int64
	}
	// ListAnnounceForums lists the forums staff may announce to
	// (AnnounceForumsListed).
	ListAnnounceForums struct{}
	// CountAudience counts whom a broadcast to a forum would reach
	// (AudienceCounted).
	CountAudience struct{ ForumID int64 }
	// CreateAnnouncement creates the broadcast of an announcement, once per
	// Key (AnnouncementCreated).
	CreateAnnouncement struct {
		Key          string
		ForumID      int64
		Announcement Announcement
	}
	// SaveHelpOffer stores how to reach the student about a chosen item
	// they would like to help with, once however often asked
	// (HelpOfferSaved).
	SaveHelpOffer struct {
		ForumID, ItemID int64
		Contact         string
	}
	// PlanImport fetches the file staff sent back and works out what it
	// would change (ImportPlanned, or ImportRefused).
	PlanImport struct{ FileID, Name string }
	// ApplyImport makes the file's changes if they are still the ones of
	// the plan with Hash (ImportApplied, or ImportRefused).
	ApplyImport struct{ FileID, Name, Hash string }
	// LoadStats looks up the staff's overview of a forum, 0: of all
	// (StatsLoaded).
	LoadStats struct{ ForumID int64 }
	// MakeStatsPicture draws the overview's picture in Lang
	// (StatsPictureMade).
	MakeStatsPicture struct {
		Stats Stats
		Lang  string
	}
	// LookUpJoinCode finds the forum of a short join code someone typed
	// (Code: as NormalJoinCode gives it), as its join link would
	// (JoinLinkOpened), unless they typed too many wrong codes lately
	// (JoinCodeRefused).
	LookUpJoinCode struct{ Code string }
	// SavePin stores a pin of the emotional map, once per DraftID
	// (PinSaved, or PinNotSaved).
	SavePin struct{ Pin Pin }
	// SetForumMap sets a forum's area (nil: as it is) or its own feelings
	// (nil: as they are) (CardReloaded).
	SetForumMap struct {
		ForumID  int64
		Code     string
		Area     *MapArea
		Feelings []string
	}
	// SetQRChoice sets whether a forum's QR code offers Telegram or the
	// browser (CardReloaded).
	SetQRChoice struct {
		ForumID int64
		Code    string
		Choice  bool
	}
	// MakeMapFile makes a forum's map page, for its teacher or staff
	// (MapFileMade).
	MakeMapFile struct{ ForumID int64 }
	// NextPinReview finds the next map comment for staff to check, passing
	// over those skipped (PinReviewNext).
	NextPinReview struct{ Skip []int64 }
	// StorePinReview hides a pin or keeps it, then finds the next
	// (PinReviewNext).
	StorePinReview struct {
		ID   int64
		Hide bool
		Skip []int64
	}
)

// Requires is who may ask for e: the bot checks it again where the effect
// is carried out, since a conversation can outlive a role (a set-up begun
// by a teacher who is a teacher no more).
func Requires(e Effect) Audience {
	switch e.(type) {
	case CreateForum, ListForums, LoadCard, SetForumOpen, SetClosingDate, SetVoteDay, MovePhase, MakeResultsPicture,
		LoadShortlist, AddShortlistItem, RemoveShortlistItem, SetForumMap, MakeMapFile, SetQRChoice:
		return Teachers
	case CreateInvite, NextReview, StoreReview, LoadIdea, CheckOriginal, ListExportForums, ExportIdeas,
		ListAnnounceForums, CountAudience, CreateAnnouncement, PlanImport, ApplyImport, LoadStats, MakeStatsPicture,
		NextPinReview, StorePinReview:
		return Staff
	}
	return Everyone
}

func (SubmitIdea) effect()          {}
func (MakeResultsPicture) effect()  {}
func (CountJoin) effect()           {}
func (CheckForum) effect()          {}
func (LoadCard) effect()            {}
func (CreateForum) effect()         {}
func (ListForums) effect()          {}
func (SetForumOpen) effect()        {}
func (SetClosingDate) effect()      {}
func (MovePhase) effect()           {}
func (LoadBallot) effect()          {}
func (CastVote) effect()            {}
func (LoadResults) effect()         {}
func (CreateInvite) effect()        {}
func (ListMyIdeas) effect()         {}
func (ExportMyData) effect()        {}
func (StopMessages) effect()        {}
func (DeleteMe) effect()            {}
func (NextReview) effect()          {}
func (StoreReview) effect()         {}
func (LoadIdea) effect()            {}
func (CheckOriginal) effect()       {}
func (ListExportForums) effect()    {}
func (ExportIdeas) effect()         {}
func (ListAnnounceForums) effect()  {}
func (CountAudience) effect()       {}
func (CreateAnnouncement) effect()  {}
func (SetVoteDay) effect()          {}
func (LoadShortlist) effect()       {}
func (AddShortlistItem) effect()    {}
func (RemoveShortlistItem) effect() {}
func (SaveHelpOffer) effect()       {}
func (PlanImport) effect()          {}
func (ApplyImport) effect()         {}
func (LoadStats) effect()           {}
func (MakeStatsPicture) effect()    {}
func (LookUpJoinCode) effect()      {}
func (SavePin) effect()             {}
func (SetForumMap) effect()         {}
func (MakeMapFile) effect()         {}
func (SetQRChoice) effect()         {}
func (NextPinReview) effect()       {}
func (StorePinReview) effect()      {}
