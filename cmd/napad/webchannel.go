package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/telegram"
	"github.com/healthycities/napad/bot/web"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres"
	redisstore "github.com/healthycities/napad/storage/redis"
)

// demoForumKey makes the demo forum once, however often and by however
// many replicas the bot is started.
const demoForumKey = "napad-demo-forum"

// startWeb makes the web channel (nil when WEB_CHANNEL=off) and, with
// DEMO_FORUM, the demo forum, whose join code it returns.
func startWeb(ctx context.Context, cfg config, rt *bot.Runtime, tg *telegram.Bot, db *postgres.Store, rdb *redisstore.Store,
	log *slog.Logger) (*web.Server, string, error) {
	if !cfg.Web {
		return nil, "", nil
	}
	demo := ""
	if cfg.DemoForum {
		f, err := demoForum(ctx, db)
		if err != nil {
			// A page without a demo link is still a working web channel.
			log.Warn("the demo forum could not be made", "err", err)
		} else {
			demo = f.Code
		}
	}
	username := cfg.BotUsername
	if tg != nil {
		username = tg.Username()
	}
	srv, err := web.New(rt, rt.Catalog(), web.Config{
		Secret:       webSecret(cfg.ParticipantKey),
		BotUsername:  username,
		DemoCode:     demo,
		PublicURL:    cfg.PublicURL,
		Secure:       strings.HasPrefix(cfg.PublicURL, "https://"),
		ForwardedFor: cfg.TrustProxy,
		TTL:          cfg.StateTTL,
		Logger:       log,
	}, web.Stores{Transcripts: rdb, Photos: db.Photos()})
	if err != nil {
		return nil, "", fmt.Errorf("web channel: %w", err)
	}
	return srv, demo, nil
}

// webSecret signs the web channel's cookies and forms: derived from
// PARTICIPANT_KEY, so there is no other secret to set, and of no use for
// anything else.
func webSecret(participantKey []byte) []byte {
	mac := hmac.New(sha256.New, participantKey)
	mac.Write([]byte("napad web channel cookies and forms"))
	return mac.Sum(nil)
}

// demoForum is the forum anyone may try Nápad in: made once (its creation
// key makes a second start find the first one's), open for ideas, in
// every language.
func demoForum(ctx context.Context, db *postgres.Store) (flows.Forum, error) {
	return db.CreateForum(ctx, flows.ForumSpec{
		Key: demoForumKey, Name: "Nápad – demo", School: "Demo", Town: "Demo",
		Scope: flows.ScopeBoth, Languages: flows.Languages,
	}, "", time.Time{})
}

// publicBase is where people reach the bot's pages: PUBLIC_URL, or this
// machine at the port listened on.
func publicBase(cfg config, addr net.Addr) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	port := "8080"
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = fmt.Sprint(tcp.Port)
	}
	return "http://localhost:" + port
}

// channels sends each delivery the runtime makes outside a conversation (a
// notification, a broadcast, a code from the outbox) where its chat is: the
// browser or Telegram.
type channels struct {
	telegram *telegram.Bot
	web      *web.Server
}

func (c channels) Send(ctx context.Context, d bot.Delivery) error {
	switch {
	case web.IsWebChat(d.Chat):
		if c.web == nil {
			return errors.New("a delivery to a web chat, and the web channel is off")
		}
		return c.web.Send(ctx, d)
	case c.telegram == nil:
		// Not unreachable: the student is, once a token is set again.
		return errors.New("a delivery to a Telegram chat, and the Telegram channel is off")
	}
	return c.telegram.Send(ctx, d)
}

func (c channels) RoleChanged(ctx context.Context, chat int64, role, lang string) {
	switch {
	case web.IsWebChat(chat) && c.web != nil:
		c.web.RoleChanged(ctx, chat, role, lang)
	case !web.IsWebChat(chat) && c.telegram != nil:
		c.telegram.RoleChanged(ctx, chat, role, lang)
	}
}
