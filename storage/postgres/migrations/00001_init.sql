-- Schema for Nápad. Participants are minors: nothing here identifies a person.
-- Participant ids are keyed hashes computed by the bot; there are no names and
-- no Telegram ids anywhere in this schema.

-- +goose Up
CREATE TABLE forums (
    id         bigserial   PRIMARY KEY,
    join_code  text        NOT NULL,
    name       text        NOT NULL,
    school     text        NOT NULL DEFAULT '',
    town       text        NOT NULL DEFAULT '',
    is_open    boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT forums_join_code_key UNIQUE (join_code),
    CONSTRAINT forums_name_check CHECK (name <> '')
);

CREATE TABLE participants (
    id         text        PRIMARY KEY,
    language   text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT participants_id_check CHECK (id <> '')
);

CREATE TABLE suggestions (
    id             bigserial        PRIMARY KEY,
    reference      text             NOT NULL,
    draft_id       text             NOT NULL,
    forum_id       bigint           NOT NULL REFERENCES forums (id),
    -- Cascade so erasing a participant erases everything they wrote.
    participant_id text             NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    language       text             NOT NULL,
    scope          text             NOT NULL,
    works_well     text             NOT NULL DEFAULT '',
    improve        text             NOT NULL DEFAULT '',
    title          text             NOT NULL,
    description    text             NOT NULL DEFAULT '',
    category       text             NOT NULL DEFAULT '',
    place_text     text             NOT NULL DEFAULT '',
    latitude       double precision NULL,
    longitude      double precision NULL,
    photo_file_id  text             NOT NULL DEFAULT '',
    wants_to_help  text             NOT NULL DEFAULT '',
    submitted_at   timestamptz      NOT NULL,
    created_at     timestamptz      NOT NULL DEFAULT now(),
    -- Named explicitly: the store tells a reference collision (retry) apart
    -- from a repeated draft (idempotent success) by constraint name.
    CONSTRAINT suggestions_reference_key UNIQUE (reference),
    CONSTRAINT suggestions_draft_id_key UNIQUE (draft_id),
    CONSTRAINT suggestions_draft_id_check CHECK (draft_id <> ''),
    CONSTRAINT suggestions_title_check CHECK (title <> ''),
    CONSTRAINT suggestions_scope_check CHECK (scope IN ('school', 'town', 'both')),
    -- IS NOT NULL is spelled out because a CHECK that evaluates to NULL passes.
    -- NaN compares greater than every number in PostgreSQL, so BETWEEN rejects it.
    CONSTRAINT suggestions_location_check CHECK (
        (latitude IS NULL AND longitude IS NULL)
        OR (latitude IS NOT NULL AND longitude IS NOT NULL
            AND latitude BETWEEN -90 AND 90
            AND longitude BETWEEN -180 AND 180)
    )
);

CREATE INDEX suggestions_forum_id_created_at_idx ON suggestions (forum_id, created_at);
-- Makes the ON DELETE CASCADE from participants (data erasure) an index lookup.
CREATE INDEX suggestions_participant_id_idx ON suggestions (participant_id);

-- +goose Down
DROP TABLE suggestions;
DROP TABLE participants;
DROP TABLE forums;
