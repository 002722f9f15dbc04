// Package web is Nápad's web channel: the same conversation as in Telegram,
// in a browser, for students who have no Telegram (or may not use it). It
// turns form posts into events for the conversation runtime (package bot)
// and keeps what the runtime answers as the chat's transcript, which the
// pages show. The pages are plain server-rendered HTML that works on a
// cheap phone: forms and links, a little CSS, and one small script for
// the location button only.
//
// A student has no account: a signed cookie holds a random web id (see
// session.go), and a short resume code takes the chat to another device.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/locales"
)

// Config is what the web channel needs besides its stores.
type Config struct {
	// Secret keys the cookies, form tokens and photo ids (at least 32
	// bytes). Changing it signs every student out.
	Secret []byte
	// BotUsername, if set, is the Telegram bot a join link offers to open
	// instead of the browser.
	BotUsername string
	// DemoCode, if set, is the join code of a forum to try Nápad in,
	// linked from the home page.
	DemoCode string
	// PublicURL, if set, is where the site is (https://napad.example.cz),
	// for the join links written in messages; otherwise they are paths.
	PublicURL string
	// Secure marks the cookies Secure: set it when served over HTTPS.
	Secure bool
	// ForwardedFor: the server is behind a reverse proxy that appends the
	// client's address to X-Forwarded-For (for the limits per address).
	ForwardedFor bool
	// TTL is how long an untouched web chat is kept: the runtime's
	// StateTTL (default 30 days). The cookie and resume code last as long.
	TTL time.Duration
	// FileTTL is how long the files replies carry (/mydata's) can be
	// downloaded (default an hour).
	FileTTL time.Duration
	Limits  Limits
	Logger  *slog.Logger
	Now     func() time.Time
}

// Limits bound what one browser may send. Zero values are the defaults.
type Limits struct {
	FormBytes   int64 // a form post (default 64 KB)
	PhotoBytes  int64 // an uploaded photo (default 8 MB)
	PhotoPixels int64 // an uploaded photo's pixels, before decoding (default 50 million)
	PhotoSide   int   // the stored photo's longest side (default 1600)
	// Requests per participant, per address (a whole class may share a
	// school's address), and resume code guesses per address.
	PerParticipant, PerAddress, ResumeGuesses Rate
}

func (l *Limits) defaults() {
	set := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.FormBytes, 64<<10)
	set(&l.PhotoBytes, 8<<20)
	set(&l.PhotoPixels, 50_000_000)
	if l.PhotoSide <= 0 {
		l.PhotoSide = 1600
	}
	rate := func(r *Rate, def Rate) {
		if *r == (Rate{}) {
			*r = def
		}
	}
	rate(&l.PerParticipant, Rate{Burst: 30, PerSecond: 1})
	// A whole school may be behind one address: a few hundred students
	// answering every few seconds.
	rate(&l.PerAddress, Rate{Burst: 1000, PerSecond: 60})
	rate(&l.ResumeGuesses, Rate{Burst: 10, PerSecond: 1.0 / 60})
}

// Stores are the web channel's storage.
type Stores struct {
	Transcripts Transcripts
	Photos      Photos
}

// Transcripts keeps what each web chat shows (storage/redis.Store is one):
// the transcript as an opaque blob the channel reads and writes whole,
// the files replies carried, and the resume codes.
type Transcripts interface {
	// WebTranscript is chat's transcript (nil: none) and its version.
	WebTranscript(ctx context.Context, chat int64) (data []byte, version int64, err error)
	// SaveWebTranscript saves it, kept for ttl, if its version is still
	// version (0: new); saved is false if it changed meanwhile.
	SaveWebTranscript(ctx context.Context, chat int64, data []byte, version int64, ttl time.Duration) (saved bool, err error)
	// DeleteWebChat deletes chat's transcript and files.
	DeleteWebChat(ctx context.Context, chat int64) error
	PutWebFile(ctx context.Context, chat int64, id string, data []byte, ttl time.Duration) error
	WebFile(ctx context.Context, chat int64, id string) (data []byte, found bool, err error)
	// SaveResumeCode lets code stand for webID for ttl; saved is false if
	// it stands for another web id.
	SaveResumeCode(ctx context.Context, code, webID string, ttl time.Duration) (saved bool, err error)
	ResumeCode(ctx context.Context, code string) (webID string, found bool, err error)
	DeleteResumeCode(ctx context.Context, code, webID string) error
}

