"""Story events and dead letters through the outbox (issue 7), on the real services.

- story events read back from the story topic equal the outbox rows, byte for byte;
- after a SIGKILL and a restart, a consumer that drops repeated event ids sees every
  outbox event exactly once;
- malformed events land on the dead-letter topic with their key, bytes and the headers
  naming the error and the source, while the daemon keeps going.
"""

import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_stories import sample_rounds  # noqa: E402


def read_topic(topic, timeout=60):
    """Every message of a topic: [(key bytes or None, value bytes, {header: value})]."""
    out = subprocess.run(
        ["kcat", "-b", harness.BROKERS, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
         "-f", "%K %S %h\n%k%s"],
        capture_output=True, timeout=timeout, check=True).stdout
    messages, at = [], 0
    while at < len(out):
        end = out.index(b"\n", at)
        head = out[at:end].decode("utf-8", "replace").split(" ", 2)
        key_len, value_len = int(head[0]), int(head[1])
        headers = {}
        for pair in (head[2].split(",") if len(head) > 2 and head[2] else []):
            name, _, value = pair.partition("=")
            headers[name] = value
        at = end + 1
        key = None
        if key_len >= 0:
            key = out[at:at + key_len]
            at += key_len
        value = out[at:at + max(value_len, 0)]
        at += max(value_len, 0)
        messages.append((key, value, headers))
    return messages


