package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
)

// napadVariables are the settings `napad serve` reads; the spawned bot gets
// the bench's values, not whatever the calling shell has.
var napadVariables = []string{
	"TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TELEGRAM_BOT_USERNAME", "DATABASE_URL", "REDIS_URL",
	"REDIS_KEY_PREFIX", "WEBHOOK_URL", "WEBHOOK_SECRET", "LISTEN_ADDR", "METRICS_ADDR", "PARTICIPANT_KEY", "LOG_LEVEL",
	"CONVERSATION_TTL", "STAFF_TELEGRAM_IDS", "RETENTION_DAYS", "NOTIFY_INTERVAL",
	"TELEGRAM_MESSAGES_PER_SECOND", "TELEGRAM_CHAT_MESSAGES_PER_SECOND", "CONTACT_KEY", "CONTACT_OLD_KEYS",
	"WEB_CHANNEL", "DEMO_FORUM", "PUBLIC_URL", "TRUST_PROXY", "IDEAS_PER_DAY", "MIN_AGE", "ASK_AGE_BAND",
}

// session is what sets a run apart from every other: its id, its Redis key
// prefix, its students' Telegram ids and (with -spawn) the bot's token.
type session struct {
	runID, prefix, token string
	userBase             int64 // Telegram id of the first student
}

func newSession(o *options) session {
	s := session{runID: fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffffff), userBase: o.userBase}
	s.prefix = "napad-bench:" + s.runID + ":"
	if s.userBase == 0 {
		// Far above real Telegram ids today, a fresh range for every run.
		s.userBase = 1_000_000_000_000 + mrand.Int64N(1_000_000)*100_000_000
	}
	if o.spawn != "" {
		s.token = "7" + fmt.Sprint(100000000+mrand.IntN(899999999)) + ":" + randomString(35)
	}
	return s
}

// botSettings is the environment a bot under test needs.
type botSettings struct {
	token, apiURL, databaseURL, redisURL, prefix string
	webhookURL, secret, listen, participantKey   string
	metrics                                      string // METRICS_ADDR: /readyz
	logLevel, notifyInterval                     string
	// telegramLimits keeps the bot's pacing of its messages to Telegram's
	// limits (30/s in all, 1/s per chat); off, the bot sends as fast as the
	// fake takes them, which is what a load test measures.
	telegramLimits bool
	// web: the web channel alone (-mode web): no token, no webhook; the
	// bot trusts X-Forwarded-For, which tells it the students' addresses.
	web bool
}

// newBotSettings are the settings of the bot -spawn starts, for the fake Bot
// API at apiURL: a free port unless -bot-listen, fresh secrets.
func newBotSettings(o *options, s session, apiURL string) (botSettings, error) {
	listen := o.botListen
	if listen == "" {
		var err error
		if listen, err = freeAddr(); err != nil {
			return botSettings{}, err
		}
	}
	metrics, err := freeAddr()
	if err != nil {
		return botSettings{}, err
	}
	return botSettings{
		token: s.token, apiURL: apiURL, databaseURL: o.databaseURL, redisURL: o.redisURL, prefix: s.prefix,
		webhookURL: "http://" + listen + "/telegram/webhook", secret: randomString(40), listen: listen, metrics: metrics,
		participantKey: randomString(48), logLevel: o.botLogLevel, notifyInterval: o.notifyInterval,
		telegramLimits: o.telegramLimits,
	}, nil
}

func (b botSettings) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(napadVariables, k) {
			env = append(env, kv)
		}
	}
	if b.web {
		env = append(env, "WEB_CHANNEL=on", "DEMO_FORUM=on", "TRUST_PROXY=on")
	} else {
		env = append(env,
			"TELEGRAM_BOT_TOKEN="+b.token,
			"TELEGRAM_API_URL="+b.apiURL,
			"TELEGRAM_BOT_USERNAME="+fakeBot.Username,
			"WEBHOOK_URL="+b.webhookURL,
			"WEBHOOK_SECRET="+b.secret,
		)
	}
	env = append(env,
		"DATABASE_URL="+b.databaseURL,
		"REDIS_URL="+b.redisURL,
		"REDIS_KEY_PREFIX="+b.prefix,
		"LISTEN_ADDR="+b.listen,
		"METRICS_ADDR="+b.metrics,
		"PARTICIPANT_KEY="+b.participantKey,
		"LOG_LEVEL="+b.logLevel,
	)
	if b.notifyInterval != "" {
		env = append(env, "NOTIFY_INTERVAL="+b.notifyInterval)
	}
	if !b.telegramLimits {
		env = append(env, "TELEGRAM_MESSAGES_PER_SECOND=0", "TELEGRAM_CHAT_MESSAGES_PER_SECOND=0")
	}
	return env
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

// randomString makes a secret of n characters of A-Za-z0-9_-.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = secretAlphabet[int(b[i])%len(secretAlphabet)]
	}
	return string(b)
}

