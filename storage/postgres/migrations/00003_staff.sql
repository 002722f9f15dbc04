-- Staff: what became of each idea (status, an answer for the student),
-- moderation (hidden ideas), an audit trail of every staff and teacher action,
-- and how to reach a student to tell them about their idea.

-- +goose Up
ALTER TABLE suggestions
    ADD COLUMN status            text        NOT NULL DEFAULT 'new',
    -- Shown to the student and exported; '' until staff write one.
    ADD COLUMN staff_answer      text        NOT NULL DEFAULT '',
    -- NULL means visible. A reason rather than a flag, so exports and the
    -- audit log say why an idea was taken out.
    ADD COLUMN hidden_reason     text        NULL,
    -- The reference of the idea this one repeats, when status = 'duplicate'.
    -- SET NULL: erasing the original's author must not erase this idea.
    ADD COLUMN duplicate_of      text        NULL,
    ADD COLUMN status_changed_at timestamptz NULL,
    ADD COLUMN reviewed          boolean     NOT NULL DEFAULT false,
    -- Possible profanity, set by an automatic check; staff decide.
    ADD COLUMN flagged           boolean     NOT NULL DEFAULT false,
    ADD CONSTRAINT suggestions_status_check CHECK (status IN (
        'new', 'under_review', 'selected', 'in_progress', 'done', 'not_feasible', 'duplicate')),
    ADD CONSTRAINT suggestions_hidden_reason_check CHECK (
        hidden_reason IN ('abusive', 'off_topic', 'personal_data')),
    ADD CONSTRAINT suggestions_duplicate_of_fkey FOREIGN KEY (duplicate_of)
        REFERENCES suggestions (reference) ON DELETE SET NULL,
    ADD CONSTRAINT suggestions_duplicate_of_check CHECK (duplicate_of <> reference);

-- Staff list and export ideas by status and by date across all forums.
CREATE INDEX suggestions_status_idx ON suggestions (status);
CREATE INDEX suggestions_created_at_idx ON suggestions (created_at);
-- Makes the ON DELETE SET NULL of duplicate_of an index lookup.
CREATE INDEX suggestions_duplicate_of_idx ON suggestions (duplicate_of);

-- Every staff and teacher action, written in the same transaction as the
-- change itself. Actor is a participant id, or 'cli' for the command line.
CREATE TABLE audit_log (
    id     bigserial   PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    actor  text        NOT NULL,
    action text        NOT NULL,
    target text        NOT NULL DEFAULT '',
    before jsonb       NULL,
    after  jsonb       NULL,
    CONSTRAINT audit_log_actor_check CHECK (actor <> ''),
    CONSTRAINT audit_log_action_check CHECK (action <> '')
);

-- How to reach a student to tell them what became of their idea. The chat id
-- is the one Telegram-side number stored anywhere; it is needed to send a
-- message, and it is never exported. Cascades keep erasing a participant
-- complete.
CREATE TABLE contacts (
    participant_id text        PRIMARY KEY REFERENCES participants (id) ON DELETE CASCADE,
    chat_id        bigint      NOT NULL,
    opted_out      boolean     NOT NULL DEFAULT false,
    -- Telegram refused delivery (the student blocked the bot or left).
    unreachable    boolean     NOT NULL DEFAULT false,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE contacts;
DROP TABLE audit_log;
DROP INDEX suggestions_duplicate_of_idx;
DROP INDEX suggestions_created_at_idx;
DROP INDEX suggestions_status_idx;
ALTER TABLE suggestions
    DROP CONSTRAINT suggestions_duplicate_of_check,
    DROP CONSTRAINT suggestions_duplicate_of_fkey,
    DROP CONSTRAINT suggestions_hidden_reason_check,
    DROP CONSTRAINT suggestions_status_check,
    DROP COLUMN flagged,
    DROP COLUMN reviewed,
    DROP COLUMN status_changed_at,
    DROP COLUMN duplicate_of,
    DROP COLUMN hidden_reason,
    DROP COLUMN staff_answer,
    DROP COLUMN status;
