package bot

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/healthycities/napad/flows"
)

// storeTimeout bounds one call to PostgreSQL: a hanging database must leave
// time to save the conversation and answer.
const storeTimeout = 8 * time.Second

// envelope is what is stored per conversation: the flow's state plus the
// keys of the last events handled, which makes a redelivered event a no-op.
type envelope struct {
	State flows.State `json:"s"`
	Seen  []int64     `json:"k,omitempty"`
	// Legacy are update ids a version before event keys remembered: an
	// update it handled, delivered again after the upgrade, is still a
	// repeat. Dropped at the next save.
	Legacy []int64 `json:"u,omitempty"`
	// Album is the group of the last photo taken: the other photos of an
	// album arrive as separate messages and are not answers to anything.
	Album string `json:"al,omitempty"`
}

const rememberUpdates = 16

func (e *envelope) seen(id int64) bool { return slices.Contains(e.Seen, id) }

func (e *envelope) remember(id int64) {
	e.Seen = append(e.Seen, id)
	if len(e.Seen) > rememberUpdates {
		e.Seen = e.Seen[len(e.Seen)-rememberUpdates:]
	}
}

// Converse runs one step of a conversation in the event's turn: take the
// state, let the flow decide, do what it asks (store the idea), save the
// state and then answer through ch.
func (rt *Runtime) Converse(ctx context.Context, ch Channel, ev Event) Outcome {
	hint := flows.LanguageFor(ev.LanguageHint)
	// An attempt that lost its save to a newer state is made again; what
	// its effects did stays done and is not done twice (an invite, an
	// audit row).
	var done effectsDone
	now := rt.now() // one time for every attempt, so their effects compare equal
	for attempt := 1; attempt <= 3; attempt++ {
		turn, err := rt.stores.Conversations.Begin(ctx, ev.Participant, ev.ID)
		if err != nil {
			return rt.unavailable(ctx, ch, ev, hint, fmt.Errorf("begin conversation turn: %w", err))
		}
		res, data, outcome := rt.stepInTurn(ctx, ch, ev, turn, now, &done)
		if outcome != "" {
			rt.endTurn(ctx, turn)
			_ = rt.Deliver(ctx, ch, ev.Participant, Delivery{Chat: ev.Chat, Lang: res.State.Lang, Replies: res.Replies})
			return outcome
		}
		if res.Forget { // the student deleted their data: keep nothing
			if err := turn.Forget(ctx); err != nil {
				return rt.unavailable(ctx, ch, ev, hint, fmt.Errorf("delete conversation: %w", err))
			}
			_ = rt.Deliver(ctx, ch, ev.Participant, Delivery{Chat: ev.Chat, Lang: res.State.Lang, Replies: res.Replies, Forget: true})
			return Handled
		}
		saved, err := turn.Commit(ctx, data, rt.cfg.StateTTL)
		if err != nil {
			return rt.unavailable(ctx, ch, ev, hint, fmt.Errorf("save conversation: %w", err))
		}
		if saved {
			_ = rt.Deliver(ctx, ch, ev.Participant, Delivery{Chat: ev.Chat, Replace: ev.Replace, Lang: res.State.Lang, Replies: res.Replies})
			return Handled
		}
		rt.log.Warn("conversation changed after its turn ran out, handling again", "update_id", ev.ID, "attempt", attempt)
	}
	return rt.unavailable(ctx, ch, ev, hint, errors.New("conversation kept changing while being handled"))
}

// stepInTurn is step, ending the turn if step panics: the student's next
// event must not wait for it to run out.
func (rt *Runtime) stepInTurn(ctx context.Context, ch Channel, ev Event, turn ConversationTurn, now time.Time, done *effectsDone) (flows.Result, []byte, Outcome) {
	defer func() {
		if p := recover(); p != nil {
			rt.endTurn(context.WithoutCancel(ctx), turn)
			panic(p) // the channel answers the student
		}
	}()
	return rt.step(ctx, ch, ev, turn, now, done)
}

// step decides what event ev does to the conversation as the turn found it.
// A non-empty outcome means there is nothing to save: the event was handled
// before (res may then hold replies to send again), or its input could not
// be read (then the student has been told).
func (rt *Runtime) step(ctx context.Context, ch Channel, ev Event, turn ConversationTurn, now time.Time, done *effectsDone) (res flows.Result, data []byte, outcome Outcome) {
	var env envelope
	if raw := turn.State(); len(raw) > 0 {
		if err := json.Unmarshal(raw, &env); err != nil {
			rt.log.Error("conversation state unreadable, starting afresh", "err", err)
			env = envelope{}
		}
	}
	if env.seen(ev.Key) || slices.Contains(env.Legacy, ev.ID) {
		rt.log.Debug("update already handled", "update_id", ev.ID)
		// The last event handled, delivered again while nobody else was at
		// it: whoever handled it saved the conversation but may have stopped
		// before answering (killed, or Redis failed after saving). Say again
		// what the student is to do now, rather than leave them waiting.
		if len(env.Seen) > 0 && ev.Key == env.Seen[len(env.Seen)-1] && !turn.WaitedForOthers() && !ev.Waited {
			res.State = env.State
			res.Replies = flows.Repeat(env.State)
		}
		return res, nil, Duplicate
	}
	in, err := rt.resolve(ctx, ch, ev)
	if err != nil {
		return res, nil, rt.unavailable(ctx, ch, ev, flows.LanguageFor(ev.LanguageHint), err)
	}
	if ev.Group != "" && ev.Group == env.Album {
		in = flows.Input{} // a further photo of an album already answered: nothing to say
	}
	if in.What == nil {
		res.State = env.State
	} else {
		in.EventID = newEventID()
		in.LanguageHint = ev.LanguageHint
		in.Participant = ev.Participant
		in.Age = rt.cfg.Age
		if rt.IsStaff(ev.Participant) || flows.NeedsActor(env.State, in) {
			var known bool
			if in.Actor, known = rt.actor(ctx, ev.Participant); !known {
				return res, nil, rt.unavailable(ctx, ch, ev, flows.LanguageFor(ev.LanguageHint), errors.New("the role cannot be looked up"))
			}
		}
		res = rt.run(ctx, ch, ev.Participant, ev.Chat, env.State, in, now, done)
	}
	env.State = res.State
	env.remember(ev.Key)
	env.Legacy = nil
	if ev.Group != "" {
		env.Album = ev.Group
	}
	data, err = json.Marshal(env)
	if err != nil {
		rt.log.Error("encode conversation state", "err", err)
		return res, nil, Handled
	}
	return res, data, ""
}

