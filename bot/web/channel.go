package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/qrcard"
	"github.com/healthycities/napad/flows"
)

// A web chat is what its transcript says: the bot's messages, rendered
// when they were sent (as Telegram shows them), and the student's own,
// the last maxEntries of them. The runtime answers through Send; the
// pages read the transcript.

// maxEntries is how many messages a transcript keeps.
const maxEntries = 50

// maxPhotos is how many photo ids a transcript remembers, to delete them
// with the student's data (older ones go with the unused photos, see
// storage/postgres.PhotoStore.DeleteUnused).
const maxPhotos = 100

type transcript struct {
	Lang string `json:"l,omitempty"` // the conversation's, of the last delivery
	Role string `json:"r,omitempty"` // for the command menu ("": a student)
	Code string `json:"c,omitempty"` // the resume code
	Next int    `json:"n,omitempty"` // the last message id given
	// Photos are the ids of the photos the student sent.
	Photos  []string `json:"p,omitempty"`
	Entries []entry  `json:"e,omitempty"`
	// Cut: older messages were dropped.
	Cut bool `json:"x,omitempty"`
}

// entry is one message of a web chat.
type entry struct {
	ID      int        `json:"i"`
	Me      bool       `json:"m,omitempty"` // the student's
	Text    string     `json:"t,omitempty"`
	Buttons [][]button `json:"b,omitempty"`
	Photo   string     `json:"p,omitempty"` // a web photo's id
	Image   string     `json:"g,omitempty"` // a picture's file id
	File    *fileRef   `json:"f,omitempty"`
	// Wants is what the message asks for that needs more than a text
	// field: "place" or "photo".
	Wants string `json:"w,omitempty"`
}

type button struct {
	Label string `json:"l"`
	Data  string `json:"d"`
}

type fileRef struct {
	ID   string `json:"i"`
	Name string `json:"n"`
}

func (t *transcript) add(e entry) {
	t.Next++
	e.ID = t.Next
	t.Entries = append(t.Entries, e)
	if e.Photo != "" && e.Me {
		t.Photos = append(t.Photos, e.Photo)
		if len(t.Photos) > maxPhotos {
			t.Photos = t.Photos[len(t.Photos)-maxPhotos:]
		}
	}
	if len(t.Entries) > maxEntries {
		t.Entries = slices.Clone(t.Entries[len(t.Entries)-maxEntries:])
		t.Cut = true
	}
}

func (t *transcript) find(id int) int {
	return slices.IndexFunc(t.Entries, func(e entry) bool { return e.ID == id })
}

// outgoing is a reply rendered for the transcript.
type outgoing struct {
	entry
	replace bool // in place of the tapped message
	forget  bool // the student's data is gone: the chat starts afresh
}

// delivered is one delivery's replies.
type delivered struct {
	replace int
	outs    []outgoing
}

// pending collects what the runtime sends to the chat of a form being
// handled, to be written with the student's message once the outcome is
// known (a duplicate's replies are not written twice).
type pending struct {
	chat       int64
	lang       string
	deliveries []delivered
}

type pendingKey struct{}

// Send keeps the replies in the chat's transcript (bot.Channel). A
// notification to a chat that is gone (its transcript ran out) is
// refused with bot.ErrUnreachable.
func (s *Server) Send(ctx context.Context, d bot.Delivery) error {
	if !IsWebChat(d.Chat) {
		return fmt.Errorf("web: chat %d is not a web chat", d.Chat)
	}
	outs := s.renderReplies(ctx, d)
	if p, ok := ctx.Value(pendingKey{}).(*pending); ok && p.chat == d.Chat {
		p.deliveries = append(p.deliveries, delivered{replace: d.Replace, outs: outs})
		if d.Lang != "" {
			p.lang = d.Lang
		}
		return nil
	}
	mu := s.chatLock(d.Chat)
	mu.Lock()
	defer mu.Unlock()
	return s.write(ctx, d.Chat, "", d.Lang, nil, []delivered{{replace: d.Replace, outs: outs}}, d.Background)
}

// RoleChanged remembers the role for the chat's command menu (bot.Channel).
func (s *Server) RoleChanged(ctx context.Context, chat int64, role, _ string) {
	if !IsWebChat(chat) {
		return
	}
	if err := s.update(ctx, chat, func(t *transcript, _ bool) error {
		t.Role = role
		return nil
	}); err != nil {
		s.log.Warn("remembering a new role", "err", err)
	}
}

// renderReplies turns a delivery's replies into messages. Files and pictures are
// kept with the chat for a while; one that cannot be is left out.
func (s *Server) renderReplies(ctx context.Context, d bot.Delivery) []outgoing {
	outs := make([]outgoing, 0, len(d.Replies))
	for _, r := range d.Replies {
		o := outgoing{replace: r.Replace, forget: d.Forget}
		if r.Text.Key != "" {
			o.Text = s.texts.Render(d.Lang, r.Text)
		}
		for _, row := range r.Buttons {
			var bs []button
			for _, b := range row {
				bs = append(bs, button{Label: s.texts.Render(d.Lang, b.Label), Data: b.Data})
			}
			o.Buttons = append(o.Buttons, bs)
		}
		// A Telegram file id (staff's review of an idea sent there) cannot
		// be shown here: only photos sent on the web are.
		if id, ok := strings.CutPrefix(r.PhotoID, photoPrefix); ok {
			o.Photo = id
		}
		switch {
		case r.QR != nil:
			link := links{s}.JoinLink(r.QR.Code)
			if png, err := qrcard.PNG(link, r.QR.Name, flows.JoinCommand(r.QR.ShortCode)); err != nil {
				s.log.Error("making a QR code", "err", err)
			} else {
				o.Image = s.keepFile(ctx, d.Chat, png)
			}
		case r.Picture != nil:
			o.Image = s.keepFile(ctx, d.Chat, r.Picture.Data)
		case r.File != nil:
			if id := s.keepFile(ctx, d.Chat, r.File.Data); id != "" {
				o.File = &fileRef{ID: id, Name: r.File.Name}
			}
		}
		o.Wants = wants(r.Text)
		outs = append(outs, o)
	}
	return outs
}

