package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/bot/telegram/telegramtest/botapi"
)

// Method implementations. Except getUpdates they run with s.mu held (see
// ServeHTTP) and return the result or a *botapi.Error.

func (s *Server) getMe(context.Context, botapi.Params) (any, error) { return s.bot, nil }

// chatParamLocked resolves chat_id, a numeric id or "@username".
func (s *Server) chatParamLocked(p botapi.Params) (*chat, error) {
	v := strings.TrimSpace(p.Str("chat_id"))
	if v == "" {
		return nil, botapi.BadRequest("chat_id is empty")
	}
	if id, err := strconv.ParseInt(v, 10, 64); err == nil {
		if c := s.chats[id]; c != nil {
			return c, nil
		}
	} else if name, ok := strings.CutPrefix(v, "@"); ok {
		for _, c := range s.chats {
			if c.model.Username != "" && strings.EqualFold(c.model.Username, name) {
				return c, nil
			}
		}
	}
	return nil, botapi.BadRequest("chat not found")
}

func messageIDParam(p botapi.Params) (int, error) {
	if p.Str("inline_message_id") != "" {
		return 0, botapi.BadRequest("telegramtest: inline messages are not supported")
	}
	id, ok := p.Int64("message_id")
	if !ok {
		return 0, botapi.BadRequest("message_id is empty")
	}
	return int(id), nil
}

func checkText(text, parseMode string) (string, error) {
	plain, err := plainText(text, parseMode)
	if err != nil {
		return "", err
	}
	// Telegram trims surrounding white space before looking at the text.
	plain = strings.TrimSpace(plain)
	if plain == "" {
		return "", botapi.BadRequest("message text is empty")
	}
	if botapi.UTF16Len(plain) > maxTextLen {
		return "", botapi.BadRequest("message is too long")
	}
	return plain, nil
}

func checkCaption(caption, parseMode string) (string, error) {
	plain, err := plainText(caption, parseMode)
	if err != nil {
		return "", err
	}
	plain = strings.TrimSpace(plain)
	if botapi.UTF16Len(plain) > maxCaptionLen {
		return "", botapi.BadRequest("message caption is too long")
	}
	return plain, nil
}

// sendOptions are the parameters all send methods share.
type sendOptions struct {
	chat    *chat
	markup  *markup
	replyTo *models.Message
	silent  bool
}

func (s *Server) sendOptionsLocked(p botapi.Params) (*sendOptions, error) {
	c, err := s.chatParamLocked(p)
	if err != nil {
		return nil, err
	}
	mk, err := parseMarkup(p.Str("reply_markup"))
	if err != nil {
		return nil, err
	}
	if s.blocked[c.model.ID] {
		return nil, &botapi.Error{Code: 403, Description: "Forbidden: bot was blocked by the user"}
	}
	o := &sendOptions{chat: c, markup: mk, silent: p.Bool("disable_notification")}

	var rp struct {
		MessageID                int  `json:"message_id"`
		AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
	}
	if raw := p.Str("reply_parameters"); raw != "" {
		if json.Unmarshal([]byte(raw), &rp) != nil {
			return nil, botapi.BadRequest("can't parse reply parameters JSON object")
		}
	} else if id, ok := p.Int64("reply_to_message_id"); ok {
		rp.MessageID, rp.AllowSendingWithoutReply = int(id), p.Bool("allow_sending_without_reply")
	}
	if rp.MessageID != 0 {
		var target models.Message
		if m := c.byID[rp.MessageID]; m != nil && !m.sent.Deleted {
			target = m.model
		} else if um := c.user[rp.MessageID]; um != nil {
			target = *um
		} else if !rp.AllowSendingWithoutReply {
			return nil, botapi.BadRequest("message to be replied not found")
		}
		if target.ID != 0 {
			target.ReplyToMessage = nil // Telegram nests replies one level deep only
			o.replyTo = &target
		}
	}
	return o, nil
}

