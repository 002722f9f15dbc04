package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/healthycities/napad/flows"
)

// Broadcasts: one message to every participant of a forum. A broadcast is
// created with its recipients fixed (BroadcastStore.CreateBroadcast); every
// replica's RunBroadcasts then leases a batch of deliveries at a time, so
// two replicas never send one message at once, renders each in its
// recipient's language, sends it through the channel in the background
// (replies to students first; the channel keeps Telegram's 30 messages a
// second and 1 a second per chat) and records it as sent as soon as the
// channel accepted it. After a crash the deliveries of the dead replica are
// taken again when their lease ends: only a message accepted by Telegram but
// not yet recorded can go twice.
//
// A new kind of broadcast is a kind name and a renderer:
//
//	rt.RegisterBroadcast("voting_open", func(ctx context.Context, d flows.BroadcastDelivery) ([]flows.Reply, error) {
//		ballot, err := ... // look up what d.ParticipantID may vote for in forum d.ForumID
//		return []flows.Reply{{Text: flows.Msg{Key: "voting.open"}, Buttons: ...}}, err
//	})
//
// and a broadcast of that kind created with an idempotency key (say
// "voting_open:<forum id>", so that opening voting twice tells everyone
// once). The replies are rendered in d.Language by the channel. A renderer
// error counts as a failed send: it is tried again later, up to
// postgres.MaxBroadcastTries times.

// BroadcastStore keeps broadcasts and who is to get them.
type BroadcastStore interface {
	// BroadcastAudience counts whom a broadcast to a forum would reach now.
	BroadcastAudience(ctx context.Context, forumID int64) (int, error)
	// CreateBroadcast creates it with every reachable participant of its
	// forum as a recipient; with a key used before, it returns that one
	// (created false).
	CreateBroadcast(ctx context.Context, b flows.Broadcast) (id int64, recipients int, created bool, err error)
	// TakeDeliveries leases up to limit pending deliveries to owner.
	TakeDeliveries(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]flows.BroadcastDelivery, error)
	MarkDeliverySent(ctx context.Context, broadcastID int64, participantID string, at time.Time) error
	MarkDeliveryUnreachable(ctx context.Context, broadcastID int64, participantID string) error
	// RetryDelivery records a failed send; gaveUp says it will not be
	// tried again.
	RetryDelivery(ctx context.Context, broadcastID int64, participantID, owner string, at time.Time) (gaveUp bool, err error)
}

// BroadcastRenderer makes what one recipient of a broadcast is sent.
type BroadcastRenderer func(ctx context.Context, d flows.BroadcastDelivery) ([]flows.Reply, error)

const (
	// broadcastBatch is how many deliveries a sender leases at once: about
	// a second of sending at Telegram's pace.
	broadcastBatch = 30
	// broadcastLease is how long a batch is left to its sender. A sender
	// sends nothing in its last broadcastLeaseMargin (that is left to be
	// taken again), so a slow batch is never sent by two.
	broadcastLease       = 15 * time.Second
	broadcastLeaseMargin = 5 * time.Second
	// BroadcastSenders is how many messages one replica has on their way at
	// once: enough to keep Telegram's pace with ~100 ms round trips. It is
	// also the most a crash can leave sent but unrecorded (sent twice).
	BroadcastSenders = 4
)

// RegisterBroadcast makes kind a kind of broadcast, rendered by render.
// Register before RunBroadcasts starts.
func (rt *Runtime) RegisterBroadcast(kind string, render BroadcastRenderer) {
	rt.renderers[kind] = render
}

// renderAnnouncement is staff's /announce: their words under a header.
func renderAnnouncement(_ context.Context, d flows.BroadcastDelivery) ([]flows.Reply, error) {
	var a flows.Announcement
	if err := json.Unmarshal(d.Payload, &a); err != nil {
		return nil, fmt.Errorf("read announcement: %w", err)
	}
	return []flows.Reply{{Text: flows.AnnouncementMsg(a)}}, nil
}

