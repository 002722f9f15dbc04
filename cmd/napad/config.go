package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the city's time zone, also in a container without zoneinfo

	"github.com/healthycities/napad/bot/telegram"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/seal"
	"github.com/healthycities/napad/storage/redis"
)

// config is everything read from the environment. Each setting is checked
// when read, so a mistake stops start-up with one line naming the variable.
type config struct {
	Token          string
	APIURL         string
	BotUsername    string
	DatabaseURL    string
	MigrationURL   string // MIGRATION_DATABASE_URL, else DATABASE_URL: migrations hold a session lock
	RedisURL       string
	RedisPrefix    string
	WebhookURL     string
	WebhookSecret  string
	ListenAddr     string
	MetricsAddr    string // /metrics, /readyz, /healthz: not for the internet
	ParticipantKey []byte
	LogLevel       slog.Level
	StateTTL       time.Duration
	StaffIDs       []int64
	Location       *time.Location
	StaffLanguage  string        // of exports for staff (STAFF_LANGUAGE): headers, statuses, categories
	RetentionDays  int           // 0: keep the link between ideas and students
	IdeasPerDay    int           // per student and forum; 0: no limit
	Age            flows.AgeRule // MIN_AGE, ASK_AGE_BAND
	// Telegram's sending limits (telegram.Config: negative means none).
	MessagesPerSecond     float64
	ChatMessagesPerSecond float64

	// ContactKeys seal students' chats at rest (read with ParticipantKey).
	ContactKeys *seal.Keyring

	// The web channel (WEB_CHANNEL, on by default): the same conversation
	// in a browser at LISTEN_ADDR. PublicURL is where people reach it
	// (PUBLIC_URL; https makes its cookies Secure); TrustProxy: a reverse
	// proxy sets X-Forwarded-For (TRUST_PROXY); DemoForum: a forum to try it
	// is made at start (DEMO_FORUM; by default only without a Telegram token).
	Web        bool
	PublicURL  string
	TrustProxy bool
	DemoForum  bool
}

var (
	tokenPattern    = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,}$`)
	secretPattern   = regexp.MustCompile(`^[A-Za-z0-9_-]{16,256}$`)
	usernamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{3,31}$`)
)

// minParticipantKey is the shortest PARTICIPANT_KEY accepted: the key is what
// keeps pseudonyms from being reversed by trying every Telegram id.
const minParticipantKey = 32

type envReader struct {
	getenv func(string) string
	err    error
}

func (r *envReader) fail(name, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...))
	}
}

func (r *envReader) get(name, fallback string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return fallback
}

// rate reads a number of messages per second; 0 turns the limit off (for
// load tests against a fake Bot API), which telegram.Config spells as negative.
func (r *envReader) rate(name string, fallback float64) float64 {
	v := r.get(name, "")
	if v == "" {
		return fallback
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n < 0 || n > 100000 {
		r.fail(name, "must be a number of messages per second, or 0 for no limit (got %q)", v)
		return fallback
	}
	if n == 0 {
		return -1
	}
	return n
}

// addr is a listening address, host:port or :port.
func (r *envReader) addr(name, fallback string) string {
	v := r.get(name, fallback)
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		r.fail(name, "must be host:port or :port (got %q)", v)
	}
	return v
}

// onOff reads a switch: on/off, true/false, 1/0 (fallback when unset).
func (r *envReader) onOff(name string, fallback bool) bool {
	switch strings.ToLower(r.get(name, "")) {
	case "":
		return fallback
	case "on", "true", "1", "yes":
		return true
	case "off", "false", "0", "no":
		return false
	}
	r.fail(name, "must be on or off")
	return fallback
}

func (r *envReader) required(name, hint string) string {
	v := r.get(name, "")
	if v == "" {
		r.fail(name, "is not set: %s", hint)
	}
	return v
}

func (r *envReader) url(name string, v string, schemes ...string) {
	if v == "" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		r.fail(name, "is not a valid URL (got %q)", redactURL(v))
		return
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return
		}
	}
	r.fail(name, "must start with %s:// (got %q)", strings.Join(schemes, ":// or "), u.Scheme)
}

// file reads a secret from the file that the setting name points to (a
// Docker or compose secret), so that the secret itself need not be in the
// environment. Empty when the setting is not set.
func (r *envReader) file(name string) string {
	path := r.get(name, "")
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		r.fail(name, "names a file that cannot be read: %v", err)
		return ""
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		r.fail(name, "names an empty file (%s)", path)
	}
	return v
}

// withPassword puts password into the URL in setting name, replacing any
// password it has; the URL is returned unchanged when password is empty.
func (r *envReader) withPassword(name, rawURL, password string) string {
	if password == "" || rawURL == "" {
		return rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL // r.url has said what is wrong with it
	}
	u.User = url.UserPassword(u.User.Username(), password) // Username is nil-safe
	if name == "DATABASE_URL" && u.User.Username() == "" {
		r.fail(name, "needs a user name when DATABASE_PASSWORD_FILE is set (got %q)", redactURL(rawURL))
	}
	return u.String()
}

