package telegramtest

import (
	"fmt"
	"mime"
	"path"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
)

// User is a simulated Telegram user talking to the bot in a private chat,
// whose chat id equals the user id. Each action creates an update and returns
// its update_id.
type User struct {
	srv      *Server
	user     models.User
	lastText int // id of the last text message, for EditLast; guarded by srv.mu
}

// NewUser creates a user (and its private chat) the bot can talk to.
func (s *Server) NewUser(id int64, firstName, languageCode string) *User {
	s.t.Helper()
	if id <= 0 {
		s.t.Fatalf("telegramtest: NewUser: user id must be positive, got %d", id)
	}
	u := &User{srv: s, user: models.User{ID: id, FirstName: firstName, LanguageCode: languageCode}}
	s.mu.Lock()
	_, exists := s.users[id]
	if !exists {
		s.users[id] = u
		s.chatLocked(models.Chat{ID: id, Type: models.ChatTypePrivate, FirstName: firstName})
	}
	s.mu.Unlock()
	if exists {
		s.t.Fatalf("telegramtest: NewUser: user %d already exists", id)
	}
	return u
}

// ID is the user id, which is also the id of the private chat with the bot.
func (u *User) ID() int64 { return u.user.ID }

// Model is the user as the bot sees it in updates.
func (u *User) Model() models.User { return u.user }

// send creates a message from the user in the private chat and queues it.
func (u *User) send(fill func(m *models.Message)) int64 {
	s := u.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[u.user.ID]
	from := u.user
	m := &models.Message{ID: c.nextMsgID, From: &from, Chat: c.model, Date: int(time.Now().Unix())}
	c.nextMsgID++
	fill(m)
	c.user[m.ID] = m
	if m.Text != "" {
		u.lastText = m.ID
	}
	return s.newUpdateLocked(&models.Update{Message: m}, c.model.ID)
}

// SendText sends a text message. Bot commands in it ("/start",
// "/new@napad_test_bot") get bot_command entities exactly as Telegram sets
// them, in UTF-16 units.
func (u *User) SendText(text string) int64 {
	return u.send(func(m *models.Message) {
		m.Text = text
		m.Entities = botapi.CommandEntities(text)
	})
}

// SendLocation shares a static location.
func (u *User) SendLocation(lat, lon float64) int64 {
	return u.send(func(m *models.Message) {
		m.Location = &models.Location{Latitude: lat, Longitude: lon}
	})
}

// SendVenue shares a venue picked from Telegram's list of places near
// the user: like Telegram, the message carries the venue and its location.
func (u *User) SendVenue(lat, lon float64, title, address string) int64 {
	return u.send(func(m *models.Message) {
		loc := models.Location{Latitude: lat, Longitude: lon}
		m.Location = &loc
		m.Venue = &models.Venue{Location: loc, Title: title, Address: address}
	})
}

// SendContact shares a phone contact.
func (u *User) SendContact(phone, firstName string) int64 {
	return u.send(func(m *models.Message) {
		m.Contact = &models.Contact{PhoneNumber: phone, FirstName: firstName}
	})
}

// SendLiveLocation starts sharing a live location for period.
func (u *User) SendLiveLocation(lat, lon float64, period time.Duration) int64 {
	return u.send(func(m *models.Message) {
		m.Location = &models.Location{
			Latitude:           lat,
			Longitude:          lon,
			HorizontalAccuracy: 15,
			LivePeriod:         int(period / time.Second),
		}
	})
}

// SendPhoto sends a photo. Like Telegram, the message carries several sizes;
// the largest has fileID and fileSize.
func (u *User) SendPhoto(fileID string, fileSize int, caption string) int64 {
	return u.send(func(m *models.Message) {
		m.Photo = botapi.PhotoSizes(fileID, fileSize)
		m.Caption = caption
		m.CaptionEntities = botapi.CommandEntities(caption)
	})
}

// SendSticker sends a regular sticker.
func (u *User) SendSticker() int64 {
	return u.send(func(m *models.Message) {
		id := u.srv.newFileIDLocked("sticker")
		m.Sticker = &models.Sticker{
			FileID:       id,
			FileUniqueID: botapi.UniqueID(id),
			Type:         "regular",
			Width:        512,
			Height:       512,
			Thumbnail:    &models.PhotoSize{FileID: id + "-t", FileUniqueID: botapi.UniqueID(id + "-t"), Width: 128, Height: 128, FileSize: 4_000},
			Emoji:        "👍",
			SetName:      "NapadTestStickers",
			FileSize:     24_000,
		}
	})
}

// SendVoice sends a voice message.
func (u *User) SendVoice() int64 {
	return u.send(func(m *models.Message) {
		id := u.srv.newFileIDLocked("voice")
		m.Voice = &models.Voice{FileID: id, FileUniqueID: botapi.UniqueID(id), Duration: 3, MimeType: "audio/ogg", FileSize: 9_000}
	})
}