// addBotMessageLocked creates a message from the bot in o.chat with the next
// message id of the chat, lets fill complete it, and records it.
func (s *Server) addBotMessageLocked(o *sendOptions, method string, fill func(m *botMessage)) models.Message {
	c := o.chat
	id := c.nextMsgID
	c.nextMsgID++
	now := time.Now()
	m := &botMessage{
		sent:  SentMessage{MessageID: id, ChatID: c.model.ID, Method: method, Date: now, Silent: o.silent},
		model: models.Message{ID: id, Chat: c.model, Date: int(now.Unix())},
	}
	if c.model.Type == models.ChatTypeChannel {
		m.model.SenderChat = &c.model
	} else {
		bot := s.bot
		m.model.From = &bot
	}
	if o.replyTo != nil {
		m.sent.ReplyToMessageID = o.replyTo.ID
		m.model.ReplyToMessage = o.replyTo
	}
	m.setMarkup(o.markup)
	fill(m)
	c.bot = append(c.bot, m)
	c.byID[id] = m
	s.touchLocked(m)
	return m.model
}

func (m *botMessage) setMarkup(mk *markup) {
	m.sent.InlineKeyboard = mk.inlineRows
	m.sent.ReplyKeyboard = mk.reply
	m.sent.RemoveKeyboard = mk.remove
	m.sent.ForceReply = mk.forceReply
	// Only inline keyboards are part of the message Telegram returns.
	m.model.ReplyMarkup = mk.inline
	m.markupKey = mk.key
}

func (s *Server) sendMessage(_ context.Context, p botapi.Params) (any, error) {
	o, err := s.sendOptionsLocked(p)
	if err != nil {
		return nil, err
	}
	pm, err := normParseMode(p.Str("parse_mode"))
	if err != nil {
		return nil, err
	}
	text := p.Str("text")
	plain, err := checkText(text, pm)
	if err != nil {
		return nil, err
	}
	var lp *models.LinkPreviewOptions
	if raw := p.Str("link_preview_options"); raw != "" {
		lp = &models.LinkPreviewOptions{}
		if json.Unmarshal([]byte(raw), lp) != nil {
			return nil, botapi.BadRequest("can't parse link preview options JSON object")
		}
	} else if p.Bool("disable_web_page_preview") {
		disabled := true
		lp = &models.LinkPreviewOptions{IsDisabled: &disabled}
	}
	return s.addBotMessageLocked(o, "sendMessage", func(m *botMessage) {
		m.sent.Text, m.sent.ParseMode, m.sent.LinkPreview = text, pm, lp
		// Telegram returns the visible text; formatting would be entities.
		m.model.Text = plain
		m.model.LinkPreviewOptions = lp
	}), nil
}

// inputFileLocked reads an InputFile parameter: an upload (a multipart part of
// that name, or attach://<part>), a file_id or an URL.
func (s *Server) inputFileLocked(p botapi.Params, field string) (File, error) {
	v := p.Str(field)
	if f, ok := p.Files[field]; ok {
		return File{FileID: s.newFileIDLocked(field), Name: f.Name, Data: f.Data}, nil
	}
	if part, ok := strings.CutPrefix(v, "attach://"); ok {
		if f, ok := p.Files[part]; ok {
			return File{FileID: s.newFileIDLocked(field), Name: f.Name, Data: f.Data}, nil
		}
		return File{}, botapi.BadRequest("wrong file identifier/HTTP URL specified")
	}
	if v == "" {
		return File{}, botapi.BadRequest("there is no %s in the request", field)
	}
	f := File{Ref: v, FileID: v}
	if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		f.FileID = s.newFileIDLocked(field)
		f.Name = path.Base(v)
	}
	return f, nil
}

func (s *Server) newFileIDLocked(kind string) string {
	s.serial++
	return fmt.Sprintf("fake-%s-%d", kind, s.serial)
}