// redactURL hides a password in a URL before it is shown in an error.
func redactURL(v string) string {
	u, err := url.Parse(v)
	if err != nil {
		return "<unparseable>"
	}
	return u.Redacted()
}

// contactKeys reads CONTACT_KEY, the key students' chats are sealed with
// (empty: one derived from PARTICIPANT_KEY, which cannot be changed), and
// CONTACT_OLD_KEYS, keys that chats sealed before may still need. A key's
// text is never repeated in an error.
func (r *envReader) contactKeys(participantKey []byte) *seal.Keyring {
	const hint = "32 random bytes as 64 hex digits or base64, e.g. `openssl rand -hex 32`"
	var current []byte
	if v := r.get("CONTACT_KEY", ""); v != "" {
		k, err := seal.ParseKey(v)
		if err != nil {
			r.fail("CONTACT_KEY", "must be %s", hint)
		}
		current = k
	}
	var old [][]byte
	for i, field := range strings.FieldsFunc(r.get("CONTACT_OLD_KEYS", ""), func(r rune) bool { return r == ',' || r == ' ' }) {
		k, err := seal.ParseKey(field)
		if err != nil {
			r.fail("CONTACT_OLD_KEYS", "must be keys separated by commas, each %s (key %d is not)", hint, i+1)
			return nil
		}
		old = append(old, k)
	}
	if r.err != nil {
		return nil
	}
	keys, err := seal.ContactKeys(participantKey, current, old...)
	if err != nil {
		r.fail("CONTACT_OLD_KEYS", "must not repeat a key, nor CONTACT_KEY")
	}
	return keys
}

// needs says which settings a subcommand requires.
type needs struct{ telegram, database, redis, participantKey bool }

