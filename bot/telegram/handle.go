package telegram

import (
	"context"
	"fmt"
	"hash/fnv"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
)

// recoverPanics keeps one bad update from taking the bot down.
func (b *Bot) recoverPanics(next tgbot.HandlerFunc) tgbot.HandlerFunc {
	return func(ctx context.Context, api *tgbot.Bot, u *models.Update) {
		defer func() {
			if p := recover(); p != nil {
				setOutcome(ctx, outcomePanic)
				b.log.Error("panic while handling an update", "update_id", u.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				// No dead end: the student hears something and can try again.
				if chat := chatKey(u); chat > 0 {
					b.sendKey(ctx, chat, flows.LanguageFor(languageCode(u)), "bot.try_again_later")
				}
			}
		}()
		next(ctx, api, u)
	}
}

// privateChatsOnly lets through messages and button taps of private chats.
// In a group the bot only explains, when addressed with a command, that it
// works in private chats; everything else (channel posts, edits, update
// types the bot does not use) is ignored.
func (b *Bot) privateChatsOnly(next tgbot.HandlerFunc) tgbot.HandlerFunc {
	return func(ctx context.Context, api *tgbot.Bot, u *models.Update) {
		switch {
		case u.Message != nil:
			m := u.Message
			if m.From == nil || m.From.IsBot {
				setOutcome(ctx, outcomeIgnored)
				return
			}
			if m.Chat.Type != models.ChatTypePrivate {
				// A command in a group is answered once in a while, not for
				// every "/" a class types.
				if strings.HasPrefix(m.Text, "/") && b.groupAllows(m.Chat.ID) {
					b.sendKey(ctx, m.Chat.ID, flows.LanguageFor(m.From.LanguageCode), "bot.private_only")
				}
				setOutcome(ctx, outcomeIgnored)
				return
			}
		case u.CallbackQuery != nil:
			q := u.CallbackQuery
			// A tap may only act in the tapping student's own private chat.
			if chat, ok := callbackChat(q); !ok || chat.Type != models.ChatTypePrivate || chat.ID != q.From.ID {
				b.answerCallback(ctx, q.ID)
				setOutcome(ctx, outcomeIgnored)
				return
			}
		case u.EditedMessage != nil:
			if m := u.EditedMessage; m.From == nil || m.From.IsBot || m.Chat.Type != models.ChatTypePrivate {
				setOutcome(ctx, outcomeIgnored)
				return
			}
		default:
			setOutcome(ctx, outcomeIgnored)
			return
		}
		if !b.withinLimit(ctx, u) {
			setOutcome(ctx, outcomeLimited)
			return
		}
		next(ctx, api, u)
	}
}

// groupAllows says whether the bot may say something in a group now.
func (b *Bot) groupAllows(chatID int64) bool {
	ok, _ := b.groupReplies.allow(chatID, time.Now())
	return ok
}

// withinLimit slows a flood from one student down: what is over the limit
// is skipped (and the student told so, once), and nobody else waits for it.
func (b *Bot) withinLimit(ctx context.Context, u *models.Update) bool {
	var from *models.User
	var chatID int64
	switch {
	case u.Message != nil:
		from, chatID = u.Message.From, u.Message.Chat.ID
	case u.EditedMessage != nil:
		from, chatID = u.EditedMessage.From, u.EditedMessage.Chat.ID
	case u.CallbackQuery != nil:
		from, chatID = &u.CallbackQuery.From, u.CallbackQuery.From.ID
	}
	if from == nil || slices.Contains(b.cfg.StaffIDs, from.ID) { // staff are never slowed down
		return true
	}
	ok, warn := b.limiter.allow(from.ID, time.Now())
	if ok {
		return true
	}
	if u.CallbackQuery != nil {
		b.answerCallback(ctx, u.CallbackQuery.ID)
	}
	if warn {
		b.log.Info("a student is sending too fast; skipping", "update_id", u.ID)
		b.sendKey(ctx, chatID, flows.LanguageFor(from.LanguageCode), "bot.slow_down")
	}
	return false
}

// onCommand handles a command typed at the start of a message. /start with
// a code is a join link or a teacher invite: the runtime looks it up.
func (b *Bot) onCommand(name string) tgbot.HandlerFunc {
	return func(ctx context.Context, _ *tgbot.Bot, u *models.Update) {
		m := u.Message
		b.converse(ctx, u, m.From, m.Chat.ID, flows.Input{What: flows.CommandSent{Name: name, Arg: commandArg(m.Text)}})
	}
}

// onUpdate handles everything that is not a known command.
func (b *Bot) onUpdate(ctx context.Context, api *tgbot.Bot, u *models.Update) {
	switch {
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		b.answerCallback(ctx, q.ID)
		chat, _ := callbackChat(q)
		b.converse(ctx, u, &q.From, chat.ID, flows.Input{What: flows.Tap{Data: q.Data}})
	case u.EditedMessage != nil:
		m := u.EditedMessage
		b.converse(ctx, u, m.From, m.Chat.ID, flows.Input{What: flows.Edited{}})
	case u.Message != nil:
		m := u.Message
		if name, ok := commandName(m); ok {
			if _, known := flows.CommandNamed(name); known { // e.g. "/new@napad_bot"
				b.onCommand(name)(ctx, api, u)
				return
			}
			// An unknown command: show what there is.
			b.converse(ctx, u, m.From, m.Chat.ID, flows.Input{What: flows.CommandSent{Name: flows.CommandHelp}})
			return
		}
		b.converse(ctx, u, m.From, m.Chat.ID, messageInput(m))
	}
}

// eventKey tells an update from the chat's recent ones even when its id
// repeats an earlier update's (Telegram's ids start anew after a quiet week
// and for a new bot token): the id with what the update is about — a
// message (its id and time), an edit (and its time), a tap (Telegram's
// unique query id). A redelivery has the same key.
func eventKey(u *models.Update) int64 {
	var buf [96]byte // on every update's path: no allocation
	b := strconv.AppendInt(buf[:0], u.ID, 10)
	switch {
	case u.CallbackQuery != nil:
		b = append(append(b, "|q|"...), u.CallbackQuery.ID...)
	case u.EditedMessage != nil:
		m := u.EditedMessage
		b = appendInts(append(b, "|e|"...), m.Chat.ID, int64(m.ID), int64(m.EditDate))
	case u.Message != nil:
		m := u.Message
		b = appendInts(append(b, "|m|"...), m.Chat.ID, int64(m.ID), int64(m.Date))
	}
	h := fnv.New64a()
	_, _ = h.Write(b)
	return int64(h.Sum64())
}

func appendInts(b []byte, ns ...int64) []byte {
	for _, n := range ns {
		b = strconv.AppendInt(append(b, '|'), n, 10)
	}
	return b
}

// callbackChat is the chat of the message whose button was tapped. Telegram
// leaves out the content of old messages (InaccessibleMessage) but still
// says which chat they are in: taps on days-old buttons must work.
func callbackChat(q *models.CallbackQuery) (models.Chat, bool) {
	switch {
	case q.Message.Message != nil:
		return q.Message.Message.Chat, true
	case q.Message.InaccessibleMessage != nil:
		return q.Message.InaccessibleMessage.Chat, true
	}
	return models.Chat{}, false
}

// languageCode is the app language of whoever sent the update.
func languageCode(u *models.Update) string {
	switch {
	case u.Message != nil && u.Message.From != nil:
		return u.Message.From.LanguageCode
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.LanguageCode
	case u.EditedMessage != nil && u.EditedMessage.From != nil:
		return u.EditedMessage.From.LanguageCode
	}
	return ""
}

// commandArg is what follows the command: the code in "/start <code>",
// the town in "/invite_teacher Kolín".
func commandArg(text string) string {
	fields := strings.Fields(text)
	if len(fields) < 2 {
		return ""
	}
	return strings.Join(fields[1:], " ")
}

// commandName reads "/name" or "/name@bot" at the start of a message.
func commandName(m *models.Message) (string, bool) {
	for _, e := range m.Entities {
		fields := strings.Fields(m.Text)
		if e.Type == models.MessageEntityTypeBotCommand && e.Offset == 0 && len(fields) > 0 && strings.HasPrefix(m.Text, "/") {
			name := strings.TrimPrefix(fields[0], "/")
			name, _, _ = strings.Cut(name, "@")
			return strings.ToLower(name), true
		}
	}
	return "", false
}

// messageInput says what a message is, as far as the conversation cares.
func messageInput(m *models.Message) flows.Input {
	switch {
	case m.Venue != nil: // a place from a list, with an address: not a pin the student moved
		return flows.Input{What: flows.Media{Kind: "venue"}}
	case m.Contact != nil:
		return flows.Input{What: flows.Media{Kind: "contact"}}
	case m.Location != nil:
		return flows.Input{What: flows.Location{Lat: m.Location.Latitude, Lon: m.Location.Longitude, Live: m.Location.LivePeriod > 0}}
	case len(m.Photo) > 0:
		largest := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.Width*p.Height > largest.Width*largest.Height {
				largest = p
			}
		}
		return flows.Input{What: flows.PhotoSent{FileID: largest.FileID}}
	case m.Text != "":
		return flows.Input{What: flows.Text{Text: m.Text}}
	case m.Sticker != nil:
		return flows.Input{What: flows.Media{Kind: "sticker"}}
	case m.Voice != nil, m.Audio != nil:
		return flows.Input{What: flows.Media{Kind: "voice"}}
	case m.Video != nil, m.VideoNote != nil, m.Animation != nil:
		return flows.Input{What: flows.Media{Kind: "video"}}
	case m.Document != nil:
		d := m.Document
		return flows.Input{What: flows.FileSent{FileID: d.FileID, Name: d.FileName, Size: d.FileSize}}
	}
	return flows.Input{What: flows.Media{Kind: "other"}}
}

