"""storyd under systemd's notify protocol (issue 9), with a real notify socket.

The test binds an AF_UNIX datagram socket, as systemd does, and gives its name
to the daemon in $NOTIFY_SOCKET with $WATCHDOG_USEC; every datagram is recorded
with the time it arrived. READY comes once Kafka is subscribed and PostgreSQL
connected at the right schema; STATUS says what the daemon does; an idle daemon
keeps pinging the watchdog; a loop blocked by a test hook stops the pings, and
so does a batch stuck in flight; SIGHUP says RELOADING then READY; SIGTERM says
STOPPING.
"""

import os
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class NotifySocket:
    """A bound datagram socket collecting (monotonic time, message) pairs."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        address = "\0" + path[1:] if path.startswith("@") else path
        self.sock.bind(address)
        self.sock.settimeout(0.1)
        self.messages = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self.receive, daemon=True)
        self.thread.start()

    def receive(self):
        while self.running:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            with self.lock:
                self.messages.append((time.monotonic(), data.decode()))

    def close(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()
        # A path socket lives in the test's folder, which tearDown has removed already.

    def lines(self, key, since=0.0):
        with self.lock:
            return [(t, line) for t, m in self.messages if t >= since
                    for line in m.split("\n") if line.startswith(key + "=")]

    def wait_for(self, line, since=0.0, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            key = line.split("=", 1)[0]
            for t, found in self.lines(key, since):
                if found == line:
                    return t
            time.sleep(0.02)
        raise AssertionError("no %r from the daemon within %d s: %r" % (line, timeout, self.messages[-10:]))


class Systemd(harness.StorydTestCase):

    def notify_socket(self, abstract=False):
        path = ("@storyd-test-%s" % self.tag) if abstract else os.path.join(self.tmp.name, "notify.sock")
        notify = NotifySocket(path)
        self.addCleanup(notify.close)
        return notify

    def start(self, notify, watchdog_usec=400000, **overrides):
        env = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": str(watchdog_usec), "WATCHDOG_PID": ""}
        return self.start_daemon(self.write_config(**overrides), env=env)

    @staticmethod
    def largest_gap(times):
        return max((b - a for a, b in zip(times, times[1:])), default=0.0)

    def test_ready_status_watchdog_reload_and_stopping(self):
        notify = self.notify_socket()
        self.produce(harness.page_events(30, "n"))
        daemon = self.start(notify)
        ready = notify.wait_for("READY=1")
        self.assertIn("assigned", daemon.wait_for_log(r"assigned \d+ partition").group(0))
        self.assertTrue(any(line.startswith("STATUS=consuming %s" % self.topic)
                            for _, line in notify.lines("STATUS")), notify.messages)
        self.wait_drained()
        # Idle, with nothing to consume: it keeps pinging every WATCHDOG_USEC / 2.
        idle_from = time.monotonic()
        time.sleep(2.5)
        pings = [t for t, _ in notify.lines("WATCHDOG", idle_from)]
        self.assertGreaterEqual(len(pings), 8, notify.messages[-5:])
        self.assertLess(self.largest_gap(pings), 0.6)
        # STATUS counts what was done.
        time.sleep(5.5 - min(5.5, time.monotonic() - ready))
        self.assertTrue(any("30 events" in line for _, line in notify.lines("STATUS")), notify.lines("STATUS"))
        hup = time.monotonic()
        daemon.proc.send_signal(signal.SIGHUP)
        reloading = notify.wait_for("RELOADING=1", hup)
        self.assertGreaterEqual(notify.wait_for("READY=1", reloading), reloading)
        term = time.monotonic()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        notify.wait_for("STOPPING=1", term, timeout=5)

    def test_an_abstract_socket_name_works(self):
        notify = self.notify_socket(abstract=True)
        daemon = self.start(notify, watchdog_usec=0)
        notify.wait_for("READY=1")
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assertEqual(notify.lines("WATCHDOG"), [])

    def test_a_stuck_loop_stops_the_pings_and_they_come_back(self):
        notify = self.notify_socket()
        daemon = self.start(notify, **{"test.stall_loop_ms": 2000})
        notify.wait_for("READY=1")
        time.sleep(1)
        stalled = time.monotonic()
        daemon.proc.send_signal(signal.SIGUSR1)
        time.sleep(3.5)
        pings = [t for t, _ in notify.lines("WATCHDOG", stalled - 0.5)]
        self.assertGreater(self.largest_gap(pings), 1.8, "pings went on while the loop was blocked")
        self.assertGreater(pings[-1], stalled + 2.0, "pings did not come back after the stall")
        self.assertEqual(daemon.stop(), 0, daemon.text())

    def test_a_batch_stuck_in_flight_stops_the_pings(self):
        notify = self.notify_socket()
        daemon = self.start(notify, **{"storyd.stuck_batch_ms": 1000, "batch.max_wait_ms": 10})
        notify.wait_for("READY=1")
        daemon.wait_for_log(r"assigned \d+ partition")
        holder = self.hold_offset_lock(4)
        blocked = time.monotonic()
        self.produce(harness.page_events(5, "s"))
        holder.communicate(timeout=30)
        self.assertEqual(holder.returncode, 0)
        released = time.monotonic()
        time.sleep(1)
        pings = [t for t, _ in notify.lines("WATCHDOG", blocked)]
        self.assertGreater(self.largest_gap(pings), 1.5, "pings went on while the batch was stuck")
        self.assertGreater(pings[-1], released, "pings did not come back after the batch committed")
        self.assertRegex(daemon.text(), r"no longer pinging the watchdog")
        self.wait_drained()
        self.assertEqual(daemon.stop(), 0, daemon.text())
        self.assert_exactly_once(5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
