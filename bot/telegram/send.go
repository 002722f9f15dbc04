package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/qrcard"
	"github.com/healthycities/napad/flows"
)

// Send delivers the replies in order (bot.Channel). If the student blocked
// the bot, the rest is dropped and the error wraps bot.ErrUnreachable. A
// reply marked Replace takes the place of the tapped message (d.Replace)
// when there is one.
func (b *Bot) Send(ctx context.Context, d bot.Delivery) error {
	chatID, lang := d.Chat, d.Lang
	var failed error
	for _, r := range d.Replies {
		var err error
		if r.PhotoID != "" {
			if err := b.showPhoto(ctx, chatID, r.PhotoID, d.Background); err != nil {
				b.log.Warn("showing a photo failed", "err", redact(err, b.cfg.Token))
			}
		}
		switch {
		case r.QR != nil:
			err = b.sendQR(ctx, chatID, lang, r)
		case r.Picture != nil:
			err = b.sendPicture(ctx, chatID, r.Picture.Name, r.Picture.Data, b.text(lang, r.Text))
		case r.File != nil:
			err = b.sendFile(ctx, chatID, lang, r)
		case r.Replace && d.Replace != 0:
			err = b.edit(ctx, chatID, d.Replace, lang, r)
			if err != nil && !errors.Is(err, tgbot.ErrorForbidden) {
				// The tapped message cannot change (too long now, deleted, a
				// photo's caption): the reply comes as a new message instead.
				b.log.Warn("editing the tapped message failed; sending it anew", "err", redact(err, b.cfg.Token))
				err = b.sendText(ctx, chatID, lang, r, d.Background)
			}
		default:
			err = b.sendText(ctx, chatID, lang, r, d.Background)
		}
		if errors.Is(err, tgbot.ErrorForbidden) {
			return fmt.Errorf("%w: %w", bot.ErrUnreachable, redact(err, b.cfg.Token))
		}
		if err != nil {
			// The other replies may still arrive (a card after a failed picture).
			err = redact(err, b.cfg.Token)
			b.log.Error("send message", "err", err)
			failed = errors.Join(failed, err)
		}
	}
	return failed
}

// showPhoto shows a student's photo: by Telegram's file id (never
// downloaded), or, sent from the browser, uploaded from where it is kept.
func (b *Bot) showPhoto(ctx context.Context, chatID int64, fileID string, background bool) error {
	var photo models.InputFile = &models.InputFileString{Data: fileID}
	if id, web := strings.CutPrefix(fileID, webPhotoPrefix); web {
		if b.cfg.WebPhotos == nil {
			return errors.New("a photo from the browser, and no store of them")
		}
		jpeg, found, err := b.cfg.WebPhotos.Get(ctx, id)
		if err != nil || !found {
			return fmt.Errorf("a photo from the browser (found=%v): %w", found, err)
		}
		photo = &models.InputFileUpload{Filename: "student-photo.jpg", Data: bytes.NewReader(jpeg)}
	}
	if err := b.throttle.slot(ctx, chatID, background); err != nil {
		return err
	}
	_, err := withRetry(ctx, b, "sendPhoto", func() (*models.Message, error) {
		return b.api.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: chatID, Photo: photo})
	})
	return err
}

// sendKey says one sentence in a chat, outside any conversation.
func (b *Bot) sendKey(ctx context.Context, chatID int64, lang, key string) {
	pid := ""
	if chatID > 0 { // a private chat has its user's id; a group is nobody's contact
		pid = b.participant(chatID)
	}
	_ = b.rt.Deliver(ctx, b, pid, bot.Delivery{Chat: chatID, Lang: lang, Replies: []flows.Reply{{Text: flows.Msg{Key: key}}}})
}

// sendText sends a reply as one or more text messages.
func (b *Bot) sendText(ctx context.Context, chatID int64, lang string, r flows.Reply, background bool) error {
	for _, msg := range b.messages(chatID, lang, r) {
		if err := b.throttle.slot(ctx, chatID, background); err != nil {
			return err
		}
		if _, err := withRetry(ctx, b, "sendMessage", func() (struct{}, error) {
			return struct{}{}, b.postJSON(ctx, "sendMessage", msg)
		}); err != nil {
			return err
		}
	}
	return nil
}

// errTooLongToEdit: a reply of more than one message cannot take the place
// of one.
var errTooLongToEdit = errors.New("the reply is longer than one message")

// edit shows a reply in place of an earlier message of the bot.
func (b *Bot) edit(ctx context.Context, chatID int64, messageID int, lang string, r flows.Reply) error {
	msgs := b.messages(chatID, lang, r)
	if len(msgs) > 1 {
		return errTooLongToEdit
	}
	msg := msgs[0]
	if err := b.throttle.slot(ctx, 0, false); err != nil { // an edit: the overall pace only
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
	png, err := qrcard.PNG(bot.QRLink(*r.QR, b.JoinLink(r.QR.Code), b.cfg.PublicURL), r.QR.Name, flows.JoinCommand(r.QR.ShortCode))
	if err != nil {
		return err
	}
	return b.sendPicture(ctx, chatID, "napad-"+r.QR.Code+".png", png, b.text(lang, r.Text))
}

// sendPicture uploads a picture as a photo, with a caption.
func (b *Bot) sendPicture(ctx context.Context, chatID int64, name string, png []byte, caption string) error {
	if err := b.throttle.slot(ctx, chatID, false); err != nil {
		return err
	}
	_, err := withRetry(ctx, b, "sendPhoto", func() (*models.Message, error) {
		return b.api.SendPhoto(ctx, &tgbot.SendPhotoParams{
			ChatID:  chatID,
			Photo:   &models.InputFileUpload{Filename: name, Data: bytes.NewReader(png)},
			Caption: caption,
		})
	})
	return err
}
