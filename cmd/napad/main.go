// Command napad runs the Nápad bot and its maintenance tasks.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/telegram"
	"github.com/healthycities/napad/storage/postgres"
	redisstore "github.com/healthycities/napad/storage/redis"
)

const usage = `Usage: napad <command>

Commands:
  serve                  run the bot (long polling, or webhook when WEBHOOK_URL is set)
  migrate                bring the database schema up to date
  forum create --name NAME [--school S] [--town T] [--scope school|town|both]
               [--languages cs,en,nb,uk] [--closes 2026-12-15]
                         create a forum and print its join link
  forum list             list forums with their participation
  forum close CODE       stop taking ideas; forum reopen CODE takes them again
  forum qr CODE -o FILE.png
                         write the forum's QR code picture
  export -o FILE [--format xlsx|csv|geojson] [--forum CODE] [--town T] [--from 2026-01-01]
         [--to 2026-12-31] [--status S] [--category C] [--include-hidden] [--time]
                         export ideas for staff (hidden ideas only with --include-hidden;
                         the day each idea came, its time only with --time)
  status set --ref N-XXXX[,N-YYYY] --status S [--answer TEXT]
                         record what became of ideas: new, under_review, selected,
                         in_progress, done, not_feasible, duplicate
  status hide --ref N-XXXX | --participant PSEUDONYM --reason abusive|off_topic|personal_data
                         leave an idea out of exports; status unhide --ref N-XXXX undoes it
  role list              teachers and staff with a role, by pseudonym
  role revoke PSEUDONYM  take a teacher's role away (audited; their forums stay)
  retention              apply RETENTION_DAYS once (serve also does it daily)
  healthcheck            exit 0 if the bot on METRICS_ADDR is up (for Docker)

Settings come from the environment; see README.md.
`

// errUsage marks a mistake in the command line.
var errUsage = errors.New("see `napad help`")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "napad:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run is the whole program; tests call it with their own arguments,
// environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given: %w", errUsage)
	}
	switch args[0] {
	case "serve":
		return serve(ctx, getenv, stderr)
	case "migrate":
		return migrate(ctx, getenv, stdout)
	case "forum":
		return forum(ctx, args[1:], getenv, stdout, stderr)
	case "export", "status":
		return staffCommand(ctx, args, getenv, stdout, stderr)
	case "role":
		return role(ctx, args[1:], getenv, stdout, stderr)
	case "retention":
		return retention(ctx, getenv, stdout)
	case "healthcheck":
		return healthcheck(ctx, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q: %w", args[0], errUsage)
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadConfig(getenv, needs{telegram: true, database: true, redis: true, participantKey: true})
	if err != nil {
		return err
	}
	notifyEvery, err := notifyInterval(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	redisstore.SetLogger(log)

	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	rdb, err := redisstore.Open(ctx, cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		return fmt.Errorf("connect to Redis: %w", err)
	}
	defer rdb.Close()

	// The status notifier has connections of its own, so that it neither
	// waits for nor adds to the ones serving conversations (after an outage
	// each stale idle connection fails one student's request).
	notifyDB, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer notifyDB.Close()

	store := database{Store: db, loc: cfg.Location}
	staff := make([]string, len(cfg.StaffIDs))
	for i, id := range cfg.StaffIDs {
		staff[i] = telegram.UserKey(id)
	}
	rt, err := bot.New(bot.Config{
		ParticipantKey: cfg.ParticipantKey,
		StateTTL:       cfg.StateTTL,
		StaffUsers:     staff,
		Location:       cfg.Location,
		IdeasPerDay:    cfg.IdeasPerDay,
		Logger:         log,
	}, bot.Stores{Conversations: conversations{rdb}, Forums: db, Ideas: db, People: db, Staff: store, Outbox: rdb,
		Notifications: notifyDB})
	if err != nil {
		return err
	}
	b, err := telegram.New(ctx, telegram.Config{
		Token:         cfg.Token,
		APIURL:        cfg.APIURL,
		WebhookURL:    cfg.WebhookURL,
		WebhookSecret: cfg.WebhookSecret,
		StaffIDs:      cfg.StaffIDs,

		MessagesPerSecond:     cfg.MessagesPerSecond,
		ChatMessagesPerSecond: cfg.ChatMessagesPerSecond,
	}, rt)
	if err != nil {
		return err
	}
	if err := b.SetCommands(ctx); err != nil {
		log.Warn("could not publish the command menu", "err", err)
	}

	// Students hear what became of their ideas. Stopped (and waited for)
	// before the database closes.
	notifyCtx, stopNotifier := context.WithCancel(ctx)
	notifierDone := make(chan struct{})
	go func() {
		defer close(notifierDone)
		if err := rt.RunNotifier(notifyCtx, notifyEvery, b); err != nil {
			log.Error("status notifier stopped", "err", err)
		}
	}()
	defer func() { stopNotifier(); <-notifierDone }()
	// Ideas kept in Redis while PostgreSQL was unreachable are stored as soon as it is back.
	outboxCtx, stopOutbox := context.WithCancel(ctx)
	outboxDone := make(chan struct{})
	go func() { defer close(outboxDone); rt.RunOutbox(outboxCtx, notifyEvery, b) }()
	defer func() { stopOutbox(); <-outboxDone }()
	if cfg.RetentionDays > 0 {
		retentionCtx, stopRetention := context.WithCancel(ctx)
		retentionDone := make(chan struct{})
		go func() { defer close(retentionDone); runRetention(retentionCtx, db, cfg.RetentionDays, log) }()
		defer func() { stopRetention(); <-retentionDone }()
	}

	healthz := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") }
	// The public server has the webhook only (and /healthz); readiness and
	// metrics are on METRICS_ADDR, loopback by default.
	public := http.NewServeMux()
	public.HandleFunc("GET /healthz", healthz)
	if cfg.WebhookURL != "" {
		public.Handle(cfg.webhookPath(), b.WebhookHandler())
	}
	ops := http.NewServeMux()
	ops.HandleFunc("GET /healthz", healthz)
	// Ready: both stores answer. A load balancer sends no updates to a
	// replica that is not.
	ops.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		for name, ping := range map[string]func(context.Context) error{"postgresql": db.Ping, "redis": rdb.Ping} {
			if err := ping(ctx); err != nil {
				http.Error(w, name+" unreachable", http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	// Prometheus metrics: counts and timings only, nothing about anyone.
	ops.Handle("GET /metrics", rt.MetricsHandler())
	serveErr := make(chan error, 2)
	var servers []*http.Server
	for _, s := range []struct {
		name, addr string
		handler    http.Handler
	}{{"LISTEN_ADDR", cfg.ListenAddr, public}, {"METRICS_ADDR", cfg.MetricsAddr, ops}} {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			for _, srv := range servers {
				_ = srv.Close()
			}
			return fmt.Errorf("listen on %s %s: %w", s.name, s.addr, err)
		}
		srv := newHTTPServer(s.handler)
		servers = append(servers, srv)
		go func() { serveErr <- srv.Serve(ln) }()
		log.Info("listening", "setting", s.name, "addr", ln.Addr().String())
	}

	var runErr error
	if cfg.WebhookURL != "" {
		if runErr = b.StartWebhook(ctx); runErr == nil {
			select {
			case <-ctx.Done():
			case runErr = <-serveErr:
			}
		}
	} else {
		runErr = b.RunPolling(ctx)
	}

	// Let webhook requests in flight finish: each is an update being handled.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			log.Warn("http server shutdown", "err", err)
		}
	}
	log.Info("stopped")
	if errors.Is(runErr, http.ErrServerClosed) {
		return nil
	}
	return runErr
}

// The HTTP servers' limits. A webhook request is answered once its update
// is handled (at most 30 s, see bot/telegram), so writing may take that
// long; reading a request may not: a client that announces a body and never
// sends it is cut off.
var (
	httpReadTimeout  = 15 * time.Second
	httpWriteTimeout = 45 * time.Second
	httpIdleTimeout  = 60 * time.Second
)

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, httpReadTimeout),
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
}

