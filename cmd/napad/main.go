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
	"github.com/healthycities/napad/seal"
	"github.com/healthycities/napad/storage/postgres"
	redisstore "github.com/healthycities/napad/storage/redis"
)

const usage = `Usage: napad <command>

Commands:
  serve                  run the bot (long polling, or webhook when WEBHOOK_URL is set)
  migrate                bring the database schema up to date
  forum create --name NAME [--school S] [--town T] [--scope school|town|both]
               [--languages cs,en,nb,uk] [--closes 2026-12-15] [--previous CODE]
                         create a forum and print its join link; --previous: last year's
                         forum of the town, whose chosen ideas its welcome shows
  forum list             list forums with their participation
  forum close CODE       close the forum (any phase); forum reopen CODE returns to where it was
  forum phase CODE PHASE [--confirm]
                         move the forum on: collecting → shortlisting → voting → results;
                         results → voting needs --confirm (audited)
  forum set CODE [--vote-opens DAY] [--vote-closes DAY] [--shortlist-size N] [--votes N]
                         when voting opens and closes by itself, the shortlist's size (1–20)
                         and each student's votes (1–5); "none" removes a date
  forum set CODE --previous CODE|none
                         the forum follows last year's forum of the same town (audited)
  forum shortlist CODE   the shortlist and the ideas to pick from; and:
  forum shortlist CODE add N-XXXX [N-YYYY ...] [--title T --description D --lang cs]
  forum shortlist CODE remove ITEM | text ITEM --lang en --title T [--description D]
  forum shortlist CODE answer ITEM --status under_review|selected|in_progress|done|not_feasible
                         [--answer TEXT --lang cs]   the school's or town's public answer (audited)
  forum results CODE [-o FILE.png]
                         the ranked shortlist with its votes; -o writes the results picture
  forum helpers CODE     how to reach the students who offered to help with a chosen item
                         (ranked 1–3): item, rank and what they wrote, nothing else of them
  forum map CODE [--centre LAT,LON --radius KM | --no-area] [--feeling TEXT ... | --no-feelings]
                         the forum's town on the emotional map (pins far outside it are
                         questioned) and up to three feelings of its own (audited)
  forum qr CODE -o FILE.png
                         write the forum's QR code picture
  export -o FILE [--format xlsx|csv|geojson] [--forum CODE] [--town T] [--from 2026-01-01]
         [--to 2026-12-31] [--status S] [--category C] [--include-hidden] [--time]
         [--lang cs|en|nb|uk]
                         export ideas for staff, in --lang (default STAFF_LANGUAGE, cs);
                         hidden ideas only with --include-hidden; the day each idea came,
                         its time only with --time; an XLSX opens on a summary and has
                         the shortlists with their votes on its last sheet
  export --what shortlist -o FILE [--format csv|json] [--forum CODE] [--town T]
                         the shortlists with their votes and ranks (counts only)
  map CODE|all -o FILE.html|FILE.geojson|FILE.csv [--lang cs|en|nb|uk] [--include-hidden]
                         the emotional map's pins: one page to open in a browser (coloured
                         by feeling, filters, a heat view; hidden pins never on it), or the
                         pins as GeoJSON or CSV (no pseudonyms; hidden ones only with
                         --include-hidden)
  stats [--forum CODE] [--lang cs|en|nb|uk] [-o FILE.png]
                         the staff's overview: who took part per forum and in all, the ideas
                         by category, scope and status; -o writes its picture (in --lang,
                         default STAFF_LANGUAGE, else cs)
  import FILE.xlsx|FILE.csv [--yes]
                         take back decisions made in an export: its Status and Answer to
                         the student columns; shows the changes and asks before applying
                         them (audited, each student told)
  status set --ref N-XXXX[,N-YYYY] --status S [--answer TEXT]
                         record what became of ideas: new, under_review, selected,
                         in_progress, done, not_feasible, duplicate (the last two need
                         an answer for the student)
  status hide --ref N-XXXX | --participant PSEUDONYM --reason abusive|off_topic|personal_data
                         leave an idea out of exports; status unhide --ref N-XXXX undoes it
  role list              teachers and staff with a role, by pseudonym
  role revoke PSEUDONYM  take a teacher's role away (audited; their forums stay)
  keys rotate-contacts   seal every stored chat with CONTACT_KEY (audited), so that
                         CONTACT_OLD_KEYS can be emptied
  retention              apply RETENTION_DAYS once (serve also does it daily)
  healthcheck            exit 0 if the bot on METRICS_ADDR is up (for Docker)

Settings come from the environment; see README.md.
`

