"""The chaos suite (issue 8): nothing lost, nothing doubled, whatever happens to the daemon.

20,010 page events (the bundled sample crawled again and again) and a few undecodable ones go
to a topic of three partitions in slices. While they are being processed, storyd is SIGKILLed
at random moments and at two fixed ones (with a transaction open before its COMMIT, and with
the COMMIT in flight), PostgreSQL is restarted under it, and so is the Kafka broker. Then a
clean run over the same topic, into a database and topics of its own, gives the reference.

The two runs see the partitions interleaved differently, so story ids and seq values differ;
the dedup engine's grouping does not depend on the order (docs/dedup.md), so what is compared
is what must be equal: which sightings form each story and what the story holds, the title
variants, the sightings and pages themselves, the final offsets, and the story events, read back
from Kafka and deduplicated by event id.

STORYD_CHAOS_SEED fixes the random moments (the seed is printed either way).
"""

import collections
import os
import random
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_stories import sample_rounds  # noqa: E402

ROUNDS = 667  # 30 pages each: 20,010 page events
SLICES = 8
SCRIPTS = os.path.join(harness.ROOT, "scripts")


def varint(data, at):
    shift = value = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def fields(data):
    """{field number: [values]} of a protobuf message: ints for varints, bytes for the rest."""
    out = collections.defaultdict(list)
    at = 0
    while at < len(data):
        key, at = varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = varint(data, at)
        elif wire == 2:
            length, at = varint(data, at)
            value, at = data[at:at + length], at + length
        else:
            raise ValueError("wire type %d in a StoryEvent" % wire)
        out[number].append(value)
    return out


def story_events(topic):
    """The topic's StoryEvents, deduplicated by event id: {event_id: (kind, story, sighting)}."""
    out = subprocess.run(["kcat", "-b", harness.BROKERS, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                          "-f", "%S\n%s"], capture_output=True, timeout=300, check=True).stdout
    events, at, received = {}, 0, 0
    while at < len(out):
        newline = out.index(b"\n", at)
        size = int(out[at:newline])
        value = out[newline + 1:newline + 1 + size]
        at = newline + 1 + size
        received += 1
        f = fields(value)
        event_id = f[1][0].decode()
        sighting = None
        if 8 in f:
            s = fields(f[8][0])
            sighting = (s[1][0].decode(), s[4][0] if 4 in s else 0, f[5][0] if 5 in f else 0)
        events.setdefault(event_id, (f[2][0] if 2 in f else 0, f[3][0].decode(), sighting))
    return events, received


