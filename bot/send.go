package bot

import (
	"bytes"
	"context"
	"errors"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/bot/qrcard"
	"github.com/healthycities/napad/flows"
)

// send delivers the replies in order; if the student blocked the bot, the
// rest is dropped. A reply marked Replace takes the place of the tapped
// message (replaceID) when there is one.
func (b *Bot) send(ctx context.Context, chatID int64, replaceID int, lang string, replies []flows.Reply) {
	for _, r := range replies {
		var err error
		if r.PhotoID != "" { // a student's photo, by Telegram's file id: never downloaded
			if err := b.throttle.slot(ctx, chatID, false); err != nil {
				return
			}
			_, err = withRetry(ctx, b, "sendPhoto", func() (*models.Message, error) {
				return b.api.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: chatID, Photo: &models.InputFileString{Data: r.PhotoID}})
			})
			if err != nil {
				b.log.Warn("showing a photo failed", "err", redact(err, b.cfg.Token))
			}
		}
		switch {
		case r.QR != nil:
			err = b.sendQR(ctx, chatID, lang, r)
		case r.File != nil:
			err = b.sendFile(ctx, chatID, lang, r)
		case r.Replace && replaceID != 0:
			err = b.edit(ctx, chatID, replaceID, lang, r)
		default:
			for _, msg := range b.messages(chatID, lang, r) {
				if err = b.throttle.slot(ctx, chatID, false); err != nil {
					break
				}
				if _, err = withRetry(ctx, b, "sendMessage", func() (struct{}, error) {
					return struct{}{}, b.postJSON(ctx, "sendMessage", msg)
				}); err != nil {
					break
				}
			}
		}
		if errors.Is(err, tgbot.ErrorForbidden) {
			b.log.Info("the bot was blocked in this chat; not sending", "err", err)
			// Private chats have the user's id: never message them again.
			if stopErr := b.stopPrivate(ctx, chatID); stopErr != nil {
				b.log.Warn("marking a student unreachable failed", "err", stopErr)
			}
			return
		}
		if err != nil {
			// The other replies may still arrive (a card after a failed picture).
			b.log.Error("send message", "err", redact(err, b.cfg.Token))
		}
	}
}

// edit shows a reply in place of an earlier message of the bot.
func (b *Bot) edit(ctx context.Context, chatID int64, messageID int, lang string, r flows.Reply) error {
	msg := b.messages(chatID, lang, r)[0]
	if err := b.throttle.slot(ctx, chatID, false); err != nil {
		return err
	}
	_, err := withRetry(ctx, b, "editMessageText", func() (struct{}, error) {
		return struct{}{}, b.postJSON(ctx, "editMessageText", &tgbot.EditMessageTextParams{
			ChatID: chatID, MessageID: messageID, Text: msg.Text,
			ReplyMarkup: msg.ReplyMarkup, LinkPreviewOptions: msg.LinkPreviewOptions,
		})
	})
	if err != nil && strings.Contains(err.Error(), "message is not modified") {
		return nil // a refresh with nothing new
	}
	return err
}

// stopPrivate records that the student of a private chat blocked the bot.
func (b *Bot) stopPrivate(ctx context.Context, chatID int64) error {
	if chatID <= 0 { // a group: nobody's contact
		return nil
	}
	return b.stores.People.StopContact(ctx, participantID(b.cfg.ParticipantKey, chatID), chatID, false)
}

// sendFile sends a file as a document with the reply as its caption.
func (b *Bot) sendFile(ctx context.Context, chatID int64, lang string, r flows.Reply) error {
	if err := b.throttle.slot(ctx, chatID, false); err != nil {
		return err
	}
	_, err := withRetry(ctx, b, "sendDocument", func() (*models.Message, error) {
		return b.api.SendDocument(ctx, &tgbot.SendDocumentParams{
			ChatID:   chatID,
			Document: &models.InputFileUpload{Filename: r.File.Name, Data: bytes.NewReader(r.File.Data)},
			Caption:  b.text(lang, r.Text),
		})
	})
	return err
}

// sendQR sends the forum's QR code picture with the reply as its caption.
func (b *Bot) sendQR(ctx context.Context, chatID int64, lang string, r flows.Reply) error {
	png, err := qrcard.PNG(JoinLink(b.username, r.QR.Code), r.QR.Name)
	if err != nil {
		return err
	}
	caption := b.text(lang, r.Text)
	if err := b.throttle.slot(ctx, chatID, false); err != nil {
		return err
	}
	_, err = withRetry(ctx, b, "sendPhoto", func() (*models.Message, error) {
		return b.api.SendPhoto(ctx, &tgbot.SendPhotoParams{
			ChatID:  chatID,
			Photo:   &models.InputFileUpload{Filename: "napad-" + r.QR.Code + ".png", Data: bytes.NewReader(png)},
			Caption: caption,
		})
	})
	return err
}
