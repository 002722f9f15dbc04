-- The school forum after the ideas: phases (collecting → shortlisting →
-- voting → results, or closed), the shortlist staff and teachers pick from
-- the ideas, and the votes on it. The forum's open flag becomes the closed
-- phase: a closed forum remembers where reopening returns to.

-- +goose Up
ALTER TABLE forums
    ADD COLUMN phase                 text        NOT NULL DEFAULT 'collecting',
    -- Set exactly while the forum is closed: the phase it was closed from.
    ADD COLUMN reopens_to            text        NULL,
    -- Collecting ends at closes_at; voting opens and closes at these, if set.
    ADD COLUMN vote_opens_at         timestamptz NULL,
    ADD COLUMN vote_closes_at        timestamptz NULL,
    ADD COLUMN shortlist_size        int         NOT NULL DEFAULT 10,
    ADD COLUMN votes_per_participant int         NOT NULL DEFAULT 2,
    ADD CONSTRAINT forums_phase_check CHECK (phase IN ('collecting', 'shortlisting', 'voting', 'results', 'closed')),
    ADD CONSTRAINT forums_reopens_to_check CHECK (
        (phase = 'closed') = (reopens_to IS NOT NULL)
        AND reopens_to IN ('collecting', 'shortlisting', 'voting', 'results')),
    ADD CONSTRAINT forums_shortlist_size_check CHECK (shortlist_size BETWEEN 1 AND 20),
    ADD CONSTRAINT forums_votes_per_participant_check CHECK (votes_per_participant BETWEEN 1 AND 5),
    ADD CONSTRAINT forums_vote_dates_check CHECK (vote_closes_at > vote_opens_at);

UPDATE forums SET phase = 'closed', reopens_to = 'collecting' WHERE NOT is_open;
ALTER TABLE forums DROP COLUMN is_open;

-- The automatic moves look for forums whose date has come.
CREATE INDEX forums_phase_idx ON forums (phase) WHERE phase IN ('collecting', 'shortlisting', 'voting');

-- One shortlist item: one idea, or several merged. Its texts are written by
-- staff or the teacher (or copied from the one idea), by language:
-- {"cs": {"title": "...", "description": "..."}}; language is the one shown
-- when a student's own is missing.
CREATE TABLE shortlist_items (
    id         bigserial   PRIMARY KEY,
    forum_id   bigint      NOT NULL REFERENCES forums (id) ON DELETE CASCADE,
    position   int         NOT NULL,
    texts      jsonb       NOT NULL,
    language   text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Lets votes say which forum an item is of, checked by a foreign key.
    CONSTRAINT shortlist_items_id_forum_key UNIQUE (id, forum_id),
    -- Checked at the end of each statement, so removing an item can close
    -- the gap by moving every later one up at once.
    CONSTRAINT shortlist_items_position_key UNIQUE (forum_id, position) DEFERRABLE INITIALLY IMMEDIATE,
    CONSTRAINT shortlist_items_position_check CHECK (position > 0),
    CONSTRAINT shortlist_items_language_check CHECK (language IN ('cs', 'en', 'nb', 'uk')),
    CONSTRAINT shortlist_items_texts_check CHECK (jsonb_typeof(texts) = 'object' AND texts ? language)
);

-- The ideas an item carries. An idea is in at most one item. Erasing a
-- student erases their ideas and so their membership; the item stays.
CREATE TABLE shortlist_members (
    item_id       bigint NOT NULL REFERENCES shortlist_items (id) ON DELETE CASCADE,
    suggestion_id bigint NOT NULL REFERENCES suggestions (id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, suggestion_id),
    CONSTRAINT shortlist_members_suggestion_id_key UNIQUE (suggestion_id)
);

-- One vote of one participant for one item: at most one per item by the
-- key; at most votes_per_participant per forum by the store, which locks the
-- participant's forum_participants row to count.
CREATE TABLE votes (
    forum_id       bigint      NOT NULL,
    item_id        bigint      NOT NULL,
    participant_id text        NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    voted_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, participant_id),
    -- A vote is for an item of its own forum.
    CONSTRAINT votes_item_forum_fkey FOREIGN KEY (item_id, forum_id)
        REFERENCES shortlist_items (id, forum_id) ON DELETE CASCADE
);

CREATE INDEX votes_forum_participant_idx ON votes (forum_id, participant_id);
-- Makes the ON DELETE CASCADE from participants (data erasure) an index lookup.
CREATE INDEX votes_participant_id_idx ON votes (participant_id);

-- +goose Down
DROP TABLE votes;
DROP TABLE shortlist_members;
DROP TABLE shortlist_items;
DROP INDEX forums_phase_idx;
ALTER TABLE forums ADD COLUMN is_open boolean NOT NULL DEFAULT true;
UPDATE forums SET is_open = (phase <> 'closed');
ALTER TABLE forums
    DROP CONSTRAINT forums_vote_dates_check,
    DROP CONSTRAINT forums_votes_per_participant_check,
    DROP CONSTRAINT forums_shortlist_size_check,
    DROP CONSTRAINT forums_reopens_to_check,
    DROP CONSTRAINT forums_phase_check,
    DROP COLUMN votes_per_participant,
    DROP COLUMN shortlist_size,
    DROP COLUMN vote_closes_at,
    DROP COLUMN vote_opens_at,
    DROP COLUMN reopens_to,
    DROP COLUMN phase;
