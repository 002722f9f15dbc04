-- How each idea reached Nápad: through Telegram or through the browser (the
-- web channel, bot/web). Staff see it in the exports, to know whom each way
-- of taking part reaches. Every idea stored before this came through
-- Telegram, the only channel there was, hence the default. The list is
-- flows.Channels; a new channel adds its name here too.

-- +goose Up
ALTER TABLE suggestions
    ADD COLUMN channel text NOT NULL DEFAULT 'telegram',
    ADD CONSTRAINT suggestions_channel_check CHECK (channel IN ('telegram', 'web'));

-- +goose Down
ALTER TABLE suggestions DROP COLUMN channel;
