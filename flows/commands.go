package flows

import (
	"slices"
	"strings"
)

// This file is every command a person can type and every kind of button,
// with who may use it: routing, role checks, the command menus and /help
// all come from these two tables. A command's menu text is the locale key
// "command.<name>".

// Audience is who may use a command or a button.
type Audience int

// The audiences, each a superset of the next.
const (
	Everyone Audience = iota // students, teachers and staff
	Teachers                 // teachers and staff
	Staff                    // city staff only
)

// May reports whether the actor belongs to the audience.
func (a Actor) May(who Audience) bool {
	switch who {
	case Teachers:
		return a.Role == RoleTeacher || a.Role == RoleStaff
	case Staff:
		return a.Role == RoleStaff
	}
	return true
}

// Command is one command, /name. Its line in /help is the locale key
// "commandhelp.<name>".
type Command struct {
	Name   string
	Who    Audience
	InMenu bool // listed in the chat's command menu
	// ShowsRole: its answer depends on the person's role, so the role is
	// looked up even if everyone may use it.
	ShowsRole bool
	// KeepsQuestion: a question the person was asked stays open (for /help).
	KeepsQuestion bool
	run           func(*conversation, CommandSent)
}

// Commands are all commands, in the order of the menu and of /help:
// staff's, teachers', then everyone's. (Set in init: /help lists them.)
var Commands []Command

func init() { Commands = commands }

var commands = []Command{
	{Name: CommandReview, Who: Staff, InMenu: true, run: (*conversation).reviewCommand},
	{Name: CommandIdea, Who: Staff, InMenu: true, run: (*conversation).ideaCommand},
	{Name: CommandExport, Who: Staff, InMenu: true, run: (*conversation).exportCommand},
	{Name: CommandInviteTeacher, Who: Staff, InMenu: true, run: (*conversation).inviteTeacher},
	{Name: CommandAnnounce, Who: Staff, InMenu: true, run: (*conversation).announceCommand},
	{Name: CommandStats, Who: Staff, InMenu: true, run: (*conversation).statsCommand},
	{Name: CommandPins, Who: Staff, InMenu: true, run: (*conversation).pinsCommand},
	{Name: CommandNewForum, Who: Teachers, InMenu: true, run: (*conversation).newForum},
	{Name: CommandForums, Who: Teachers, InMenu: true, run: (*conversation).forums},
	{Name: CommandStart, run: (*conversation).start},
	{Name: CommandNew, InMenu: true, run: (*conversation).newCommand},
	{Name: CommandJoin, InMenu: true, run: (*conversation).joinCommand},
	{Name: CommandMap, InMenu: true, run: (*conversation).mapCommand},
	{Name: CommandCancel, InMenu: true, run: (*conversation).cancelCommand},
	{Name: CommandVote, InMenu: true, run: (*conversation).voteCommand},
	{Name: CommandResults, InMenu: true, run: (*conversation).voteCommand},
	{Name: CommandMyIdeas, InMenu: true, run: (*conversation).myIdeasCommand},
	{Name: CommandMyData, InMenu: true, run: (*conversation).myDataCommand},
	{Name: CommandDelete, InMenu: true, run: (*conversation).deleteCommand},
	{Name: CommandStop, InMenu: true, run: (*conversation).stopCommand},
	{Name: CommandLanguage, InMenu: true, run: (*conversation).languageCommand},
	{Name: CommandHelp, InMenu: true, ShowsRole: true, KeepsQuestion: true, run: (*conversation).help},
}

// argOrAsk runs a command that takes what follows it (/idea N-7K2Q,
// /join K7Q2-M9XD) with that, or asks for it with the pending question.
func (c *conversation) argOrAsk(w CommandSent, ask Pending, with func(arg string)) {
	if strings.TrimSpace(w.Arg) == "" {
		c.st.Pending = ask
		c.askPending()
		return
	}
	with(w.Arg)
}

// helpLines are the /help lines of the menu's commands for exactly who.
func helpLines(who Audience) Lines {
	var lines Lines
	for _, c := range Commands {
		if c.InMenu && c.Who == who {
			lines = append(lines, Msg{Key: "commandhelp." + c.Name})
		}
	}
	return lines
}

