package telegramtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
)

// Await is WaitFor for simulated users that run in goroutines of their own,
// e.g. hundreds of students at once in a load test. Like WaitFor it returns
// the first bot message in the chat matching match among those sent, edited
// or deleted after the chat's latest user action at the time of the call,
// oldest change first. Instead of failing the test it returns an error,
// with a dump of the chat, when ctx ends first (or the test ends). It wakes
// only when a message of its own chat changes, so many users can wait at
// once cheaply. match runs without locks and may call the Server.
func (s *Server) Await(ctx context.Context, chatID int64, match func(SentMessage) bool) (SentMessage, error) {
	s.mu.Lock()
	c := s.chats[chatID]
	if c == nil {
		s.mu.Unlock()
		return SentMessage{}, fmt.Errorf("telegramtest: Await: no chat %d", chatID)
	}
	since := c.actionSeq
	for {
		var changed []*botMessage
		for _, m := range c.bot {
			if m.changeSeq > since {
				changed = append(changed, m)
			}
		}
		slices.SortFunc(changed, func(a, b *botMessage) int { return cmp.Compare(a.changeSeq, b.changeSeq) })
		msgs := make([]SentMessage, len(changed))
		for i, m := range changed {
			msgs[i] = m.sent
		}
		wake := c.changed
		s.mu.Unlock()

		for _, m := range msgs {
			if match(m) {
				return m, nil
			}
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return SentMessage{}, fmt.Errorf("telegramtest: chat %d: no matching message after the last user action: %w\n%s",
				chatID, context.Cause(ctx), s.dump(chatID))
		case <-s.ctx.Done():
			return SentMessage{}, errors.New("telegramtest: Await: the server stopped")
		}
		s.mu.Lock()
	}
}