// Photos keeps the photos students upload, re-encoded, by id
// (storage/postgres.Store.Photos() is one). An idea refers to one as
// "web:<id>".
type Photos interface {
	Put(ctx context.Context, id string, jpeg []byte) error
	Get(ctx context.Context, id string) (jpeg []byte, found bool, err error)
	Delete(ctx context.Context, ids ...string) error
}

// photoPrefix starts the file id the conversation gets for a photo sent on
// the web ("web:<id>"); any other file id is Telegram's.
const photoPrefix = "web:"

// Server is the web channel: an http.Handler for the pages, and the
// bot.Channel the runtime answers web chats through.
type Server struct {
	rt      *bot.Runtime
	texts   *bot.Texts
	catalog *locales.Catalog
	cfg     Config
	stores  Stores
	log     *slog.Logger
	mux     *http.ServeMux
	pages   map[string]*template.Template
	static  map[string]staticFile

	byParticipant, byAddress, resumeGuesses *limiter
	lastEventID                             atomic.Int64
	// photoSlots: photos decoded at once (each takes tens of MB).
	photoSlots chan struct{}
	// uploads: photo uploads being read or processed at once.
	uploads chan struct{}
	// chats orders what one process writes into one transcript: the
	// student's message goes in before what the next post answers.
	chats [64]sync.Mutex
}

var _ bot.Channel = (*Server)(nil)

// New prepares the web channel of a runtime. catalog has the pages' words
// (the [web] sections of the locale files).
func New(rt *bot.Runtime, catalog *locales.Catalog, cfg Config, stores Stores) (*Server, error) {
	if len(cfg.Secret) < 32 {
		return nil, errors.New("web: the secret must have at least 32 bytes")
	}
	if rt == nil || catalog == nil || stores.Transcripts == nil || stores.Photos == nil {
		return nil, errors.New("web: a runtime, a catalog, Transcripts and Photos are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = rt.Logger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 30 * 24 * time.Hour
	}
	if cfg.FileTTL <= 0 {
		cfg.FileTTL = time.Hour
	}
	cfg.Limits.defaults()
	s := &Server{
		rt: rt, catalog: catalog, cfg: cfg, stores: stores, log: cfg.Logger.With("channel", "web"),
		byParticipant: newLimiter(cfg.Limits.PerParticipant, cfg.Now),
		byAddress:     newLimiter(cfg.Limits.PerAddress, cfg.Now),
		resumeGuesses: newLimiter(cfg.Limits.ResumeGuesses, cfg.Now),
		photoSlots:    make(chan struct{}, 2),
		uploads:       make(chan struct{}, maxUploads),
	}
	s.texts = rt.TextsIn(links{s}, "web")
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.static, err = loadStatic(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.home)
	m.HandleFunc("GET /j/{code}", s.joinPage)
	m.HandleFunc("POST /j/{code}", s.joinPost)
	m.HandleFunc("GET /c", s.chatPage)
	m.HandleFunc("POST /c", s.chatPost)
	m.HandleFunc("POST /c/photo", s.photoPost)
	m.HandleFunc("GET /resume", s.resumePage)
	m.HandleFunc("POST /resume", s.resumePost)
	m.HandleFunc("GET /photo/{id}", s.photo)
	m.HandleFunc("GET /f/{id}", s.file)
	m.HandleFunc("GET /static/{name}", s.serveStatic)
	m.HandleFunc("/", s.notFound)
	s.mux = m
}

// securityHeaders go with every response: no script or style but the
// site's own files, no framing, no referrer, no sniffing.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
}

// ServeHTTP serves the pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range securityHeaders {
		h.Set(k, v)
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic while serving a page", "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			s.errorPage(w, r, http.StatusInternalServerError, "unavailable")
		}
	}()
	if !s.byAddress.allow("a:" + s.clientAddress(r)) {
		s.tooFast(w, r)
		return
	}
	if s.pickLanguage(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// nextEventID orders a participant's events: microseconds, and never the
// same twice in this process.
func (s *Server) nextEventID() int64 {
	for {
		last := s.lastEventID.Load()
		id := max(s.cfg.Now().UnixMicro(), last+1)
		if s.lastEventID.CompareAndSwap(last, id) {
			return id
		}
	}
}

// chatLock is the lock of a chat's transcript in this process.
func (s *Server) chatLock(chat int64) *sync.Mutex {
	return &s.chats[uint64(chat)%uint64(len(s.chats))]
}

// links writes the links messages refer to: a join link opens the forum
// in the browser.
type links struct{ s *Server }

func (l links) JoinLink(code string) string   { return l.s.cfg.PublicURL + "/j/" + code }
func (l links) InviteLink(code string) string { return l.JoinLink(bot.InviteCode(code)) }
