package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

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
				if strings.HasPrefix(m.Text, "/") {
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
	if from == nil || b.staff[from.ID] {
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

// onCommand handles a command typed at the start of a message.
func (b *Bot) onCommand(name string) tgbot.HandlerFunc {
	return func(ctx context.Context, _ *tgbot.Bot, u *models.Update) {
		m := u.Message
		arg := commandArg(m.Text)
		if name == flows.CommandStart && arg != "" {
			b.converse(ctx, u, m.From, m.Chat.ID, func(ctx context.Context) (flows.Input, error) {
				if code, ok := strings.CutPrefix(arg, invitePrefix); ok {
					in, err := b.inviteInput(ctx, code, participantID(b.cfg.ParticipantKey, m.From.ID))
					if err == nil && in.Invite.Result == "accepted" {
						if err := b.setTeacherCommands(ctx, m.Chat.ID, flows.LanguageFor(m.From.LanguageCode)); err != nil {
							b.log.Warn("teacher command menu", "err", err)
						}
					}
					return in, err
				}
				return b.joinInput(ctx, arg)
			})
			return
		}
		b.converse(ctx, u, m.From, m.Chat.ID, func(context.Context) (flows.Input, error) {
			return flows.Input{Kind: flows.InputCommand, Text: name, Arg: arg}, nil
		})
	}
}

// onUpdate handles everything that is not a known command.
func (b *Bot) onUpdate(ctx context.Context, api *tgbot.Bot, u *models.Update) {
	switch {
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		b.answerCallback(ctx, q.ID)
		chat, _ := callbackChat(q)
		b.converse(ctx, u, &q.From, chat.ID, func(context.Context) (flows.Input, error) {
			return flows.Input{Kind: flows.InputButton, Text: q.Data}, nil
		})
	case u.EditedMessage != nil:
		m := u.EditedMessage
		b.converse(ctx, u, m.From, m.Chat.ID, func(context.Context) (flows.Input, error) {
			return flows.Input{Kind: flows.InputEdited}, nil
		})
	case u.Message != nil:
		m := u.Message
		if name, ok := commandName(m); ok {
			if slices.Contains(knownCommands, name) { // e.g. "/new@napad_bot"
				b.onCommand(name)(ctx, api, u)
				return
			}
			name = flows.CommandHelp // an unknown command: show what there is
			b.converse(ctx, u, m.From, m.Chat.ID, func(context.Context) (flows.Input, error) {
				return flows.Input{Kind: flows.InputCommand, Text: name}, nil
			})
			return
		}
		b.converse(ctx, u, m.From, m.Chat.ID, func(context.Context) (flows.Input, error) {
			return b.messageInput(m), nil
		})
	}
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

var knownCommands = []string{
	flows.CommandStart, flows.CommandNew, flows.CommandCancel, flows.CommandLanguage, flows.CommandHelp,
	flows.CommandMyIdeas, flows.CommandMyData, flows.CommandDelete, flows.CommandStop,
	flows.CommandNewForum, flows.CommandForums, flows.CommandInviteTeacher, flows.CommandReview, flows.CommandExport,
}

// invitePrefix marks a teacher invite in a deep link: /start t_<code>.
// Join codes never start with it.
const invitePrefix = "t_"

// InviteLink is the deep link that makes a Telegram account a teacher.
func InviteLink(username, code string) string { return JoinLink(username, invitePrefix+code) }

func (b *Bot) inviteInput(ctx context.Context, code, pid string) (flows.Input, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	town, result, err := b.stores.People.RedeemInvite(ctx, code, pid, b.cfg.Now())
	if err != nil {
		return flows.Input{}, fmt.Errorf("redeem teacher invite: %w", err)
	}
	if result == "used" {
		// Opening one's own invite again (or a retried update) is no error.
		if role, roleTown, err := b.stores.People.RoleOf(ctx, pid); err == nil && role == flows.RoleTeacher {
			result, town = "accepted", roleTown
		}
	}
	if result == "accepted" {
		b.forgetRole(pid)
		b.log.Info("teacher invite accepted", "town", town)
		b.audit(ctx, pid, "teacher.invite_accepted", "", map[string]any{"town": town})
	}
	return flows.Input{Kind: flows.InputInvite, Invite: flows.InviteOutcome{Result: result, Town: town}}, nil
}

// joinCode is what Telegram allows in a deep link's start parameter.
var joinCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (b *Bot) joinInput(ctx context.Context, code string) (flows.Input, error) {
	in := flows.Input{Kind: flows.InputJoin}
	if !joinCode.MatchString(code) {
		return in, nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	forum, found, err := b.stores.Forums.ForumByCode(ctx, code)
	if err != nil {
		return in, fmt.Errorf("look up join code: %w", err)
	}
	in.Join = flows.JoinResult{Found: found, Forum: b.local(forum)}
	return in, nil
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
func (b *Bot) messageInput(m *models.Message) flows.Input {
	if m.Text != "" && b.locationLabels[m.Text] {
		// Some clients send the location button's label as text instead of
		// the location: it is not the name of a place.
		return flows.Input{Kind: flows.InputMedia, Media: "location_button"}
	}
	return messageInput(m)
}

func messageInput(m *models.Message) flows.Input {
	switch {
	case m.Location != nil:
		return flows.Input{Kind: flows.InputLocation, Lat: m.Location.Latitude, Lon: m.Location.Longitude, Live: m.Location.LivePeriod > 0}
	case len(m.Photo) > 0:
		largest := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.Width*p.Height > largest.Width*largest.Height {
				largest = p
			}
		}
		return flows.Input{Kind: flows.InputPhoto, PhotoID: largest.FileID}
	case m.Text != "":
		return flows.Input{Kind: flows.InputText, Text: m.Text}
	case m.Sticker != nil:
		return flows.Input{Kind: flows.InputMedia, Media: "sticker"}
	case m.Voice != nil, m.Audio != nil:
		return flows.Input{Kind: flows.InputMedia, Media: "voice"}
	case m.Video != nil, m.VideoNote != nil, m.Animation != nil:
		return flows.Input{Kind: flows.InputMedia, Media: "video"}
	case m.Document != nil:
		return flows.Input{Kind: flows.InputMedia, Media: "document"}
	}
	return flows.Input{Kind: flows.InputMedia, Media: "other"}
}

// envelope is what is stored per conversation: the flow's state plus the
// ids of the last updates handled, which makes a redelivered update a no-op.
type envelope struct {
	State flows.State `json:"s"`
	Seen  []int64     `json:"u,omitempty"`
	// Album is the media group of the last photo taken: the other photos of
	// an album arrive as separate messages and are not answers to anything.
	Album string `json:"al,omitempty"`
}

const rememberUpdates = 16

func (e *envelope) seen(id int64) bool { return slices.Contains(e.Seen, id) }

func (e *envelope) remember(id int64) {
	e.Seen = append(e.Seen, id)
	if len(e.Seen) > rememberUpdates {
		e.Seen = e.Seen[len(e.Seen)-rememberUpdates:]
	}
}

// converse runs one step of a student's conversation in the update's turn:
// take the state, let the flow decide, do what it asks (store the idea), save
// the state and then answer.
func (b *Bot) converse(ctx context.Context, u *models.Update, from *models.User, chatID int64, input func(context.Context) (flows.Input, error)) {
	pid := participantID(b.cfg.ParticipantKey, from.ID)
	hint := flows.LanguageFor(from.LanguageCode)
	for attempt := 1; attempt <= 3; attempt++ {
		turn, err := b.stores.Conversations.Begin(ctx, pid, u.ID)
		if err != nil {
			b.unavailable(ctx, u, chatID, hint, fmt.Errorf("begin conversation turn: %w", err))
			return
		}
		res, data, done := b.stepInTurn(ctx, u, from, pid, chatID, turn, input)
		if done {
			b.endTurn(ctx, turn)
			b.send(ctx, chatID, 0, res.State.Lang, res.Replies)
			return
		}
		if res.Forget { // the student deleted their data: keep nothing
			if err := turn.Forget(ctx); err != nil {
				b.unavailable(ctx, u, chatID, hint, fmt.Errorf("delete conversation: %w", err))
				return
			}
			b.send(ctx, chatID, 0, res.State.Lang, res.Replies)
			return
		}
		saved, err := turn.Commit(ctx, data, b.cfg.StateTTL)
		if err != nil {
			b.unavailable(ctx, u, chatID, hint, fmt.Errorf("save conversation: %w", err))
			return
		}
		if saved {
			b.send(ctx, chatID, tappedMessage(u), res.State.Lang, res.Replies)
			return
		}
		b.log.Warn("conversation changed after its turn ran out, handling again", "update_id", u.ID, "attempt", attempt)
	}
	b.unavailable(ctx, u, chatID, hint, errors.New("conversation kept changing while being handled"))
}

// stepInTurn is step, ending the turn if step panics: the student's next
// update must not wait for it to run out.
func (b *Bot) stepInTurn(ctx context.Context, u *models.Update, from *models.User, pid string, chatID int64, turn ConversationTurn, input func(context.Context) (flows.Input, error)) (flows.Result, []byte, bool) {
	defer func() {
		if p := recover(); p != nil {
			b.endTurn(context.WithoutCancel(ctx), turn)
			panic(p) // recoverPanics answers the student
		}
	}()
	return b.step(ctx, u, from, pid, chatID, turn, input)
}

// step decides what update u does to the conversation as the turn found it.
// done is true when there is nothing to save: the update was handled before
// (res may then hold replies to send again), or its input could not be read
// (then the student has been told).
func (b *Bot) step(ctx context.Context, u *models.Update, from *models.User, pid string, chatID int64, turn ConversationTurn, input func(context.Context) (flows.Input, error)) (res flows.Result, data []byte, done bool) {
	var env envelope
	if raw := turn.State(); len(raw) > 0 {
		if err := json.Unmarshal(raw, &env); err != nil {
			b.log.Error("conversation state unreadable, starting afresh", "err", err)
			env = envelope{}
		}
	}
	if env.seen(u.ID) {
		setOutcome(ctx, outcomeDuplicate)
		b.log.Debug("update already handled", "update_id", u.ID)
		// The last update handled, delivered again while nobody else was at
		// it: whoever handled it saved the conversation but may have stopped
		// before answering (killed, or Redis failed after saving). Say again
		// what the student is to do now, rather than leave them waiting.
		if u.ID == env.Seen[len(env.Seen)-1] && !turn.WaitedForOthers() && !waitedInProcess(ctx) {
			res.State = env.State
			res.Replies = flows.Repeat(env.State)
		}
		return res, nil, true
	}
	in, err := input(ctx)
	if err != nil {
		b.unavailable(ctx, u, chatID, flows.LanguageFor(from.LanguageCode), err)
		return res, nil, true
	}
	album := ""
	if u.Message != nil {
		album = u.Message.MediaGroupID
	}
	if album != "" && album == env.Album {
		in = flows.Input{} // a further photo of an album already answered: nothing to say
	}
	if in.Kind == 0 {
		res.State = env.State
	} else {
		in.EventID = strconv.FormatInt(u.ID, 10)
		in.LanguageHint = from.LanguageCode
		in.Participant = pid
		if b.staff[from.ID] || needsRole(env.State, in) {
			in.Actor = b.actor(ctx, from.ID, pid)
		}
		res = b.runEffects(ctx, pid, chatID, in, flows.Handle(env.State, in, b.now()))
	}
	env.State = res.State
	env.remember(u.ID)
	if album != "" {
		env.Album = album
	}
	data, err = json.Marshal(env)
	if err != nil {
		b.log.Error("encode conversation state", "err", err)
		return res, nil, true
	}
	return res, data, false
}

// waitedInProcess says whether the update waited for another of its chat in
// this process before its turn.
func waitedInProcess(ctx context.Context) bool {
	o, ok := ctx.Value(outcomeKey{}).(*outcome)
	return ok && o.waited
}

// endTurn lets the next update in; if Redis is gone, the turn runs out.
func (b *Bot) endTurn(ctx context.Context, turn ConversationTurn) {
	if err := turn.End(ctx); err != nil {
		b.log.Warn("end conversation turn", "err", err)
	}
}

// unavailable marks the update to be handled again later (a store is down),
// and tells the student once that the answer will come.
func (b *Bot) unavailable(ctx context.Context, u *models.Update, chatID int64, lang string, err error) {
	b.log.Error("cannot handle update now; it will be retried", "update_id", u.ID, "err", err)
	if o, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		o.retry = true
	}
	if b.retries.first(u.ID) {
		b.sendKey(ctx, chatID, lang, "bot.try_again_later")
	}
}

func (b *Bot) sendKey(ctx context.Context, chatID int64, lang, key string) {
	b.send(ctx, chatID, 0, lang, []flows.Reply{{Text: flows.Msg{Key: key}}})
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