// The commands' names.
const (
	CommandStart         = "start"
	CommandJoin          = "join"
	CommandNew           = "new"
	CommandCancel        = "cancel"
	CommandLanguage      = "language"
	CommandHelp          = "help"
	CommandMyIdeas       = "myideas"
	CommandVote          = "vote"
	CommandResults       = "results"
	CommandMyData        = "mydata"
	CommandDelete        = "delete"
	CommandStop          = "stop"
	CommandNewForum      = "newforum"
	CommandForums        = "forums"
	CommandInviteTeacher = "invite_teacher"
	CommandReview        = "review"
	CommandIdea          = "idea"
	CommandExport        = "export"
	CommandAnnounce      = "announce"
	CommandStats         = "stats"
	CommandMap           = "map"
	CommandPins          = "pins"
)

// CommandNamed is the command called name.
func CommandNamed(name string) (Command, bool) {
	i := slices.IndexFunc(Commands, func(c Command) bool { return c.Name == name })
	if i < 0 {
		return Command{}, false
	}
	return Commands[i], true
}

// Menu is the command menu of someone with role: the names, in order.
func Menu(role string) []string {
	a := Actor{Role: role}
	var names []string
	for _, c := range Commands {
		if c.InMenu && a.May(c.Who) {
			names = append(names, c.Name)
		}
	}
	return names
}

// buttonKind is what a button does, by the kind in its data ("<tag>|<kind>|<value>").
type buttonKind struct {
	Kinds []string
	Who   Audience
	run   func(*conversation, buttonData)
}

// buttonKinds are the buttons that are not answers to the idea's questions
// (those are ideaButton's). Who may tap them is checked here, once.
var buttonKinds = []buttonKind{
	{Kinds: []string{buttonSetup, buttonSetupLang, buttonSetupNav}, Who: Teachers, run: (*conversation).setupButton},
	{Kinds: []string{buttonForumCard, buttonForumQR, buttonForumOpen, buttonForumClose, buttonForumPhase, buttonForumVoteDay, buttonForumPicture,
		buttonForumMapArea, buttonForumMapFeelings, buttonForumMapFile, buttonForumQRChoice}, Who: Teachers, run: (*conversation).forumButton},
	{Kinds: []string{buttonShortlist}, Who: Teachers, run: (*conversation).shortlistButton},
	{Kinds: []string{buttonStaffReview, buttonStaffIdea}, Who: Staff, run: (*conversation).reviewButton},
	{Kinds: []string{buttonExportFormat, buttonExportForum}, Who: Staff, run: (*conversation).exportButton},
	{Kinds: []string{buttonAnnounceForum, buttonAnnounceSend}, Who: Staff, run: (*conversation).announceButton},
	{Kinds: []string{buttonImport}, Who: Staff, run: (*conversation).importButton},
	{Kinds: []string{buttonStats}, Who: Staff, run: (*conversation).statsButton},
	{Kinds: []string{buttonPinReview}, Who: Staff, run: (*conversation).pinReviewButton},
	{Kinds: []string{buttonDeleteAll}, run: (*conversation).deleteButton},
	{Kinds: []string{buttonVote}, run: (*conversation).voteButton},
	{Kinds: []string{buttonHelp}, run: (*conversation).helpButton},
	{Kinds: []string{buttonNewIdea}, run: (*conversation).newIdeaButton},
	{Kinds: []string{buttonMap}, run: (*conversation).mapButton},
	{Kinds: []string{buttonPickLanguage}, run: (*conversation).pickLanguageButton},
}

func buttonKindOf(kind string) (buttonKind, bool) {
	i := slices.IndexFunc(buttonKinds, func(k buttonKind) bool { return slices.Contains(k.Kinds, kind) })
	if i < 0 {
		return buttonKind{Kinds: []string{kind}, run: (*conversation).ideaButton}, false
	}
	return buttonKinds[i], true
}

// NeedsActor reports whether handling in depends on who sent it: a command
// or button not for everyone, /help, or an answer to a question only
// teachers and staff are asked. Everything else a student does is the same
// for everyone, so the bot need not look the role up.
func NeedsActor(st State, in Input) bool {
	if st.Setup != nil || st.Closing != nil || st.Reviewing != "" || st.Announce != nil || st.Shortlist != nil || st.Import != nil || st.Pending == PendingIdeaRef {
		return true
	}
	switch w := in.What.(type) {
	case FileSent:
		return true // staff send spreadsheets back
	case CommandSent:
		c, ok := CommandNamed(w.Name)
		return !ok || c.Who != Everyone || c.ShowsRole
	case Tap:
		b, ok := parseButton(w.Data)
		if !ok {
			return false
		}
		k, _ := buttonKindOf(b.step)
		return k.Who != Everyone
	}
	return false
}
