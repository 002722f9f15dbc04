package flows_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
	"github.com/healthycities/napad/locales"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

var testForum = flows.Forum{ID: 7, Code: "Zk3xQ9mP2aLw8RtY", ShortCode: "H4RV3ST7", Name: "8.B – ZŠ Komenského", School: "ZŠ Komenského", Town: "Kolín", Phase: flows.PhaseCollecting}

var clock = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// student drives the flow like a student in a chat would, and writes down
// the conversation as text, rendered in the student's language.
type student struct {
	t       testing.TB
	catalog *locales.Catalog
	hint    string
	state   flows.State
	last    []flows.Reply
	events  int
	refs    int
	log     strings.Builder
	stored  []flows.Idea
	failDB  bool
	all     []flows.Reply // every reply so far, for buttons further up the chat
	// For teachers and staff.
	who    string
	actor  flows.Actor
	pid    string
	forums []flows.Forum
	stats  flows.ForumStats
	// The shortlist of the forums, and the votes on it: item id → voters.
	items []flows.ShortlistItem
	votes map[int64][]string
	// For /announce: who each forum reaches, and what was announced.
	reach     map[int64]int
	announced []flows.CreateAnnouncement
	// The ideas that may go on the shortlist (ItemID: the item carrying one).
	candidates []flows.ShortlistCandidate
	// Help offers: the items the bot would take one for, and those stored.
	helpable []int64
	helpers  []flows.SaveHelpOffer
	// For a spreadsheet sent back: what the bot answers to PlanImport and
	// ApplyImport, and the imports applied.
	importing func(e flows.Effect) flows.Happened
	imported  []flows.ApplyImport
	// The deployment's age rule, and the joins counted.
	age    flows.AgeRule
	joins  int
	forgot bool
	// What the student did and how many messages the bot sent or edited
	// in answer, since the last counts().
	actions, sent, edited int
	// /stats: the overview of all forums, and the pictures asked for.
	overview flows.Stats
	pictures []flows.MakeStatsPicture
	// The ideas staff decide about (in the order of review), and a
	// student's own ideas for /myideas.
	ideas []*flows.IdeaView
	mine  []flows.MyIdea
	// wrongCodes counts the join codes typed that led nowhere: from the
	// fifth on, the bot looks no code up.
	wrongCodes int
	// Pins marked on the map; failPins: the database refuses them.
	pins     []flows.Pin
	failPins bool
}

func newStudent(t testing.TB, languageHint string) *student {
	t.Helper()
	c, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	return &student{t: t, catalog: c, hint: languageHint, who: "student", pid: "pid-student"}
}

func (s *student) do(label string, in flows.Input) flows.Result {
	s.t.Helper()
	s.events++
	in.EventID = strconv.Itoa(1000 + s.events)
	in.LanguageHint = s.hint
	in.Actor, in.Participant = s.actor, s.pid
	in.Age = s.age
	res := flows.Run(s.state, in, clock, s.effect)
	for _, e := range res.Effects {
		if _, ok := e.(flows.CountJoin); ok {
			s.joins++
		}
	}
	if res.Forget { // as the bot deletes the conversation, once it has answered
		s.forgot = true
		defer func() { s.state = flows.State{Lang: s.state.Lang} }()
	}
	replies, state := res.Replies, res.State
	s.state = roundTrip(s.t, state)
	s.last = replies
	s.all = append(s.all, replies...)
	s.actions++
	for _, r := range replies {
		if r.Replace {
			s.edited++
		} else {
			s.sent++
		}
	}
	fmt.Fprintf(&s.log, "%s: %s\n", s.who, label)
	for _, r := range replies {
		s.write(r)
	}
	s.log.WriteString("\n")
	return res
}

