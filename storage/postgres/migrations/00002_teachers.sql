-- Teachers: forums they own, who may act as teacher or staff, one-time invite
-- links for teachers, and who joined which forum. People are still only
-- keyed-hash participant ids: no names, no Telegram ids.

-- +goose Up
ALTER TABLE forums
    ADD COLUMN scope     text        NOT NULL DEFAULT 'both',
    ADD COLUMN languages text[]      NOT NULL DEFAULT '{cs,en,nb,uk}',
    ADD COLUMN closes_at timestamptz NULL,
    -- NULL for forums created from the CLI. No foreign key: a teacher need
    -- not be a participant (they may never have sent an idea).
    ADD COLUMN owner_id  text        NULL,
    -- Makes creating a forum idempotent: a teacher's "create" delivered or
    -- handled twice yields one forum. NULL for forums from the CLI.
    ADD COLUMN creation_key text     NULL,
    ADD CONSTRAINT forums_creation_key_key UNIQUE (creation_key),
    ADD CONSTRAINT forums_scope_check CHECK (scope IN ('school', 'town', 'both')),
    -- Order and duplicates are the store's job; the schema keeps out unknown
    -- languages and an empty list, which would make the forum unusable.
    ADD CONSTRAINT forums_languages_check CHECK (
        languages <@ ARRAY['cs', 'en', 'nb', 'uk'] AND cardinality(languages) > 0
    );

CREATE INDEX forums_owner_id_idx ON forums (owner_id);

CREATE TABLE roles (
    participant_id text        PRIMARY KEY,
    role           text        NOT NULL,
    -- The town a teacher was invited for; '' when not tied to one.
    town           text        NOT NULL DEFAULT '',
    -- Participant id of whoever granted it; '' when granted from the CLI.
    granted_by     text        NOT NULL DEFAULT '',
    granted_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roles_participant_id_check CHECK (participant_id <> ''),
    CONSTRAINT roles_role_check CHECK (role IN ('teacher', 'staff'))
);

CREATE TABLE teacher_invites (
    code       text        PRIMARY KEY,
    town       text        NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_by    text        NULL,
    used_at    timestamptz NULL,
    CONSTRAINT teacher_invites_code_check CHECK (code <> ''),
    -- Used means both are set: RedeemInvite tests used_by alone.
    CONSTRAINT teacher_invites_used_check CHECK ((used_by IS NULL) = (used_at IS NULL))
);

-- Who joined which forum, so a teacher sees students who joined but have not
-- sent anything yet. Cascades keep erasing a participant complete.
CREATE TABLE forum_participants (
    forum_id       bigint      NOT NULL,
    participant_id text        NOT NULL,
    joined_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (forum_id, participant_id),
    CONSTRAINT forum_participants_forum_id_fkey
        FOREIGN KEY (forum_id) REFERENCES forums (id) ON DELETE CASCADE,
    CONSTRAINT forum_participants_participant_id_fkey
        FOREIGN KEY (participant_id) REFERENCES participants (id) ON DELETE CASCADE
);

-- Makes the ON DELETE CASCADE from participants (data erasure) an index lookup.
CREATE INDEX forum_participants_participant_id_idx ON forum_participants (participant_id);

-- Everyone who already submitted joined, at the latest, with their first idea.
INSERT INTO forum_participants (forum_id, participant_id, joined_at)
SELECT forum_id, participant_id, min(created_at)
FROM suggestions
GROUP BY forum_id, participant_id;

-- +goose Down
DROP TABLE forum_participants;
DROP TABLE teacher_invites;
DROP TABLE roles;
DROP INDEX forums_owner_id_idx;
ALTER TABLE forums
    DROP CONSTRAINT forums_languages_check,
    DROP CONSTRAINT forums_scope_check,
    DROP COLUMN creation_key,
    DROP COLUMN owner_id,
    DROP COLUMN closes_at,
    DROP COLUMN languages,
    DROP COLUMN scope;
