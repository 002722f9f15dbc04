package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// A conversation can outlive a role: a teacher asked for a forum's closing
// date, or staff for the original of a duplicate, and then lost the role.
// Their answer must not change anything: the role is checked again where
// the effect runs.
func TestPrivilegedEffectsNeedTheRoleStill(t *testing.T) {
	for name, st := range map[string]flows.State{
		"closing date": {Lang: "en", Pending: flows.PendingClosingDate, Closing: &flows.ForumRef{ID: 3, Code: "Zk3xQ9mP2aLw8RtY", Name: "8.B"}},
		"duplicate":    {Lang: "en", Pending: flows.PendingDuplicate, Reviewing: "N-AAAA"},
	} {
		t.Run(name, func(t *testing.T) {
			forums, staff := &recordingForums{}, &recordingStaff{}
			rt, err := New(Config{ParticipantKey: []byte("k"), Now: func() time.Time { return time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC) }},
				Stores{Conversations: turns{redistest.New(t)}, Forums: forums, Staff: staff, People: formerTeacher{}})
			if err != nil {
				t.Fatal(err)
			}
			pid := rt.ParticipantID("test-user:1")
			saveState(t, rt, pid, st)
			ch := &recordingChannel{}
			in := flows.Input{What: flows.Text{Text: "15.12.2026"}}
			if name == "duplicate" {
				in = flows.Input{What: flows.Text{Text: "N-BBBB"}}
			}
			if out := rt.Converse(t.Context(), ch, Event{ID: 2, Participant: pid, Chat: 1, Input: in}); out != Handled {
				t.Fatalf("outcome %s", out)
			}
			if forums.changed > 0 || staff.reviewed > 0 {
				t.Errorf("the effect ran: %d closing dates, %d reviews", forums.changed, staff.reviewed)
			}
			if keys := ch.keys(); len(keys) == 0 || keys[0] != "error.not_allowed" {
				t.Errorf("replies %v, want error.not_allowed first", keys)
			}
		})
	}
}

// saveState stores st as pid's conversation, as Converse would.
func saveState(t *testing.T, rt *Runtime, pid string, st flows.State) {
	t.Helper()
	data, err := json.Marshal(envelope{State: st, Seen: []int64{1}})
	if err != nil {
		t.Fatal(err)
	}
	turn, err := rt.stores.Conversations.Begin(t.Context(), pid, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := turn.Commit(t.Context(), data, time.Hour); err != nil || !ok {
		t.Fatalf("save: %v %v", ok, err)
	}
}

// turns is the Redis store as a ConversationStore.
type turns struct{ *redis.Store }

func (s turns) Begin(ctx context.Context, key string, id int64) (ConversationTurn, error) {
	return s.Store.Begin(ctx, key, id)
}

type recordingChannel struct {
	mu         sync.Mutex
	deliveries []Delivery
}

func (c *recordingChannel) Send(_ context.Context, d Delivery) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deliveries = append(c.deliveries, d)
	return nil
}

func (c *recordingChannel) RoleChanged(context.Context, int64, string, string) {}

func (c *recordingChannel) keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keys []string
	for _, d := range c.deliveries {
		for _, r := range d.Replies {
			keys = append(keys, r.Text.Key)
		}
	}
	return keys
}

// formerTeacher is a person who is a student now.
type formerTeacher struct{ PeopleStore }

func (formerTeacher) RoleOf(context.Context, string) (string, string, error) {
	return flows.RoleStudent, "", nil
}

type recordingForums struct {
	ForumStore
	changed int
}

func (f *recordingForums) SetForumClosesAt(context.Context, string, time.Time) error {
	f.changed++
	return nil
}

type recordingStaff struct {
	StaffStore
	reviewed, audits int
}

func (s *recordingStaff) Review(context.Context, flows.ReviewDecision, string) (bool, error) {
	s.reviewed++
	return true, nil
}

func (s *recordingStaff) Audit(context.Context, string, string, string, any) error {
	s.audits++
	return nil
}

// A step whose save loses to a newer state is handled again, but what its
// effects did is not done twice: one invite, one audit row, one answer.
func TestAStepHandledAgainDoesNotRepeatItsEffects(t *testing.T) {
	people := &invitingStaff{}
	staff := &recordingStaff{}
	conversations := &losingFirstSave{turns: turns{redistest.New(t)}}
	rt, err := New(Config{ParticipantKey: []byte("k"), StaffUsers: []string{"test-user:1"}},
		Stores{Conversations: conversations, Staff: staff, People: people})
	if err != nil {
		t.Fatal(err)
	}
	pid := rt.ParticipantID("test-user:1")
	ch := &recordingChannel{}
	in := flows.Input{What: flows.CommandSent{Name: flows.CommandInviteTeacher, Arg: "Kolín"}}
	if out := rt.Converse(t.Context(), ch, Event{ID: 7, Key: 7, Participant: pid, Chat: 1, Input: in}); out != Handled {
		t.Fatalf("outcome %s", out)
	}
	if conversations.lost != 1 {
		t.Fatalf("%d saves lost, want 1: the test tests nothing", conversations.lost)
	}
	if people.invites != 1 || staff.audits != 1 {
		t.Errorf("%d invites, %d audit rows; want 1 and 1", people.invites, staff.audits)
	}
	if keys := ch.keys(); len(keys) != 1 || keys[0] != "invite.created" {
		t.Errorf("replies %v, want one invite.created", keys)
	}
}

// losingFirstSave is a conversation store whose first save finds a newer
// state (the turn ran out and another update saved meanwhile).
type losingFirstSave struct {
	turns
	lost int
}

