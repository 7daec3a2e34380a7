"""The health endpoints (issue 9): /healthz, /readyz and /metrics over HTTP on the loop.

/readyz turns false while PostgreSQL is stopped, and while the Kafka broker is, and true once
the daemon has reconnected; /healthz stays true (a reconnect is not a stuck loop). /metrics is
read by the Prometheus client library's own parser (Debian's python3-prometheus-client) and by
a strict reading of the text format, and its values are checked against what the test sent.
This test stops the shared PostgreSQL and Kafka, so CTest runs it alone (RUN_SERIAL).
"""

import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's package, when python3 is another interpreter (pyenv, a venv).
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    """(status, body) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Health(harness.StorydTestCase):

    def wait_status(self, url, status, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got = get(url)
                if got[0] == status:
                    return got
            except OSError:
                pass
            time.sleep(0.1)
        self.fail("%s did not answer %d within %d s" % (url, status, timeout))

    def test_readyz_follows_postgresql_and_healthz_stays_up(self):
        port = free_port()
        base = "http://127.0.0.1:%d" % port
        daemon = self.start_daemon(self.write_config(**{"storyd.http_listen": "127.0.0.1:%d" % port,
                                                        "storyd.reconnect_max_ms": 500}))
        self.assertEqual(self.wait_status(base + "/readyz", 200), (200, "ready\n"))
        self.assertEqual(get(base + "/healthz"), (200, "ok\n"))
        self.assertEqual(get(base + "/nope")[0], 404)
        scripts = os.path.join(harness.ROOT, "scripts")
        subprocess.run([os.path.join(scripts, "pg.sh"), "stop"], check=True, capture_output=True, timeout=120)
        try:
            self.assertEqual(self.wait_status(base + "/readyz", 503, timeout=15), (503, "PostgreSQL is away\n"))
            self.assertEqual(get(base + "/healthz"), (200, "ok\n"))
        finally:
            subprocess.run([os.path.join(scripts, "pg.sh"), "start"], check=True, capture_output=True, timeout=120)
        self.wait_status(base + "/readyz", 200, timeout=60)
        self.produce(harness.page_events(10, "h"))
        harness.produce_garbage(self.topic, 0, ["not a page event"])
        self.wait_drained()
        # The outbox is counted every 5 s: wait for a count after the relay has sent it all.
        deadline = time.monotonic() + 30
        while self.metrics(base + "/metrics")[0].get("storyd_outbox_backlog") != 0:
            self.assertLess(time.monotonic(), deadline, "the outbox backlog did not reach 0")
            time.sleep(0.5)
        metrics, labelled, histograms = self.metrics(base + "/metrics")

        self.assert_exactly_once(11)
        sightings = int(harness.scalar("SELECT count(*) FROM storyd_sighting"))
        stories = int(harness.scalar("SELECT count(*) FROM storyd_story"))
        self.assertEqual(metrics["storyd_events_consumed_total"], 11)
        self.assertEqual(metrics["storyd_events_committed_total"], 11)
        self.assertEqual(metrics["storyd_pages_committed_total"], 10)
        self.assertEqual(metrics["storyd_events_rejected_total"], 1)
        self.assertEqual(metrics["storyd_dead_letters_total"], 1)
        self.assertEqual(metrics["storyd_sightings_total"], sightings)
        self.assertEqual(metrics["storyd_paused"], 0)
        self.assertEqual(metrics["storyd_kafka_up"], 1)
        self.assertEqual(metrics["storyd_outbox_backlog"], 0)
        self.assertEqual(metrics["storyd_dedup_stories"], stories)
        self.assertGreater(metrics["storyd_dedup_index_bytes"], 0)
        self.assertGreater(metrics["process_resident_memory_bytes"], 1 << 20)
        # Batch sizes add up to the events; one commit time per batch.
        batches = metrics["storyd_batches_committed_total"]
        events = histograms["storyd_batch_events"]
        self.assertEqual(events["count"], batches)
        self.assertEqual(events["sum"], 11)
        self.assertEqual(histograms["storyd_batch_commit_seconds"]["count"], batches)
        self.assertGreater(histograms["storyd_batch_commit_seconds"]["sum"], 0)
        # Lag per owned partition, zero once drained.
        lag = labelled["storyd_consumer_lag"]
        self.assertEqual(sorted(lag), [(("partition", str(p)), ("topic", self.topic)) for p in range(3)])
        self.assertEqual(set(lag.values()), {0})

        # The broker goes away: not ready, still healthy; back: ready again.
        subprocess.run([os.path.join(scripts, "kafka.sh"), "stop"], check=True, capture_output=True, timeout=180)
        try:
            self.assertEqual(self.wait_status(base + "/readyz", 503, timeout=30), (503, "Kafka is away\n"))
            self.assertEqual(get(base + "/healthz"), (200, "ok\n"))
            self.assertEqual(self.metrics(base + "/metrics")[0]["storyd_kafka_up"], 0)
        finally:
            subprocess.run([os.path.join(scripts, "kafka.sh"), "start"], check=True, capture_output=True, timeout=300)
        self.wait_status(base + "/readyz", 200, timeout=120)
        self.produce(harness.page_events(5, "k"))
        self.wait_drained()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assert_exactly_once(16)

    def metrics(self, url):
        """Reads /metrics with the Prometheus parser and strictly by hand.

        Returns (unlabelled samples, {family: {labels: value}} for labelled gauges,
        {histogram: {"count", "sum", "buckets"}}).
        """
        with urllib.request.urlopen(url, timeout=5) as r:
            self.assertEqual(r.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
            text = r.read().decode()
        samples, labelled, histograms = {}, {}, {}
        for family in text_string_to_metric_families(text):
            self.assertIn(family.type, ("counter", "gauge", "histogram"), family.name)
            self.assertTrue(family.documentation, family.name)
            if family.type == "histogram":
                buckets = [(float(s.labels["le"]), s.value) for s in family.samples
                           if s.name.endswith("_bucket")]
                values = [v for _, v in buckets]
                self.assertEqual(values, sorted(values), "buckets are cumulative")
                self.assertEqual(buckets[-1][0], float("inf"))
                count = [s.value for s in family.samples if s.name.endswith("_count")][0]
                self.assertEqual(buckets[-1][1], count)
                histograms[family.name] = {
                    "count": count, "buckets": buckets,
                    "sum": [s.value for s in family.samples if s.name.endswith("_sum")][0]}
                continue
            for sample in family.samples:
                if sample.labels:
                    key = tuple(sorted(sample.labels.items()))
                    labelled.setdefault(family.name, {})[key] = sample.value
                else:
                    samples[sample.name] = sample.value
        # By hand too: HELP and TYPE before the samples of each family, _total on counters.
        helped, typed = set(), {}
        for line in text.splitlines():
            if line.startswith("# HELP "):
                helped.add(line.split(" ")[2])
            elif line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ")
                typed[name] = kind
            else:
                name = line.split("{")[0].split(" ")[0]
                family = name if name in typed else name.rsplit("_", 1)[0]
                self.assertIn(family, helped, line)
                self.assertIn(family, typed, line)
                if typed[family] == "counter":
                    self.assertTrue(name.endswith("_total"), name)
        return samples, labelled, histograms

    def test_a_port_in_use_is_a_clear_error(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            daemon = self.start_daemon(self.write_config(**{"storyd.http_listen": "127.0.0.1:%d" % port}))
            self.assertEqual(daemon.wait(60), 1, daemon.text())
        self.assertIn("storyd.http_listen 127.0.0.1:%d: address already in use" % port, daemon.text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
