// Package telegram is Nápad's Telegram channel: it turns Telegram updates
// into events for the conversation runtime (package bot) and the runtime's
// replies into Telegram messages and keyboards, within Telegram's limits. It
// is the only package that speaks the Bot API.
package telegram

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
)

// Config is what the Telegram channel needs.
type Config struct {
	Token         string
	APIURL        string // Bot API base URL; empty means Telegram's
	WebhookURL    string // empty means long polling
	WebhookSecret string
	// StaffIDs are the Telegram user ids of city staff, for their command
	// menu (the runtime knows them as staff by their pseudonyms).
	StaffIDs []int64
	// Messages per second in all and into one chat: 0 means Telegram's
	// limits (DefaultMessagesPerSecond, DefaultChatMessagesPerSecond), a
	// negative number none (a load test against a fake Bot API).
	MessagesPerSecond     float64
	ChatMessagesPerSecond float64
	// WebPhotos has the photos students sent from the browser (file ids
	// "web:<id>"): Telegram knows them not, so staff get them uploaded.
	// Nil: such a photo is left out.
	WebPhotos WebPhotos
	// PublicURL is where the web channel is reached: a forum whose QR code
	// offers Telegram or the browser has its page there in the code.
	PublicURL string
}

// WebPhotos reads the photos students sent from the browser, by id.
type WebPhotos interface {
	Get(ctx context.Context, id string) (jpeg []byte, found bool, err error)
}

// webPhotoPrefix starts the file id of a photo sent from the browser.
const webPhotoPrefix = "web:"

// Bot is the Telegram channel of a runtime.
type Bot struct {
	api     *tgbot.Bot
	http    *http.Client
	cfg     Config
	rt      *bot.Runtime
	texts   *bot.Texts
	log     *slog.Logger
	chats   *chatLocks
	limiter *rateLimiter
	// groupReplies limits what the bot says in groups, per group.
	groupReplies *rateLimiter
	throttle     *throttle
	metrics      *metrics
	username     string
}

// allowedUpdates are the only update types the bot asks Telegram for.
var allowedUpdates = []string{"message", "edited_message", "callback_query"}

// UserKey is how a Telegram user is known to the runtime (see
// bot.Runtime.ParticipantID).
func UserKey(telegramUserID int64) string {
	return "telegram-user:" + strconv.FormatInt(telegramUserID, 10)
}

// participant is the pseudonym of a Telegram user.
func (b *Bot) participant(telegramUserID int64) string {
	return b.rt.ParticipantID(UserKey(telegramUserID))
}

// New connects to the Bot API (getMe) and prepares the handlers.
func New(ctx context.Context, cfg Config, rt *bot.Runtime) (*Bot, error) {
	b := &Bot{
		http:         newHTTPClient(),
		cfg:          cfg,
		rt:           rt,
		log:          rt.Logger(),
		chats:        newChatLocks(),
		limiter:      newRateLimiter(studentBurst, studentPerSecond),
		groupReplies: newRateLimiter(1, groupRepliesPerSecond),
		throttle: newThrottle(
			orDefault(cfg.MessagesPerSecond, DefaultMessagesPerSecond),
			orDefault(cfg.ChatMessagesPerSecond, DefaultChatMessagesPerSecond)),
		metrics: newMetrics(rt.Metrics()),
	}
	b.texts = rt.Texts(b)
	b.http.Transport = countingTransport{next: b.http.Transport, calls: b.metrics.apiCalls}
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
	for _, cmd := range flows.Commands {
		api.RegisterHandler(tgbot.HandlerTypeMessageText, cmd.Name, tgbot.MatchTypeCommandStartOnly, b.onCommand(cmd.Name))
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

// Username asks Telegram (getMe) for the bot's username, for join links
// printed without a running bot.
func Username(ctx context.Context, token, apiURL string) (string, error) {
	opts := []tgbot.Option{tgbot.WithSkipGetMe()}
	if apiURL != "" {
		opts = append(opts, tgbot.WithServerURL(strings.TrimRight(apiURL, "/")))
	}
	api, err := tgbot.New(token, opts...)
	if err != nil {
		return "", fmt.Errorf("telegram client: %w", redact(err, token))
	}
	me, err := api.GetMe(ctx)
	if err != nil {
		return "", fmt.Errorf("ask Telegram for the bot's username: %w", redact(err, token))
	}
	return me.Username, nil
}

// JoinLink is the deep link that makes a student join the forum with code.
func JoinLink(username, code string) string {
	return "https://t.me/" + username + "?start=" + code
}

// JoinLink is this bot's join link for a forum's code.
func (b *Bot) JoinLink(code string) string { return JoinLink(b.username, code) }

// Username is the bot's Telegram username, as getMe gave it.
func (b *Bot) Username() string { return b.username }

// InviteLink is this bot's link that makes a Telegram account a teacher.
func (b *Bot) InviteLink(code string) string { return JoinLink(b.username, bot.InviteCode(code)) }

// SetCommands publishes the command menus in every language: everyone's,
// and in each staff member's own chat, staff's (flows.Menu). A staff chat
// Telegram does not know yet (they never opened the bot) is skipped.
func (b *Bot) SetCommands(ctx context.Context) error {
	for _, lang := range append([]string{""}, flows.Languages...) {
		textLang := cmp.Or(lang, flows.Languages[0])
		if err := b.setCommands(ctx, flows.Menu(flows.RoleStudent), textLang, &tgbot.SetMyCommandsParams{LanguageCode: lang}); err != nil {
			return err
		}
		for _, id := range b.cfg.StaffIDs {
			if err := b.setCommands(ctx, flows.Menu(flows.RoleStaff), textLang,
				&tgbot.SetMyCommandsParams{LanguageCode: lang, Scope: &models.BotCommandScopeChat{ChatID: id}}); err != nil {
				b.log.Warn("staff command menu", "err", err)
			}
		}
	}
	return nil
}

// RoleChanged shows someone whose role changed (a teacher invite accepted)
// their commands in the menu of their chat with the bot.
func (b *Bot) RoleChanged(ctx context.Context, chatID int64, role, lang string) {
	if err := b.setCommands(ctx, flows.Menu(role), lang,
		&tgbot.SetMyCommandsParams{Scope: &models.BotCommandScopeChat{ChatID: chatID}}); err != nil {
		b.log.Warn("command menu for a new role", "role", role, "err", err)
	}
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