// keepFile keeps data with the chat for FileTTL and returns its id ("":
// it could not be kept).
func (s *Server) keepFile(ctx context.Context, chat int64, data []byte) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	if err := s.stores.Transcripts.PutWebFile(ctx, chat, id, data, s.cfg.FileTTL); err != nil {
		s.log.Error("keeping a file for a web chat", "err", err)
		return ""
	}
	return id
}

// The questions a text field does not answer well, by their keys (also
// inside a message that quotes the answer before the next question).
var (
	placeKeys = []string{"place.ask", "error.place_expected", "map.ask_place", "map.ask_next_place", "map.place_expected"}
	photoKeys = []string{"photo.ask", "error.photo_expected"}
)

// wants is what a message asks for besides text: "place", "photo" or "".
func wants(m flows.Msg) string {
	switch {
	case slices.Contains(placeKeys, m.Key):
		return "place"
	case slices.Contains(photoKeys, m.Key):
		return "photo"
	}
	for _, v := range m.Data {
		if inner, ok := v.(flows.Msg); ok {
			if w := wants(inner); w != "" {
				return w
			}
		}
	}
	return ""
}

// write adds the student's message (me, if any) and the replies to the
// chat's transcript. A reply marked replace takes the place of the tapped
// message, as Telegram edits it. After the student's data was deleted the
// chat starts afresh with the goodbye alone (webID, if known, is whose
// resume code to delete). A notification (background) to a chat that has
// no transcript any more is bot.ErrUnreachable.
func (s *Server) write(ctx context.Context, chat int64, webID, lang string, me *entry, ds []delivered, background bool) error {
	for _, d := range ds {
		if slices.ContainsFunc(d.outs, func(o outgoing) bool { return o.forget }) {
			return s.forget(ctx, chat, webID, lang, d.outs)
		}
	}
	return s.update(ctx, chat, func(t *transcript, exists bool) error {
		if background && !exists {
			return fmt.Errorf("web chat gone: %w", bot.ErrUnreachable)
		}
		if lang != "" {
			t.Lang = lang
		}
		if me != nil {
			t.add(*me)
		}
		for _, d := range ds {
			for _, o := range d.outs {
				if i := t.find(d.replace); o.replace && d.replace != 0 && i >= 0 {
					o.ID = d.replace
					t.Entries[i] = o.entry
					continue
				}
				t.add(o.entry)
			}
		}
		return nil
	})
}

// forget deletes what the chat kept (its transcript, files, resume code
// and the photos the student sent) and starts it afresh with outs.
func (s *Server) forget(ctx context.Context, chat int64, webID, lang string, outs []outgoing) error {
	old, _, err := s.load(ctx, chat)
	if err != nil {
		return err
	}
	if err := s.stores.Photos.Delete(ctx, old.Photos...); err != nil {
		s.log.Error("deleting a web student's photos", "err", err)
	}
	if old.Code != "" && webID != "" {
		if err := s.stores.Transcripts.DeleteResumeCode(ctx, old.Code, webID); err != nil {
			s.log.Error("deleting a resume code", "err", err)
		}
	}
	if err := s.stores.Transcripts.DeleteWebChat(ctx, chat); err != nil {
		return fmt.Errorf("web: forget chat: %w", err)
	}
	return s.update(ctx, chat, func(t *transcript, _ bool) error {
		*t = transcript{Lang: cmp.Or(lang, old.Lang)}
		for _, o := range outs {
			t.add(o.entry)
		}
		return nil
	})
}

// load reads a chat's transcript (a new one if it has none).
func (s *Server) load(ctx context.Context, chat int64) (transcript, int64, error) {
	data, version, err := s.stores.Transcripts.WebTranscript(ctx, chat)
	if err != nil {
		return transcript{}, 0, fmt.Errorf("web: load transcript: %w", err)
	}
	var t transcript
	if data != nil {
		if err := json.Unmarshal(data, &t); err != nil {
			s.log.Error("a web transcript is unreadable; starting afresh", "err", err)
			t = transcript{}
		}
	}
	return t, version, nil
}

// update changes a chat's transcript with change, again if someone else
// changed it meanwhile. exists says whether there was one.
func (s *Server) update(ctx context.Context, chat int64, change func(t *transcript, exists bool) error) error {
	for range 5 {
		t, version, err := s.load(ctx, chat)
		if err != nil {
			return err
		}
		if err := change(&t, version != 0); err != nil {
			return err
		}
		data, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("web: encode transcript: %w", err)
		}
		saved, err := s.stores.Transcripts.SaveWebTranscript(ctx, chat, data, version, s.cfg.TTL)
		if err != nil {
			return fmt.Errorf("web: save transcript: %w", err)
		}
		if saved {
			return nil
		}
	}
	return errors.New("web: the transcript kept changing while being saved")
}
