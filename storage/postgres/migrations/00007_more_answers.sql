-- Answers to questions added to the idea flow after these columns: one
-- JSON object by question id, so a new question needs no new column.

-- +goose Up
ALTER TABLE suggestions ADD COLUMN more jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(more) = 'object');

-- +goose Down
ALTER TABLE suggestions DROP COLUMN more;