func loadConfig(getenv func(string) string, n needs) (config, error) {
	r := &envReader{getenv: getenv}
	var c config

	c.LogLevel = slog.LevelInfo
	if lvl := r.get("LOG_LEVEL", "info"); c.LogLevel.UnmarshalText([]byte(lvl)) != nil {
		r.fail("LOG_LEVEL", "must be debug, info, warn or error (got %q)", lvl)
	}

	c.APIURL = strings.TrimRight(r.get("TELEGRAM_API_URL", ""), "/")
	r.url("TELEGRAM_API_URL", c.APIURL, "https", "http")
	c.BotUsername = strings.TrimPrefix(r.get("TELEGRAM_BOT_USERNAME", ""), "@")
	if c.BotUsername != "" && !usernamePattern.MatchString(c.BotUsername) {
		r.fail("TELEGRAM_BOT_USERNAME", "is not a Telegram bot username (got %q)", c.BotUsername)
	}
	// Read whenever set: `serve` runs without it (the Telegram channel is
	// then off), the Telegram commands need it.
	if n.telegram {
		c.Token = r.required("TELEGRAM_BOT_TOKEN", "put the token from @BotFather in .env")
	} else {
		c.Token = r.get("TELEGRAM_BOT_TOKEN", "")
	}
	if c.Token != "" && !tokenPattern.MatchString(c.Token) {
		r.fail("TELEGRAM_BOT_TOKEN", "does not look like a bot token (expected <digits>:<secret> from @BotFather)")
	}

	if n.database {
		c.DatabaseURL = r.required("DATABASE_URL", "e.g. postgres://napad:napad@localhost:5432/napad")
		r.url("DATABASE_URL", c.DatabaseURL, "postgres", "postgresql")
		c.DatabaseURL = r.withPassword("DATABASE_URL", c.DatabaseURL, r.file("DATABASE_PASSWORD_FILE"))
		c.MigrationURL = r.get("MIGRATION_DATABASE_URL", c.DatabaseURL)
		r.url("MIGRATION_DATABASE_URL", c.MigrationURL, "postgres", "postgresql")
	}
	if n.redis {
		c.RedisURL = r.required("REDIS_URL", "e.g. redis://localhost:6379/0")
		if err := redis.CheckURL(c.RedisURL); c.RedisURL != "" && err != nil {
			r.fail("REDIS_URL", "%v", err) // one server, a cluster or Sentinel: storage/redis/url.go
		}
		c.RedisURL = r.withPassword("REDIS_URL", c.RedisURL, r.file("REDIS_PASSWORD_FILE"))
		c.RedisPrefix = r.get("REDIS_KEY_PREFIX", "napad:")
		if err := redis.CheckPrefix(c.RedisPrefix); err != nil {
			r.fail("REDIS_KEY_PREFIX", "%v (got %q)", err, c.RedisPrefix)
		}
	}
	if n.participantKey {
		key := r.get("PARTICIPANT_KEY", "")
		if key == "" {
			key = r.file("PARTICIPANT_KEY_FILE")
		}
		if key == "" {
			r.fail("PARTICIPANT_KEY", "is not set: set a long random secret, e.g. `openssl rand -hex 32` (or PARTICIPANT_KEY_FILE to a file holding it)")
		}
		if key != "" && len(key) < minParticipantKey {
			r.fail("PARTICIPANT_KEY", "is too short: use at least %d characters (e.g. `openssl rand -hex 32`)", minParticipantKey)
		}
		c.ParticipantKey = []byte(key)
		c.ContactKeys = r.contactKeys(c.ParticipantKey)
	}

	c.WebhookURL = r.get("WEBHOOK_URL", "")
	r.url("WEBHOOK_URL", c.WebhookURL, "https", "http")
	c.WebhookSecret = r.get("WEBHOOK_SECRET", "")
	if c.WebhookURL != "" {
		switch {
		case c.WebhookSecret == "":
			r.fail("WEBHOOK_SECRET", "is not set: webhook mode needs a secret of 16–256 characters A-Z a-z 0-9 _ -")
		case !secretPattern.MatchString(c.WebhookSecret):
			r.fail("WEBHOOK_SECRET", "must be 16–256 characters of A-Z a-z 0-9 _ -")
		}
	}
	if c.WebhookURL != "" && c.webhookPath() == "/" {
		r.fail("WEBHOOK_URL", "needs a path of its own, e.g. https://bot.example.org/telegram/webhook (got %q)", c.WebhookURL)
	}
	c.ListenAddr = r.addr("LISTEN_ADDR", ":8080")
	c.MetricsAddr = r.addr("METRICS_ADDR", "127.0.0.1:9090")
	if c.MetricsAddr == c.ListenAddr {
		r.fail("METRICS_ADDR", "must differ from LISTEN_ADDR: metrics and readiness are not for the internet (got %q)", c.MetricsAddr)
	}

	for _, field := range strings.FieldsFunc(r.get("STAFF_TELEGRAM_IDS", ""), func(r rune) bool { return r == ',' || r == ' ' }) {
		id, err := strconv.ParseInt(field, 10, 64)
		if err != nil || id <= 0 {
			r.fail("STAFF_TELEGRAM_IDS", "must be Telegram user ids separated by commas (got %q)", field)
			break
		}
		c.StaffIDs = append(c.StaffIDs, id)
	}
	tz := r.get("TIMEZONE", "Europe/Prague")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		r.fail("TIMEZONE", "is not a time zone name like Europe/Prague or Europe/Oslo (got %q)", tz)
		loc = time.UTC
	}
	c.Location = loc
	c.StaffLanguage = r.get("STAFF_LANGUAGE", "cs")
	if !slices.Contains(flows.Languages, c.StaffLanguage) {
		r.fail("STAFF_LANGUAGE", "must be one of %s (got %q)", strings.Join(flows.Languages, ", "), c.StaffLanguage)
	}

	if v := r.get("RETENTION_DAYS", ""); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 30 {
			r.fail("RETENTION_DAYS", "must be a number of days, at least 30 (got %q)", v)
		}
		c.RetentionDays = days
	}

	c.IdeasPerDay = 10
	if v := r.get("IDEAS_PER_DAY", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			r.fail("IDEAS_PER_DAY", "must be a number of ideas, 0 for no limit (got %q)", v)
		}
		c.IdeasPerDay = n
	}

	if v := r.get("MIN_AGE", ""); v != "" && v != "0" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(flows.MinAges, n) {
			r.fail("MIN_AGE", "must be 0 (no check) or one of %v, the bounds of the age groups (got %q)", flows.MinAges, v)
		}
		c.Age.Min = n
	}
	// A demo forum is for trying Nápad out: by default only where there is
	// no Telegram yet, so a city's real figures and exports stay its own.
	c.Web, c.DemoForum = r.onOff("WEB_CHANNEL", true), r.onOff("DEMO_FORUM", c.Token == "")
	c.TrustProxy = r.onOff("TRUST_PROXY", false)
	c.PublicURL = strings.TrimSuffix(r.get("PUBLIC_URL", ""), "/")
	r.url("PUBLIC_URL", c.PublicURL, "https", "http")
	if v := r.get("ASK_AGE_BAND", ""); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			r.fail("ASK_AGE_BAND", "must be true or false (got %q)", v)
		}
		c.Age.AskBand = on
	}

	c.MessagesPerSecond = r.rate("TELEGRAM_MESSAGES_PER_SECOND", telegram.DefaultMessagesPerSecond)
	c.ChatMessagesPerSecond = r.rate("TELEGRAM_CHAT_MESSAGES_PER_SECOND", telegram.DefaultChatMessagesPerSecond)

	c.StateTTL = 30 * 24 * time.Hour
	if v := r.get("CONVERSATION_TTL", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour {
			r.fail("CONVERSATION_TTL", "must be a duration of at least 1h, e.g. 720h (got %q)", v)
		}
		c.StateTTL = d
	}
	return c, r.err
}

// webhookPath is where the webhook listens: the path of WEBHOOK_URL.
func (c config) webhookPath() string {
	u, err := url.Parse(c.WebhookURL)
	if err != nil || u.Path == "" {
		return "/"
	}
	return u.Path
}
