-- storyd schema version 1: one row per consumed page event, the events that
-- could not be decoded, and the consumer offsets that make each batch
-- effectively-once (rows and offsets commit in one transaction).

CREATE TABLE storyd_page_event (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url             text        NOT NULL,
    final_url       text,
    fetched_at      timestamptz,
    http_status     integer,
    content_type    text,
    body_size       integer     NOT NULL,
    -- XXH3-128 of the body as received; equal bodies have equal hashes.
    content_hash    bytea       NOT NULL,
    source_id       text,
    publisher_hint  text,
    kafka_topic     text        NOT NULL,
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    kafka_timestamp timestamptz,
    received_at     timestamptz NOT NULL
);

-- Deliberately NOT unique: a duplicate row must show up as a broken offset
-- protocol in the tests instead of being hidden by a constraint.
CREATE INDEX storyd_page_event_coordinates
    ON storyd_page_event (kafka_topic, kafka_partition, kafka_offset);
CREATE INDEX storyd_page_event_url ON storyd_page_event (url);

-- Events whose bytes could not be decoded. The dead-letter topic comes later;
-- until then this table accounts for every offset that produced no page row.
CREATE TABLE storyd_rejected_event (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kafka_topic     text        NOT NULL,
    kafka_partition integer     NOT NULL,
    kafka_offset    bigint      NOT NULL,
    kafka_key       bytea,
    value_size      integer     NOT NULL,
    error_class     text        NOT NULL,
    error_message   text        NOT NULL,
    received_at     timestamptz NOT NULL
);

CREATE INDEX storyd_rejected_event_coordinates
    ON storyd_rejected_event (kafka_topic, kafka_partition, kafka_offset);

-- The next offset to consume per partition, written in the same transaction
-- as the rows of the batch that consumed up to it.
CREATE TABLE storyd_consumer_offset (
    consumer_group  text        NOT NULL,
    kafka_topic     text        NOT NULL,
    kafka_partition integer     NOT NULL,
    next_offset     bigint      NOT NULL CHECK (next_offset >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, kafka_topic, kafka_partition)
);

-- Moves a partition's stored offset from p_expected to p_next, or raises.
-- p_expected NULL means "nothing was stored when I took the partition". A
-- mismatch means another consumer advanced the partition since this one read
-- it (a stale owner): raising here aborts the whole batch on the server, so a
-- pipelined COMMIT cannot commit it anyway.
CREATE FUNCTION storyd_advance_offset(p_group text, p_topic text, p_partition integer,
                                      p_expected bigint, p_next bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_next IS NULL OR (p_expected IS NOT NULL AND p_next <= p_expected) THEN
        RAISE EXCEPTION 'storyd offset fence: %[%] cannot move from % to %',
            p_topic, p_partition, p_expected, p_next
            USING ERRCODE = 'SDF02';
    END IF;
    IF p_expected IS NULL THEN
        -- A concurrent first insert by another owner fails on the primary key.
        INSERT INTO storyd_consumer_offset (consumer_group, kafka_topic, kafka_partition, next_offset)
        VALUES (p_group, p_topic, p_partition, p_next);
        RETURN;
    END IF;
    UPDATE storyd_consumer_offset
       SET next_offset = p_next, updated_at = now()
     WHERE consumer_group = p_group AND kafka_topic = p_topic
       AND kafka_partition = p_partition AND next_offset = p_expected;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'storyd offset fence: %[%] is no longer at offset % (group %)',
            p_topic, p_partition, p_expected, p_group
            USING ERRCODE = 'SDF01';
    END IF;
END;
$$;
