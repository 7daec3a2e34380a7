"""The health endpoints (issue 9): /healthz and /readyz over HTTP on the loop.

/readyz turns false while PostgreSQL is stopped and true once the daemon has
reconnected; /healthz stays true (a reconnect is not a stuck loop). This test
stops the shared PostgreSQL, so CTest runs it alone (RUN_SERIAL).
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
        metrics = self.metrics(base + "/metrics")
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assert_exactly_once(11)
        sightings = int(harness.scalar("SELECT count(*) FROM storyd_sighting"))
        self.assertEqual(metrics["storyd_events_committed_total"], 11)
        self.assertEqual(metrics["storyd_pages_committed_total"], 10)
        self.assertEqual(metrics["storyd_events_rejected_total"], 1)
        self.assertEqual(metrics["storyd_dead_letters_total"], 1)
        self.assertEqual(metrics["storyd_sightings_total"], sightings)
        self.assertEqual(metrics["storyd_paused"], 0)
        self.assertGreater(metrics["process_resident_memory_bytes"], 1 << 20)

    def metrics(self, url):
        """Parses the Prometheus text format strictly: HELP and TYPE before each sample."""
        with urllib.request.urlopen(url, timeout=5) as r:
            self.assertEqual(r.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
            text = r.read().decode()
        samples, helped, typed = {}, set(), {}
        for line in text.splitlines():
            if line.startswith("# HELP "):
                helped.add(line.split(" ")[2])
            elif line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ")
                self.assertIn(kind, ("counter", "gauge"))
                typed[name] = kind
            else:
                name, value = line.split(" ")
                self.assertRegex(name, r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
                self.assertIn(name, helped)
                self.assertIn(name, typed)
                if typed[name] == "counter":
                    self.assertTrue(name.endswith("_total"), name)
                samples[name] = int(value)
        return samples

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
