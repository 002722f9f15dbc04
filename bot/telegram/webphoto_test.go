package telegram

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
)

// webPhotos is a store with one photo sent from the browser.
type webPhotos map[string][]byte

func (p webPhotos) Get(_ context.Context, id string) ([]byte, bool, error) {
	jpeg, ok := p[id]
	return jpeg, ok, nil
}

// A photo a student sent from the browser reaches staff in Telegram
// uploaded, as Telegram has no file id for it; a Telegram photo goes by its
// file id; a browser photo that is gone is left out and the text still comes.
func TestWebPhotosAreUploaded(t *testing.T) {
	const token = "424242:webphoto-test-token-abcdefghijk"
	fake := telegramtest.New(t, token)
	staff := fake.NewUser(7100, "Staff", "en")
	rt, err := bot.New(bot.Config{ParticipantKey: []byte("k"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, bot.Stores{})
	if err != nil {
		t.Fatal(err)
	}
	jpeg := []byte("\xff\xd8\xff\xe0 a small jpeg")
	b, err := New(t.Context(), Config{Token: token, APIURL: fake.URL(), WebPhotos: webPhotos{"abc123": jpeg}}, rt)
	if err != nil {
		t.Fatal(err)
	}
	text := flows.Msg{Key: "review.photo_attached"}
	err = b.Send(t.Context(), bot.Delivery{Chat: staff.ID(), Lang: "en", Replies: []flows.Reply{
		{Text: text, PhotoID: "web:abc123"},
		{Text: text, PhotoID: "AgACAgQAAxkBAAIB"},
		{Text: text, PhotoID: "web:gone"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var photos []telegramtest.SentMessage
	for _, m := range fake.Sent(staff.ID()) {
		if m.Photo != nil {
			photos = append(photos, m)
		}
	}
	if len(photos) != 2 || !bytes.Equal(photos[0].Photo.Data, jpeg) || photos[1].Photo.FileID != "AgACAgQAAxkBAAIB" {
		t.Fatalf("photos sent: %+v", photos)
	}
	if n := len(fake.Sent(staff.ID())) - len(photos); n != 3 {
		t.Errorf("%d texts sent, want 3", n)
	}
}
