-- The emotional map ("pocitová mapa"): students mark places of their town
-- with a feeling and maybe one line about them (flows/pins.go). A forum may
-- set its town's area on the map and up to three feelings of its own.
-- Which languages and age bands exist is the Go code's business, as for
-- forums (00006): the schema keeps out only what no code could make sense
-- of.

-- +goose Up
ALTER TABLE forums
    -- The forum's town: a centre and a radius, all three or none.
    ADD COLUMN map_lat       double precision NULL,
    ADD COLUMN map_lon       double precision NULL,
    ADD COLUMN map_radius_km double precision NULL,
    -- The forum's own feelings in the teacher's words; pins name them
    -- own1..own3 by their position here.
    ADD COLUMN map_feelings  text[]           NOT NULL DEFAULT '{}',
    -- NaN is spelled out: PostgreSQL accepts 'NaN'::float8 and sorts it
    -- above every number. IS NOT NULL is spelled out because a CHECK that
    -- evaluates to NULL passes.
    ADD CONSTRAINT forums_map_area_check CHECK (
        (map_lat IS NULL AND map_lon IS NULL AND map_radius_km IS NULL)
        OR (map_lat IS NOT NULL AND map_lon IS NOT NULL AND map_radius_km IS NOT NULL
            AND map_lat <> 'NaN' AND map_lon <> 'NaN' AND map_radius_km <> 'NaN'
            AND map_lat BETWEEN -90 AND 90
            AND map_lon BETWEEN -180 AND 180
            AND map_radius_km > 0 AND map_radius_km <= 200)
    ),
    ADD CONSTRAINT forums_map_feelings_check CHECK (
        cardinality(map_feelings) <= 3
        AND array_position(map_feelings, NULL) IS NULL
        AND array_position(map_feelings, '') IS NULL
    );

CREATE TABLE pins (
    id             bigserial        PRIMARY KEY,
    -- Cascade so erasing a participant erases their pins, as their ideas;
    -- NULL once retention detached the pin from its student.
    participant_id text             NULL REFERENCES participants (id) ON DELETE CASCADE,
    forum_id       bigint           NOT NULL,
    draft_id       text             NOT NULL,
    latitude       double precision NULL,
    longitude      double precision NULL,
    -- The place as typed, when the student's device could not send a pin.
    place_text     text             NULL,
    feeling        text             NOT NULL,
    comment        text             NULL,
    language       text             NOT NULL,
    age_band       text             NULL,
    -- Possible profanity in the comment, set by an automatic check; staff decide.
    flagged        boolean          NOT NULL DEFAULT false,
    reviewed_at    timestamptz      NULL,
    -- NULL means visible: a hidden pin stays out of results and the map.
    hidden_at      timestamptz      NULL,
    created_at     timestamptz      NOT NULL DEFAULT now(),
    -- Named explicitly: the store tells an unknown forum by its name.
    CONSTRAINT pins_forum_id_fkey FOREIGN KEY (forum_id) REFERENCES forums (id),
    -- A pin is stored once however often the bot retries it. Also makes
    -- the cascade from participants, and counting a student's pins, an
    -- index lookup.
    CONSTRAINT pins_participant_draft_key UNIQUE (participant_id, draft_id),
    CONSTRAINT pins_draft_id_check CHECK (draft_id <> ''),
    CONSTRAINT pins_location_check CHECK (
        (latitude IS NULL AND longitude IS NULL)
        OR (latitude IS NOT NULL AND longitude IS NOT NULL
            AND latitude <> 'NaN' AND longitude <> 'NaN'
            AND latitude BETWEEN -90 AND 90
            AND longitude BETWEEN -180 AND 180
            -- 0, 0 is what a broken device sends, not a place in a town.
            AND NOT (latitude = 0 AND longitude = 0))
    ),
    CONSTRAINT pins_place_text_check CHECK (btrim(place_text) <> '' AND char_length(place_text) <= 120),
    -- Somewhere: a pin on the map, or a place typed.
    CONSTRAINT pins_place_check CHECK (latitude IS NOT NULL OR place_text IS NOT NULL),
    CONSTRAINT pins_feeling_check CHECK (
        feeling IN ('like', 'unsafe', 'change', 'freetime', 'own1', 'own2', 'own3')),
    CONSTRAINT pins_comment_check CHECK (btrim(comment) <> '' AND char_length(comment) <= 200),
    CONSTRAINT pins_language_check CHECK (language <> ''),
    CONSTRAINT pins_age_band_check CHECK (age_band <> ''),
    -- Only staff hide a pin, and they have then reviewed it.
    CONSTRAINT pins_hidden_check CHECK (hidden_at IS NULL OR reviewed_at IS NOT NULL)
);

CREATE INDEX pins_forum_id_idx ON pins (forum_id);
-- The comments staff have yet to check, flagged ones first, then the oldest.
CREATE INDEX pins_review_idx ON pins (flagged DESC, id)
    WHERE reviewed_at IS NULL AND comment IS NOT NULL;

-- +goose Down
DROP TABLE pins;
ALTER TABLE forums
    DROP CONSTRAINT forums_map_feelings_check,
    DROP CONSTRAINT forums_map_area_check,
    DROP COLUMN map_feelings,
    DROP COLUMN map_radius_km,
    DROP COLUMN map_lon,
    DROP COLUMN map_lat;