func (s *Server) captionParams(p botapi.Params) (caption, plain, pm string, err error) {
	if pm, err = normParseMode(p.Str("parse_mode")); err != nil {
		return
	}
	caption = p.Str("caption")
	plain, err = checkCaption(caption, pm)
	return
}

func (s *Server) sendPhoto(_ context.Context, p botapi.Params) (any, error) {
	o, err := s.sendOptionsLocked(p)
	if err != nil {
		return nil, err
	}
	f, err := s.inputFileLocked(p, "photo")
	if err != nil {
		return nil, err
	}
	caption, plain, pm, err := s.captionParams(p)
	if err != nil {
		return nil, err
	}
	size := len(f.Data)
	if size == 0 {
		size = 120_000
	}
	return s.addBotMessageLocked(o, "sendPhoto", func(m *botMessage) {
		m.sent.Photo, m.sent.Caption, m.sent.ParseMode = &f, caption, pm
		m.model.Photo = botapi.PhotoSizes(f.FileID, size)
		m.model.Caption = plain
	}), nil
}

func (s *Server) sendDocument(_ context.Context, p botapi.Params) (any, error) {
	o, err := s.sendOptionsLocked(p)
	if err != nil {
		return nil, err
	}
	f, err := s.inputFileLocked(p, "document")
	if err != nil {
		return nil, err
	}
	caption, plain, pm, err := s.captionParams(p)
	if err != nil {
		return nil, err
	}
	doc := &models.Document{
		FileID:       f.FileID,
		FileUniqueID: botapi.UniqueID(f.FileID),
		FileName:     f.Name,
		MimeType:     mime.TypeByExtension(path.Ext(f.Name)),
		FileSize:     int64(len(f.Data)),
	}
	return s.addBotMessageLocked(o, "sendDocument", func(m *botMessage) {
		m.sent.Document, m.sent.Caption, m.sent.ParseMode = &f, caption, pm
		m.model.Document = doc
		m.model.Caption = plain
	}), nil
}

func (s *Server) sendLocation(_ context.Context, p botapi.Params) (any, error) {
	o, err := s.sendOptionsLocked(p)
	if err != nil {
		return nil, err
	}
	lat, err := strconv.ParseFloat(p.Str("latitude"), 64)
	if err != nil || lat < -90 || lat > 90 {
		return nil, botapi.BadRequest("wrong latitude")
	}
	lon, err := strconv.ParseFloat(p.Str("longitude"), 64)
	if err != nil || lon < -180 || lon > 180 {
		return nil, botapi.BadRequest("wrong longitude")
	}
	loc := &models.Location{Latitude: lat, Longitude: lon}
	if v, ok := p.Int64("live_period"); ok {
		loc.LivePeriod = int(v)
	}
	if v, ok := p.Int64("heading"); ok {
		loc.Heading = int(v)
	}
	if v, err := strconv.ParseFloat(p.Str("horizontal_accuracy"), 64); err == nil {
		loc.HorizontalAccuracy = v
	}
	return s.addBotMessageLocked(o, "sendLocation", func(m *botMessage) {
		m.sent.Location = loc
		m.model.Location = loc
	}), nil
}

// editTargetLocked finds the bot message an edit method refers to.
func (s *Server) editTargetLocked(p botapi.Params) (*botMessage, error) {
	c, err := s.chatParamLocked(p)
	if err != nil {
		return nil, err
	}
	id, err := messageIDParam(p)
	if err != nil {
		return nil, err
	}
	m := c.byID[id]
	if m == nil || m.sent.Deleted {
		if c.user[id] != nil {
			return nil, botapi.BadRequest("message can't be edited")
		}
		return nil, botapi.BadRequest("message to edit not found")
	}
	return m, nil
}

var errNotModified = botapi.BadRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")

