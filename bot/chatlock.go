package bot

import "sync"

// chatLocks serialises the updates of one chat: the Telegram library would
// otherwise run two quick taps of the same student at once.
type chatLocks struct {
	mu    sync.Mutex
	locks map[int64]*chatLock
}

type chatLock struct {
	sync.Mutex
	users int
}

func newChatLocks() *chatLocks { return &chatLocks{locks: map[int64]*chatLock{}} }

// lock blocks until the chat is free and returns the function that frees it.
func (c *chatLocks) lock(chatID int64) (unlock func()) {
	c.mu.Lock()
	l, ok := c.locks[chatID]
	if !ok {
		l = &chatLock{}
		c.locks[chatID] = l
	}
	l.users++
	c.mu.Unlock()

	l.Lock()
	return func() {
		l.Unlock()
		c.mu.Lock()
		l.users--
		if l.users == 0 {
			delete(c.locks, chatID)
		}
		c.mu.Unlock()
	}
}