func (s *losingFirstSave) Begin(ctx context.Context, key string, id int64) (ConversationTurn, error) {
	turn, err := s.turns.Begin(ctx, key, id)
	if err != nil {
		return nil, err
	}
	return &losingTurn{ConversationTurn: turn, store: s}, nil
}

type losingTurn struct {
	ConversationTurn
	store *losingFirstSave
}

func (t *losingTurn) Commit(ctx context.Context, data []byte, ttl time.Duration) (bool, error) {
	if t.store.lost == 0 {
		t.store.lost++
		return false, t.ConversationTurn.End(ctx)
	}
	return t.ConversationTurn.Commit(ctx, data, ttl)
}

type invitingStaff struct {
	PeopleStore
	invites int
}

func (p *invitingStaff) CreateInvite(context.Context, string, string, time.Time) (string, error) {
	p.invites++
	return fmt.Sprintf("code%d", p.invites), nil
}

// The runtime checks the role again where a privileged effect runs, even if
// a flow (by a bug) asked for one without it.
func TestTheRuntimeRefusesAPrivilegedEffectWithoutTheRole(t *testing.T) {
	forums := &recordingForums{}
	rt, err := New(Config{ParticipantKey: []byte("k")}, Stores{Forums: forums, Staff: &recordingStaff{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, actor := range []flows.Actor{{Role: flows.RoleStudent}, {Role: flows.RoleTeacher}} {
		for _, e := range []flows.Effect{flows.SetClosingDate{ForumID: 3, Code: "c", Day: "2026-12-15"}, flows.CreateInvite{Town: "Kolín"}} {
			if flows.Requires(e) == flows.Teachers && actor.Role == flows.RoleTeacher {
				continue
			}
			out, ok := rt.carryOut(t.Context(), effect{pid: "pid", chat: 1, in: flows.Input{Actor: actor}}, e)
			if _, refused := out.What.(flows.NotAllowed); !ok || !refused {
				t.Errorf("%T by a %q: %+v", e, actor.Role, out)
			}
		}
	}
	if forums.changed != 0 {
		t.Errorf("%d closing dates changed", forums.changed)
	}
}

// An idea sent again by a step that lost its save is not stored twice, nor
// counted against the daily limit as someone else's.
func TestASubmitHandledAgainIsDoneOnce(t *testing.T) {
	ideas := &countingIdeas{}
	store := turns{redistest.New(t)}
	conversations := &losingFirstSave{turns: store}
	rt, err := New(Config{ParticipantKey: []byte("k"), IdeasPerDay: 1}, Stores{Conversations: conversations, Ideas: ideas})
	if err != nil {
		t.Fatal(err)
	}
	pid := rt.ParticipantID("test-user:2")
	st := flows.State{Lang: "en", ForumID: 7, Step: flows.StepReview, Draft: "d1", PrivacyOK: true,
		Answers: map[flows.StepID]flows.Answer{flows.StepImprove: {Text: "x"}, flows.StepTitle: {Text: "y"}}}
	saver, err := New(Config{ParticipantKey: []byte("k")}, Stores{Conversations: store})
	if err != nil {
		t.Fatal(err)
	}
	saveState(t, saver, pid, st)
	ch := &recordingChannel{}
	in := flows.Input{What: flows.Tap{Data: "d1|rev|submit"}}
	if out := rt.Converse(t.Context(), ch, Event{ID: 9, Key: 9, Participant: pid, Chat: 1, Input: in}); out != Handled {
		t.Fatalf("outcome %s", out)
	}
	if conversations.lost != 1 || ideas.submits != 1 {
		t.Errorf("%d saves lost, %d submits; want 1 and 1", conversations.lost, ideas.submits)
	}
	if keys := ch.keys(); len(keys) != 1 || keys[0] != "submit.thanks" {
		t.Errorf("replies %v, want submit.thanks", keys)
	}
}

// When the database cannot say whether someone is a teacher, their open
// set-up is not taken from them: the update waits to be handled again.
func TestAnUnknownRoleIsNotAStudent(t *testing.T) {
	rt, err := New(Config{ParticipantKey: []byte("k")}, Stores{Conversations: turns{redistest.New(t)}, People: failingPeople{}})
	if err != nil {
		t.Fatal(err)
	}
	pid := rt.ParticipantID("test-user:3")
	saveState(t, rt, pid, flows.State{Lang: "en", Setup: &flows.Setup{Step: flows.SetupSchool, Tag: "t", Name: "8.B"}})
	ch := &recordingChannel{}
	if out := rt.Converse(t.Context(), ch, Event{ID: 2, Key: 2, Participant: pid, Chat: 1, Input: flows.Input{What: flows.Text{Text: "ZŠ"}}}); out != Retry {
		t.Fatalf("outcome %s, want retry", out)
	}
	if keys := ch.keys(); slices.Contains(keys, "error.not_allowed") {
		t.Errorf("replies %v: the set-up was taken away", keys)
	}
}

type countingIdeas struct {
	IdeaStore
	submits int
	stored  map[string]bool
}

func (c *countingIdeas) Submit(_ context.Context, idea flows.Idea) (string, error) {
	c.submits++
	if c.stored == nil {
		c.stored = map[string]bool{}
	}
	c.stored[idea.DraftID] = true
	return "N-TEST", nil
}

func (c *countingIdeas) IdeasSince(_ context.Context, _ string, _ int64, _ time.Time, draftID string) (int, error) {
	n := len(c.stored)
	if c.stored[draftID] {
		n--
	}
	return n, nil
}

type failingPeople struct{ PeopleStore }

func (failingPeople) RoleOf(context.Context, string) (string, string, error) {
	return "", "", errors.New("database unreachable")
}
