package telegram

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// chatLocks serialises the updates of one chat within this process, lowest
// update id first: the Telegram library would otherwise run two quick taps
// of the same student at once, and in no particular order. Across replicas
// the conversation's turn in Redis does the same.
type chatLocks struct {
	mu    sync.Mutex
	chats map[int64]*chatQueue
}

// chatQueue is one chat's holder flag and the updates waiting for it.
type chatQueue struct {
	held    bool
	waiting []*waiter
}

type waiter struct {
	updateID int64
	ready    chan struct{}
}

// maxWaitingPerChat bounds the updates of one chat waiting in this process:
// a student sending faster than they are answered must not hold the
// webhook's connections, which everyone shares. Beyond it an update is
// refused for now and delivered again later (Telegram retries), so nothing
// is lost.
const maxWaitingPerChat = 4

// errBacklog refuses an update while too many of its chat wait.
var errBacklog = errors.New("too many updates of this chat are waiting")

func newChatLocks() *chatLocks { return &chatLocks{chats: map[int64]*chatQueue{}} }

// lock blocks until the chat is free and no lower update id waits for it,
// and returns the function that frees it; waited says whether it had to. If
// ctx ends first, it stops waiting and returns ctx's error.
func (c *chatLocks) lock(ctx context.Context, chatID, updateID int64) (unlock func(), waited bool, err error) {
	c.mu.Lock()
	q, ok := c.chats[chatID]
	if !ok {
		q = &chatQueue{}
		c.chats[chatID] = q
	}
	if !q.held {
		q.held = true
		c.mu.Unlock()
		return func() { c.unlock(chatID, q) }, false, nil
	}
	if len(q.waiting) >= maxWaitingPerChat {
		c.mu.Unlock()
		return nil, true, errBacklog
	}
	w := &waiter{updateID, make(chan struct{})}
	q.waiting = append(q.waiting, w)
	c.mu.Unlock()
	select {
	case <-w.ready: // handed over by the previous holder
	case <-ctx.Done():
		c.mu.Lock()
		if i := slices.Index(q.waiting, w); i >= 0 {
			q.waiting = slices.Delete(q.waiting, i, i+1)
			c.mu.Unlock()
			return nil, true, ctx.Err()
		}
		c.mu.Unlock() // handed over just now: it is ours to free
	}
	return func() { c.unlock(chatID, q) }, true, nil
}

func (c *chatLocks) unlock(chatID int64, q *chatQueue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(q.waiting) == 0 {
		delete(c.chats, chatID)
		return
	}
	next := 0
	for i, w := range q.waiting {
		if w.updateID < q.waiting[next].updateID {
			next = i
		}
	}
	ready := q.waiting[next].ready
	q.waiting = slices.Delete(q.waiting, next, next+1)
	close(ready) // still held: ownership passes to the next update
}
