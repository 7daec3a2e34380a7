-- storyd schema version 2: the stories of the pages, written in the same
-- transaction as the page rows and the offsets of their batch.
--
-- A sighting is one story item on one page (story x page x kind x title as
-- shown x position x time). Its columns also hold the dedup engine's input
-- for that item, in the order the engine saw it (seq): replaying the
-- sightings in seq order into a fresh engine rebuilds exactly the state an
-- uninterrupted daemon has, which is how a restarted storyd makes the same
-- decisions. One storyd deployment (one consumer group) writes one database.
--
-- Story ids are the engine's 64-bit ids stored as bigint (two's complement);
-- story_key is the same id as shown by `storyd process` ("s" + 16 hex digits).

ALTER TABLE storyd_page_event
    ADD COLUMN page_kind       text,
    ADD COLUMN canonical_url   text,
    ADD COLUMN profile         text,
    ADD COLUMN profile_version text,
    ADD COLUMN charset         text,
    ADD COLUMN item_count      integer,
    -- Why extraction failed (error class: message); NULL when it worked.
    ADD COLUMN extract_error   text;

-- Distinct item texts, once each, by the XXH3-128 of their match key.
CREATE TABLE storyd_text (
    text_hash bytea PRIMARY KEY,
    text      text NOT NULL, -- display text of the first item with this key
    text_key  text NOT NULL  -- the match key the dedup engine reads
);