// effect does what the flow asks, as the bot would, with stores kept in memory.
func (s *student) effect(_ flows.State, in flows.Input, e flows.Effect) (flows.Input, bool) {
	switch e := e.(type) {
	case flows.SubmitIdea:
		if s.failDB {
			return flows.Input{What: flows.SubmitFailed{}}, true
		}
		for _, f := range s.forums { // the bot refuses ideas once collecting is over
			if f.ID == e.Idea.ForumID && f.PhaseAt(clock) != flows.PhaseCollecting {
				return flows.Input{What: flows.IdeasClosed{Forum: f}}, true
			}
		}
		s.stored = append(s.stored, e.Idea)
		s.refs++
		return flows.Input{What: flows.Submitted{Ref: fmt.Sprintf("N-T%03d", s.refs)}}, true
	case flows.SavePin:
		if s.failPins {
			return flows.Input{What: flows.PinNotSaved{}}, true
		}
		if !slices.ContainsFunc(s.pins, func(p flows.Pin) bool { return p.DraftID == e.Pin.DraftID }) {
			s.pins = append(s.pins, e.Pin)
		}
		return flows.Input{What: flows.PinSaved{Count: len(s.pins)}}, true
	case flows.CreateForum:
		sp := e.Spec
		f := flows.Forum{ID: int64(70 + len(s.forums)), Code: fmt.Sprintf("code%04dForumXYZ", len(s.forums)), ShortCode: fmt.Sprintf("F%07d", 70+len(s.forums)), Name: sp.Name, School: sp.School,
			Town: sp.Town, Scope: sp.Scope, Languages: sp.Languages, Phase: flows.PhaseCollecting, OwnerID: s.pid,
			ShortlistSize: flows.DefaultShortlistSize, VotesPerParticipant: flows.DefaultVotesPerParticipant}
		if day, err := time.Parse("2006-01-02", sp.ClosesOn); err == nil {
			f.ClosesAt = day.AddDate(0, 0, 1)
		}
		s.forums = append(s.forums, f)
		return flows.Input{What: flows.ForumCreated{Forum: f}}, true
	case flows.CheckForum:
		f := flows.Forum{ID: e.ForumID} // unknown: not open
		for _, known := range append([]flows.Forum{testForum}, s.forums...) {
			if known.ID == e.ForumID {
				f = known
			}
		}
		in.Current = &f
		return in, true
	case flows.ListForums:
		return flows.Input{What: flows.ForumsListed{Forums: s.forums}}, true
	case flows.LookUpJoinCode:
		if s.wrongCodes >= 5 {
			return flows.Input{What: flows.JoinCodeRefused{Code: e.Code, Limited: true}}, true
		}
		for _, f := range append([]flows.Forum{testForum}, s.forums...) {
			if f.ShortCode == e.Code {
				return flows.Input{What: flows.JoinLinkOpened{Found: true, Forum: f}}, true
			}
		}
		s.wrongCodes++
		return flows.Input{What: flows.JoinCodeRefused{Code: e.Code}}, true
	case flows.LoadCard:
		for _, f := range s.forums {
			if f.ID == e.ForumID {
				in.Card = &flows.ForumCard{Forum: f, Stats: s.stats}
				return in, true
			}
		}
		return flows.Input{What: flows.StoreFailed{}}, true
	case flows.SetForumMap:
		f := s.forum(e.ForumID)
		if e.Area != nil {
			f.Area = *e.Area
		}
		if e.Feelings != nil {
			f.Feelings = e.Feelings
		}
		return flows.Input{What: flows.CardReloaded{Card: flows.ForumCard{Forum: *f, Stats: s.stats}}}, true
	case flows.NextPinReview, flows.StorePinReview:
		return flows.Input{What: s.pinReviewEffect(e)}, true
	case flows.MakeMapFile:
		return flows.Input{What: flows.MapFileMade{Forum: *s.forum(e.ForumID), File: flows.File{Name: "map.html", Data: []byte("<html>")}}}, true
	case flows.SetForumOpen:
		for i := range s.forums {
			if s.forums[i].ID == e.ForumID {
				f := &s.forums[i]
				switch {
				case e.Open && f.Phase == flows.PhaseClosed:
					f.Phase, f.ReopensTo = f.ReopensTo, ""
				case !e.Open && f.Phase != flows.PhaseClosed:
					f.Phase, f.ReopensTo = flows.PhaseClosed, f.Phase
				}
				return flows.Input{What: flows.CardReloaded{Card: flows.ForumCard{Forum: s.forums[i], Stats: s.stats}}}, true
			}
		}
	case flows.SetClosingDate:
		for i := range s.forums {
			if s.forums[i].ID == e.ForumID {
				s.forums[i].ClosesAt = time.Time{}
				if day, err := time.Parse("2006-01-02", e.Day); err == nil {
					s.forums[i].ClosesAt = day.AddDate(0, 0, 1)
				}
				return flows.Input{What: flows.CardReloaded{Card: flows.ForumCard{Forum: s.forums[i], Stats: s.stats}}}, true
			}
		}
	case flows.SetVoteDay:
		f := s.forum(e.ForumID)
		var at time.Time
		if day, err := time.Parse("2006-01-02", e.Day); err == nil {
			at = day
			if e.Closes {
				at = day.AddDate(0, 0, 1)
			}
		}
		opens, closes := f.VoteOpensAt, f.VoteClosesAt
		if e.Closes {
			closes = at
		} else {
			opens = at
		}
		if !opens.IsZero() && !closes.IsZero() && !closes.After(opens) {
			return flows.Input{What: flows.PhaseRefused{Reason: "forum.vote_days_order", Card: flows.ForumCard{Forum: *f, Stats: s.stats}}}, true
		}
		f.VoteOpensAt, f.VoteClosesAt = opens, closes
		return flows.Input{What: flows.CardReloaded{Card: flows.ForumCard{Forum: *f, Stats: s.stats}}}, true
	case flows.CreateInvite:
		return flows.Input{What: flows.InviteCreated{Code: "inviteCODE123456", Town: e.Town}}, true
	case flows.MovePhase:
		f := s.forum(e.ForumID)
		if f.Phase != e.From {
			return flows.Input{What: flows.PhaseRefused{Reason: "phase.changed", Card: flows.ForumCard{Forum: *f, Stats: s.stats}}}, true
		}
		f.Phase = e.To
		return flows.Input{What: flows.CardReloaded{Card: flows.ForumCard{Forum: *f, Stats: s.stats}}}, true
	case flows.LoadBallot:
		return flows.Input{What: flows.BallotLoaded{Ballot: s.ballot(e.ForumID)}}, true
	case flows.CastVote:
		return flows.Input{What: flows.VoteCast{Outcome: s.vote(e), Ballot: s.ballot(e.ForumID)}}, true
	case flows.LoadShortlist, flows.AddShortlistItem, flows.RemoveShortlistItem:
		return flows.Input{What: s.shortlistEffect(in, e)}, true
	case flows.LoadResults:
		var results []flows.ItemResult
		for _, it := range s.items {
			results = append(results, flows.ItemResult{Item: it, Votes: len(s.votes[it.ID])})
		}
		return flows.Input{What: flows.ResultsLoaded{Forum: *s.forum(e.ForumID), Results: flows.Rank(results)}}, true
	case flows.MakeResultsPicture:
		return flows.Input{What: flows.ResultsPictureMade{Forum: *s.forum(e.ForumID), File: flows.File{Name: "results.png", Data: []byte("png")}}}, true
	case flows.ListAnnounceForums:
		return flows.Input{What: flows.AnnounceForumsListed{Forums: s.forums}}, true
	case flows.CountAudience:
		for _, f := range s.forums {
			if f.ID == e.ForumID {
				return flows.Input{What: flows.AudienceCounted{Forum: f, Reach: s.reach[f.ID]}}, true
			}
		}
		return flows.Input{What: flows.StoreFailed{}}, true
	case flows.SaveHelpOffer:
		if !slices.Contains(s.helpable, e.ItemID) {
			return flows.Input{What: flows.HelpOfferSaved{}}, true
		}
		s.helpers = append(s.helpers, e)
		return flows.Input{What: flows.HelpOfferSaved{Stored: true}}, true
	case flows.PlanImport:
		return flows.Input{What: s.importing(e)}, true
	case flows.ApplyImport:
		s.imported = append(s.imported, e)
		return flows.Input{What: s.importing(e)}, true
	case flows.LoadStats:
		return flows.Input{What: flows.StatsLoaded{Stats: s.statsOf(e.ForumID)}}, true
	case flows.MakeStatsPicture:
		s.pictures = append(s.pictures, e)
		return flows.Input{What: flows.StatsPictureMade{File: flows.File{Name: "stats.png", Data: []byte("png")}}}, true
	case flows.NextReview, flows.StoreReview, flows.LoadIdea, flows.CheckOriginal:
		return flows.Input{What: s.staffEffect(e)}, true
	case flows.ListMyIdeas:
		return flows.Input{What: flows.MyIdeasListed{Ideas: s.mine}}, true
	case flows.CreateAnnouncement:
		s.announced = append(s.announced, e)
		return flows.Input{What: flows.AnnouncementCreated{Forum: e.Announcement.Forum, Recipients: s.reach[e.ForumID]}}, true
	}
	return flows.Input{}, false
}