// editLocked applies an edit, keeping the previous version in History.
func (s *Server) editLocked(m *botMessage, apply func()) models.Message {
	prev := m.sent
	prev.History = nil
	m.sent.History = append(slices.Clone(m.sent.History), prev)
	apply()
	m.sent.Edited = true
	m.model.EditDate = int(time.Now().Unix())
	s.touchLocked(m)
	return m.model
}

func inlineOnly(mk *markup) error {
	if mk.reply != nil || mk.remove || mk.forceReply {
		return botapi.BadRequest("inline keyboard expected")
	}
	return nil
}

func (s *Server) editMessageText(_ context.Context, p botapi.Params) (any, error) {
	m, err := s.editTargetLocked(p)
	if err != nil {
		return nil, err
	}
	if m.sent.Text == "" {
		return nil, botapi.BadRequest("there is no text in the message to edit")
	}
	pm, err := normParseMode(p.Str("parse_mode"))
	if err != nil {
		return nil, err
	}
	text := p.Str("text")
	plain, err := checkText(text, pm)
	if err != nil {
		return nil, err
	}
	mk, err := parseMarkup(p.Str("reply_markup"))
	if err != nil {
		return nil, err
	}
	if err := inlineOnly(mk); err != nil {
		return nil, err
	}
	if text == m.sent.Text && pm == m.sent.ParseMode && mk.key == m.markupKey {
		return nil, errNotModified
	}
	// Without reply_markup the inline keyboard is removed, as on Telegram.
	return s.editLocked(m, func() {
		m.sent.Text, m.sent.ParseMode = text, pm
		m.model.Text = plain
		m.setMarkup(mk)
	}), nil
}

func (s *Server) editMessageReplyMarkup(_ context.Context, p botapi.Params) (any, error) {
	m, err := s.editTargetLocked(p)
	if err != nil {
		return nil, err
	}
	mk, err := parseMarkup(p.Str("reply_markup"))
	if err != nil {
		return nil, err
	}
	if err := inlineOnly(mk); err != nil {
		return nil, err
	}
	if mk.key == m.markupKey {
		return nil, errNotModified
	}
	return s.editLocked(m, func() { m.setMarkup(mk) }), nil
}

func (s *Server) deleteMessage(_ context.Context, p botapi.Params) (any, error) {
	c, err := s.chatParamLocked(p)
	if err != nil {
		return nil, err
	}
	id, ok := p.Int64("message_id")
	if !ok {
		return nil, botapi.BadRequest("message identifier is not specified")
	}
	if m := c.byID[int(id)]; m != nil && !m.sent.Deleted {
		m.sent.Deleted = true
		s.touchLocked(m)
		return true, nil
	}
	if c.user[int(id)] != nil {
		delete(c.user, int(id))
		return true, nil
	}
	return nil, botapi.BadRequest("message to delete not found")
}

func (s *Server) answerCallbackQuery(_ context.Context, p botapi.Params) (any, error) {
	id := p.Str("callback_query_id")
	cb := s.callbacks[id]
	if cb == nil || cb.answered {
		return nil, botapi.BadRequest("query is too old and response timeout expired or query ID is invalid")
	}
	cacheTime, _ := p.Int64("cache_time")
	cb.answered = true
	cb.answer = CallbackAnswer{
		QueryID:   id,
		Text:      p.Str("text"),
		ShowAlert: p.Bool("show_alert"),
		URL:       p.Str("url"),
		CacheTime: int(cacheTime),
	}
	return true, nil
}

// scopeKey turns a BotCommandScope JSON object into the key commands are
// stored under (see CommandsForScope).
func scopeKey(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "default", nil
	}
	var sc struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
		UserID int64           `json:"user_id"`
	}
	if json.Unmarshal([]byte(raw), &sc) != nil {
		return "", botapi.BadRequest("can't parse BotCommandScope JSON object")
	}
	chatID := strings.Trim(string(sc.ChatID), `"`)
	switch sc.Type {
	case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
		return sc.Type, nil
	case "chat", "chat_administrators":
		return sc.Type + ":" + chatID, nil
	case "chat_member":
		return fmt.Sprintf("%s:%s:%d", sc.Type, chatID, sc.UserID), nil
	}
	return "", botapi.BadRequest("wrong bot command scope type specified")
}

