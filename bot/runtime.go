// Package bot runs Nápad's conversations for any channel: it takes an event
// (a message, a tap) in the conversation's turn, lets the flow decide, does
// what the flow asks (store an idea, create a forum) and hands the replies
// to the channel that delivers them. It also keeps ideas safe while
// PostgreSQL is down (the outbox) and tells students what became of their
// ideas (the notifier). It knows nothing of Telegram: bot/telegram adapts
// Telegram's updates and messages to it, and any other channel can do the
// same.
package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
	"github.com/healthycities/napad/seal"
)

// Config is what the runtime needs to know besides its stores.
type Config struct {
	// ParticipantKey keys the pseudonyms students are stored under.
	ParticipantKey []byte
	StateTTL       time.Duration // how long an untouched conversation is kept
	// StaffUsers are city staff, as channel user keys (see ParticipantID).
	StaffUsers []string
	Location   *time.Location // the city's: closing dates, times shown
	// IdeasPerDay is how many ideas a student may send to one forum in 24
	// hours (0: no limit): a flood of ideas buries everyone else's.
	IdeasPerDay int
	// Age is who may take part on their own, and whether their age group
	// is asked.
	Age    flows.AgeRule
	Logger *slog.Logger
	Now    func() time.Time

	// ContactKeys seal students' chats in the outbox; nil: the keys derived
	// from ParticipantKey (seal.ContactKeys).
	ContactKeys *seal.Keyring

	// OnPhaseMoved, if set, hears of every phase move this runtime makes
	// (from a card, or at a forum's dates): where announcements hang.
	OnPhaseMoved func(context.Context, flows.PhaseMoved)
}

// Stores are the runtime's storage, defined by the interfaces in ports.go.
type Stores struct {
	Conversations ConversationStore
	Forums        ForumStore
	Ideas         IdeaStore
	People        PeopleStore
	Staff         StaffStore
	Outbox        OutboxStore
	Notifications NotificationStore
	Voting        VotingStore
	Broadcasts    BroadcastStore
	Shortlist     ShortlistStore
	// JoinCodes counts wrong join codes, to slow guessing down; nil: no
	// limit (a runtime for tests).
	JoinCodes JoinCodeCounter
	// Pins keeps the emotional map.
	Pins PinStore
}

// Runtime runs conversations; channels feed it events.
type Runtime struct {
	cfg     Config
	stores  Stores
	catalog *locales.Catalog
	log     *slog.Logger
	staff   map[string]bool // participant ids
	roles   roleCache
	retries retryNotices
	metrics *metrics
	// renderers make each kind of broadcast (RegisterBroadcast).
	renderers map[string]BroadcastRenderer
}

// New prepares a runtime.
func New(cfg Config, stores Stores) (*Runtime, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StateTTL <= 0 {
		cfg.StateTTL = 30 * 24 * time.Hour
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.ContactKeys == nil {
		keys, err := seal.ContactKeys(cfg.ParticipantKey, nil)
		if err != nil {
			return nil, fmt.Errorf("contact keys: %w", err)
		}
		cfg.ContactKeys = keys
	}
	catalog, err := locales.Load()
	if err != nil {
		return nil, fmt.Errorf("load locales: %w", err)
	}
	rt := &Runtime{
		cfg:     cfg,
		stores:  stores,
		catalog: catalog,
		log:     cfg.Logger,
		staff:   map[string]bool{},
		metrics: newMetrics(outboxDepthFrom(stores.Outbox), outboxDeadFrom(stores.Outbox)),

		renderers: map[string]BroadcastRenderer{flows.BroadcastKindAnnounce: renderAnnouncement},
	}
	if stores.Voting != nil {
		rt.renderers[flows.BroadcastKindVotingOpen] = rt.renderVotingOpen
		rt.renderers[flows.BroadcastKindResults] = rt.renderResults
	}
	if pending := broadcastsPendingFrom(stores.Broadcasts); pending != nil {
		rt.metrics.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "napad_broadcast_pending", Help: "Broadcast messages not sent yet, of every replica.",
		}, pending))
	}
	for _, user := range cfg.StaffUsers {
		rt.staff[rt.ParticipantID(user)] = true
	}
	return rt, nil
}

// ParticipantID is the pseudonym a person is known by everywhere anything is
// stored: a keyed hash of their user key in a channel (for Telegram,
// "telegram-user:<id>"). Without the key it cannot be reversed or linked to
// other data sets.
func (rt *Runtime) ParticipantID(userKey string) string {
	return Pseudonym(rt.cfg.ParticipantKey, userKey)
}

// Pseudonym is the participant id of userKey under key (see ParticipantID),
// for tools that write what the bot would (a load test's ideas).
func Pseudonym(key []byte, userKey string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(userKey))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// IsStaff reports whether a participant is city staff.
func (rt *Runtime) IsStaff(pid string) bool { return rt.staff[pid] }

// Logger is the runtime's logger, for the channels.
func (rt *Runtime) Logger() *slog.Logger { return rt.log }

// Catalog is the runtime's texts, for a channel's own pages.
func (rt *Runtime) Catalog() *locales.Catalog { return rt.catalog }

// now is the current time in the city's time zone, in which teachers give
// closing dates.
func (rt *Runtime) now() time.Time { return rt.cfg.Now().In(rt.cfg.Location) }

// local shows a forum's times in the city's time zone.
func (rt *Runtime) local(f flows.Forum) flows.Forum {
	for _, t := range []*time.Time{&f.ClosesAt, &f.VoteOpensAt, &f.VoteClosesAt} {
		if !t.IsZero() {
			*t = t.In(rt.cfg.Location)
		}
	}
	return f
}

// dayEnd is when a forum whose last day is day (2006-01-02) closes: at the
// start of the next day in the city. "" means no closing date.
func (rt *Runtime) dayEnd(day string) (time.Time, error) {
	if day == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", day, rt.cfg.Location)
	if err != nil {
		return time.Time{}, fmt.Errorf("closing day %q: %w", day, err)
	}
	return t.AddDate(0, 0, 1), nil
}
