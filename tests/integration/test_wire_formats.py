"""Input wire formats (issue 7), on the real services: raw protobuf, Confluent Schema Registry
framing and JSON page events are processed alike; a content-type header and
storyd.input_format decide the format when they are given (docs/wire-formats.md).
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_outbox import read_topic  # noqa: E402
from test_stories import COMPARED, sample_rounds, table_rows  # noqa: E402


class WireFormats(harness.StorydTestCase):

    partitions = 1  # one partition: the formats arrive in the order they were produced

    def run_daemon(self, **overrides):
        daemon = self.start_daemon(self.write_config(**overrides))
        self.wait_drained()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        return daemon

    def second_deployment(self):
        """Another topic, group and database, for a run to compare with."""
        topic = self.topic + ".b"
        harness.create_topic(topic, 1)
        name = self.dbname + "_b"
        harness.psql("CREATE DATABASE %s" % name, dsn=harness.PG_DSN)
        self.addCleanup(harness.psql, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name, harness.PG_DSN)
        dsn = harness.dsn_with_dbname(name)
        keys = {"postgres." + k: v for k, v in (kv.split("=", 1) for kv in harness.shlex.split(dsn))}
        config = self.write_config(**{**keys, "storyd.input_topic": topic,
                                      "storyd.consumer_group": self.group + "-b",
                                      "kafka.group.instance.id": "it-b-" + self.tag})
        harness.run(["migrate"], config)
        return dsn, config

    def test_confluent_and_json_events_are_processed_like_raw_ones(self):
        events = list(sample_rounds(1))
        # A: the sample four times as raw protobuf.
        for _ in range(4):
            self.produce(events)
        self.run_daemon()
        # B: the same four times, as raw protobuf, framed, JSON, and JSON that says so.
        dsn_b, config_b = self.second_deployment()
        self.produce(events, config_b)
        self.produce(events, config_b, ["--format", "confluent", "--schema-id", "42"])
        self.produce(events, config_b, ["--format", "json"])
        self.produce(events, config_b, ["--format", "json", "--content-type", "application/json"])
        daemon = self.start_daemon(config_b)
        harness.run(["lag", "--wait", "120"], config_b)
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assertEqual(
            harness.psql("SELECT wire_format, count(*), count(DISTINCT schema_id), min(schema_id) "
                         "FROM storyd_page_event GROUP BY 1 ORDER BY 1", dsn=dsn_b),
            [["confluent", str(len(events)), "1", "42"], ["json", str(2 * len(events)), "0", ""],
             ["protobuf", str(len(events)), "0", ""]])
        self.assertEqual(harness.psql("SELECT count(*) FROM storyd_rejected_event", dsn=dsn_b), [["0"]])
        # Everything storyd made of them is the same as of the raw events.
        self.assertGreater(int(harness.scalar("SELECT count(*) FROM storyd_sighting")), 4 * len(events))
        for table in COMPARED:
            self.assertEqual(table_rows(dsn_b, table), table_rows(self.dsn, table), table)

    def test_the_content_type_header_decides_under_auto(self):
        events = list(harness.page_events(6, "h"))
        # Framed protobuf that says it is JSON: the header wins, so the bytes fail as JSON.
        self.produce(events[:2], args=["--format", "confluent", "--content-type", "application/json"])
        # JSON that says it is JSON, and raw protobuf that says it is protobuf.
        self.produce(events[2:4], args=["--format", "json", "--content-type", "application/json; charset=utf-8"])
        self.produce(events[4:], args=["--content-type", "application/x-protobuf"])
        self.run_daemon()
        self.assertEqual(self.assert_exactly_once(6), (4, 2))
        self.assertEqual(harness.psql("SELECT kafka_offset, error_class FROM storyd_rejected_event ORDER BY 1"),
                         [["0", "json"], ["1", "json"]])
        self.assertEqual(harness.psql("SELECT wire_format, count(*) FROM storyd_page_event GROUP BY 1 ORDER BY 1"),
                         [["json", "2"], ["protobuf", "2"]])
        dead = read_topic(self.dead_topic)
        self.assertEqual(sorted(h["storyd-source-offset"] for _, _, h in dead), ["0", "1"])
        self.assertTrue(all(h["storyd-error-class"] == "json" for _, _, h in dead))

    def test_a_forced_input_format_takes_nothing_else(self):
        events = list(harness.page_events(4, "f"))
        self.produce(events[:2])
        # Forced, the format ignores the header too.
        self.produce(events[2:], args=["--format", "json", "--content-type", "application/x-protobuf"])
        self.run_daemon(**{"storyd.input_format": "json"})
        self.assertEqual(self.assert_exactly_once(4), (2, 2))
        self.assertEqual(harness.psql("SELECT kafka_offset, error_class FROM storyd_rejected_event ORDER BY 1"),
                         [["0", "json"], ["1", "json"]])
        self.assertEqual(harness.psql("SELECT wire_format, count(*) FROM storyd_page_event GROUP BY 1"),
                         [["json", "2"]])

    def test_an_unknown_input_format_is_a_config_error(self):
        out = harness.run(["check-config"], self.write_config(**{"storyd.input_format": "avro"}), check=False)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("storyd.input_format: 'avro' is not one of auto, protobuf, confluent, json", out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
