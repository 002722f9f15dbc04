// Package bot adapts Telegram to the conversation in package flows: it turns
// updates into flow inputs, runs the flow's effects against the stores, and
// turns the flow's replies into Telegram messages and keyboards.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
)

// Config is what the bot needs to know besides its stores.
type Config struct {
	Token          string
	APIURL         string // Bot API base URL; empty means Telegram's
	WebhookURL     string // empty means long polling
	WebhookSecret  string
	ParticipantKey []byte
	StateTTL       time.Duration // how long an untouched conversation is kept
	StaffIDs       []int64       // Telegram user ids of city staff
	Location       *time.Location
	Logger         *slog.Logger
	Now            func() time.Time
	// Messages per second in all and into one chat: 0 means Telegram's
	// limits (DefaultMessagesPerSecond, DefaultChatMessagesPerSecond), a
	// negative number none (a load test against a fake Bot API).
	MessagesPerSecond     float64
	ChatMessagesPerSecond float64
}

// Stores are the bot's storage, defined by the interfaces in ports.go.
type Stores struct {
	Conversations ConversationStore
	Forums        ForumStore
	Ideas         IdeaStore
	People        PeopleStore
	Staff         StaffStore
	Outbox        OutboxStore
	Notifications NotificationStore
}

// Bot is a running Nápad bot.
type Bot struct {
	api      *tgbot.Bot
	http     *http.Client
	cfg      Config
	stores   Stores
	catalog  *locales.Catalog
	log      *slog.Logger
	chats    *chatLocks
	retries  retryNotices
	roles    roleCache
	limiter  *rateLimiter
	throttle *throttle
	metrics  *metrics
	staff    map[int64]bool
	username string
	// locationLabels are the location button's label in every language.
	locationLabels map[string]bool
}

// allowedUpdates are the only update types the bot asks Telegram for.
var allowedUpdates = []string{"message", "edited_message", "callback_query"}

// New connects to the Bot API (getMe) and prepares the handlers.
func New(ctx context.Context, cfg Config, stores Stores) (*Bot, error) {
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
	catalog, err := locales.Load()
	if err != nil {
		return nil, fmt.Errorf("load locales: %w", err)
	}
	b := &Bot{
		http:    newHTTPClient(),
		cfg:     cfg,
		stores:  stores,
		catalog: catalog,
		log:     cfg.Logger,
		chats:   newChatLocks(),
		limiter: newRateLimiter(studentBurst, studentPerSecond),
		throttle: newThrottle(
			orDefault(cfg.MessagesPerSecond, DefaultMessagesPerSecond),
			orDefault(cfg.ChatMessagesPerSecond, DefaultChatMessagesPerSecond)),
		metrics: newMetrics(outboxDepthFrom(stores.Outbox)),
		staff:   map[int64]bool{},
	}
	b.http.Transport = countingTransport{next: b.http.Transport, calls: b.metrics.apiCalls}
	for _, id := range cfg.StaffIDs {
		b.staff[id] = true
	}
	opts := []tgbot.Option{
		tgbot.WithHTTPClient(pollTimeout+10*time.Second, b.http),
		tgbot.WithSkipGetMe(),
		tgbot.WithNotAsyncHandlers(), // ordering is ours: see dispatch
		tgbot.WithMiddlewares(b.recoverPanics, b.privateChatsOnly),
		tgbot.WithDefaultHandler(b.onUpdate),
		tgbot.WithErrorsHandler(func(err error) { b.log.Warn("telegram client", "err", redact(err, cfg.Token)) }),
	}
	if cfg.APIURL != "" {
		opts = append(opts, tgbot.WithServerURL(strings.TrimRight(cfg.APIURL, "/")))
	}
	api, err := tgbot.New(cfg.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("create telegram client: %w", redact(err, cfg.Token))
	}
	b.api = api
	b.locationLabels = map[string]bool{}
	for _, lang := range flows.Languages {
		b.locationLabels[b.text(lang, flows.Msg{Key: "place.share_button"})] = true
	}
	for _, cmd := range knownCommands {
		api.RegisterHandler(tgbot.HandlerTypeMessageText, cmd, tgbot.MatchTypeCommandStartOnly, b.onCommand(cmd))
	}

	me, err := withRetry(ctx, b, "getMe", func() (*models.User, error) { return api.GetMe(ctx) })
	if err != nil {
		return nil, fmt.Errorf("ask telegram who the bot is (check TELEGRAM_BOT_TOKEN): %w", redact(err, cfg.Token))
	}
	b.username = me.Username
	return b, nil
}