// forum is the forum with id, among the test forum and those set up.
func (s *student) forum(id int64) *flows.Forum {
	for i := range s.forums {
		if s.forums[i].ID == id {
			return &s.forums[i]
		}
	}
	s.t.Fatalf("no forum %d", id)
	return nil
}

func (s *student) ballot(forumID int64) flows.Ballot {
	b := flows.Ballot{Forum: *s.forum(forumID), Items: s.items}
	for _, it := range s.items {
		if slices.Contains(s.votes[it.ID], s.pid) {
			b.Mine = append(b.Mine, it.ID)
		}
	}
	return b
}

// vote is the store's Vote, in memory.
func (s *student) vote(e flows.CastVote) string {
	f := s.forum(e.ForumID)
	i := slices.IndexFunc(s.items, func(it flows.ShortlistItem) bool { return it.ID == e.ItemID })
	mine := s.ballot(e.ForumID).Mine
	switch {
	case f.PhaseAt(clock) != flows.PhaseVoting:
		return flows.VoteClosed
	case i < 0:
		return flows.VoteUnknownItem
	case !e.Vote:
		s.votes[e.ItemID] = slices.DeleteFunc(s.votes[e.ItemID], func(p string) bool { return p == s.pid })
		return flows.VoteTakenBack
	case slices.Contains(mine, e.ItemID):
		return flows.VoteRecorded
	case len(mine) >= f.VotesPerParticipant:
		return flows.VoteNoneLeft
	}
	if s.votes == nil {
		s.votes = map[int64][]string{}
	}
	s.votes[e.ItemID] = append(s.votes[e.ItemID], s.pid)
	return flows.VoteRecorded
}