class Outbox(harness.StorydTestCase):

    partitions = 3

    def config(self, **overrides):
        return self.write_config(**{"postgres.application_name": "storyd-" + self.tag, **overrides})

    def wait_relayed(self, daemon, timeout=60):
        deadline = time.monotonic() + timeout
        while int(harness.scalar("SELECT count(*) FROM storyd_outbox WHERE sent_at IS NULL")) > 0:
            self.assertLess(time.monotonic(), deadline, "outbox rows still unsent:\n" + daemon.text()[-3000:])
            time.sleep(0.1)

    def outbox(self, topic):
        rows = harness.psql("SELECT event_id, encode(kafka_key, 'hex'), encode(value, 'hex') "
                            "FROM storyd_outbox WHERE kafka_topic = '%s' ORDER BY id" % topic)
        return [(e, bytes.fromhex(k), bytes.fromhex(v)) for e, k, v in rows]

    def test_story_events_equal_the_outbox_rows(self):
        events = list(sample_rounds(2))
        self.produce(events)
        daemon = self.start_daemon(self.config())
        self.wait_drained()
        self.wait_relayed(daemon)
        self.assertEqual(daemon.stop(), 0, daemon.text())
        rows = self.outbox(self.story_topic)
        sightings = int(harness.scalar("SELECT count(*) FROM storyd_sighting"))
        merges = int(harness.scalar("SELECT count(*) FROM storyd_story_alias"))
        self.assertEqual(len(rows), sightings + merges)
        kinds = dict(harness.psql("SELECT kind, count(*) FROM storyd_outbox GROUP BY 1"))
        self.assertEqual(int(kinds["created"]), int(harness.scalar(
            "SELECT count(*) FROM storyd_sighting WHERE created_story")))
        messages = read_topic(self.story_topic)
        self.assertEqual(sorted((h["storyd-event-id"], k, v) for k, v, h in messages), sorted(rows))
        # Every event is keyed by its story; sent rows know where they went.
        self.assertEqual(harness.psql("SELECT count(*) FROM storyd_outbox WHERE sent_offset IS NULL"),
                         [["0"]])

    def test_sent_rows_are_deleted_after_their_retention(self):
        events = list(sample_rounds(1))
        self.produce(events)
        daemon = self.start_daemon(self.config(**{"storyd.outbox_retention_s": 0}))
        self.wait_drained()
        self.wait_relayed(daemon)
        deadline = time.monotonic() + 30
        while int(harness.scalar("SELECT count(*) FROM storyd_outbox")) > 0:
            self.assertLess(time.monotonic(), deadline, "sent rows were not deleted")
            time.sleep(0.1)
        self.assertEqual(daemon.stop(), 0, daemon.text())
        # Deleted only once sent: every event is on the topic.
        sightings = int(harness.scalar("SELECT count(*) FROM storyd_sighting"))
        merges = int(harness.scalar("SELECT count(*) FROM storyd_story_alias"))
        self.assertEqual(len(read_topic(self.story_topic)), sightings + merges)

    def test_the_daemon_refuses_topics_it_cannot_write_to(self):
        self.produce(list(harness.page_events(3, "t")))
        missing = self.topic + ".nope"
        daemon = self.start_daemon(self.config(**{"storyd.dead_letter_topic": missing}))
        self.assertEqual(daemon.wait(60), 1, daemon.text())
        self.assertIn("storyd.dead_letter_topic '%s' does not exist; create it with `storyd topics "
                      "--create`" % missing, daemon.text())
        compacted = self.topic + ".compacted"
        harness.create_topic(compacted, 1, "cleanup.policy=compact")
        daemon = self.start_daemon(self.config(**{"storyd.story_topic": compacted}))
        self.assertEqual(daemon.wait(60), 1, daemon.text())
        self.assertIn("storyd.story_topic '%s' has cleanup.policy=compact" % compacted, daemon.text())
        # `storyd topics` says the same, and nothing was consumed.
        out = harness.run(["topics"], self.config(**{"storyd.story_topic": compacted}), check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("cleanup.policy=compact: compaction keeps only a key's latest message", out.stdout)
        self.assertEqual(harness.scalar("SELECT count(*) FROM storyd_page_event"), "0")

    def test_repeats_dropped_by_event_id_after_a_kill_see_each_once(self):
        events = list(sample_rounds(3))
        self.produce(events)
        crashing = self.start_daemon(self.config(**{"batch.max_events": 7, "test.crash_point": "after_commit",
                                                    "test.crash_after_batches": 4}))
        self.assertEqual(crashing.wait(60), -signal.SIGKILL, crashing.text())
        daemon = self.start_daemon(self.config(**{"batch.max_events": 7}))
        self.wait_drained()
        self.wait_relayed(daemon)
        self.assertEqual(daemon.stop(), 0, daemon.text())
        rows = self.outbox(self.story_topic)
        messages = read_topic(self.story_topic)
        self.assertGreaterEqual(len(messages), len(rows))
        seen = {}
        for key, value, headers in messages:
            seen.setdefault(headers["storyd-event-id"], (key, value))
        self.assertEqual(sorted((e, k, v) for e, (k, v) in seen.items()), sorted(rows))
        self.assertEqual(len(set(e for e, _, _ in rows)), len(rows))

    def test_malformed_events_go_to_the_dead_letter_topic(self):
        good = list(harness.page_events(20, "d"))
        self.produce(good[:10])
        harness.produce_garbage(self.topic, 1, ["not a page event", "\x08\udc96\x01 nor this"])
        daemon = self.start_daemon(self.config())
        self.produce(good[10:])
        self.wait_drained()
        self.wait_relayed(daemon)
        self.assertIsNone(daemon.proc.poll(), "the daemon must keep going")
        self.assertEqual(daemon.stop(), 0, daemon.text())
        pages, rejects = self.assert_exactly_once(22)
        self.assertEqual((pages, rejects), (20, 2))
        dead = read_topic(self.dead_topic)
        self.assertEqual(len(dead), 2)
        rejected = dict(harness.psql("SELECT kafka_offset, error_class FROM storyd_rejected_event"))
        for key, value, headers in dead:
            self.assertEqual(key, b"garbage")
            self.assertIn(value, (b"not a page event", b"\x08\x96\x01 nor this"))
            self.assertEqual(headers["storyd-source-topic"], self.topic)
            self.assertEqual(headers["storyd-source-partition"], "1")
            self.assertIn(headers["storyd-source-offset"], rejected)
            self.assertEqual(headers["storyd-error-class"], rejected[headers["storyd-source-offset"]])
            self.assertTrue(headers["storyd-error-message"])
            self.assertRegex(headers["storyd-failed-at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


if __name__ == "__main__":
    unittest.main(verbosity=2)
