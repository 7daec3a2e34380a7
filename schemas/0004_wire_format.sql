-- storyd schema version 4: how each page event came over the wire. storyd
-- reads raw protobuf, the Confluent Schema Registry framing and JSON
-- (docs/wire-formats.md); dashboards and operators see which producers send
-- what, and which registered schema a framed event named.

ALTER TABLE storyd_page_event
    ADD COLUMN wire_format text,     -- protobuf | confluent | json; NULL: rows from before version 4
    ADD COLUMN schema_id   integer;  -- the Schema Registry id of a confluent event
