package bot

import (
	"context"
	"errors"

	"github.com/healthycities/napad/flows"
)

// Channel is how people reach Nápad: Telegram, a web page. It delivers what
// the conversation says; the runtime decides what that is.
type Channel interface {
	// Send delivers the replies in order. An error wrapping ErrUnreachable
	// means the person cannot be reached there any more (they blocked the
	// bot): the rest was not sent, and nothing will be sent to them again.
	Send(ctx context.Context, d Delivery) error
	// RoleChanged tells the channel that the person in chat now has role
	// (say, a teacher invite was accepted), for channels that show each role
	// its own commands.
	RoleChanged(ctx context.Context, chat int64, role, lang string)
}

// NamedChannel is a Channel that says which it is (one of flows.Channels),
// for the ideas that come through it: staff see in the exports how each
// idea came. It is optional so that a channel made for a test need not.
type NamedChannel interface {
	ChannelName() string
}

// channelName is the name ch gives itself, or flows.ChannelTelegram for a
// channel that gives none: Telegram was the only channel before they had
// names, and it is the one a channel without one stands in for.
func channelName(ch Channel) string {
	if n, ok := ch.(NamedChannel); ok {
		if name := n.ChannelName(); name != "" {
			return name
		}
	}
	return flows.ChannelTelegram
}

// Delivery is what to send to one chat.
type Delivery struct {
	Chat    int64
	Lang    string
	Replies []flows.Reply
	// Replace is the message whose button was tapped: a reply marked
	// Replace takes its place (0: there is none).
	Replace int
	// Background: a notification nobody is waiting for; replies to people
	// who just wrote go first.
	Background bool
	// Forget: the conversation was deleted with this answer (the student
	// deleted their data, or was too young): a channel that keeps the chat
	// itself (the web's transcript) forgets it too.
	Forget bool
}

// ErrUnreachable marks a send to someone who cannot be reached any more.
var ErrUnreachable = errors.New("the person cannot be reached in this chat")

// Event is one thing a person did in a channel, for their conversation.
type Event struct {
	// ID orders the events of a conversation, lowest first, and is the same
	// when the event is delivered again (Telegram's update id).
	ID int64
	// Key tells this event from the conversation's recent ones: the same
	// when it is delivered again, and different for a new event even where
	// the channel reuses ids (Telegram starts its update ids anew after a
	// quiet week, and for a new bot token).
	Key         int64
	Participant string // pseudonym, from ParticipantID
	Chat        int64  // where the replies go
	// LanguageHint is the person's app language, used until they choose.
	LanguageHint string
	// Input is what happened. Input.What nil: nothing for the
	// conversation to answer, but the event counts as handled.
	Input flows.Input
	// Group is set on the messages of one album: only the first is an
	// answer; the others are passed over.
	Group string
	// Replace is the message whose button was tapped, if any.
	Replace int
	// Waited: another event of the same chat was being handled in this
	// process when this one came.
	Waited bool
}

// Outcome is what became of an event, for the channel's records.
type Outcome string

// The outcomes of Converse.
const (
	Handled   Outcome = "handled"   // answered
	Duplicate Outcome = "duplicate" // handled before: nothing done
	Retry     Outcome = "retry"     // a store is down: deliver the event again later
)

// Deliver sends d through ch; if the person cannot be reached any more, it
// records that (pid "" when the chat is nobody's, e.g. a group).
func (rt *Runtime) Deliver(ctx context.Context, ch Channel, pid string, d Delivery) error {
	err := ch.Send(ctx, d)
	if errors.Is(err, ErrUnreachable) {
		rt.log.Info("the bot was blocked in this chat; not sending", "err", err)
		if pid != "" {
			if stopErr := rt.stores.People.StopContact(ctx, pid, false); stopErr != nil {
				rt.log.Warn("marking a student unreachable failed", "err", stopErr)
			}
		}
	}
	return err
}

// say delivers one sentence.
func (rt *Runtime) say(ctx context.Context, ch Channel, pid string, chat int64, lang, key string) {
	_ = rt.Deliver(ctx, ch, pid, Delivery{Chat: chat, Lang: lang, Replies: []flows.Reply{{Text: flows.Msg{Key: key}}}})
}
