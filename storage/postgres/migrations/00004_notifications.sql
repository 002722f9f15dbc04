-- Telling students what became of their ideas: one row per idea, holding the
-- latest status change not yet sent. Students get at most one message per
-- idea a day: a change within a day of the last message replaces a pending
-- one and waits until a day after that message.

-- +goose Up
CREATE TABLE notifications (
    -- Cascade: erasing a student (and so their ideas) erases this too.
    suggestion_id bigint      PRIMARY KEY REFERENCES suggestions (id) ON DELETE CASCADE,
    status        text        NOT NULL,
    answer        text        NOT NULL DEFAULT '',
    -- When to send it; while a notifier sends it, the end of its lease.
    due_at        timestamptz NOT NULL,
    -- When it was sent, or dropped (the student said /stop, blocked the bot,
    -- has no chat on record, or the idea was hidden). NULL means pending.
    sent_at       timestamptz NULL,
    -- When the student last got a message about this idea.
    last_sent_at  timestamptz NULL,
    -- Failed sends of this status, given up after 10.
    attempts      int         NOT NULL DEFAULT 0,
    -- When a notifier took it to send; NULL while it waits. A change made
    -- meanwhile clears it, so the notifier knows its message is not the latest.
    claimed_at    timestamptz NULL
);

-- The notifier's query: pending rows that are due.
CREATE INDEX notifications_due_at_idx ON notifications (due_at) WHERE sent_at IS NULL;

-- +goose Down
DROP TABLE notifications;
