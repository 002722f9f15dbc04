-- Languages: which languages the bot speaks is the Go code's business
-- (flows.Languages), checked by the store before it writes a forum, so that
-- adding a language needs no migration. The schema keeps out only what makes
-- a forum unusable whatever the languages are: none at all, or a NULL.

-- +goose Up
ALTER TABLE forums
    DROP CONSTRAINT forums_languages_check,
    ADD CONSTRAINT forums_languages_check CHECK (
        cardinality(languages) > 0 AND array_position(languages, NULL) IS NULL
    );

-- +goose Down
-- The old list again, for new rows only (NOT VALID): forums that offer a
-- language added since keep it, rather than the rollback failing on them.
ALTER TABLE forums
    DROP CONSTRAINT forums_languages_check,
    ADD CONSTRAINT forums_languages_check CHECK (
        languages <@ ARRAY['cs', 'en', 'nb', 'uk'] AND cardinality(languages) > 0
    ) NOT VALID;
