-- Retention: after RETENTION_DAYS an idea keeps its content for the city but
-- loses its link to the student who sent it.

-- +goose Up
ALTER TABLE suggestions ALTER COLUMN participant_id DROP NOT NULL;

-- +goose Down
-- Ideas that lost their author cannot get one back; they are deleted.
DELETE FROM suggestions WHERE participant_id IS NULL;
ALTER TABLE suggestions ALTER COLUMN participant_id SET NOT NULL;