// SendVideo sends a video.
func (u *User) SendVideo() int64 {
	return u.send(func(m *models.Message) {
		id := u.srv.newFileIDLocked("video")
		m.Video = &models.Video{
			FileID:       id,
			FileUniqueID: botapi.UniqueID(id),
			Width:        1280,
			Height:       720,
			Duration:     5,
			Thumbnail:    &models.PhotoSize{FileID: id + "-t", FileUniqueID: botapi.UniqueID(id + "-t"), Width: 320, Height: 180, FileSize: 9_000},
			FileName:     "video.mp4",
			MimeType:     "video/mp4",
			FileSize:     1_500_000,
		}
	})
}

// SendDocument sends a file named name (2 KB of nothing in particular).
func (u *User) SendDocument(name string) int64 {
	return u.SendFile(name, make([]byte, 2_048))
}

// SendFile sends a file named name with content data, which the bot can
// fetch with getFile and download, as from Telegram.
func (u *User) SendFile(name string, data []byte) int64 {
	return u.send(func(m *models.Message) {
		id := u.srv.newFileIDLocked("document")
		mimeType := mime.TypeByExtension(path.Ext(name))
		if mimeType == "" {
			mimeType = "application/octet-stream"
		}
		u.srv.uploads[id] = File{FileID: id, Name: name, Data: data}
		m.Document = &models.Document{FileID: id, FileUniqueID: botapi.UniqueID(id), FileName: name, MimeType: mimeType,
			FileSize: int64(len(data))}
	})
}

// EditLast edits the user's last text message (an edited_message update).
func (u *User) EditLast(text string) int64 {
	s := u.srv
	s.t.Helper()
	s.mu.Lock()
	c := s.chats[u.user.ID]
	prev := c.user[u.lastText]
	if prev == nil {
		s.mu.Unlock()
		s.t.Fatalf("telegramtest: EditLast: user %d has no text message to edit", u.user.ID)
	}
	m := *prev
	m.Text = text
	m.Entities = botapi.CommandEntities(text)
	m.EditDate = int(time.Now().Unix())
	c.user[m.ID] = &m
	id := s.newUpdateLocked(&models.Update{EditedMessage: &m}, c.model.ID)
	s.mu.Unlock()
	return id
}

// Tap presses the inline button labelled buttonText on a bot message, as it is
// now (edits included), sending a callback_query. It fails the test if the
// message has no such callback button.
func (u *User) Tap(msg SentMessage, buttonText string) int64 {
	s := u.srv
	s.t.Helper()
	s.mu.Lock()
	m, problem := u.tapTargetLocked(msg)
	var data string
	if problem == "" && m.sent.Deleted {
		problem = "it was deleted"
	}
	if problem == "" {
		b, ok := m.sent.Button(buttonText)
		switch {
		case !ok:
			problem = fmt.Sprintf("it has no button %q; it is: %s", buttonText, m.sent)
		case b.CallbackData == "":
			problem = fmt.Sprintf("button %q is not a callback button (url %q), tapping it sends no update", buttonText, b.URL)
		}
		data = b.CallbackData
	}
	if problem != "" {
		s.mu.Unlock()
		s.t.Fatalf("telegramtest: Tap: can't tap message #%d in chat %d: %s", msg.MessageID, msg.ChatID, problem)
	}
	id := u.callbackLocked(m, data)
	s.mu.Unlock()
	return id
}

// TapData sends a callback_query with arbitrary data for a bot message, as a
// forged or outdated client would. The message may be deleted.
func (u *User) TapData(msg SentMessage, data string) int64 {
	s := u.srv
	s.t.Helper()
	s.mu.Lock()
	m, problem := u.tapTargetLocked(msg)
	if problem != "" {
		s.mu.Unlock()
		s.t.Fatalf("telegramtest: TapData: message #%d in chat %d: %s", msg.MessageID, msg.ChatID, problem)
	}
	id := u.callbackLocked(m, data)
	s.mu.Unlock()
	return id
}

func (u *User) tapTargetLocked(msg SentMessage) (*botMessage, string) {
	if msg.ChatID != u.user.ID {
		return nil, fmt.Sprintf("it is in chat %d, not in user %d's chat", msg.ChatID, u.user.ID)
	}
	m := u.srv.chats[msg.ChatID].byID[msg.MessageID]
	if m == nil {
		return nil, "the bot sent no such message"
	}
	return m, ""
}

func (u *User) callbackLocked(m *botMessage, data string) int64 {
	s := u.srv
	// Telegram's query ids are unique to the query, across bots too.
	qid := strconv.FormatInt(4_000_000_000_000_000_000+queryIDs.Add(1), 10)
	msg := m.model
	upd := &models.Update{CallbackQuery: &models.CallbackQuery{
		ID:           qid,
		From:         u.user,
		Message:      models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &msg},
		ChatInstance: botapi.ChatInstance(msg.Chat.ID),
		Data:         data,
	}}
	id := s.newUpdateLocked(upd, msg.Chat.ID)
	s.callbacks[qid] = &callbackState{updateID: id}
	return id
}

// queryIDs numbers callback queries across every fake in the process.
var queryIDs atomic.Int64
