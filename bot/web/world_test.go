package web_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/web"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// world is Nápad with the web channel on real stores: PostgreSQL for the
// forums, ideas and photos, Redis for the conversations and transcripts.
type world struct {
	srv   *httptest.Server
	web   *web.Server
	db    *postgres.Store
	redis *redis.Store
	forum flows.Forum
}

// testSecret keys the web channel in the tests.
var testSecret = []byte("web-test-secret-0123456789abcdef-0123456789")

// conversations is the Redis store as the runtime's conversation store.
type conversations struct{ *redis.Store }

func (c conversations) Begin(ctx context.Context, key string, id int64) (bot.ConversationTurn, error) {
	return c.Store.Begin(ctx, key, id)
}

// staffDB is the PostgreSQL store as the runtime's staff store; exports
// are cmd/napad's business.
type staffDB struct{ *postgres.Store }

func (staffDB) Export(context.Context, string, int64, string, io.Writer) (int, error) {
	return 0, errors.New("no exports here")
}

// testLogger shows the logs when NAPAD_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("NAPAD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newWorld(t *testing.T, cfg web.Config) *world {
	t.Helper()
	ctx := t.Context()
	db, _ := pgtest.NewStore(t)
	forum, err := pgtest.CreateForum(ctx, db, "8.B – ZŠ Komenského", "ZŠ Komenského", "Kolín")
	if err != nil {
		t.Fatal(err)
	}
	rs := redistest.New(t)
	log := testLogger()
	rt, err := bot.New(bot.Config{ParticipantKey: []byte(pgtest.ParticipantKey), ContactKeys: pgtest.ContactKeys, Logger: log},
		bot.Stores{Conversations: conversations{rs}, Forums: db, Ideas: db, People: db, Staff: staffDB{db},
			Outbox: rs, Voting: db, Shortlist: db, JoinCodes: rs})
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	cfg.Logger = log
	w, err := web.New(rt, catalog, cfg, web.Stores{Transcripts: rs, Photos: db.Photos()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	return &world{srv: srv, web: w, db: db, redis: rs, forum: forum}
}

// ideas are the forum's ideas as stored.
func (w *world) ideas(t *testing.T) []postgres.StoredIdea {
	t.Helper()
	ideas, err := pgtest.IdeasByForum(t.Context(), w.db, w.forum.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ideas
}

// photoWithEXIF is a small JPEG with an EXIF block that holds an
// orientation (a quarter turn right) and a GPS position's words: what a
// phone writes into every photo.
func photoWithEXIF(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for y := range 32 {
		for x := range 64 {
			c := color.RGBA{200, 30, 30, 255} // the left half red
			if x >= 32 {
				c = color.RGBA{30, 30, 200, 255} // the right half blue
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	// TIFF, little-endian: one IFD entry, Orientation (0x0112) SHORT 6,
	// then the GPS words as a payload no decoder needs.
	tiff := []byte{'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0}
	tiff = append(tiff, []byte(secretGPS)...)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	seg = append(seg, payload...)
	out := append([]byte{}, raw[:2]...) // SOI
	out = append(out, seg...)
	return append(out, raw[2:]...)
}

// secretGPS is what the EXIF block of photoWithEXIF says; no stored photo
// may.
const secretGPS = "GPS 50.0875N 14.4213E Kolin, home of the student"

// hasAPP1 reports whether a JPEG has an APP1 (EXIF or XMP) segment before
// its picture data.
func hasAPP1(jpg []byte) bool {
	for i := 2; i+4 <= len(jpg); {
		if jpg[i] != 0xFF {
			return false
		}
		marker := jpg[i+1]
		if marker == 0xE1 {
			return true
		}
		if marker == 0xDA {
			return false
		}
		i += 2 + (int(jpg[i+2])<<8 | int(jpg[i+3]))
	}
	return false
}
