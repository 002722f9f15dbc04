package telegramtest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

// SentMessage is a message the bot sent, in its current state.
type SentMessage struct {
	MessageID        int
	ChatID           int64
	Method           string // the method that sent it, e.g. "sendPhoto"
	Date             time.Time
	Text             string // as the bot sent it, markup included
	ParseMode        string // "HTML", "MarkdownV2", "Markdown" or ""
	Caption          string
	Photo            *File
	Document         *File
	Location         *models.Location
	ReplyToMessageID int
	LinkPreview      *models.LinkPreviewOptions
	Silent           bool // disable_notification
	InlineKeyboard   [][]InlineButton
	ReplyKeyboard    [][]KeyboardButton
	RemoveKeyboard   bool
	ForceReply       bool
	Edited           bool
	History          []SentMessage // earlier versions, oldest first
	Deleted          bool
}

// InlineButton is a button of an inline keyboard.
type InlineButton struct {
	Text         string
	CallbackData string
	URL          string
}

// KeyboardButton is a button of a reply keyboard.
type KeyboardButton struct {
	Text            string
	RequestLocation bool
	RequestContact  bool
}

// Button finds an inline button by its text.
func (m SentMessage) Button(text string) (InlineButton, bool) {
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.Text == text {
				return b, true
			}
		}
	}
	return InlineButton{}, false
}

// String is a one-line summary used in failure dumps.
func (m SentMessage) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s", m.MessageID, m.Method)
	if m.Text != "" {
		fmt.Fprintf(&b, " %q", m.Text)
	}
	if m.Caption != "" {
		fmt.Fprintf(&b, " caption=%q", m.Caption)
	}
	if m.Photo != nil {
		fmt.Fprintf(&b, " photo=%s", m.Photo.FileID)
	}
	if m.Document != nil {
		fmt.Fprintf(&b, " document=%q (%d bytes)", m.Document.Name, len(m.Document.Data))
	}
	if m.Location != nil {
		fmt.Fprintf(&b, " location=%v,%v", m.Location.Latitude, m.Location.Longitude)
	}
	for _, row := range m.InlineKeyboard {
		b.WriteString(" [")
		for i, btn := range row {
			if i > 0 {
				b.WriteString(" | ")
			}
			if btn.URL != "" {
				fmt.Fprintf(&b, "%s -> %s", btn.Text, btn.URL)
			} else {
				fmt.Fprintf(&b, "%s (%s)", btn.Text, btn.CallbackData)
			}
		}
		b.WriteString("]")
	}
	for _, row := range m.ReplyKeyboard {
		b.WriteString(" {")
		for i, btn := range row {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(btn.Text)
		}
		b.WriteString("}")
	}
	if m.RemoveKeyboard {
		b.WriteString(" remove_keyboard")
	}
	if m.Edited {
		fmt.Fprintf(&b, " (edited %d×)", len(m.History))
	}
	if m.Deleted {
		b.WriteString(" (deleted)")
	}
	return b.String()
}

// chat is a chat the fake knows: a simulated user's private chat or one
// learnt from InjectRaw.
type chat struct {
	model     models.Chat
	nextMsgID int // message ids are per chat and shared by both sides, as in private chats
	bot       []*botMessage
	byID      map[int]*botMessage
	user      map[int]*models.Message // messages from users, for replies and deletion
	actionSeq uint64                  // seq of the last user action, WaitFor's starting point
	// changed is closed and replaced when a bot message of this chat
	// changes, waking Await without waking everyone else's.
	changed chan struct{}
}

type botMessage struct {
	sent      SentMessage
	model     models.Message
	markupKey string
	changeSeq uint64
}

func (s *Server) chatLocked(m models.Chat) *chat {
	c := s.chats[m.ID]
	if c == nil {
		c = &chat{model: m, nextMsgID: 1, byID: map[int]*botMessage{}, user: map[int]*models.Message{}, changed: make(chan struct{})}
		s.chats[m.ID] = c
	}
	return c
}

// touchLocked records a change of a bot message for WaitFor and wakes waiters.
func (s *Server) touchLocked(m *botMessage) {
	s.seq++
	m.changeSeq = s.seq
	if c := s.chats[m.sent.ChatID]; c != nil {
		close(c.changed)
		c.changed = make(chan struct{})
	}
	s.notifyLocked()
}

func (s *Server) sentLocked(chatID int64) []SentMessage {
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	out := make([]SentMessage, len(c.bot))
	for i, m := range c.bot {
		out[i] = m.sent
	}
	return out
}

// Sent returns the messages the bot sent to a chat, in order, in their
// current state (deleted ones included, marked Deleted).
func (s *Server) Sent(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentLocked(chatID)
}

// WaitSent waits until the bot has sent at least n messages to the chat and
// returns all of them; on timeout it fails the test with what was received.
func (s *Server) WaitSent(t testing.TB, chatID int64, n int, timeout time.Duration) []SentMessage {
	t.Helper()
	msgs, ok := await(s, timeout, func() []SentMessage { return s.sentLocked(chatID) },
		func(m []SentMessage) bool { return len(m) >= n })
	if !ok {
		t.Fatalf("telegramtest: chat %d: want %d messages within %v, got %d\n%s", chatID, n, timeout, len(msgs), s.dump(chatID))
	}
	return msgs
}

