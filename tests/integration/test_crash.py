"""SIGKILL the daemon mid-stream, also while a COMMIT is in flight, and restart it:
still exactly one row per event, and each partition resumes at its stored offset."""

import os
import random
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Crash(harness.StorydTestCase):

    def config(self, **overrides):
        # A per-test application_name lets the test wait until the killed
        # daemon's server backend is gone, so a COMMIT that reached the server
        # has either committed or rolled back before offsets are read.
        return self.write_config(**{"postgres.application_name": "storyd-" + self.tag, **overrides})

    def wait_backend_gone(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if harness.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'storyd-%s'"
                              % self.tag) == "0":
                return
            time.sleep(0.05)
        self.fail("the killed daemon's backend is still there after %d s" % timeout)

    def restart_and_check_resume(self):
        """Starts a daemon after a kill; checks it resumes each partition at the stored offset."""
        self.wait_backend_gone()
        stored = self.stored_offsets()
        daemon = self.start_daemon(self.config())
        daemon.wait_for_log(r"assigned 3 partition")
        self.assertEqual(daemon.resumed(), stored, daemon.text())
        for partition in range(self.partitions):
            if partition not in stored:
                self.assertRegex(daemon.text(), r"\[%d\]: no stored offset" % partition)
        return daemon, stored

    def crash_at(self, point):
        total = 400
        self.produce(harness.page_events(total, point[:3]))
        crashing = self.start_daemon(self.config(**{
            "test.crash_point": point, "test.crash_after_batches": 3,
            "batch.max_events": 20, "batch.max_wait_ms": 1000}))
        self.assertEqual(crashing.wait(60), -signal.SIGKILL, crashing.text())
        self.assertIn("test.crash_point %s reached on batch 3" % point, crashing.text())

        daemon, stored = self.restart_and_check_resume()
        committed = sum(stored.values())
        # Two batches of 20 surely committed; the third only if its COMMIT got through.
        if point == "before_commit":
            self.assertEqual(committed, 40)
        elif point == "after_commit":
            self.assertEqual(committed, 60)
        else:
            self.assertIn(committed, (40, 60))
        self.wait_drained()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assert_exactly_once(total)

    def test_kill_before_commit(self):
        self.crash_at("before_commit")

    def test_kill_while_commit_in_flight(self):
        self.crash_at("after_commit_sent")

    def test_kill_after_commit_before_bookkeeping(self):
        self.crash_at("after_commit")

    def test_random_kills_mid_stream(self):
        total = 20000
        self.produce(harness.page_events(total, "r"))
        rng = random.Random(self.tag)
        mid_stream = 0
        kills = []
        stored = {}
        for _ in range(8):
            daemon = self.start_daemon(self.config(**{"batch.max_events": 10, "batch.max_wait_ms": 5}))
            daemon.wait_for_log(r"assigned 3 partition")
            # Each start resumes exactly where the previous run's last commit left off.
            self.assertEqual(daemon.resumed(), stored, daemon.text())
            if sum(stored.values()) == total:
                daemon.kill()
                break
            # Kill at a random point of progress: the daemon is too fast for
            # random sleeps to land mid-stream reliably.
            target = sum(stored.values()) + rng.randint(total // 25, total // 10)
            deadline = time.monotonic() + 60
            while sum(self.stored_offsets().values()) < target and time.monotonic() < deadline:
                time.sleep(rng.uniform(0, 0.01))
            daemon.kill()
            self.wait_backend_gone()
            stored = self.stored_offsets()
            if 0 < sum(stored.values()) < total:
                mid_stream += 1
                kills.append(sum(stored.values()))
        self.assertGreaterEqual(mid_stream, 3, "too few kills landed mid-stream to prove anything")
        print("\nkilled with %s of %d events committed" % (kills, total), file=sys.stderr)
        final = self.start_daemon(self.config())
        final.wait_for_log(r"assigned 3 partition")
        self.assertEqual(final.resumed(), stored)
        self.wait_drained()
        self.assertEqual(final.stop(), 0, final.text())
        self.assert_exactly_once(total)


if __name__ == "__main__":
    unittest.main(verbosity=2)