func (s *student) render(m flows.Msg) string {
	s.t.Helper()
	text, err := s.catalog.Render(s.state.Lang, links(m))
	if err != nil {
		s.t.Fatalf("render %s: %v", m.Key, err)
	}
	return text
}

// links writes out links as the bot does.
func links(m flows.Msg) flows.Msg {
	if len(m.Data) == 0 {
		return m
	}
	data := map[string]any{}
	for k, v := range m.Data {
		switch v := v.(type) {
		case flows.JoinLink:
			data[k] = "https://t.me/napad_bot?start=" + v.Code
		case flows.InviteLink:
			data[k] = "https://t.me/napad_bot?start=t_" + v.Code
		case flows.Msg:
			data[k] = links(v)
		default:
			data[k] = v
		}
	}
	m.Data = data
	return m
}

// counts says how many actions, messages sent and messages edited there
// were since the last counts, for the transcripts: a student has ten
// minutes, and Telegram lets a bot send 30 messages a second in all.
func (s *student) counts() string {
	c := fmt.Sprintf("— %d actions, %d messages sent, %d edited\n", s.actions, s.sent, s.edited)
	s.actions, s.sent, s.edited = 0, 0, 0
	return c
}

func (s *student) write(r flows.Reply) {
	if r.PhotoID != "" {
		fmt.Fprintf(&s.log, "  bot: [the student's photo %s]\n", r.PhotoID)
	}
	if r.QR != nil {
		fmt.Fprintf(&s.log, "  bot: [a QR code picture of https://t.me/napad_bot?start=%s, titled “%s”]\n", r.QR.Code, r.QR.Name)
	}
	if r.Replace {
		s.log.WriteString("  bot: (in place of the message whose button was tapped)\n")
	}
	if r.Picture != nil {
		fmt.Fprintf(&s.log, "  bot: [a picture, %s]\n", r.Picture.Name)
	}
	for i, line := range strings.Split(s.render(r.Text), "\n") {
		prefix := "  bot: "
		if i > 0 {
			prefix = "       "
		}
		fmt.Fprintf(&s.log, "%s%s\n", prefix, line)
	}
	for _, row := range r.Buttons {
		var labels []string
		for _, b := range row {
			labels = append(labels, "["+s.render(b.Label)+"]")
		}
		fmt.Fprintf(&s.log, "       %s\n", strings.Join(labels, " "))
	}
}

