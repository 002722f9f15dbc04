-- Broadcasts: one message to every participant of a forum (staff's
-- /announce; later "voting is open" and the results). The recipients are
-- fixed when the broadcast is created, one row each in broadcast_deliveries,
-- so a bot restarted mid-way resumes with nobody missed, and a student who
-- joins afterwards is not sent an old broadcast. Rows are leased to one
-- sender at a time (lease_owner, lease_until), as notifications are.

-- +goose Up
CREATE TABLE broadcasts (
    id              bigserial   PRIMARY KEY,
    forum_id        bigint      NOT NULL REFERENCES forums (id) ON DELETE CASCADE,
    -- What is sent, rendered per recipient by the bot's renderer of this kind.
    kind            text        NOT NULL,
    payload         jsonb       NOT NULL DEFAULT '{}',
    -- Participant id of the staff member ('' from the CLI).
    created_by      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- The same request handled twice (a double tap, a redelivered update)
    -- creates one broadcast.
    idempotency_key text        NOT NULL,
    recipients      integer     NOT NULL,
    CONSTRAINT broadcasts_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT broadcasts_kind_check CHECK (kind <> ''),
    CONSTRAINT broadcasts_idempotency_key_check CHECK (idempotency_key <> '')
);

CREATE INDEX broadcasts_forum_id_idx ON broadcasts (forum_id);

CREATE TABLE broadcast_deliveries (
    broadcast_id   bigint      NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    -- Cascade: /delete erases a student's deliveries with them.
    participant_id text        NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    -- pending: to send; sent: Telegram accepted it; unreachable: blocked
    -- the bot or no chat on record; opted_out: said /stop; failed: given up
    -- after repeated errors.
    state          text        NOT NULL DEFAULT 'pending',
    tries          integer     NOT NULL DEFAULT 0,
    due_at         timestamptz NOT NULL DEFAULT now(),
    lease_owner    text        NULL,
    lease_until    timestamptz NULL,
    sent_at        timestamptz NULL,
    PRIMARY KEY (broadcast_id, participant_id),
    CONSTRAINT broadcast_deliveries_state_check
        CHECK (state IN ('pending', 'sent', 'unreachable', 'opted_out', 'failed'))
);

CREATE INDEX broadcast_deliveries_due_idx ON broadcast_deliveries (due_at) WHERE state = 'pending';
CREATE INDEX broadcast_deliveries_participant_id_idx ON broadcast_deliveries (participant_id);

-- +goose Down
DROP TABLE broadcast_deliveries;
DROP TABLE broadcasts;
