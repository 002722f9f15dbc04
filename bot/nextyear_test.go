package bot

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// followingForums has a forum that follows forum 3, last year's; looking
// that one up fails with previousErr.
type followingForums struct {
	ForumStore
	previousErr error
}

func (followingForums) ForumByCode(_ context.Context, code string) (flows.Forum, bool, error) {
	return flows.Forum{ID: 4, Code: code, Name: "8.B", Phase: flows.PhaseCollecting, PreviousID: 3}, true, nil
}

func (f followingForums) ForumByID(_ context.Context, id int64) (flows.Forum, bool, error) {
	return flows.Forum{ID: id, Name: "7.B", Phase: flows.PhaseResults}, true, f.previousErr
}

func (followingForums) RecordJoin(context.Context, int64, string, string, int64) error { return nil }

// lastYearVotes is last year's shortlist of one voted item, or resultsErr.
type lastYearVotes struct {
	VotingStore
	resultsErr error
}

func (v lastYearVotes) Results(context.Context, int64) ([]flows.ItemResult, error) {
	item := flows.ShortlistItem{ID: 31, Position: 1, Language: "en", Texts: map[string]flows.ItemText{"en": {Title: "Benches"}},
		AnswerStatus: flows.StatusDone}
	return []flows.ItemResult{{Item: item, Votes: 5, Rank: 1}}, v.resultsErr
}

// Opening the link of a forum that follows last year's shows last year's
// items after the welcome; when they cannot be looked up, the student
// joins all the same, without them.
func TestJoiningDoesNotWaitForLastYear(t *testing.T) {
	broken := errors.New("connection reset")
	for name, tc := range map[string]struct {
		forumErr, resultsErr error
		shown                bool
	}{
		"found":              {shown: true},
		"forum lookup fails": {forumErr: broken},
		"results fail":       {resultsErr: broken},
	} {
		t.Run(name, func(t *testing.T) {
			rt, err := New(Config{ParticipantKey: []byte("k")}, Stores{
				Conversations: turns{redistest.New(t)}, People: formerTeacher{},
				Forums: followingForums{previousErr: tc.forumErr}, Voting: lastYearVotes{resultsErr: tc.resultsErr},
			})
			if err != nil {
				t.Fatal(err)
			}
			ch := &recordingChannel{}
			in := flows.Input{What: flows.CommandSent{Name: flows.CommandStart, Arg: "Zk3xQ9mP2aLw8RtY"}}
			if out := rt.Converse(t.Context(), ch, Event{ID: 1, Participant: rt.ParticipantID("test-user:1"), Chat: 1, Input: in}); out != Handled {
				t.Fatalf("outcome %s", out)
			}
			keys := ch.keys()
			// Without last year's items the welcome and the first question
			// are one message; with them, the items follow the welcome.
			switch shown := slices.Contains(keys, "lastyear.intro"); {
			case shown != tc.shown:
				t.Errorf("replies %v; last year shown: want %v", keys, tc.shown)
			case shown && (len(keys) < 3 || keys[0] != "join.welcome" || keys[1] != "lastyear.intro"):
				t.Errorf("replies %v, want the welcome, last year, the question", keys)
			case !shown && (len(keys) != 1 || keys[0] != "layout.intro"):
				t.Errorf("replies %v, want the welcome with the first question", keys)
			}
		})
	}
}