func (s *student) join(f flows.Forum) flows.Result {
	return s.do("opens the join link of “"+f.Name+"”", flows.Input{What: flows.JoinLinkOpened{Found: true, Forum: f}})
}

// act does what a student does at a question (see flowtest.AnswerFor).
func (s *student) act(a flowtest.Action) flows.Result {
	s.t.Helper()
	switch {
	case a.Tap != "":
		return s.tap(s.label(flows.ChoiceLabel(a.Step, a.Tap)))
	case a.Text != "":
		return s.text(a.Text)
	case a.Pin != nil:
		return s.do("shares a pin", flows.Input{What: flows.Location{Lat: a.Pin.Lat, Lon: a.Pin.Lon}})
	case a.Photo != "":
		return s.do("sends a photo", flows.Input{What: flows.PhotoSent{FileID: a.Photo}})
	}
	s.t.Fatalf("cannot act %+v", a)
	return flows.Result{}
}

// walk answers the idea's questions from where the student is until they
// are at until, as flowtest.AnswerFor says, but for the texts in want (a
// place too can be a text) and the choices in choose ("skip": tap Skip).
func (s *student) walk(until flows.StepID, want, choose map[flows.StepID]string) {
	s.t.Helper()
	for range len(flows.IdeaSteps) {
		step, ok := flows.StepByID(s.state.Step)
		if !ok || step.ID == until {
			break
		}
		a := flowtest.AnswerFor(step, s.state.Lang)
		if t, ok := want[step.ID]; ok && (a.Text != "" || a.Pin != nil) {
			a = flowtest.Action{Step: step.ID, Text: t}
		}
		if c, ok := choose[step.ID]; ok {
			if c == "skip" {
				s.tap(s.label("button.skip"))
				continue
			}
			a.Tap = c
		}
		s.act(a)
	}
	if s.state.Step != until {
		s.t.Fatalf("walked to %q, want %q", s.state.Step, until)
	}
}

func (s *student) text(t string) flows.Result {
	label := t
	if len(label) > 60 {
		label = label[:60] + "…"
	}
	return s.do("writes “"+label+"”", flows.Input{What: flows.Text{Text: t}})
}

func (s *student) command(name string) flows.Result {
	return s.do("/"+name, flows.Input{What: flows.CommandSent{Name: name}})
}

// tap presses the button with this label on the latest message that has it.
func (s *student) tap(label string) flows.Result {
	s.t.Helper()
	for i := len(s.all) - 1; i >= 0; i-- {
		for _, row := range s.all[i].Buttons {
			for _, b := range row {
				if s.render(b.Label) == label {
					return s.do("taps ["+label+"]", flows.Input{What: flows.Tap{Data: b.Data}})
				}
			}
		}
	}
	s.t.Fatalf("no button %q in the last replies:\n%s", label, s.log.String())
	return flows.Result{}
}

// buttonData returns the data of a button in the latest replies.
func (s *student) buttonData(label string) string {
	s.t.Helper()
	for _, r := range s.last {
		for _, row := range r.Buttons {
			for _, b := range row {
				if s.render(b.Label) == label {
					return b.Data
				}
			}
		}
	}
	s.t.Fatalf("no button %q", label)
	return ""
}