// errUsage marks a mistake in the command line.
var errUsage = errors.New("see `napad help`")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runWith(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "napad:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run is the whole program with nothing to read on its input (a question
// is answered "no"); tests call it with their own arguments, environment
// and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runWith(ctx, args, getenv, strings.NewReader(""), stdout, stderr)
}

// runWith is the whole program, reading answers to its questions from
// stdin.
func runWith(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
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
	case "stats":
		return statsCommand(ctx, args[1:], getenv, stdout, stderr)
	case "map":
		return mapCommand(ctx, args[1:], getenv, stdout, stderr)
	case "import":
		return importCommand(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "role":
		return role(ctx, args[1:], getenv, stdout, stderr)
	case "keys":
		return keys(ctx, args[1:], getenv, stdout, stderr)
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
	cfg, err := loadConfig(getenv, needs{database: true, redis: true, participantKey: true})
	if err != nil {
		return err
	}
	notifyEvery, err := notifyInterval(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	redisstore.SetLogger(log)

	db, err := openDatabase(ctx, cfg, postgres.WithContactKeys(cfg.ContactKeys))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := sealPlainContacts(ctx, db, cfg.ContactKeys, log); err != nil {
		return err
	}
	rdb, err := redisstore.Open(ctx, cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		return fmt.Errorf("connect to Redis: %w", err)
	}
	defer rdb.Close()

	// The status notifier has connections of its own, so that it neither
	// waits for nor adds to the ones serving conversations (after an outage
	// each stale idle connection fails one student's request).
	notifyDB, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.WithContactKeys(cfg.ContactKeys))
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer notifyDB.Close()

	store := database{Store: db, loc: cfg.Location, lang: cfg.StaffLanguage}
	staff := make([]string, len(cfg.StaffIDs))
	for i, id := range cfg.StaffIDs {
		staff[i] = telegram.UserKey(id)
	}
	rt, err := bot.New(bot.Config{
		ParticipantKey: cfg.ParticipantKey,
		ContactKeys:    cfg.ContactKeys,
		StateTTL:       cfg.StateTTL,
		StaffUsers:     staff,
		Location:       cfg.Location,
		IdeasPerDay:    cfg.IdeasPerDay,
		Age:            cfg.Age,
		Logger:         log,
	}, bot.Stores{Conversations: conversations{rdb}, Forums: db, Ideas: db, People: db, Staff: store, Outbox: rdb,
		Notifications: notifyDB, Voting: db, Broadcasts: notifyDB, Shortlist: db, JoinCodes: rdb, Pins: db})
	if err != nil {
		return err
	}
	// Without a token the bot still starts (a fresh `docker compose up`
	// with an empty .env): the Telegram channel is off until one is set.
	var b *telegram.Bot
	if cfg.Token == "" {
		log.Warn("TELEGRAM_BOT_TOKEN is not set: the Telegram channel is off; put the token from @BotFather in .env and restart")
	} else {
		b, err = telegram.New(ctx, telegram.Config{
			Token:         cfg.Token,
			APIURL:        cfg.APIURL,
			WebhookURL:    cfg.WebhookURL,
			WebhookSecret: cfg.WebhookSecret,
			StaffIDs:      cfg.StaffIDs,

			MessagesPerSecond:     cfg.MessagesPerSecond,
			ChatMessagesPerSecond: cfg.ChatMessagesPerSecond,
			WebPhotos:             db.Photos(),
			PublicURL:             cfg.PublicURL,
		}, rt)
		if err != nil {
			return err
		}
		if err := b.SetCommands(ctx); err != nil {
			log.Warn("could not publish the command menu", "err", err)
		}
	}
	webChannel, demo, err := startWeb(ctx, cfg, rt, b, db, rdb, log)
	if err != nil {
		return err
	}
	if b != nil || webChannel != nil {
		out := channels{telegram: b, web: webChannel}
		// Students hear what became of their ideas, and ideas kept in Redis
		// while PostgreSQL was unreachable are stored as soon as it is back.
		// Both stop (and are waited for) before the databases close.
		defer inBackground(ctx, func(ctx context.Context) {
			if err := rt.RunNotifier(ctx, notifyEvery, out); err != nil {
				log.Error("status notifier stopped", "err", err)
			}
		})()
		defer inBackground(ctx, func(ctx context.Context) { rt.RunOutbox(ctx, notifyEvery, out) })()
		// Broadcasts to whole forums (/announce), at Telegram's pace.
		defer inBackground(ctx, func(ctx context.Context) {
			if err := rt.RunBroadcasts(ctx, notifyEvery, out); err != nil {
				log.Error("broadcasts stopped", "err", err)
			}
		})()
	}
	// Forums move on at their dates (ideas close, voting opens and closes).
	defer inBackground(ctx, func(ctx context.Context) { rt.RunPhaseSchedule(ctx, 0) })()
	if cfg.RetentionDays > 0 {
		defer inBackground(ctx, func(ctx context.Context) { runRetention(ctx, db, cfg.RetentionDays, log) })()
	}

	healthz := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") }
	// The public server has the webhook only (and /healthz); readiness and
	// metrics are on METRICS_ADDR, loopback by default.
	public := http.NewServeMux()
	public.HandleFunc("GET /healthz", healthz)
	if b != nil && cfg.WebhookURL != "" {
		public.Handle(cfg.webhookPath(), b.WebhookHandler())
	}
	if webChannel != nil {
		public.Handle("/", webChannel) // everything else: the pages
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
		if s.name == "LISTEN_ADDR" && demo != "" {
			// For whoever just ran `docker compose up` or `make run`: where to look.
			fmt.Fprintf(stderr, "\nNápad is running. Open %s in a browser; the demo forum: %s\n\n", publicBase(cfg, ln.Addr()), publicBase(cfg, ln.Addr())+"/j/"+demo)
		}
	}

	var runErr error
	if b != nil && cfg.WebhookURL == "" {
		runErr = b.RunPolling(ctx)
	} else {
		// Webhook mode, or no Telegram: the HTTP server is what runs.
		if b != nil {
			runErr = b.StartWebhook(ctx)
		}
		if runErr == nil {
			select {
			case <-ctx.Done():
			case runErr = <-serveErr:
			}
		}
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

// inBackground runs fn in a goroutine until the returned stop is called;
// stop cancels fn's context and waits for fn to return.
func inBackground(ctx context.Context, fn func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); fn(ctx) }()
	return func() { cancel(); <-done }
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
// openConfiguredDatabase is what a staff command starts with: the
// configuration from the environment, and the migrated database it names.
func openConfiguredDatabase(ctx context.Context, getenv func(string) string) (*postgres.Store, config, error) {
	cfg, err := loadConfig(getenv, needs{database: true})
	if err != nil {
		return nil, config{}, err
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return nil, config{}, err
	}
	return db, cfg, nil
}

func openDatabase(ctx context.Context, cfg config, opts ...postgres.Option) (*postgres.Store, error) {
	if err := postgres.Migrate(ctx, cfg.MigrationURL); err != nil {
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return db, nil
}

// sealPlainContacts seals the chats stored before chats were sealed (by an
// older version, or an older replica still running): after an upgrade the
// database keeps no chat in plain for long. It also says, loudly, if chats
// are sealed with a key that is not configured: those students hear nothing
// about their ideas until it is.
func sealPlainContacts(ctx context.Context, db *postgres.Store, keys *seal.Keyring, log *slog.Logger) error {
	done, err := db.SealPlainContacts(ctx, serveActor)
	if err != nil {
		return fmt.Errorf("seal stored chats: %w", err)
	}
	if done.Plain > 0 {
		log.Info("stored chats sealed", "contacts", done.Plain)
	}
	sealing, err := db.ContactSealing(ctx)
	if err != nil {
		return fmt.Errorf("seal stored chats: %w", err)
	}
	for id, n := range sealing.ByKey {
		if !keys.Has(id) {
			log.Error("chats are sealed with a contact key that is not configured: add it to CONTACT_OLD_KEYS",
				"key_id", id, "contacts", n)
		}
	}
	return nil
}

// serveActor is the audit log's actor for what `napad serve` does by itself.
const serveActor = "serve"

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
