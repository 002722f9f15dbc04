-- Students who said they would like to help with an idea that made it into
-- the chosen items may leave a way to reach them about it (opt-in: a row
-- exists only once they wrote one). Erasing a student erases their offers;
-- removing the item (or its forum) removes them too.

-- +goose Up
CREATE TABLE help_offers (
    participant_id text        NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    item_id        bigint      NOT NULL REFERENCES shortlist_items (id) ON DELETE CASCADE,
    -- What the student wrote (an e-mail, a class); the bot keeps it to 200
    -- characters, the bound here only stops a runaway writer.
    contact        text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, participant_id),
    CONSTRAINT help_offers_contact_check CHECK (contact <> '' AND char_length(contact) <= 1000)
);

-- Makes the ON DELETE CASCADE from participants (data erasure) an index lookup.
CREATE INDEX help_offers_participant_id_idx ON help_offers (participant_id);

-- +goose Down
DROP TABLE help_offers;