func (s *student) press(data string) flows.Result {
	return s.do("sends button data “"+data+"”", flows.Input{What: flows.Tap{Data: data}})
}

func (s *student) keys() []string {
	var keys []string
	for _, r := range s.last {
		keys = append(keys, r.Text.Key)
	}
	return keys
}

func (s *student) label(key string) string {
	return s.render(flows.Msg{Key: key})
}

// golden compares the transcript with testdata/name.golden.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./flows -update` to create it)", err)
	}
	if string(want) != got {
		t.Errorf("transcript %s differs from the golden file; run `go test ./flows -update` and review the diff.\n--- got ---\n%s", name, got)
	}
}

// roundTrip stores and loads the state as the bot does between messages.
func roundTrip(t testing.TB, st flows.State) flows.State {
	t.Helper()
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back flows.State
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// shortlistEffect is the bot's and the store's side of the shortlist
// screen, in memory: the same refusals, and only for who may manage the forum.
func (s *student) shortlistEffect(in flows.Input, e flows.Effect) flows.ShortlistLoaded {
	var forumID int64
	switch e := e.(type) {
	case flows.LoadShortlist:
		forumID = e.ForumID
	case flows.AddShortlistItem:
		forumID = e.ForumID
	case flows.RemoveShortlistItem:
		forumID = e.ForumID
	}
	f := *s.forum(forumID)
	if !in.Actor.MayManage(in.Participant, f) {
		return flows.ShortlistLoaded{Forum: flows.Forum{ID: f.ID}, Refused: &flows.ShortlistError{Reason: flows.ShortlistNotYours}}
	}
	var out flows.ShortlistLoaded
	refuse := func(reason, ref string) { out.Refused = &flows.ShortlistError{Reason: reason, Ref: ref} }
	switch e := e.(type) {
	case flows.AddShortlistItem:
		out.Done = map[bool]string{true: "shortlist.merged", false: "shortlist.added"}[len(e.Refs) > 1]
		var ids []int
		for _, ref := range e.Refs {
			i := slices.IndexFunc(s.candidates, func(c flows.ShortlistCandidate) bool { return c.Ref == ref })
			switch {
			case i < 0:
				refuse(flows.ShortlistUnknown, ref)
			case s.candidates[i].ItemID != 0:
				refuse(flows.ShortlistTaken, ref)
			}
			ids = append(ids, i)
		}
		switch {
		case !flows.ShortlistEditable(f.Phase):
			refuse(flows.ShortlistFrozen, "")
		case len(s.items) >= f.ShortlistSize:
			refuse(flows.ShortlistFull, "")
		}
		if out.Refused != nil {
			break
		}
		it := flows.ShortlistItem{ID: int64(200 + s.events), Position: len(s.items) + 1, Ideas: e.Refs}
		if e.Text != nil {
			it.Language, it.Texts = e.Lang, map[string]flows.ItemText{e.Lang: *e.Text}
		} else {
			c := s.candidates[ids[0]]
			it.Language, it.Texts = c.Language, map[string]flows.ItemText{c.Language: {Title: c.Title}}
		}
		for _, i := range ids {
			s.candidates[i].ItemID = it.ID
		}
		s.items = append(s.items, it)
	case flows.RemoveShortlistItem:
		out.Done = "shortlist.removed"
		i := slices.IndexFunc(s.items, func(it flows.ShortlistItem) bool { return it.ID == e.ItemID })
		switch {
		case !flows.ShortlistEditable(f.Phase):
			refuse(flows.ShortlistFrozen, "")
		case i < 0:
			refuse(flows.ShortlistUnknown, "")
		}
		if out.Refused != nil {
			break
		}
		s.items = slices.Delete(s.items, i, i+1)
		for j := range s.items {
			s.items[j].Position = j + 1
		}
		for j := range s.candidates {
			if s.candidates[j].ItemID == e.ItemID {
				s.candidates[j].ItemID = 0
			}
		}
	}
	if out.Refused != nil {
		out.Done = ""
	}
	out.Forum, out.Items, out.Candidates = f, slices.Clone(s.items), slices.Clone(s.candidates)
	return out
}
