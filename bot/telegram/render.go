package telegram

import (
	"strings"
	"unicode/utf16"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/flows"
)

// maxMessageLength is Telegram's limit for one message, in UTF-16 code units.
const maxMessageLength = 4096

// text renders a flow message in the student's language.
func (b *Bot) text(lang string, m flows.Msg) string { return b.texts.Render(lang, m) }

// messages turns one flow reply into the Telegram messages that show it: long
// texts are split, and the keyboard goes with the last part.
func (b *Bot) messages(chatID int64, lang string, r flows.Reply) []*tgbot.SendMessageParams {
	parts := splitText(b.text(lang, r.Text), maxMessageLength)
	out := make([]*tgbot.SendMessageParams, len(parts))
	for i, p := range parts {
		out[i] = &tgbot.SendMessageParams{
			ChatID:             chatID,
			Text:               p,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
		}
	}
	if len(r.Buttons) > 0 {
		kb := make([][]models.InlineKeyboardButton, len(r.Buttons))
		for i, row := range r.Buttons {
			kb[i] = make([]models.InlineKeyboardButton, len(row))
			for j, btn := range row {
				kb[i][j] = models.InlineKeyboardButton{Text: b.text(lang, btn.Label), CallbackData: btn.Data}
			}
		}
		out[len(out)-1].ReplyMarkup = &models.InlineKeyboardMarkup{InlineKeyboard: kb}
	}
	return out
}

// splitText cuts s into parts of at most limit UTF-16 code units, preferring
// to cut at a line break, then at a space.
func splitText(s string, limit int) []string {
	var parts []string
	for utf16Len(s) > limit {
		cut := prefixWithin(s, limit)
		if i := strings.LastIndex(s[:cut], "\n"); i > cut/2 {
			cut = i + 1
		} else if i := strings.LastIndex(s[:cut], " "); i > cut/2 {
			cut = i + 1
		}
		parts = append(parts, strings.TrimSpace(s[:cut]))
		s = s[cut:]
	}
	if s = strings.TrimSpace(s); s != "" || len(parts) == 0 {
		parts = append(parts, s)
	}
	return parts
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// prefixWithin returns the byte length of the longest prefix of s that fits
// in limit UTF-16 code units without splitting a character.
func prefixWithin(s string, limit int) int {
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > limit {
			return i
		}
	}
	return len(s)
}
