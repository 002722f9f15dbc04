package botapi

import "github.com/go-telegram/bot/models"

// The Bot API's own types, for fakes outside bot/telegram (napad-bench),
// which speak the protocol without depending on the Telegram client.
type (
	User          = models.User
	Chat          = models.Chat
	WebhookInfo   = models.WebhookInfo
	BotCommand    = models.BotCommand
	MessageEntity = models.MessageEntity
	PhotoSize     = models.PhotoSize
	Document      = models.Document
	Location      = models.Location
)

// Chat types.
const (
	ChatTypePrivate    = models.ChatTypePrivate
	ChatTypeSupergroup = models.ChatTypeSupergroup
)
