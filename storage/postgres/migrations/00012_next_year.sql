-- Next year's forum starts with what became of last year's: a forum may name
-- the forum it follows (same town; no forum follows itself, directly or
-- round a cycle, which the store checks), and each shortlist item carries
-- the public answer of the school or town: a status and the staff's words,
-- by language like the item's texts: {"cs": "...", "en": "..."}.

-- +goose Up
ALTER TABLE forums
    -- Deleting last year's forum only unlinks this year's.
    ADD COLUMN previous_forum_id bigint NULL REFERENCES forums (id) ON DELETE SET NULL,
    ADD CONSTRAINT forums_previous_not_self_check CHECK (previous_forum_id <> id);

ALTER TABLE shortlist_items
    -- NULL: not answered yet.
    ADD COLUMN answer_status text        NULL,
    ADD COLUMN answers       jsonb       NOT NULL DEFAULT '{}',
    ADD COLUMN answered_at   timestamptz NULL,
    ADD CONSTRAINT shortlist_items_answer_status_check
        CHECK (answer_status IN ('under_review', 'selected', 'in_progress', 'done', 'not_feasible')),
    ADD CONSTRAINT shortlist_items_answers_check CHECK (jsonb_typeof(answers) = 'object');

-- +goose Down
ALTER TABLE shortlist_items
    DROP CONSTRAINT shortlist_items_answers_check,
    DROP CONSTRAINT shortlist_items_answer_status_check,
    DROP COLUMN answered_at,
    DROP COLUMN answers,
    DROP COLUMN answer_status;
ALTER TABLE forums
    DROP CONSTRAINT forums_previous_not_self_check,
    DROP COLUMN previous_forum_id;
