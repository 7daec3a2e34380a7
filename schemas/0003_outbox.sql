-- storyd schema version 3: the outbox. Story events and dead letters are
-- written here in the batch's transaction, with the rows and offsets they
-- belong to; a relay sends them to Kafka with an idempotent producer and marks
-- a row sent only when its delivery report arrives. A crash between the send
-- and the mark sends a row again: consumers drop repeats by event_id.

CREATE TABLE storyd_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         text        NOT NULL UNIQUE,
    kind             text        NOT NULL, -- created | updated | merged | dead_letter
    kafka_topic      text        NOT NULL,
    kafka_key        bytea,
    value            bytea       NOT NULL,
    -- Dead letters: what failed and where the event came from (sent as headers).
    error_class      text,
    error_message    text,
    source_topic     text,
    source_partition integer,
    source_offset    bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    sent_partition   integer,
    sent_offset      bigint
);

CREATE INDEX storyd_outbox_unsent ON storyd_outbox (id) WHERE sent_at IS NULL;
