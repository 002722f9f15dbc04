package telegram

import (
	"context"
	"fmt"
	"io"
	"net/http"

	tgbot "github.com/go-telegram/bot"

	"github.com/healthycities/napad/bot"
)

// FetchFile downloads a file someone sent: getFile, then the file server.
// A file over limit bytes is refused before (by its size as Telegram tells
// it) or while (by what arrives) it is downloaded.
func (b *Bot) FetchFile(ctx context.Context, fileID string, limit int64) ([]byte, error) {
	link, err := withRetry(ctx, b, "getFile", func() (string, error) {
		f, err := b.api.GetFile(ctx, &tgbot.GetFileParams{FileID: fileID})
		if err != nil {
			return "", err
		}
		if f.FileSize > limit {
			return "", fmt.Errorf("%d bytes: %w", f.FileSize, bot.ErrFileTooLarge)
		}
		return b.api.FileDownloadLink(f), nil
	})
	if err != nil {
		return nil, fmt.Errorf("telegram: get file: %w", redact(err, b.cfg.Token))
	}
	data, err := b.download(ctx, link, limit)
	if err != nil {
		return nil, fmt.Errorf("telegram: download file: %w", redact(err, b.cfg.Token))
	}
	return data, nil
}

func (b *Bot) download(ctx context.Context, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("file server answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("more than %d bytes: %w", limit, bot.ErrFileTooLarge)
	}
	return data, nil
}

var _ bot.FileSource = (*Bot)(nil)