CREATE TABLE storyd_story (
    story_id           bigint PRIMARY KEY,
    story_key          text GENERATED ALWAYS AS ('s' || lpad(to_hex(story_id), 16, '0')) STORED,
    -- The title of the story's first titled sighting, and that sighting.
    title              text,
    title_seq          bigint,
    -- The longest text seen (a body beats a lead, a lead beats a cut lead),
    -- the earliest of equally long ones. Both choices are associative, so
    -- the row does not depend on where batches begin and end.
    text               text,
    text_seq           bigint,
    first_seen_at      timestamptz NOT NULL,
    last_seen_at       timestamptz NOT NULL,
    sightings          bigint      NOT NULL,
    first_sighting_seq bigint      NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX storyd_story_last_seen ON storyd_story (last_seen_at);

CREATE TABLE storyd_sighting (
    seq                 bigint PRIMARY KEY, -- the dedup engine's input order
    story_id            bigint      NOT NULL, -- the story now (re-pointed on merges)
    story_id_at_sighting bigint     NOT NULL, -- what the engine answered then (evidence)
    created_story       boolean     NOT NULL, -- this item started a story
    kafka_topic         text        NOT NULL,
    kafka_partition     integer     NOT NULL,
    kafka_offset        bigint      NOT NULL,
    page_url            text        NOT NULL,
    position            integer     NOT NULL,
    kind                text        NOT NULL, -- article | teaser | headline
    title               text,                 -- as shown on this page
    text_hash           bytea,                -- storyd_text; NULL for headlines
    text_length         integer,
    brand               text,
    section             text,
    published_at        timestamptz,
    published_precision text,
    cut                 text        NOT NULL, -- none | site | page_end
    item_url            text,
    seen_at             timestamptz NOT NULL,
    -- The rest of the engine's input, as it was given.
    seen_ms             bigint      NOT NULL,
    title_key           text,
    title_cut           boolean     NOT NULL
);

CREATE INDEX storyd_sighting_story ON storyd_sighting (story_id);
CREATE INDEX storyd_sighting_page
    ON storyd_sighting (kafka_topic, kafka_partition, kafka_offset, position);

-- Why an item joined the stories it joined: one row per link the engine found.
CREATE TABLE storyd_story_link (
    sighting_seq    bigint           NOT NULL,
    link_no         smallint         NOT NULL,
    reason          text             NOT NULL, -- url | text | prefix | title | title_prefix | minhash
    score           double precision NOT NULL,
    linked_story_id bigint           NOT NULL, -- the id linked to, as it was then
    PRIMARY KEY (sighting_seq, link_no)
);

CREATE TABLE storyd_title_variant (
    story_id      bigint      NOT NULL,
    title         text        NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    sightings     bigint      NOT NULL,
    PRIMARY KEY (story_id, title)
);

-- Ids merged into another story. A story row exists for survivors only.
CREATE TABLE storyd_story_alias (
    alias_id     bigint PRIMARY KEY,
    alias_key    text GENERATED ALWAYS AS ('s' || lpad(to_hex(alias_id), 16, '0')) STORED,
    story_id     bigint      NOT NULL, -- the survivor now
    merged_at    timestamptz NOT NULL,
    merged_by_seq bigint     NOT NULL  -- the sighting whose item joined the two
);

CREATE INDEX storyd_story_alias_story ON storyd_story_alias (story_id);

-- Folds story p_alias into p_survivor: its aggregates, sightings, title
-- variants and earlier aliases. An alias that has no row yet (created and
-- merged within one batch) only gets its alias row. Raises when the survivor
-- is missing, so a broken batch aborts instead of losing a story.
CREATE FUNCTION storyd_merge_story(p_alias bigint, p_survivor bigint, p_at timestamptz,
                                   p_seq bigint)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a storyd_story%ROWTYPE;
    s storyd_story%ROWTYPE;
BEGIN
    IF p_alias = p_survivor THEN
        RETURN;
    END IF;
    DELETE FROM storyd_story WHERE story_id = p_alias RETURNING * INTO a;
    IF FOUND THEN
        SELECT * INTO s FROM storyd_story WHERE story_id = p_survivor FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'storyd merge: survivor % of % has no story row', p_survivor, p_alias
                USING ERRCODE = 'SDM01';
        END IF;
        -- The same choices as the batch upsert: the earliest title, the longest text.
        IF a.title_seq IS NOT NULL AND (s.title_seq IS NULL OR a.title_seq < s.title_seq) THEN
            s.title := a.title;
            s.title_seq := a.title_seq;
        END IF;
        IF a.text IS NOT NULL AND (s.text IS NULL OR length(a.text) > length(s.text)
                                   OR (length(a.text) = length(s.text)
                                       AND a.text_seq < s.text_seq)) THEN
            s.text := a.text;
            s.text_seq := a.text_seq;
        END IF;
        UPDATE storyd_story
           SET title = s.title, title_seq = s.title_seq, text = s.text, text_seq = s.text_seq,
               first_seen_at = least(s.first_seen_at, a.first_seen_at),
               last_seen_at = greatest(s.last_seen_at, a.last_seen_at),
               sightings = s.sightings + a.sightings,
               first_sighting_seq = least(s.first_sighting_seq, a.first_sighting_seq),
               updated_at = now()
         WHERE story_id = p_survivor;
    END IF;
    UPDATE storyd_sighting SET story_id = p_survivor WHERE story_id = p_alias;
    INSERT INTO storyd_title_variant AS v (story_id, title, first_seen_at, last_seen_at, sightings)
    SELECT p_survivor, title, first_seen_at, last_seen_at, sightings
      FROM storyd_title_variant WHERE story_id = p_alias
    ON CONFLICT (story_id, title) DO UPDATE
       SET first_seen_at = least(v.first_seen_at, excluded.first_seen_at),
           last_seen_at = greatest(v.last_seen_at, excluded.last_seen_at),
           sightings = v.sightings + excluded.sightings;
    DELETE FROM storyd_title_variant WHERE story_id = p_alias;
    UPDATE storyd_story_alias SET story_id = p_survivor WHERE story_id = p_alias;
    INSERT INTO storyd_story_alias (alias_id, story_id, merged_at, merged_by_seq)
    VALUES (p_alias, p_survivor, p_at, p_seq)
    ON CONFLICT (alias_id) DO UPDATE SET story_id = excluded.story_id;
END;
$$;
