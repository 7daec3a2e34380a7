"""Page events flow Kafka -> storyd -> PostgreSQL, exactly once, on the real services."""

import collections
import json
import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Pipeline(harness.StorydTestCase):

    def test_events_land_once_with_offsets_and_bad_events_are_accounted_for(self):
        events = list(harness.page_events(600, "p"))
        self.produce(events)
        harness.produce_garbage(self.topic, 1, ["not a protobuf", "\udcff\udcfe\udcfd", "x" * 300])
        daemon = self.start_daemon()
        self.wait_drained()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        pages, rejects = self.assert_exactly_once(603)
        self.assertEqual((pages, rejects), (600, 3))
        # Each undecodable event is logged with its coordinates, and the daemon stayed up.
        self.assertEqual(len(re.findall(r"\[1\]@\d+: event rejected \(", daemon.text())), 3)
        self.assertIn("stopped: 603 events (600 pages, 3 rejected)", daemon.text())
        rows = harness.psql(
            "SELECT error_class, value_size, kafka_key FROM storyd_rejected_event "
            "WHERE kafka_topic = '%s' ORDER BY kafka_offset" % self.topic)
        # "xxx..." happens to be valid protobuf (field 15, varints) without a url.
        self.assertEqual([r[0] for r in rows], ["protobuf", "protobuf", "invalid_field"])
        self.assertEqual([int(r[1]) for r in rows], [14, 3, 300])
        self.assertEqual(rows[0][2], "\\x" + b"garbage".hex())
        # The stored row carries what the event said.
        row = harness.psql(
            "SELECT final_url IS NULL, http_status, content_type, source_id, publisher_hint, "
            "fetched_at = '2026-03-02T08:15:00Z', body_size = octet_length(convert_to(%s, 'UTF8')), "
            "length(content_hash) FROM storyd_page_event WHERE url = '%s' AND kafka_topic = '%s'"
            % (harness.sql_literal(events[7]["body"]), events[7]["url"], self.topic))
        self.assertEqual(row, [["t", "200", "text/plain; charset=utf-8", "integration-test",
                                "dspdaily.com", "t", "t", "16"]])

    def test_restart_resumes_at_stored_offsets(self):
        self.produce(harness.page_events(150, "a"))
        first = self.start_daemon()
        self.wait_drained()
        self.assertEqual(first.stop(), 0, first.text())
        stored = self.stored_offsets()
        self.assertEqual(sum(stored.values()), 150)

        self.produce(harness.page_events(90, "b"))
        second = self.start_daemon()
        second.wait_for_log(r"assigned 3 partition")
        self.wait_drained()
        self.assertEqual(second.stop(), 0, second.text())
        # The second run reports resuming each partition exactly where the first stopped.
        self.assertEqual(second.resumed(), stored)
        for partition, offset in stored.items():
            self.assertRegex(second.text(), r"\[%d\]: first message at offset %d\b" % (partition, offset))
        self.assert_exactly_once(240)

    def test_a_batch_whose_wait_ran_out_during_a_commit_goes_after_it(self):
        # With a 1 ms wait, the events that arrive while a batch commits see their wait run out
        # before the COMMIT returns. They must go right after it, not wait for more events (or
        # a SIGTERM) that may never come.
        self.produce(harness.page_events(60, "w"))
        daemon = self.start_daemon(self.write_config(**{
            "batch.max_events": 50, "batch.max_wait_ms": 1, "storyd.log_level": "debug"}))
        self.wait_drained(timeout=30)
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assert_exactly_once(60)
        self.assertGreater(len(re.findall(r"committed batch \d+:", daemon.text())), 1)

    def test_sigterm_with_nothing_to_do_exits_zero(self):
        daemon = self.start_daemon()
        daemon.wait_for_log(r"assigned 3 partition")
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assertIn("no stored offset, starting at the beginning", daemon.text())
        self.assertIn("stopped: 0 events", daemon.text())


    def profile_folder(self):
        """A folder of its own holding the site profile; returns it, the file and its text."""
        folder = os.path.join(self.tmp.name, "profiles")
        os.makedirs(folder)
        with open(os.path.join(harness.ROOT, "profiles", "dspdaily.com.ini"), encoding="utf-8") as f:
            source = f.read()
        path = os.path.join(folder, "dspdaily.com.ini")
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        return folder, path, source

    def test_sighup_reloads_profiles_and_keeps_them_when_broken(self):
        folder, path, source = self.profile_folder()
        daemon = self.start_daemon(self.write_config(**{"storyd.profile_dir": folder}))
        daemon.wait_for_log(r"loaded 1 site profile\(s\) from %s: dspdaily\.com " % re.escape(folder))
        daemon.wait_for_log(r"assigned 3 partition")
        with open(path, "w", encoding="utf-8") as f:
            f.write(re.sub(r"(?m)^version = .*$", "version = test-2", source))
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log(r"SIGHUP: reloaded 1 site profile\(s\) .*dspdaily\.com test-2")
        with open(path, "w", encoding="utf-8") as f:
            f.write(source + "\n[blocks]\nno_such_key = 1\n")
        daemon.proc.send_signal(signal.SIGHUP)
        match = daemon.wait_for_log(r"site profiles not reloaded, keeping the running ones: (\S+):(\d+): "
                                    r"unknown key 'no_such_key' in \[blocks\]")
        self.assertEqual(match.group(1), path)
        self.assertEqual(int(match.group(2)), source.count("\n") + 3)
        self.assertIsNone(daemon.proc.poll(), "a broken profile must not stop the daemon")
        self.assertEqual(daemon.stop(), 0, daemon.text())

    def test_sighup_mid_stream_applies_to_later_events_and_loses_nothing(self):
        folder, path, source = self.profile_folder()
        with open(path, "w", encoding="utf-8") as f:
            f.write(re.sub(r"(?m)^version = .*$", "version = before", source))
        overrides = {"storyd.profile_dir": folder, "batch.max_events": 10, "batch.max_wait_ms": 20}
        config = self.write_config(name="reloaded.conf", **overrides)
        daemon = self.start_daemon(config)
        daemon.wait_for_log(r"assigned 3 partition")
        # A batch is held in flight, so the events behind it wait in a filling batch when the
        # signal comes: the reload must wait for that batch to be sent.
        holder = self.hold_offset_lock(8)
        self.produce(harness.page_events(150, "a"))
        daemon.wait_for_log(r"a full batch has waited \d+ ms for the one in flight", timeout=30)
        with open(path, "w", encoding="utf-8") as f:
            f.write(re.sub(r"(?m)^version = .*$", "version = after", source))
        # The same file with reloadable keys changed, and one that needs a restart.
        self.write_config(name="reloaded.conf", **{
            **overrides, "dedup.min_similarity": 0.7, "storyd.log_level": "debug", "batch.max_events": 25,
            "batch.write_method": "statements"})
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log(r"SIGHUP: read; applied once the \d+ event\(s\) being batched are sent")
        _, stderr = holder.communicate(timeout=60)
        self.assertEqual(holder.returncode, 0, stderr)
        daemon.wait_for_log(r"SIGHUP: reloaded 1 site profile\(s\) .*dspdaily\.com after")
        self.produce(harness.page_events(150, "b"))
        self.wait_drained()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        text = daemon.text()
        self.assertIn("SIGHUP: dedup.min_similarity = 0.7 (was 0.5)", text)
        self.assertIn("SIGHUP: storyd.log_level = debug (was info)", text)
        self.assertIn("SIGHUP: batch.max_events = 25 (was 10)", text)
        self.assertIn("SIGHUP: batch.write_method changed (copy -> statements) but needs a restart; "
                      "it stays copy", text)
        self.assert_exactly_once(300)
        rows = harness.psql("SELECT kafka_partition, kafka_offset, profile_version, xmin::text, "
                            "url LIKE '%%=b%%' FROM storyd_page_event WHERE kafka_topic = '%s' "
                            "ORDER BY 1, 2" % self.topic)
        versions = collections.Counter(r[2] for r in rows)
        self.assertGreater(versions["before"], 0, versions)
        self.assertEqual(versions["before"] + versions["after"], 300, versions)
        # Every event sent after the reload was extracted under the new profile.
        self.assertTrue(all(r[2] == "after" for r in rows if r[4] == "t"))
        # In each partition the version changes once, from before to after.
        for partition in {r[0] for r in rows}:
            seq = [r[2] for r in rows if r[0] == partition]
            self.assertEqual(seq, sorted(seq, key=lambda v: v == "after"), partition)
        # No transaction (one batch) mixes the two.
        per_batch = collections.defaultdict(set)
        for r in rows:
            per_batch[r[3]].add(r[2])
        self.assertTrue(all(len(v) == 1 for v in per_batch.values()), per_batch)

    def test_json_log_lines_name_their_partition_or_connection(self):
        self.produce(harness.page_events(20, "j"))
        harness.produce_garbage(self.topic, 1, ["json log garbage"])
        daemon = self.start_daemon(self.write_config(**{"storyd.log_format": "json"}))
        self.wait_drained()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        lines = [json.loads(line) for line in daemon.text().splitlines() if line.strip()]
        self.assertGreater(len(lines), 10)
        for entry in lines:
            self.assertLessEqual({"ts", "level", "priority", "component", "msg"}, set(entry))
            self.assertRegex(entry["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        rejected = [e for e in lines if "event rejected" in e["msg"]]
        self.assertEqual(len(rejected), 1, lines)
        self.assertEqual(rejected[0]["partition"], "%s[1]" % self.topic)
        self.assertEqual(rejected[0]["level"], "warning")
        connected = [e for e in lines if e["component"] == "postgres" and "connection" in e]
        self.assertTrue(connected, lines)
        self.assertRegex(connected[0]["connection"], r"^PostgreSQL \d+\.\d+ at 127\.0\.0\.1:")

    def test_broken_profile_at_start_is_a_clear_error(self):
        folder = os.path.join(self.tmp.name, "profiles")
        os.makedirs(folder)
        with open(os.path.join(folder, "bad.ini"), "w", encoding="utf-8") as f:
            f.write("[profile]\nname = bad\n")
        daemon = self.start_daemon(self.write_config(**{"storyd.profile_dir": folder}))
        self.assertEqual(daemon.wait(30), 1)
        self.assertIn("bad.ini: [profile] needs name and version", daemon.text())

if __name__ == "__main__":
    unittest.main(verbosity=2)