// converse hands the update to the runtime as an event of the sender's
// conversation.
func (b *Bot) converse(ctx context.Context, u *models.Update, from *models.User, chatID int64, in flows.Input) {
	ev := bot.Event{
		ID:           u.ID,
		Key:          eventKey(u),
		Participant:  b.participant(from.ID),
		Chat:         chatID,
		LanguageHint: from.LanguageCode,
		Input:        in,
		Replace:      tappedMessage(u),
	}
	if u.Message != nil {
		ev.Group = u.Message.MediaGroupID
	}
	if o, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		ev.Waited = o.waited
	}
	switch b.rt.Converse(ctx, b, ev) {
	case bot.Duplicate:
		setOutcome(ctx, string(bot.Duplicate))
	case bot.Retry:
		if o, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
			o.retry = true
		}
	}
}

// tappedMessage is the id of the message whose button was tapped, if any.
func tappedMessage(u *models.Update) int {
	if u.CallbackQuery != nil && u.CallbackQuery.Message.Message != nil {
		return u.CallbackQuery.Message.Message.ID
	}
	return 0
}

func (b *Bot) answerCallback(ctx context.Context, id string) {
	params := &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id}
	if reply, ok := ctx.Value(webhookReplyKey{}).(*webhookReply); ok && reply.method == "" {
		// Answered with the webhook's response: no request of its own.
		reply.method, reply.params = "answerCallbackQuery", params
		return
	}
	if err := b.postJSON(ctx, "answerCallbackQuery", params); err != nil {
		b.log.Debug("answer callback query", "err", redact(err, b.cfg.Token))
	}
}