// freeAddr finds a free local port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// spawnForum is -forum, or a new forum made with `napad forum create`.
func spawnForum(ctx context.Context, o *options, b botSettings, name string, log *slog.Logger) (string, error) {
	if o.forum != "" {
		return o.forum, nil
	}
	log.Info("creating the bench forum", "with", o.spawn+" forum create")
	return createForumCLI(ctx, o.spawn, b.env(), name)
}

// createForumCLI creates the bench's forum with `napad forum create` and
// returns its join code.
func createForumCLI(ctx context.Context, binary string, env []string, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "forum", "create", "--name", name, "--school", "Bench School",
		"--town", "Bench Town", "--scope", "both", "--languages", strings.Join(flows.Languages, ","))
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("napad forum create: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	m := regexp.MustCompile(`(?m)^Join code:\s*(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		return "", fmt.Errorf("napad forum create printed no join code: %q", out.String())
	}
	return m[1], nil
}

// createForumDB creates the bench's forum directly in the bot's database
// (when the bench did not start the bot and no -forum was given).
func createForumDB(ctx context.Context, databaseURL, name string) (string, error) {
	db, err := postgres.Open(ctx, databaseURL)
	if err != nil {
		return "", fmt.Errorf("create the bench forum: %w", err)
	}
	defer db.Close()
	f, err := db.CreateForum(ctx, flows.ForumSpec{
		Name: name, School: "Bench School", Town: "Bench Town", Scope: flows.ScopeBoth, Languages: flows.Languages,
	}, "", time.Time{})
	if err != nil {
		return "", fmt.Errorf("create the bench forum: %w", err)
	}
	return f.Code, nil
}

// botProcess is a `napad serve` the bench started.
type botProcess struct {
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
	logPath string
	logFile *os.File
	stopped bool
}

// launch starts `napad serve` with b (-spawn), logging to -bot-log or a file
// of the run's, and waits until it is ready.
func launch(ctx context.Context, o *options, s session, b botSettings, api *fakeAPI, log *slog.Logger) (*botProcess, webhookConfig, error) {
	logPath := o.botLog
	if logPath == "" {
		logPath = filepath.Join(os.TempDir(), "napad-bench-"+s.runID+".log")
	}
	bot, err := spawnBot(o.spawn, b.env(), logPath)
	if err != nil {
		return nil, webhookConfig{}, err
	}
	log.Info("started napad serve", "pid", bot.pid(), "listen", b.listen, "log", logPath, "notify_interval", b.notifyInterval)
	hook, err := waitReady(ctx, bot, b.metrics, api, o.waitBot)
	if err != nil {
		_ = bot.stop()
		return nil, webhookConfig{}, err
	}
	return bot, hook, nil
}

func spawnBot(binary string, env []string, logPath string) (*botProcess, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bot log file: %w", err)
	}
	cmd := exec.Command(binary, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	// The bot goes when the bench goes, even if the bench is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s serve: %w", binary, err)
	}
	b := &botProcess{cmd: cmd, done: make(chan struct{}), logPath: logPath, logFile: f}
	go func() {
		b.err = cmd.Wait()
		close(b.done)
	}()
	return b, nil
}

func (b *botProcess) pid() int { return b.cmd.Process.Pid }

func (b *botProcess) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// stop ends the bot as SIGTERM does in production, and kills it if it does
// not end within 20 s. Stopping it again, or no bot, does nothing.
func (b *botProcess) stop() error {
	if b == nil || b.stopped {
		return nil
	}
	b.stopped = true
	const timeout = 20 * time.Second
	defer b.logFile.Close()
	if b.exited() {
		return fmt.Errorf("the bot had stopped by itself: %v", b.err)
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
		var exit *exec.ExitError
		if b.err != nil && !errors.As(b.err, &exit) {
			return fmt.Errorf("wait for the bot: %w", b.err)
		}
		if b.err != nil {
			return fmt.Errorf("the bot ended with %v", b.err)
		}
		return nil
	case <-time.After(timeout):
		_ = b.cmd.Process.Kill()
		<-b.done
		return fmt.Errorf("the bot did not stop within %s after SIGTERM; killed", timeout)
	}
}

// logTail is the end of the bot's log, for error messages.
func (b *botProcess) logTail(lines int) string {
	data, err := os.ReadFile(b.logPath)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// waitReady waits until the bot answers /readyz and has registered its
// webhook with the fake.
func waitReady(ctx context.Context, b *botProcess, metrics string, api *fakeAPI, timeout time.Duration) (webhookConfig, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if b.exited() {
			return webhookConfig{}, fmt.Errorf("napad serve stopped at start-up (%v); its log ends:\n%s", b.err, b.logTail(15))
		}
		select {
		case <-api.hookSet:
			resp, err := client.Get("http://" + metrics + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return api.webhook(ctx)
				}
			}
		default:
		}
		select {
		case <-ctx.Done():
			return webhookConfig{}, fmt.Errorf("napad serve was not ready within %s; its log ends:\n%s", timeout, b.logTail(15))
		case <-time.After(50 * time.Millisecond):
		}
	}
}