func commandKeyOf(p botapi.Params) (commandKey, error) {
	scope, err := scopeKey(p.Str("scope"))
	return commandKey{scope, p.Str("language_code")}, err
}

func (s *Server) setMyCommands(_ context.Context, p botapi.Params) (any, error) {
	key, err := commandKeyOf(p)
	if err != nil {
		return nil, err
	}
	var cmds []models.BotCommand
	if json.Unmarshal([]byte(p.Str("commands")), &cmds) != nil {
		return nil, botapi.BadRequest("can't parse commands JSON object")
	}
	for _, c := range cmds {
		if !validCommand(c.Command) {
			return nil, botapi.BadRequest("BOT_COMMAND_INVALID")
		}
	}
	if len(cmds) == 0 {
		delete(s.commands, key) // an empty list resets the scope, as deleteMyCommands
	} else {
		s.commands[key] = cmds
	}
	return true, nil
}

// validCommand: 1–32 lowercase Latin letters, digits and underscores; Telegram
// rejects upper case too.
func validCommand(c string) bool {
	if len(c) == 0 || len(c) > 32 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !(c[i] == '_' || c[i] >= '0' && c[i] <= '9' || c[i] >= 'a' && c[i] <= 'z') {
			return false
		}
	}
	return true
}

func (s *Server) getMyCommands(_ context.Context, p botapi.Params) (any, error) {
	key, err := commandKeyOf(p)
	if err != nil {
		return nil, err
	}
	// No fallback to other languages or scopes: Telegram returns exactly what
	// was set for this pair.
	out := s.commands[key]
	if out == nil {
		out = []models.BotCommand{}
	}
	return out, nil
}

func (s *Server) deleteMyCommands(_ context.Context, p botapi.Params) (any, error) {
	key, err := commandKeyOf(p)
	if err != nil {
		return nil, err
	}
	delete(s.commands, key)
	return true, nil
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true,
	"choose_sticker": true, "find_location": true, "record_video_note": true,
	"upload_video_note": true,
}

func (s *Server) sendChatAction(_ context.Context, p botapi.Params) (any, error) {
	if _, err := s.chatParamLocked(p); err != nil {
		return nil, err
	}
	if !chatActions[p.Str("action")] {
		return nil, botapi.BadRequest("wrong parameter action in request")
	}
	return true, nil
}

// maxDownload is the largest file getFile hands out, as Telegram's.
const maxDownload = 20 << 20

// getFile prepares a file a user sent for download, at file_path.
func (s *Server) getFile(_ context.Context, p botapi.Params) (any, error) {
	id := p.Str("file_id")
	f, ok := s.uploads[id]
	if !ok {
		return nil, botapi.BadRequest("invalid file_id")
	}
	if len(f.Data) > maxDownload {
		return nil, botapi.BadRequest("file is too big")
	}
	return &models.File{FileID: id, FileUniqueID: botapi.UniqueID(id), FileSize: int64(len(f.Data)),
		FilePath: "documents/" + id + path.Ext(f.Name)}, nil
}

// serveFile answers GET /file/bot<token>/<file_path> (rest is what follows
// "/file/bot") with the file's content, as Telegram's file server does.
func (s *Server) serveFile(w http.ResponseWriter, rest string) {
	token, filePath, _ := strings.Cut(rest, "/")
	id := strings.TrimSuffix(path.Base(filePath), path.Ext(filePath))
	s.mu.Lock()
	f, ok := s.uploads[id]
	ok = ok && token == s.token && !s.down && filePath == "documents/"+id+path.Ext(f.Name)
	s.mu.Unlock()
	if !ok {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	_, _ = w.Write(f.Data)
}
