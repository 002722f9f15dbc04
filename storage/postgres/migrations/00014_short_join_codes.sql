-- A forum's short code, which students type from the projector when a
-- camera refuses the QR code (/join K7Q2-M9XD): 8 characters of Crockford's
-- base32 (0-9 and A-Z without I, L, O, U: flows.JoinCodeAlphabet), 40
-- random bits, stored without the dash. The store makes the code of a new
-- forum (crypto/rand, a collision tries another); forums from before get
-- theirs here, and so does a row inserted without one (by hand, or by a
-- replica of the previous version during an upgrade).

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION new_forum_short_code() RETURNS text
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    -- gen_random_uuid draws from the server's strong random source. Of a
    -- version 4 UUID's bytes 8 to 15, the low 5 bits are all random (byte
    -- 8 spends only its top 2 bits on the variant), and 32 letters take
    -- exactly 5 bits: no letter is likelier than another.
    SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', (get_byte(u, i) & 31) + 1, 1), '' ORDER BY i)
    FROM (SELECT uuid_send(gen_random_uuid()) AS u) AS r, generate_series(8, 15) AS i
$$;
-- +goose StatementEnd

-- A volatile default is evaluated for every existing row: this fills the
-- column in.
ALTER TABLE forums
    ADD COLUMN short_code text NOT NULL DEFAULT new_forum_short_code(),
    ADD CONSTRAINT forums_short_code_check CHECK (short_code ~ '^[0-9A-HJKMNP-TV-Z]{8}$');

-- Two forums that drew the same code (with n forums, about n²/2^41: never
-- in practice) draw again until every code is unique.
-- +goose StatementBegin
DO $$
BEGIN
    LOOP
        UPDATE forums SET short_code = new_forum_short_code()
        WHERE id IN (
            SELECT id FROM (
                SELECT id, row_number() OVER (PARTITION BY short_code ORDER BY id) AS n FROM forums
            ) AS numbered
            WHERE n > 1
        );
        EXIT WHEN NOT FOUND;
    END LOOP;
END
$$;
-- +goose StatementEnd

ALTER TABLE forums ADD CONSTRAINT forums_short_code_key UNIQUE (short_code);

-- +goose Down
ALTER TABLE forums
    DROP CONSTRAINT forums_short_code_key,
    DROP CONSTRAINT forums_short_code_check,
    DROP COLUMN short_code;
DROP FUNCTION new_forum_short_code();
