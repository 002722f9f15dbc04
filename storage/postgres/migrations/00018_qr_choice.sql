-- Whether a forum's QR code opens a page that offers "Open in Telegram" and
-- "Continue in the browser" (the web channel's /j/<code>), so one poster
-- serves students with and without Telegram; false: it opens Telegram.

-- +goose Up
ALTER TABLE forums ADD COLUMN qr_choice boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE forums DROP COLUMN qr_choice;
