package bot

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// namedChannel is a channel that says which it is, as the web channel does.
type namedChannel struct {
	recordingChannel
	name string
}

func (c *namedChannel) ChannelName() string { return c.name }

// keptIdeas keeps the ideas submitted, or refuses them while down.
type keptIdeas struct {
	IdeaStore
	mu    sync.Mutex
	down  bool
	ideas []flows.Idea
}

func (k *keptIdeas) Submit(_ context.Context, idea flows.Idea) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.down {
		return "", errors.New("database unreachable")
	}
	k.ideas = append(k.ideas, idea)
	return "N-TEST", nil
}

// submitThrough sends pid's finished draft through ch.
func submitThrough(t *testing.T, rt *Runtime, ch Channel, user string) Outcome {
	t.Helper()
	pid := rt.ParticipantID(user)
	saveState(t, rt, pid, flows.State{Lang: "en", ForumID: 7, Step: flows.StepReview, Draft: "d1", PrivacyOK: true,
		Answers: map[flows.StepID]flows.Answer{flows.StepImprove: {Text: "x"}, flows.StepTitle: {Text: "y"}}})
	in := flows.Input{What: flows.Tap{Data: "d1|rev|submit"}}
	return rt.Converse(t.Context(), ch, Event{ID: 9, Key: 9, Participant: pid, Chat: 1, Input: in})
}

// An idea is stored with the name of the channel it came through; a
// channel that gives none stands for Telegram.
func TestAnIdeaIsStoredWithItsChannel(t *testing.T) {
	for _, c := range []struct {
		ch   Channel
		want string
	}{
		{&namedChannel{name: flows.ChannelWeb}, flows.ChannelWeb},
		{&namedChannel{name: flows.ChannelTelegram}, flows.ChannelTelegram},
		{&namedChannel{}, flows.ChannelTelegram},
		{&recordingChannel{}, flows.ChannelTelegram},
	} {
		ideas := &keptIdeas{}
		rt, err := New(Config{ParticipantKey: []byte("k")}, Stores{Conversations: turns{redistest.New(t)}, Ideas: ideas})
		if err != nil {
			t.Fatal(err)
		}
		if out := submitThrough(t, rt, c.ch, "test-user:1"); out != Handled {
			t.Fatalf("outcome %s", out)
		}
		if len(ideas.ideas) != 1 || ideas.ideas[0].Channel != c.want {
			t.Errorf("through %T %+v: stored %+v, want channel %q", c.ch, c.ch, ideas.ideas, c.want)
		}
	}
}

// An idea kept in the outbox while PostgreSQL is down keeps its channel:
// stored later by whichever channel drains the outbox, it is still the
// web's.
func TestAnIdeaKeepsItsChannelInTheOutbox(t *testing.T) {
	ideas := &keptIdeas{down: true}
	redis := redistest.New(t)
	rt, err := New(Config{ParticipantKey: []byte("k"), ContactKeys: outboxKeys(t, 1)},
		Stores{Conversations: turns{redis}, Ideas: ideas, Outbox: redis})
	if err != nil {
		t.Fatal(err)
	}
	web := &namedChannel{name: flows.ChannelWeb}
	if out := submitThrough(t, rt, web, "test-user:2"); out != Handled {
		t.Fatalf("outcome %s", out)
	}
	if keys := web.keys(); len(keys) == 0 || keys[0] != "submit.queued" {
		t.Fatalf("replies %v, want submit.queued first", keys)
	}
	ideas.down = false
	rt.drainOutbox(t.Context(), &recordingChannel{}) // drained by another channel
	if len(ideas.ideas) != 1 || ideas.ideas[0].Channel != flows.ChannelWeb {
		t.Errorf("stored from the outbox: %+v, want channel web", ideas.ideas)
	}
}
