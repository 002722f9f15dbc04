package telegram

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/locales"
	"github.com/healthycities/napad/storage/postgres"
	"github.com/healthycities/napad/storage/postgres/pgtest"
	"github.com/healthycities/napad/storage/redis"
	"github.com/healthycities/napad/storage/redis/redistest"
)

const statsTestToken = "123456789:AAH-napad_stats_token_0123456789abcdef"

// staffDB is the PostgreSQL store as the bot's staff store; exports are
// cmd/napad's business and not part of this test.
type staffDB struct{ *postgres.Store }

func (staffDB) Export(context.Context, string, int64, string, io.Writer) (int, error) {
	return 0, errors.New("no exports here")
}

// conversations is the Redis store as the bot's conversation store.
type conversations struct{ *redis.Store }

func (c conversations) Begin(ctx context.Context, key string, id int64) (bot.ConversationTurn, error) {
	return c.Store.Begin(ctx, key, id)
}

// Staff send /stats and get the overview and its picture, and a forum's
// own from its button; a student who sends /stats is answered as for a
// command that does not exist.
func TestE2EStats(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	db, _ := pgtest.NewStore(t)
	forum, err := pgtest.CreateForum(ctx, db, "8.B – ZŠ Komenského", "ZŠ Komenského", "Kolín")
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for i, category := range []string{"environment", "environment", "transport"} {
		idea := flows.Idea{DraftID: "d" + string(rune('a'+i)), ParticipantID: "student-" + string(rune('a'+i)), ForumID: forum.ID,
			Language: "cs", Scope: flows.ScopeSchool, Title: "Lavičky", Category: category}
		ref, err := db.Submit(ctx, idea)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	if err := db.Hide(ctx, refs[1], flows.HideAbusive, postgres.CLIActor); err != nil {
		t.Fatal(err)
	}

	fake := telegramtest.New(t, statsTestToken)
	staff := fake.NewUser(4242, "Staff", "cs")
	student := fake.NewUser(5151, "Eva", "cs")
	rt, err := bot.New(bot.Config{ParticipantKey: []byte("k"), StaffUsers: []string{UserKey(staff.ID())},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		bot.Stores{Conversations: conversations{redistest.New(t)}, Forums: db, Ideas: db, People: db, Staff: staffDB{db}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, Config{Token: statsTestToken, APIURL: fake.URL(), StaffIDs: []int64{staff.ID()}}, rt)
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- b.RunPolling(ctx) }()
	defer func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("RunPolling: %v", err)
		}
	}()
	catalog, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	render := func(key string, data map[string]any) string {
		t.Helper()
		s, err := catalog.Render("cs", flows.Msg{Key: key, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const wait = 10 * time.Second

	staff.SendText("/stats")
	overview := fake.WaitFor(t, staff.ID(), func(m telegramtest.SentMessage) bool { return m.Method == "sendMessage" }, wait)
	for _, want := range []string{
		render("stats.all_forums", nil), "Nápady: 2", render("stats.hidden", map[string]any{"N": 1}),
		"Příroda a životní prostředí: 1", "Doprava a bezpečnost: 1", forum.Name,
	} {
		if !strings.Contains(overview.Text, want) {
			t.Errorf("the overview lacks %q:\n%s", want, overview.Text)
		}
	}
	photo := fake.WaitFor(t, staff.ID(), func(m telegramtest.SentMessage) bool { return m.Photo != nil }, wait)
	checkStatsPhoto(t, photo, render("stats.picture_caption", nil))

	// The forum's button: its own overview, and picture.
	staff.Tap(overview, render("forum.list_item", map[string]any{"Forum": forum.Name}))
	one := fake.WaitFor(t, staff.ID(), func(m telegramtest.SentMessage) bool { return m.Method == "sendMessage" }, wait)
	if !strings.Contains(one.Text, forum.Name) || strings.Contains(one.Text, render("stats.all_forums", nil)) {
		t.Errorf("the forum's overview:\n%s", one.Text)
	}
	if _, ok := one.Button(render("button.all_forums", nil)); !ok {
		t.Errorf("the forum's overview has no way back to all forums: %v", one.InlineKeyboard)
	}
	checkStatsPhoto(t, fake.WaitFor(t, staff.ID(), func(m telegramtest.SentMessage) bool { return m.Photo != nil }, wait),
		render("stats.picture_caption", nil))

	// A student learns nothing: the same answer as to a made-up command.
	student.SendText("/nosuch")
	unknown := fake.WaitSent(t, student.ID(), 1, wait)
	student.SendText("/stats")
	sent := fake.WaitSent(t, student.ID(), 2, wait)
	if len(sent) != 2 || sent[1].Text != unknown[0].Text || sent[1].Text == "" {
		t.Errorf("a student's /stats was answered %v, an unknown command %v", sent[1:], unknown)
	}
	if strings.Contains(sent[1].Text, "📊") || sent[1].Photo != nil {
		t.Errorf("a student saw the overview: %v", sent[1])
	}
}

// checkStatsPhoto checks the overview's picture: an uploaded PNG, portrait,
// not blank, with its caption.
func checkStatsPhoto(t *testing.T, m telegramtest.SentMessage, caption string) {
	t.Helper()
	if m.Caption != caption || m.Photo.Data == nil {
		t.Fatalf("photo %q with caption %q, want an upload with %q", m.Photo.Name, m.Caption, caption)
	}
	img, err := png.Decode(bytes.NewReader(m.Photo.Data))
	if err != nil {
		t.Fatalf("the picture is no PNG: %v", err)
	}
	if got := img.Bounds(); got != image.Rect(0, 0, 1080, 1350) {
		t.Errorf("picture of %v, want 1080×1350", got)
	}
	first, other := img.At(0, 0), 0
	for y := 0; y < 1350; y += 3 {
		for x := 0; x < 1080; x += 3 {
			if img.At(x, y) != first {
				other++
			}
		}
	}
	if other < 5000 {
		t.Errorf("the picture is nearly blank: %d of its sampled pixels differ from the background", other)
	}
}