class Chaos(harness.StorydTestCase):

    partitions = 3

    def setUp(self):
        super().setUp()
        self.seed = int(os.environ.get("STORYD_CHAOS_SEED", random.randrange(1 << 30)))
        self.rng = random.Random(self.seed)
        print("chaos seed %d (STORYD_CHAOS_SEED=%d reproduces the moments)" % (self.seed, self.seed),
              file=sys.stderr)
        self.app = "storyd-" + self.tag
        self.notes = []

    def config(self, **overrides):
        return self.write_config(**{"postgres.application_name": self.app, "batch.max_events": 200,
                                    "batch.max_wait_ms": 50, "storyd.reconnect_max_ms": 1000,
                                    **overrides})

    def note(self, text):
        self.notes.append(text)
        print("chaos: " + text, file=sys.stderr)

    def wait_backend_gone(self, timeout=60):
        """A killed daemon's COMMIT has committed or rolled back before the next one starts."""
        deadline = time.monotonic() + timeout
        while harness.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'"
                             % self.app) != "0":
            self.assertLess(time.monotonic(), deadline, "the killed daemon's backend is still there")
            time.sleep(0.05)

    def committed(self):
        return sum(self.stored_offsets().values())

    def wait_progress(self, daemon, beyond, timeout=120):
        deadline = time.monotonic() + timeout
        while self.committed() <= beyond:
            self.assertLess(time.monotonic(), deadline, "no progress:\n" + daemon.text()[-4000:])
            self.assertIsNone(daemon.proc.poll(), "the daemon exited:\n" + daemon.text()[-4000:])
            time.sleep(0.1)

    def start(self, **overrides):
        self.wait_backend_gone()
        daemon = self.start_daemon(self.config(**overrides))
        daemon.wait_for_log(r"assigned 3 partition", timeout=120)
        return daemon

    def kill_at_random(self, daemon, low=0.2, high=2.0):
        time.sleep(self.rng.uniform(low, high))
        before = self.committed()
        self.assertIsNone(daemon.proc.poll(), daemon.text()[-4000:])
        daemon.kill()
        self.kills += 1
        self.note("SIGKILL at a random moment, %d events committed" % before)

    # ---- the faults -------------------------------------------------------------------------

    def crash_point(self, point):
        batch = self.rng.randint(2, 6)
        daemon = self.start(**{"test.crash_point": point, "test.crash_after_batches": batch})
        self.assertEqual(daemon.wait(180), -signal.SIGKILL, daemon.text()[-4000:])
        self.kills += 1
        self.note("SIGKILL at %s of batch %d" % (point, batch))

    def random_kill(self):
        daemon = self.start()
        self.kill_at_random(daemon)

    def postgres_restart(self, after):
        daemon = self.start()
        self.wait_progress(daemon, self.committed())
        time.sleep(self.rng.uniform(0.0, 1.0))
        subprocess.run([os.path.join(SCRIPTS, "pg.sh"), "stop"], check=True, capture_output=True, timeout=120)
        time.sleep(1)
        subprocess.run([os.path.join(SCRIPTS, "pg.sh"), "start"], check=True, capture_output=True, timeout=120)
        self.restarts["postgres"] += 1
        # The same process reconnects, replays what was in flight and goes on with new events.
        daemon.wait_for_log(r"reconnected to PostgreSQL", timeout=120)
        self.produce(after)
        self.wait_progress(daemon, self.committed())
        self.note("PostgreSQL restarted under the daemon; it reconnected and went on")
        self.kill_at_random(daemon)

    def broker_restart(self, after):
        daemon = self.start()
        self.wait_progress(daemon, self.committed())
        subprocess.run([os.path.join(SCRIPTS, "kafka.sh"), "stop"], check=True, capture_output=True, timeout=180)
        time.sleep(1)
        subprocess.run([os.path.join(SCRIPTS, "kafka.sh"), "start"], check=True, capture_output=True, timeout=300)
        self.restarts["kafka"] += 1
        # The daemon rode through: the same process takes events published after the restart.
        self.produce(after)
        before = self.committed()
        deadline = time.monotonic() + 180
        while self.committed() <= before:
            self.assertLess(time.monotonic(), deadline, "no progress:\n" + daemon.text()[-4000:])
            if daemon.proc.poll() is not None:
                # The one exit allowed: a static member the restarted broker fenced (librdkafka
                # makes that fatal). It exits 1 and systemd's Restart=on-failure starts it again,
                # as done here; nothing may be lost or doubled by it either.
                self.assertEqual(daemon.proc.returncode, 1, daemon.text()[-4000:])
                self.assertIn("FENCED_INSTANCE_ID", daemon.text(), daemon.text()[-4000:])
                self.fenced += 1
                self.note("the restarted broker fenced the static member: it exited 1, restarted")
                daemon = self.start()
            time.sleep(0.1)
        self.note("the Kafka broker restarted under the daemon; it went on")
        self.kill_at_random(daemon)

    # ---- the test ---------------------------------------------------------------------------

    def test_kills_and_restarts_lose_and_double_nothing(self):
        started = time.monotonic()
        self.kills = 0
        self.restarts = collections.Counter()
        self.fenced = 0
        events = list(sample_rounds(ROUNDS))
        slices = [events[i::SLICES] for i in range(SLICES)]
        plan = [lambda: self.crash_point("before_commit"), self.random_kill,
                lambda: self.crash_point("after_commit_sent"), self.postgres_restart, self.random_kill,
                self.broker_restart, self.random_kill]
        garbage = 0
        for step, fault in enumerate(plan):
            lines = ["chaos garbage %d" % step, "\udc96 not utf-8 %d" % step]
            harness.produce_garbage(self.topic, step % self.partitions, lines)
            garbage += len(lines)
            if fault in (self.postgres_restart, self.broker_restart):
                # Half before the restart, half after it: work on both sides of the fault.
                half = len(slices[step]) // 2
                self.produce(slices[step][:half])
                fault(slices[step][half:])
            else:
                self.produce(slices[step])
                fault()
        for rest in slices[len(plan):]:
            self.produce(rest)
        final = self.start()
        self.wait_drained(timeout=600)
        deadline = time.monotonic() + 120
        while harness.scalar("SELECT count(*) FROM storyd_outbox WHERE sent_at IS NULL") != "0":
            self.assertLess(time.monotonic(), deadline, "the outbox did not drain")
            time.sleep(0.2)
        self.assertEqual(final.stop(), 0, final.text()[-4000:])
        chaos_seconds = time.monotonic() - started
        total = len(events) + garbage
        pages, rejects = self.assert_exactly_once(total)
        self.assertEqual((pages, rejects), (len(events), garbage))
        self.assertGreaterEqual(self.kills, 5)
        self.assertEqual(self.restarts, {"postgres": 1, "kafka": 1})

        # The reference: a clean run over the same topic, into its own database and topics.
        clean_dsn, clean_config = self.clean_deployment()
        clean = self.start_daemon(clean_config())
        run_started = time.monotonic()
        harness.run(["lag", "--wait", "600"], clean_config())
        deadline = time.monotonic() + 120
        while harness.psql("SELECT count(*) FROM storyd_outbox WHERE sent_at IS NULL", dsn=clean_dsn) != [["0"]]:
            self.assertLess(time.monotonic(), deadline, "the clean run's outbox did not drain")
            time.sleep(0.2)
        self.assertEqual(clean.stop(), 0, clean.text()[-4000:])
        clean_seconds = time.monotonic() - run_started

        self.compare(self.dsn, clean_dsn)
        self.compare_story_events(self.dsn, self.story_topic, clean_dsn, self.clean_story_topic)
        self.note("%d events (%d undecodable) on %d partitions; %d kills, %d PostgreSQL and %d broker "
                  "restarts (%d fenced exits); chaos run %.0f s, clean run %.0f s; seed %d"
                  % (total, garbage, self.partitions, self.kills, self.restarts["postgres"],
                     self.restarts["kafka"], self.fenced, chaos_seconds, clean_seconds, self.seed))

    def clean_deployment(self):
        name = self.dbname + "_clean"
        harness.psql("CREATE DATABASE %s" % name, dsn=harness.PG_DSN)
        if not os.environ.get("STORYD_KEEP_TEST_DATABASES"):
            self.addCleanup(harness.psql, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name, harness.PG_DSN)
        dsn = harness.dsn_with_dbname(name)
        keys = {"postgres." + k: v for k, v in (kv.split("=", 1) for kv in harness.shlex.split(dsn))}
        self.clean_story_topic = self.topic + ".clean.stories"

        def config():
            return self.write_config(name="clean.conf", **{
                **keys, "storyd.consumer_group": self.group + "-clean",
                "storyd.story_topic": self.clean_story_topic,
                "storyd.dead_letter_topic": self.topic + ".clean.dead",
                "kafka.group.instance.id": "it-clean-" + self.tag, "batch.max_events": 200})
        harness.run(["migrate"], config())
        harness.run(["topics", "--create"], config())
        return dsn, config

    # ---- comparisons ------------------------------------------------------------------------

    def groups(self, dsn):
        """{story_id: frozenset of sightings}, a sighting being (partition, offset, position)."""
        out = collections.defaultdict(set)
        for story, partition, offset, position in harness.psql(
                "SELECT story_id, kafka_partition, kafka_offset, position FROM storyd_sighting", dsn=dsn):
            out[story].add((int(partition), int(offset), int(position)))
        return {story: frozenset(s) for story, s in out.items()}

    def by_group(self, dsn, sql):
        """Rows of sql (story_id first), keyed by the story's sightings instead of its id."""
        groups = self.groups(dsn)
        out = collections.defaultdict(list)
        for row in harness.psql(sql, dsn=dsn):
            out[groups[row[0]]].append(tuple(row[1:]))
        return {g: sorted(rows) for g, rows in out.items()}

    def assert_same_by_group(self, chaos_dsn, clean_dsn, sql):
        chaos, clean = self.by_group(chaos_dsn, sql), self.by_group(clean_dsn, sql)
        differing = [g for g in clean if chaos.get(g) != clean[g]]
        if differing:
            example = min(differing, key=len)
            self.fail("%s: %d of %d stories differ; e.g. the story of %s: chaos %s, clean %s"
                      % (sql, len(differing), len(clean), sorted(example)[:5], chaos.get(example)[:5],
                         clean[example][:5]))

    def compare(self, chaos_dsn, clean_dsn):
        chaos_groups, clean_groups = self.groups(chaos_dsn), self.groups(clean_dsn)
        self.assertEqual(len(chaos_groups), len(clean_groups), "number of stories")
        self.assertEqual(set(chaos_groups.values()), set(clean_groups.values()),
                         "the sightings are grouped into different stories")
        # What each story holds: counts, times, its first title and longest text. The text is
        # compared by its match key (text_hash), its length and the sighting it came from: texts
        # that share a match key (one with paragraph breaks, one on a line) are one text, and
        # storyd_text keeps the form of the key that arrived first.
        for column in ("sightings", "first_seen_at", "last_seen_at", "title"):
            self.assert_same_by_group(chaos_dsn, clean_dsn, "SELECT story_id, %s FROM storyd_story" % column)
        self.assert_same_by_group(chaos_dsn, clean_dsn,
                                  "SELECT s.story_id, encode(g.text_hash, 'hex'), length(s.text), "
                                  "g.kafka_partition, g.kafka_offset, g.position FROM storyd_story s "
                                  "LEFT JOIN storyd_sighting g ON g.seq = s.text_seq")
        self.assert_same_by_group(chaos_dsn, clean_dsn, "SELECT story_id, title, first_seen_at, last_seen_at, "
                                                        "sightings FROM storyd_title_variant")
        for sql in ("SELECT kafka_partition, kafka_offset, position, page_url, kind, title, text_hash, "
                    "brand, section, published_at, seen_at, item_url FROM storyd_sighting ORDER BY 1, 2, 3",
                    "SELECT kafka_partition, kafka_offset, url, fetched_at, page_kind, canonical_url, "
                    "item_count, extract_error FROM storyd_page_event ORDER BY 1, 2",
                    "SELECT kafka_partition, kafka_offset, error_class FROM storyd_rejected_event ORDER BY 1, 2",
                    "SELECT kafka_topic, kafka_partition, next_offset FROM storyd_consumer_offset ORDER BY 1, 2",
                    "SELECT source_partition, source_offset, error_class FROM storyd_outbox "
                    "WHERE kind = 'dead_letter' ORDER BY 1, 2"):
            a, b = harness.psql(sql, dsn=chaos_dsn), harness.psql(sql, dsn=clean_dsn)
            self.assertEqual(len(a), len(b), sql)
            self.assertEqual(a, b, sql)

    def compare_story_events(self, chaos_dsn, chaos_topic, clean_dsn, clean_topic):
        runs = []
        for dsn, topic in ((chaos_dsn, chaos_topic), (clean_dsn, clean_topic)):
            events, received = story_events(topic)
            outbox = harness.psql("SELECT event_id FROM storyd_outbox WHERE kafka_topic = '%s'" % topic, dsn=dsn)
            # Deduplicated by event id, the topic holds exactly the committed events.
            self.assertEqual(set(events), {r[0] for r in outbox}, topic)
            stories = int(harness.psql("SELECT count(*) FROM storyd_story", dsn=dsn)[0][0])
            kinds = collections.Counter(kind for kind, _, _ in events.values())
            # Every story was created once, and every story created beyond that was merged away.
            self.assertEqual(kinds[1] - kinds[3], stories, topic)
            # One CREATED or UPDATED event per sighting (a page may be fetched twice at one time,
            # so a sighting is counted, not assumed unique).
            sightings = collections.Counter(s for kind, _, s in events.values() if kind in (1, 2))
            stored = int(harness.psql("SELECT count(*) FROM storyd_sighting", dsn=dsn)[0][0])
            self.assertEqual(sum(sightings.values()), stored, topic)
            runs.append((sightings, received, len(events)))
            self.note("%s: %d messages read, %d distinct event ids" % (topic, received, len(events)))
        self.assertEqual(runs[0][0], runs[1][0], "the story events cover different sightings")


if __name__ == "__main__":
    unittest.main(verbosity=2)
