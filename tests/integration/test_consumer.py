"""The consumer under pressure (issue 8), on the real services.

- backpressure: while a COMMIT cannot finish, a full batch pauses the partitions, and the
  consumer keeps serving its queue, so it stays in the group far past max.poll.interval.ms;
- rebalances: another member joining and leaving the group takes partitions away in the middle
  of the work and gives them back, under the eager and the cooperative protocol, and every
  offset still ends as exactly one row;
- a static member fenced by another with its group.instance.id stops with exit code 1 and says
  why, and the member that took its place goes on;
- an offset that is no longer in the log is reported: by default the daemon stops and skips
  nothing; with storyd.offset_out_of_range = earliest it goes on and says what it skipped.
"""

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


def delete_records(topic, partition, before):
    """Deletes a partition's records before an offset, as retention would."""
    spec = os.path.join(harness.ROOT, ".run", "delete-records-%s.json" % topic)
    with open(spec, "w", encoding="utf-8") as f:
        json.dump({"partitions": [{"topic": topic, "partition": partition, "offset": before}],
                   "version": 1}, f)
    subprocess.run([os.path.join(harness.ROOT, "scripts", "kafka.sh"), "run-class",
                    "org.apache.kafka.tools.DeleteRecordsCommand", "--bootstrap-server", harness.BROKERS,
                    "--offset-json-file", spec], check=True, capture_output=True, timeout=120)
    os.unlink(spec)


class Backpressure(harness.StorydTestCase):

    partitions = 3

    def test_a_commit_that_waits_pauses_the_partitions_and_keeps_the_membership(self):
        daemon = self.start_daemon(self.write_config(**{
            "batch.max_events": 5, "batch.max_wait_ms": 10, "storyd.log_level": "debug",
            "kafka.max.poll.interval.ms": 7000}))
        daemon.wait_for_log(r"assigned 3 partition")
        # The batch in flight cannot commit for longer than max.poll.interval.ms.
        holder = self.hold_offset_lock(12)
        self.produce(harness.page_events(300, "b"))
        daemon.wait_for_log(r"paused 3 partition\(s\)", timeout=30)
        _, stderr = holder.communicate(timeout=60)
        self.assertEqual(holder.returncode, 0, stderr)
        self.wait_drained()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        text = daemon.text()
        # The consumer served its queue the whole time: no member left, nothing was revoked.
        self.assertNotRegex(text, r"gave up|max\.poll\.interval|MAX_POLL")
        self.assertEqual(len(re.findall(r"assigned 3 partition", text)), 1, text)
        self.assertRegex(text, r"resumed 3 partition\(s\)")
        self.assertRegex(text, r"paused [1-9]\d* times")
        self.assert_exactly_once(300)


class Rebalance(harness.StorydTestCase):

    partitions = 3

    def run_with_a_visitor(self, strategy):
        overrides = {"batch.max_events": 20, "batch.max_wait_ms": 20}
        if strategy:
            overrides["kafka.partition.assignment.strategy"] = strategy
        daemon = self.start_daemon(self.write_config(**overrides))
        daemon.wait_for_log(r"assigned 3 partition")
        events = list(harness.page_events(900, "r"))
        self.produce(events[:300])
        # A second member of the group (kcat) joins while storyd works, takes partitions, reads
        # them without storing anything storyd trusts, and leaves again.
        visitor = subprocess.Popen(
            ["kcat", "-b", harness.BROKERS, "-G", self.group, "-q", "-o", "end",
             "-X", "partition.assignment.strategy=%s" % (strategy or "range,roundrobin"),
             "-X", "session.timeout.ms=6000", self.topic],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(visitor.kill)
        daemon.wait_for_log(r"gave up \d+ partition", timeout=60)
        self.produce(events[300:600])
        time.sleep(3)
        visitor.send_signal(signal.SIGTERM)
        visitor.wait(30)
        self.produce(events[600:])
        self.wait_drained()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assert_exactly_once(len(events))
        return daemon.text()

    def test_eager_rebalances_lose_and_double_nothing(self):
        text = self.run_with_a_visitor(None)
        self.assertIn("EAGER protocol", text)

    def test_cooperative_rebalances_lose_and_double_nothing(self):
        text = self.run_with_a_visitor("cooperative-sticky")
        self.assertIn("COOPERATIVE protocol", text)


class OutOfRange(harness.StorydTestCase):

    partitions = 1

    def test_an_offset_deleted_by_retention_stops_the_daemon_unless_told(self):
        self.produce(harness.page_events(20, "a"))
        first = self.start_daemon()
        self.wait_drained()
        self.assertEqual(first.stop(), 0, first.text())
        self.assertEqual(self.stored_offsets(), {0: 20})
        # 20 more events, of which retention takes the first 10 before storyd reads them.
        self.produce(harness.page_events(20, "b"))
        delete_records(self.topic, 0, 30)

        stopped = self.start_daemon()
        self.assertEqual(stopped.wait(60), 1, stopped.text())
        self.assertRegex(stopped.text(), r"\[0\]: offset 20 is out of range .*Nothing was skipped; "
                                         r"set storyd.offset_out_of_range = earliest or latest")
        self.assertEqual(self.stored_offsets(), {0: 20})

        going_on = self.start_daemon(self.write_config(**{"storyd.offset_out_of_range": "earliest"}))
        self.wait_drained()
        self.assertEqual(going_on.stop(), 0, going_on.text())
        self.assertRegex(going_on.text(), r"\[0\]: offset 20 is out of range .*going on at the "
                                          r"earliest offset as storyd.offset_out_of_range says")
        self.assertRegex(going_on.text(), r"\[0\]: 10 events skipped: offsets 20 to 29 were out of range")
        self.assertRegex(going_on.text(), r"\[0\]: first message at offset 30")
        self.assertIn("1 offsets out of range", going_on.text())
        self.assertEqual(self.stored_offsets(), {0: 40})
        offsets = [int(r[0]) for r in harness.psql(
            "SELECT kafka_offset FROM storyd_page_event ORDER BY 1")]
        self.assertEqual(offsets, list(range(20)) + list(range(30, 40)))


class Fenced(harness.StorydTestCase):

    partitions = 1

    def test_a_fenced_static_member_exits_and_the_next_one_goes_on(self):
        self.produce(harness.page_events(30, "a"))
        first = self.start_daemon()
        self.wait_drained()
        # A second storyd with the same group.instance.id takes the membership: librdkafka
        # makes that fatal for the first, which must stop (not sit there with a dead consumer).
        second = self.start_daemon()
        self.assertEqual(first.wait(90), 1, first.text())
        self.assertRegex(first.text(), r"Kafka consumer failed: FENCED_INSTANCE_ID: .*"
                                       r"group.instance.id it-instance-")
        self.assertRegex(first.text(), r"stopping so that a restart resumes")
        self.produce(harness.page_events(30, "b"))
        self.wait_drained()
        self.assertEqual(second.stop(), 0, second.text())
        self.assertEqual(self.stored_offsets(), {0: 60})
        self.assert_exactly_once(60)


if __name__ == "__main__":
    unittest.main(verbosity=2)