// orDefault is v, or def when v is 0; a negative v (no limit) becomes 0.
func orDefault(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Username is the bot's Telegram username, used in join links.
func (b *Bot) Username() string { return b.username }

// JoinLink is the deep link that makes a student join the forum with code.
func JoinLink(username, code string) string {
	return "https://t.me/" + username + "?start=" + code
}

// studentCommands are in everyone's command menu; teachers also get
// teacherCommands, in their own chat only.
var (
	studentCommands = []string{
		flows.CommandNew, flows.CommandMyIdeas, flows.CommandCancel, flows.CommandLanguage, flows.CommandHelp,
		flows.CommandMyData, flows.CommandDelete, flows.CommandStop,
	}
	teacherCommands = []string{flows.CommandNewForum, flows.CommandForums}
)

// SetCommands publishes the command menu in every language.
func (b *Bot) SetCommands(ctx context.Context) error {
	for _, lang := range append([]string{""}, flows.Languages...) {
		textLang := lang
		if textLang == "" {
			textLang = flows.Languages[0]
		}
		if err := b.setCommands(ctx, studentCommands, textLang, &tgbot.SetMyCommandsParams{LanguageCode: lang}); err != nil {
			return err
		}
	}
	return nil
}

// setTeacherCommands shows a new teacher their commands in the menu of
// their chat with the bot.
func (b *Bot) setTeacherCommands(ctx context.Context, chatID int64, lang string) error {
	return b.setCommands(ctx, append(teacherCommands, studentCommands...), lang,
		&tgbot.SetMyCommandsParams{Scope: &models.BotCommandScopeChat{ChatID: chatID}})
}

func (b *Bot) setCommands(ctx context.Context, names []string, lang string, params *tgbot.SetMyCommandsParams) error {
	for _, c := range names {
		params.Commands = append(params.Commands, models.BotCommand{Command: c, Description: b.text(lang, flows.Msg{Key: "command." + c})})
	}
	_, err := withRetry(ctx, b, "setMyCommands", func() (bool, error) { return b.api.SetMyCommands(ctx, params) })
	if err != nil {
		return fmt.Errorf("set command menu %q: %w", params.LanguageCode, redact(err, b.cfg.Token))
	}
	return nil
}

// newHTTPClient keeps connections to the Bot API open: the default transport
// keeps only two idle connections per host, so under load most calls would
// open a new TCP (and TLS) connection.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 200
	t.MaxIdleConnsPerHost = 100
	t.IdleConnTimeout = 90 * time.Second
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t, Timeout: pollTimeout + 15*time.Second}
}

// redact removes the bot token from an error: HTTP errors quote the URL,
// and the URL contains the token.
func redact(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	// A network error quotes the URL: blank it there and keep the error
	// itself, so that errors.Is still sees a timeout or a cancellation.
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		urlErr.URL = strings.ReplaceAll(urlErr.URL, token, "<token>")
		if !strings.Contains(err.Error(), token) {
			return err
		}
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), token, "<token>"), err: err}
}

// redactedError is an error whose text had the token; it still unwraps to
// the original, whose text must not be logged.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// withRetry calls a Bot API method again after a 429 (as long as Telegram
// asks), a 5xx or a network error, a few times.
//
// A 429 pauses every sender of the bot, not only this one: Telegram counts
// them all together.
func withRetry[T any](ctx context.Context, b *Bot, method string, call func() (T, error)) (T, error) {
	var zero T
	th, log := b.throttle, b.log
	delay := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		if err := th.awaitPause(ctx); err != nil {
			return zero, err
		}
		v, err := call()
		if err == nil {
			return v, nil
		}
		if attempt == 4 || !retryable(err) {
			return zero, err
		}
		wait := delay
		var tooMany *tgbot.TooManyRequestsError
		if errors.As(err, &tooMany) && tooMany.RetryAfter > 0 {
			wait = time.Duration(tooMany.RetryAfter) * time.Second
			th.pauseFor(wait)
		}
		log.Debug("retrying telegram call", "method", method, "attempt", attempt, "wait", wait)
		b.metrics.retries.WithLabelValues(method).Inc()
		select {
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-time.After(wait):
		}
		delay *= 2
	}
}

func retryable(err error) bool {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.Is(err, tgbot.ErrorForbidden), errors.Is(err, tgbot.ErrorBadRequest),
		errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorNotFound), errors.Is(err, tgbot.ErrorConflict):
		return false
	}
	return true
}
