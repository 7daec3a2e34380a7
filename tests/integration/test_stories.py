"""The whole pipeline into PostgreSQL (issue 6): pages become stories, sightings,
title variants and links in the batch's one transaction, effectively once.

- restart equivalence: the same input read by an uninterrupted daemon and by
  one that is SIGKILLed during a COMMIT, SIGKILLed before one, and stopped
  and started again gives the same rows (the dedup state is rebuilt from
  PostgreSQL at every start);
- a lost PostgreSQL connection (the backend terminated, again and again)
  is survived in process: the offsets are read back, the batch is replayed,
  nothing is doubled or lost;
- the offset fence stops a stale owner on the server;
- the offsets PostgreSQL committed are visible through Kafka's own
  kafka-consumer-groups tool.
"""

import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SAMPLE = os.path.join(harness.ROOT, "samples", "dspdaily-sample.jsonl")


def sample_rounds(rounds):
    """The bundled sample (invented text in the site's templates) crawled `rounds` times.

    Each round fetches the same pages again a day later, so stories are
    sighted again and again across pages, brands and rounds.
    """
    with open(SAMPLE, encoding="utf-8") as f:
        base = [json.loads(line) for line in f if line.strip()]
    for r in range(rounds):
        for event in base:
            event = dict(event)
            fetched = datetime.datetime(2026, 3, 2, 8, tzinfo=datetime.timezone.utc) + datetime.timedelta(
                days=r, minutes=(r * 7) % 60)
            event["fetched_at"] = fetched.strftime("%Y-%m-%dT%H:%M:%SZ")
            yield event


# Columns that depend on nothing but the input (no ids of rows, no wall-clock times).
COMPARED = {
    "storyd_story": "story_id, story_key, title, title_seq, text, text_seq, first_seen_at, "
                    "last_seen_at, sightings, first_sighting_seq",
    "storyd_sighting": "seq, story_id, story_id_at_sighting, created_story, kafka_partition, "
                       "kafka_offset, page_url, position, kind, title, text_hash, text_length, brand, "
                       "section, published_at, published_precision, cut, item_url, seen_at, seen_ms, "
                       "title_key, title_cut",
    "storyd_title_variant": "story_id, title, first_seen_at, last_seen_at, sightings",
    "storyd_story_link": "sighting_seq, link_no, reason, score, linked_story_id",
    "storyd_story_alias": "alias_id, story_id, merged_at, merged_by_seq",
    "storyd_text": "text_hash, text, text_key",
    "storyd_page_event": "url, final_url, fetched_at, content_hash, kafka_partition, kafka_offset, "
                         "page_kind, canonical_url, profile, profile_version, charset, item_count, "
                         "extract_error",
}


def table_rows(dsn, table):
    columns = COMPARED[table]
    return harness.psql("SELECT %s FROM %s ORDER BY %s" % (columns, table, columns), dsn=dsn)