// WaitFor waits for a bot message in the chat matching match, and returns it.
// Only messages sent, edited or deleted after the chat's latest user action
// (SendText, Tap, InjectRaw...) at the time of the call count, oldest change
// first: the reply to what the user just did, whether it came before or
// after WaitFor was called. On timeout it fails the test with a dump.
func (s *Server) WaitFor(t testing.TB, chatID int64, match func(SentMessage) bool, timeout time.Duration) SentMessage {
	t.Helper()
	s.mu.Lock()
	var since uint64
	if c := s.chats[chatID]; c != nil {
		since = c.actionSeq
	}
	s.mu.Unlock()
	var found SentMessage
	_, ok := await(s, timeout, func() []*botMessage {
		var out []*botMessage
		if c := s.chats[chatID]; c != nil {
			for _, m := range c.bot {
				if m.changeSeq > since {
					cp := *m
					out = append(out, &cp)
				}
			}
		}
		slices.SortFunc(out, func(a, b *botMessage) int { return cmp.Compare(a.changeSeq, b.changeSeq) })
		return out
	}, func(msgs []*botMessage) bool {
		for _, m := range msgs {
			if match(m.sent) {
				found = m.sent
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("telegramtest: chat %d: no matching message within %v after the last user action\n%s", chatID, timeout, s.dump(chatID))
	}
	return found
}

// CallbackAnswer is the bot's answerCallbackQuery to a Tap.
type CallbackAnswer struct {
	QueryID   string
	Text      string
	ShowAlert bool
	URL       string
	CacheTime int
}

type callbackState struct {
	updateID int64
	answered bool
	answer   CallbackAnswer
}

func (s *Server) callbackAnswerLocked(updateID int64) (CallbackAnswer, bool) {
	for _, cb := range s.callbacks {
		if cb.updateID == updateID && cb.answered {
			return cb.answer, true
		}
	}
	return CallbackAnswer{}, false
}

// CallbackAnswer returns the bot's answer to the callback query created by
// the update updateID (as returned by Tap), if it answered.
func (s *Server) CallbackAnswer(updateID int64) (CallbackAnswer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callbackAnswerLocked(updateID)
}

// WaitCallbackAnswer waits for the bot to answer the callback query created
// by the update updateID.
func (s *Server) WaitCallbackAnswer(t testing.TB, updateID int64, timeout time.Duration) CallbackAnswer {
	t.Helper()
	type res struct {
		a  CallbackAnswer
		ok bool
	}
	r, _ := await(s, timeout, func() res {
		a, ok := s.callbackAnswerLocked(updateID)
		return res{a, ok}
	}, func(r res) bool { return r.ok })
	if !r.ok {
		t.Fatalf("telegramtest: callback query of update %d not answered within %v\n%s", updateID, timeout, s.dump(0))
	}
	return r.a
}

type commandKey struct{ scope, lang string }

// Commands returns the commands setMyCommands stored for the default scope
// and a language code ("" is the default for all languages).
func (s *Server) Commands(languageCode string) []models.BotCommand {
	return s.CommandsForScope("default", languageCode)
}

// CommandsForScope is Commands for another scope: "all_private_chats",
// "all_group_chats", "all_chat_administrators", "chat:<chat_id>",
// "chat_administrators:<chat_id>" or "chat_member:<chat_id>:<user_id>".
func (s *Server) CommandsForScope(scope, languageCode string) []models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[commandKey{scope, languageCode}])
}

func (s *Server) dump(chatID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dumpLocked(chatID)
}

// dumpLocked describes the state that usually explains a failed wait: what
// the chat received, and which calls failed (a 400 from a bad parse_mode is
// the typical reason a message never arrives).
func (s *Server) dumpLocked(chatID int64) string {
	var b strings.Builder
	if chatID != 0 {
		msgs := s.sentLocked(chatID)
		fmt.Fprintf(&b, "messages in chat %d (%d):\n", chatID, len(msgs))
		for _, m := range msgs {
			fmt.Fprintf(&b, "  %s\n", m)
		}
	}
	var failed []Call
	for _, c := range s.calls {
		if c.Status >= 300 {
			failed = append(failed, c)
		}
	}
	if len(failed) > 10 {
		failed = failed[len(failed)-10:]
	}
	if len(failed) > 0 {
		b.WriteString("failed calls (latest last):\n")
		for _, c := range failed {
			fmt.Fprintf(&b, "  %s %s -> %d %s\n", c.Time.Format("15:04:05.000"), c.Method, c.Status, c.Error)
		}
	}
	counts := map[string]int{}
	var names []string
	for _, c := range s.calls {
		if counts[c.Method] == 0 {
			names = append(names, c.Method)
		}
		counts[c.Method]++
	}
	b.WriteString("calls:")
	for _, n := range names {
		fmt.Fprintf(&b, " %s×%d", n, counts[n])
	}
	mode := "polling"
	if s.webhook != nil {
		mode = "webhook " + s.webhook.url
		if s.hookErr != "" {
			mode += " (last error: " + s.hookErr + ")"
		}
	}
	fmt.Fprintf(&b, "\nupdates: %d pending, %d delivered, mode %s\n", len(s.pending), len(s.delivered), mode)
	return b.String()
}
