-- storyd schema version 5: a story's first title and longest text no longer depend on the
-- order in which sightings arrived. "Earliest" was the smallest seq, the order the dedup engine
-- saw the sightings in, and that order differs between runs that read several partitions
-- interleaved differently (after a restart, say). Now it is the earliest fetch time, then the
-- page url, then the position on the page (seq only breaks ties between sightings that agree in
-- all three, which have the same title and text): the same for the same input in any order, so a
-- restarted or replayed deployment gives the same rows as an uninterrupted one
-- (tests/integration/test_chaos.py compares them).

-- True when sighting a comes before sighting b in that order (both seqs must exist).
CREATE FUNCTION storyd_sighting_before(a bigint, b bigint)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (x.seen_at, x.page_url, x.position, x.seq) < (y.seen_at, y.page_url, y.position, y.seq)
      FROM storyd_sighting x, storyd_sighting y
     WHERE x.seq = a AND y.seq = b
$$;

CREATE OR REPLACE FUNCTION storyd_merge_story(p_alias bigint, p_survivor bigint, p_at timestamptz,
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
        IF a.title_seq IS NOT NULL AND (s.title_seq IS NULL
                                        OR storyd_sighting_before(a.title_seq, s.title_seq)) THEN
            s.title := a.title;
            s.title_seq := a.title_seq;
        END IF;
        IF a.text IS NOT NULL AND (s.text IS NULL OR length(a.text) > length(s.text)
                                   OR (length(a.text) = length(s.text)
                                       AND storyd_sighting_before(a.text_seq, s.text_seq))) THEN
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