class Stories(harness.StorydTestCase):

    partitions = 1  # one partition: the engine sees the items in the same order in every run

    def config(self, **overrides):
        return self.write_config(**{"postgres.application_name": "storyd-" + self.tag, **overrides})

    def wait_backend_gone(self, app, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if harness.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'" % app) == "0":
                return
            time.sleep(0.05)
        self.fail("the killed daemon's backend is still there after %d s" % timeout)

    def second_database(self, group):
        """A database and consumer group of its own for a second run over the same topic."""
        name = self.dbname + "_b"
        harness.psql("CREATE DATABASE %s" % name, dsn=harness.PG_DSN)
        self.addCleanup(harness.psql, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name, harness.PG_DSN)
        dsn = harness.dsn_with_dbname(name)
        keys = {"postgres." + k: v for k, v in (kv.split("=", 1) for kv in harness.shlex.split(dsn))}

        def config(**overrides):
            return self.write_config(name="b-%d.conf" % len(overrides), **{
                **keys, "storyd.consumer_group": group,
                "postgres.application_name": "storyd-b-" + self.tag,
                "kafka.group.instance.id": "it-b-" + self.tag, **overrides})
        harness.run(["migrate"], config())
        return dsn, config

    def assert_sightings_once(self, dsn):
        """Every item of every page row is one sighting, none twice, seq without gaps."""
        doubled = harness.psql("SELECT kafka_partition, kafka_offset, position FROM storyd_sighting "
                               "GROUP BY 1, 2, 3 HAVING count(*) > 1 LIMIT 3", dsn=dsn)
        self.assertEqual(doubled, [])
        items = int(harness.psql("SELECT coalesce(sum(item_count), 0) FROM storyd_page_event", dsn=dsn)[0][0])
        sightings, low, high = harness.psql("SELECT count(*), min(seq), max(seq) FROM storyd_sighting", dsn=dsn)[0]
        self.assertEqual(int(sightings), items)
        self.assertEqual((int(low), int(high)), (1, items))
        # Aggregates agree with the sightings they come from.
        wrong = harness.psql("SELECT s.story_id FROM storyd_story s LEFT JOIN (SELECT story_id, count(*) n "
                             "FROM storyd_sighting GROUP BY 1) g USING (story_id) "
                             "WHERE g.n IS DISTINCT FROM s.sightings LIMIT 3", dsn=dsn)
        self.assertEqual(wrong, [])
        orphans = harness.psql("SELECT count(*) FROM storyd_sighting g LEFT JOIN storyd_story s "
                               "USING (story_id) WHERE s.story_id IS NULL", dsn=dsn)
        self.assertEqual(orphans, [["0"]])
        return int(sightings)

    def test_restart_gives_the_same_rows_as_an_uninterrupted_run(self):
        events = list(sample_rounds(4))
        self.produce(events)
        # Run A: one daemon from start to end.
        daemon = self.start_daemon(self.config(**{"batch.max_events": 40}))
        self.wait_drained()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assertRegex(daemon.text(), r"dedup state rebuilt from PostgreSQL: 0 sightings")
        sightings = self.assert_sightings_once(self.dsn)
        self.assertGreater(sightings, len(events))
        stories = int(harness.scalar("SELECT count(*) FROM storyd_story"))
        self.assertGreater(stories, 5)
        self.assertLess(stories, sightings // 2, "the same stories should be sighted again and again")

        # Run B: the same topic, another group and database, small batches, interrupted three ways.
        dsn_b, config_b = self.second_database("it-b-%s" % self.tag)
        app_b = "storyd-b-" + self.tag
        crash = self.start_daemon(config_b(**{"batch.max_events": 7, "test.crash_point": "after_commit_sent",
                                              "test.crash_after_batches": 3}))
        self.assertEqual(crash.wait(60), -signal.SIGKILL, crash.text())
        self.wait_backend_gone(app_b)
        crash = self.start_daemon(config_b(**{"batch.max_events": 11, "test.crash_point": "before_commit",
                                              "test.crash_after_batches": 4}))
        self.assertEqual(crash.wait(60), -signal.SIGKILL, crash.text())
        self.assertRegex(crash.text(), r"dedup state rebuilt from PostgreSQL: [1-9]\d* sightings")
        self.wait_backend_gone(app_b)
        stored = int(harness.psql("SELECT next_offset FROM storyd_consumer_offset", dsn=dsn_b)[0][0])
        self.assertGreater(stored, 0)
        self.assertLess(stored, len(events))
        # A graceful stop in the middle, then a start that reads to the end.
        middle = self.start_daemon(config_b(**{"batch.max_events": 5, "batch.max_wait_ms": 20}))
        deadline = time.monotonic() + 60
        while int(harness.psql("SELECT next_offset FROM storyd_consumer_offset", dsn=dsn_b)[0][0]) < stored + 20:
            self.assertLess(time.monotonic(), deadline, middle.text())
            time.sleep(0.05)
        self.assertEqual(middle.stop(), 0, middle.text())
        last = self.start_daemon(config_b(**{"batch.max_events": 13}))
        harness.run(["lag", "--wait", "120"], config_b())
        self.assertEqual(last.stop(), 0, last.text())
        match = re.search(r"dedup state rebuilt from PostgreSQL: (\d+) sightings replayed", last.text())
        self.assertIsNotNone(match, last.text())
        self.assertGreater(int(match.group(1)), 0)
        self.assertNotIn("differ from the stored ones", last.text())

        self.assertEqual(self.assert_sightings_once(dsn_b), sightings)
        for table in COMPARED:
            a, b = table_rows(self.dsn, table), table_rows(dsn_b, table)
            self.assertEqual(len(a), len(b), table)
            self.assertEqual(a, b, "%s differs between the uninterrupted run and the restarted one" % table)

    def test_lost_connection_is_survived_and_the_batch_replayed(self):
        app = "storyd-" + self.tag
        daemon = self.start_daemon(self.config(**{"batch.max_events": 2, "batch.max_wait_ms": 20}))
        daemon.wait_for_log(r"assigned 1 partition")
        events = list(sample_rounds(6))
        chunk = len(events) // 4
        for round_ in range(4):
            # Terminate the daemon's backend while it is writing this chunk's batches.
            before = int(harness.scalar("SELECT coalesce(max(next_offset), 0) FROM storyd_consumer_offset"))
            self.produce(events[round_ * chunk:(round_ + 1) * chunk])
            deadline = time.monotonic() + 30
            while int(harness.scalar("SELECT coalesce(max(next_offset), 0) FROM storyd_consumer_offset")) < before + 10:
                self.assertLess(time.monotonic(), deadline, daemon.text())
                time.sleep(0.01)
            # The backend may be between connections (a reconnect of the round before).
            while harness.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE application_name = '%s'" % app) != [["t"]]:
                self.assertLess(time.monotonic(), deadline, daemon.text())
                time.sleep(0.02)
            deadline = time.monotonic() + 30
            while daemon.text().count("reconnected to") <= round_:
                self.assertLess(time.monotonic(), deadline, daemon.text())
                time.sleep(0.05)
        self.wait_drained()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        text = daemon.text()
        self.assertEqual(len(re.findall(r"reading the stored offsets back", text)), 4, text)
        pages, rejects = self.assert_exactly_once(len(events))
        self.assertEqual(rejects, 0)
        self.assert_sightings_once(self.dsn)

    def test_fence_stops_a_stale_owner(self):
        self.produce(harness.page_events(30, "f"))
        daemon = self.start_daemon(self.config())
        self.wait_drained()
        pages = int(harness.scalar("SELECT count(*) FROM storyd_page_event"))
        sightings = int(harness.scalar("SELECT count(*) FROM storyd_sighting"))
        # Another owner moved the partition on behind this daemon's back.
        harness.psql("UPDATE storyd_consumer_offset SET next_offset = next_offset + 1000")
        self.produce(harness.page_events(5, "g"))
        self.assertEqual(daemon.wait(60), 1, daemon.text())
        self.assertRegex(daemon.text(), r"SDF01 .*storyd offset fence: .* is no longer at offset")
        self.assertEqual(int(harness.scalar("SELECT count(*) FROM storyd_page_event")), pages)
        self.assertEqual(int(harness.scalar("SELECT count(*) FROM storyd_sighting")), sightings)

    def test_offsets_are_visible_to_kafka_consumer_groups(self):
        events = list(harness.page_events(60, "k"))
        self.produce(events)
        daemon = self.start_daemon(self.config())
        self.wait_drained()
        # The advisory commit is asynchronous: give it a moment to land.
        deadline = time.monotonic() + 30
        while True:
            out = subprocess.run(
                [os.path.join(harness.ROOT, "scripts", "kafka.sh"), "run-class",
                 "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                 "--bootstrap-server", harness.BROKERS, "--describe", "--group", self.group],
                capture_output=True, text=True, timeout=120).stdout
            rows = [line.split() for line in out.splitlines() if line.startswith(self.group)]
            mine = [r for r in rows if r[1] == self.topic]
            if mine and all(r[3] == r[4] == "60" and r[5] == "0" for r in mine):
                break
            self.assertLess(time.monotonic(), deadline, "kafka-consumer-groups shows:\n" + out)
            time.sleep(0.5)
        self.assertEqual(len(mine), 1, out)
        self.assertEqual(daemon.stop(), 0, daemon.text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
