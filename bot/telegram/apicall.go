package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	tgbot "github.com/go-telegram/bot"
)

// postJSON calls a Bot API method with params as JSON, for the calls on
// every update's path (sendMessage, editMessageText, answerCallbackQuery).
// The go-telegram client builds a multipart form by reflection and decodes
// the whole Message Telegram returns, which the bot never reads: that was
// about a fifth of its CPU per update. Errors are the client's own values
// (tgbot.ErrorForbidden, *tgbot.TooManyRequestsError, ...), so withRetry and
// the callers treat both paths alike.
func (b *Bot) postJSON(ctx context.Context, method string, params any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("encode %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.apiURL(method), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", method, redact(err, b.cfg.Token))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", method, redact(err, b.cfg.Token))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", method, err)
	}
	if bytes.HasPrefix(raw, okAnswer) {
		return nil // the usual answer: no need to decode the message it echoes
	}
	var answer struct {
		OK          bool   `json:"ok"`
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return fmt.Errorf("%s: HTTP %d, answer not JSON: %w", method, resp.StatusCode, err)
	}
	if answer.OK {
		return nil
	}
	return apiError(method, answer.ErrorCode, answer.Description, answer.Parameters.RetryAfter)
}

// okAnswer is how the Bot API's answer to a successful call begins.
var okAnswer = []byte(`{"ok":true`)

// apiError is the go-telegram client's error for a Bot API error answer.
func apiError(method string, code int, description string, retryAfter int) error {
	switch code {
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tgbot.ErrorForbidden, description)
	case http.StatusBadRequest:
		return fmt.Errorf("%w, %s", tgbot.ErrorBadRequest, description)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", tgbot.ErrorUnauthorized, description)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", tgbot.ErrorNotFound, description)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", tgbot.ErrorConflict, description)
	case http.StatusTooManyRequests:
		return &tgbot.TooManyRequestsError{
			Message:    fmt.Sprintf("%s, %s", tgbot.ErrorTooManyRequests, description),
			RetryAfter: retryAfter,
		}
	}
	return fmt.Errorf("error response from telegram for method %s, %d %s", method, code, description)
}