// notifyInterval is NOTIFY_INTERVAL: how long the notifier waits when no
// status notification is due (default 2s).
func notifyInterval(getenv func(string) string) (time.Duration, error) {
	v := strings.TrimSpace(getenv("NOTIFY_INTERVAL"))
	if v == "" {
		return 2 * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Millisecond || d > time.Hour {
		return 0, fmt.Errorf("NOTIFY_INTERVAL must be a duration between 1ms and 1h, e.g. 2s (got %q)", v)
	}
	return d, nil
}

// openDatabase brings the schema up to date and connects.
func openDatabase(ctx context.Context, cfg config) (*postgres.Store, error) {
	if err := postgres.Migrate(ctx, cfg.MigrationURL); err != nil {
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return db, nil
}

func migrate(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv, needs{database: true})
	if err != nil {
		return err
	}
	if err := postgres.Migrate(ctx, cfg.MigrationURL); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	fmt.Fprintln(stdout, "The database schema is up to date.")
	return nil
}

// botUsername is needed for join links: from TELEGRAM_BOT_USERNAME, or by
// asking Telegram (getMe) with the token.
func botUsername(ctx context.Context, cfg config, getenv func(string) string) (string, error) {
	if cfg.BotUsername != "" {
		return cfg.BotUsername, nil
	}
	tcfg, err := loadConfig(getenv, needs{telegram: true})
	if err != nil {
		return "", fmt.Errorf("%w (or set TELEGRAM_BOT_USERNAME to print links without asking Telegram)", err)
	}
	username, err := telegram.Username(ctx, tcfg.Token, tcfg.APIURL)
	if err != nil {
		return "", fmt.Errorf("%w (or set TELEGRAM_BOT_USERNAME)", err)
	}
	return username, nil
}

func healthcheck(ctx context.Context, getenv func(string) string) error {
	cfg, err := loadConfig(getenv, needs{})
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(cfg.MetricsAddr)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s", resp.Status)
	}
	return nil
}