// RunBroadcasts sends the broadcasts' pending messages until ctx ends,
// looking for new ones every interval when there is nothing to send. It
// returns once every message it had started is recorded.
func (rt *Runtime) RunBroadcasts(ctx context.Context, every time.Duration, ch Channel) error {
	if rt.stores.Broadcasts == nil {
		return errors.New("bot: broadcasts: no broadcast store")
	}
	owner, err := newLeaseOwner()
	if err != nil {
		return err
	}
	rt.pollRounds(ctx, every, broadcastBatch, "broadcasts", func(ctx context.Context) (int, error) {
		return rt.broadcastRound(ctx, ch, owner)
	})
	return nil
}

func newLeaseOwner() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("bot: broadcast lease owner: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// broadcastRound leases one batch and sends it, BroadcastSenders at a time.
func (rt *Runtime) broadcastRound(ctx context.Context, ch Channel, owner string) (int, error) {
	storeCtx, cancel := context.WithTimeout(ctx, storeTimeout)
	taken := time.Now()
	batch, err := rt.stores.Broadcasts.TakeDeliveries(storeCtx, owner, rt.cfg.Now(), broadcastBatch, broadcastLease)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("take broadcast deliveries: %w", err)
	}
	sendUntil := taken.Add(broadcastLease - broadcastLeaseMargin)
	next := make(chan flows.BroadcastDelivery)
	var wg sync.WaitGroup
	for range min(BroadcastSenders, len(batch)) {
		wg.Go(func() {
			for d := range next {
				rt.deliver(ctx, ch, owner, d)
			}
		})
	}
	for _, d := range batch {
		if ctx.Err() != nil || time.Now().After(sendUntil) {
			// The rest stay leased; once the lease is over they are sent.
			break
		}
		next <- d
	}
	close(next)
	wg.Wait()
	return len(batch), nil
}

// deliver sends one broadcast message and records how it went.
func (rt *Runtime) deliver(ctx context.Context, ch Channel, owner string, d flows.BroadcastDelivery) {
	kind := d.Kind
	render, known := rt.renderers[kind]
	if !known {
		kind = "unregistered" // a metric label from a fixed set
		render = func(context.Context, flows.BroadcastDelivery) ([]flows.Reply, error) {
			return nil, fmt.Errorf("no renderer for broadcasts of kind %q", d.Kind)
		}
	}
	sent := sendFailed
	replies, err := render(ctx, d)
	switch {
	case err == nil && len(replies) == 0:
		sent = sendOK // nothing left to say (the forum moved on since): done
	case err == nil:
		sent, err = rt.sendInBackground(ctx, ch, d.ParticipantID, d.ChatID, d.Language, replies)
	}
	if sent == sendAbandoned {
		return
	}
	// What was sent must be recorded even if ctx ends now, or it is sent twice.
	storeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	store := rt.stores.Broadcasts
	result := "sent"
	switch sent {
	case sendOK:
		if err := store.MarkDeliverySent(storeCtx, d.BroadcastID, d.ParticipantID, rt.cfg.Now()); err != nil {
			rt.log.Error("recording a sent broadcast message failed; it may be sent again", "broadcast_id", d.BroadcastID, "err", err)
		}
		rt.log.Debug("broadcast message sent", "broadcast_id", d.BroadcastID, "kind", d.Kind)
	case sendUnreachable:
		result = "unreachable"
		if err := store.MarkDeliveryUnreachable(storeCtx, d.BroadcastID, d.ParticipantID); err != nil {
			rt.log.Warn("recording an unreachable broadcast recipient failed", "broadcast_id", d.BroadcastID, "err", err)
		}
	default:
		result = "retry"
		gaveUp, rerr := store.RetryDelivery(storeCtx, d.BroadcastID, d.ParticipantID, owner, rt.cfg.Now())
		if rerr != nil {
			rt.log.Error("recording a failed broadcast message failed", "broadcast_id", d.BroadcastID, "err", rerr)
		}
		if gaveUp {
			result = "failed"
		}
		rt.log.Log(ctx, sendFailureLevel(err), "sending a broadcast message failed", "broadcast_id", d.BroadcastID,
			"kind", d.Kind, "tries", d.Tries+1, "gave_up", gaveUp, "err", err)
	}
	rt.metrics.broadcasts.WithLabelValues(kind, result).Inc()
}
