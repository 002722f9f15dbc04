-- Photos students send through the web channel (bot/web). A Telegram photo
-- stays at Telegram and only its file id is stored; a browser has nowhere
-- else to keep it, so the photo itself is kept here, already re-encoded as
-- a JPEG of at most 1600 px without metadata (no EXIF, no GPS). An idea
-- refers to it as photo_file_id 'web:' || id. Photos no idea refers to are
-- deleted after a while (PhotoStore.DeleteUnused), and the ones of a
-- student who deletes their data at once.

-- +goose Up
CREATE TABLE web_photos (
    id         text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{16,64}$'),
    jpeg       bytea       NOT NULL CHECK (octet_length(jpeg) BETWEEN 1 AND 4194304),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- DeleteUnused looks for old photos.
CREATE INDEX web_photos_created_at ON web_photos (created_at);

-- +goose Down
DROP TABLE web_photos;