// newEventID is a random id for an event being handled: 48 bits, as 8
// characters that fit in button data.
func newEventID() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// endTurn lets the next event in; if Redis is gone, the turn runs out.
func (rt *Runtime) endTurn(ctx context.Context, turn ConversationTurn) {
	if err := turn.End(ctx); err != nil {
		rt.log.Warn("end conversation turn", "err", err)
	}
}

// unavailable says the event must be handled again later (a store is down),
// and tells the student once that the answer will come.
func (rt *Runtime) unavailable(ctx context.Context, ch Channel, ev Event, lang string, err error) Outcome {
	rt.log.Error("cannot handle update now; it will be retried", "update_id", ev.ID, "err", err)
	if rt.retries.first(ev.ID) {
		rt.say(ctx, ch, ev.Participant, ev.Chat, lang, "bot.try_again_later")
	}
	return Retry
}

// retryNotices remembers which events the student was already told about,
// so a retried event does not repeat "I'm stuck" every time.
type retryNotices struct {
	mu   sync.Mutex
	seen map[int64]bool
}

func (r *retryNotices) first(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil || len(r.seen) > 10000 {
		r.seen = map[int64]bool{}
	}
	if r.seen[id] {
		return false
	}
	r.seen[id] = true
	return true
}

// resolve looks up what a link a student opened leads to: /start with a
// code is a forum's join link, or a teacher invite.
func (rt *Runtime) resolve(ctx context.Context, ch Channel, ev Event) (flows.Input, error) {
	in := ev.Input
	start, ok := in.What.(flows.CommandSent)
	if !ok || start.Name != flows.CommandStart || start.Arg == "" {
		return in, nil
	}
	if code, ok := strings.CutPrefix(start.Arg, flows.InvitePrefix); ok {
		in, err := rt.inviteInput(ctx, code, ev.Participant)
		if opened, _ := in.What.(flows.InviteOpened); err == nil && opened.Outcome.Result == flows.InviteAccepted {
			ch.RoleChanged(ctx, ev.Chat, flows.RoleTeacher, flows.LanguageFor(ev.LanguageHint))
		}
		return in, err
	}
	return rt.joinInput(ctx, start.Arg)
}

// InviteCode is what a join link carries for the teacher invite code.
func InviteCode(code string) string { return flows.InvitePrefix + code }

func (rt *Runtime) inviteInput(ctx context.Context, code, pid string) (flows.Input, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	town, result, err := rt.stores.People.RedeemInvite(ctx, code, pid, rt.cfg.Now())
	if err != nil {
		return flows.Input{}, fmt.Errorf("redeem teacher invite: %w", err)
	}
	if result == flows.InviteUsed {
		// Opening one's own invite again (or a retried update) is no error.
		if role, roleTown, err := rt.stores.People.RoleOf(ctx, pid); err == nil && role == flows.RoleTeacher {
			result, town = flows.InviteAccepted, roleTown
		}
	}
	if result == flows.InviteAccepted {
		rt.forgetRole(pid)
		rt.log.Info("teacher invite accepted", "town", town)
		rt.audit(ctx, pid, "teacher.invite_accepted", "", map[string]any{"town": town})
	}
	return flows.Input{What: flows.InviteOpened{Outcome: flows.InviteOutcome{Result: result, Town: town}}}, nil
}

// joinCode is what a join code may look like (Telegram's deep-link limit).
var joinCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (rt *Runtime) joinInput(ctx context.Context, code string) (flows.Input, error) {
	if !joinCode.MatchString(code) {
		return flows.Input{What: flows.JoinLinkOpened{}}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	forum, found, err := rt.stores.Forums.ForumByCode(ctx, code)
	if err != nil {
		return flows.Input{}, fmt.Errorf("look up join code: %w", err)
	}
	return rt.joinLinkOpened(ctx, forum, found), nil
}

// joinLinkOpened is what opening forum's join link hands the flow, whether
// by the link or by its short code: the forum, and last year's if it
// follows one.
func (rt *Runtime) joinLinkOpened(ctx context.Context, forum flows.Forum, found bool) flows.Input {
	opened := flows.JoinLinkOpened{Found: found, Forum: rt.local(forum)}
	if found && forum.PreviousID != 0 {
		opened.LastYear = rt.lastYear(ctx, forum.PreviousID)
	}
	return flows.Input{What: opened}
}
