"""Shared helpers for storyd's integration tests.

The tests run against the real services started by scripts/services.sh (a
single-node Apache Kafka broker and a throwaway PostgreSQL cluster); CTest
starts them through the `services` fixture. Each test uses its own topic and
consumer group, so tests may run in parallel against the same services.
Only the Python standard library is used; Kafka and PostgreSQL are reached
through storyd itself, kcat and psql.
"""

import json
import os
import re
import shlex
import signal
import subprocess
import tempfile
import time
import unittest
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STORYD = os.environ.get("STORYD_BIN", os.path.join(ROOT, "build", "storyd"))


def _service_env():
    """Reads .run/env written by scripts/services.sh; the environment wins."""
    values = {}
    path = os.path.join(ROOT, ".run", "env")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if "=" in line:
                    key, value = line.strip().split("=", 1)
                    values[key] = shlex.split(value)[0] if value else ""
    for key in ("STORYD_KAFKA_BROKERS", "STORYD_PG_DSN", "STORYD_KAFKA_SASL_BROKERS",
                "STORYD_KAFKA_SASL_USER", "STORYD_KAFKA_SASL_PASSWORD"):
        if key in os.environ:
            values[key] = os.environ[key]
    missing = [k for k in ("STORYD_KAFKA_BROKERS", "STORYD_PG_DSN") if not values.get(k)]
    if missing:
        # A missing service is a failure, never a skip: a skipped integration
        # test counted as a pass would hide exactly what it is there to catch.
        raise RuntimeError(
            "services are not running (%s unset): run scripts/services.sh start" % ", ".join(missing)
        )
    return values


ENV = _service_env()
BROKERS = ENV["STORYD_KAFKA_BROKERS"]
PG_DSN = ENV["STORYD_PG_DSN"]


# The database psql() talks to unless told otherwise: a StorydTestCase points it at its own.
_default_dsn = [PG_DSN]


def dsn_with_dbname(dbname, dsn=PG_DSN):
    """The same connection keys with another database."""
    keys = [kv for kv in shlex.split(dsn) if not kv.startswith("dbname=")]
    return " ".join(keys + ["dbname=" + dbname])


def psql(sql, dsn=None, check=True):
    """Runs SQL with psql; returns rows as lists of strings (tab-separated output)."""
    dsn = dsn or _default_dsn[0]
    proc = subprocess.run(
        ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", dsn, "-c", sql],
        capture_output=True, text=True, timeout=60,
    )
    if check and proc.returncode != 0:
        raise AssertionError("psql failed: %s\n%s" % (sql, proc.stderr))
    return [line.split("\t") for line in proc.stdout.splitlines() if line]


def scalar(sql):
    rows = psql(sql)
    return rows[0][0]


def create_topic(name, partitions, *configs):
    subprocess.run(
        [os.path.join(ROOT, "scripts", "kafka.sh"), "topics-create", name, str(partitions), *configs],
        check=True, capture_output=True, timeout=120,
    )


def high_watermarks(topic, partitions):
    """Returns {partition: high watermark} read with kcat.

    Right after a broker restart the partitions may have no leader for some seconds; the
    query is tried again for up to 60 s before the error counts.
    """
    deadline = time.monotonic() + 60
    while True:
        proc = subprocess.run(
            ["kcat", "-b", BROKERS, "-Q", "-J", *sum([["-t", "%s:%d:-1" % (topic, p)] for p in range(partitions)], [])],
            capture_output=True, text=True, timeout=60,
        )
        if proc.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if proc.returncode != 0:
        raise AssertionError("kcat -Q failed: %s" % proc.stderr)
    data = json.loads(proc.stdout)
    return {int(v["partition"]): int(v["offset"]) for k, v in data[topic].items() if k != "topic"}


def produce_garbage(topic, partition, lines):
    """Publishes each line as one raw (non-protobuf) message to one partition with kcat."""
    payload = "".join(line + "\n" for line in lines)
    subprocess.run(
        ["kcat", "-b", BROKERS, "-P", "-t", topic, "-p", str(partition), "-k", "garbage"],
        input=payload.encode("utf-8", "surrogateescape"), check=True, timeout=60,
    )


def page_events(count, prefix):
    """Builds count page events in dspdaily's text template with invented text."""
    brands = ["[동포투데이]", "[인터내셔널포커스]"]
    for i in range(count):
        body = (
            "Home >  뉴스홈  >  국제뉴스\n"
            "시험 기사 %d: 연변 박람회 소식\n"
            "%s 연길시에서 열린 시험 박람회에 %d명이 찾았다. 이 글은 storyd 시험용으로 지어낸 글이다.\n"
            "ⓒ 동포투데이 & dspdaily.com 무단전재-재배포금지\n" % (i, brands[i % 2], 100 + i)
        )
        yield {
            "url": "https://dspdaily.com/news/view.php?no=%s%06d" % (prefix, i),
            "fetched_at": "2026-03-02T08:15:00Z",
            "http_status": 200,
            "content_type": "text/plain; charset=utf-8",
            "source_id": "integration-test",
            "publisher_hint": "dspdaily.com",
            "headers": {"server": "test"},
            "body": body,
        }


class StorydTestCase(unittest.TestCase):
    """Gives each test its own topic, consumer group, database and config file.

    One storyd deployment owns one database (its dedup state is the whole
    sightings table), so tests that run in parallel each get a database.
    """

    partitions = 3
    topic_configs = ()  # "key=value" settings of the input topic

    def setUp(self):
        self.tag = uuid.uuid4().hex[:10]
        self.topic = "it.%s.%s" % (self.__class__.__name__.lower(), self.tag)
        self.story_topic = self.topic + ".stories"
        self.dead_topic = self.topic + ".dead"
        self.group = "it-%s" % self.tag
        self.dbname = "it_%s" % self.tag
        psql("CREATE DATABASE %s" % self.dbname, dsn=PG_DSN)
        self.dsn = dsn_with_dbname(self.dbname)
        _default_dsn[0] = self.dsn
        self.tmp = tempfile.TemporaryDirectory(prefix="storyd-it-")
        self.daemons = []
        run(["migrate"], self.write_config())
        create_topic(self.topic, self.partitions, *self.topic_configs)
        # The topics storyd writes, as `storyd topics --create` makes them for users.
        self.assertRegex(run(["topics", "--create"], self.write_config()), r"topics: ok")

    def tearDown(self):
        for daemon in self.daemons:
            daemon.kill()
        self.tmp.cleanup()
        _default_dsn[0] = PG_DSN
        if not os.environ.get("STORYD_KEEP_TEST_DATABASES"):
            psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.dbname, dsn=PG_DSN)

    def write_config(self, name=None, **overrides):
        """Writes a config; overrides are {"section.key": value}.

        Each call gets a new file unless a name is given: a daemon started with one config
        may read its file after the test has written the next.
        """
        if name is None:
            self.config_count = getattr(self, "config_count", 0) + 1
            name = "storyd-%d.conf" % self.config_count
        dsn = dict(kv.split("=", 1) for kv in shlex.split(getattr(self, "dsn", PG_DSN)))
        sections = {
            "storyd": {"input_topic": getattr(self, "topic", "unused"),
                       "story_topic": getattr(self, "story_topic", "unused.stories"),
                       "dead_letter_topic": getattr(self, "dead_topic", "unused.dead"),
                       "consumer_group": getattr(self, "group", "unused"),
                       "log_level": "info", "poll_interval_ms": "200", "http_listen": ""},
            "batch": {"max_events": "50", "max_wait_ms": "50"},
            "kafka": {"bootstrap.servers": BROKERS,
                      "group.instance.id": "it-instance-%s" % getattr(self, "tag", "x"),
                      # STORYD_TEST_SESSION_TIMEOUT_MS: longer under valgrind, which runs one
                      # thread at a time, so a long extraction starves librdkafka's heartbeats.
                      "session.timeout.ms": os.environ.get("STORYD_TEST_SESSION_TIMEOUT_MS",
                                                           "6000")},
            "postgres": dsn,
        }
        for key, value in overrides.items():
            section, name_ = key.split(".", 1)
            sections.setdefault(section, {})[name_] = str(value)
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", encoding="utf-8") as f:
            for section, keys in sections.items():
                f.write("[%s]\n" % section)
                for key, value in keys.items():
                    f.write("%s = %s\n" % (key, value))
        return path

    def produce(self, events, config=None, args=()):
        path = os.path.join(self.tmp.name, "events-%s.jsonl" % uuid.uuid4().hex[:6])
        with open(path, "w", encoding="utf-8") as f:
            for event in events:
                f.write(json.dumps(event, ensure_ascii=False) + "\n")
        out = run(["produce", *args, path], config or self.write_config())
        self.assertRegex(out, r"produced \d+ events")
        return path

    def start_daemon(self, config=None, env=None):
        daemon = Daemon(config or self.write_config(), self.tmp.name, len(self.daemons), env)
        self.daemons.append(daemon)
        return daemon

    def wait_drained(self, timeout=120):
        try:
            # The process gets longer than its own --wait, so lag gives the verdict.
            run(["lag", "--wait", str(timeout)], self.write_config(), timeout=timeout + 60)
        except AssertionError as e:
            # What the daemons said is what explains a lag that never drains.
            logs = "".join("\n--- daemon %d ---\n%s" % (i, d.text()[-6000:])
                           for i, d in enumerate(self.daemons))
            raise AssertionError(str(e) + logs) from None

    def hold_offset_lock(self, seconds):
        """Another session locks storyd_consumer_offset against writes (reads still work) for
        seconds: a batch in flight cannot advance its offsets, so it cannot commit meanwhile.
        Returns the psql process once the lock is granted."""
        holder = subprocess.Popen(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self.dsn, "-c",
             "BEGIN; LOCK TABLE storyd_consumer_offset IN EXCLUSIVE MODE; SELECT pg_sleep(%s); COMMIT;"
             % seconds], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(holder.kill)
        deadline = time.monotonic() + 10
        while scalar("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                     "WHERE c.relname = 'storyd_consumer_offset' AND l.mode = 'ExclusiveLock' "
                     "AND l.granted") != "1":
            self.assertLess(time.monotonic(), deadline, "the lock was not taken")
            time.sleep(0.05)
        return holder

    def stored_offsets(self):
        rows = psql(
            "SELECT kafka_partition, next_offset FROM storyd_consumer_offset "
            "WHERE consumer_group = '%s' AND kafka_topic = '%s'" % (self.group, self.topic)
        )
        return {int(p): int(o) for p, o in rows}

    def assert_exactly_once(self, expected_events):
        """Every offset of the topic accounted for exactly once, by a page row or a rejected row."""
        pages = int(scalar("SELECT count(*) FROM storyd_page_event WHERE kafka_topic = '%s'" % self.topic))
        rejects = int(scalar("SELECT count(*) FROM storyd_rejected_event WHERE kafka_topic = '%s'" % self.topic))
        doubled = psql(
            "SELECT kafka_partition, kafka_offset, count(*) FROM (SELECT kafka_partition, kafka_offset "
            "FROM storyd_page_event WHERE kafka_topic = '%s' UNION ALL SELECT kafka_partition, "
            "kafka_offset FROM storyd_rejected_event WHERE kafka_topic = '%s') r "
            "GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 5" % (self.topic, self.topic)
        )
        self.assertEqual(doubled, [], "offsets written more than once")
        self.assertEqual(pages + rejects, expected_events, "rows %d + rejects %d" % (pages, rejects))
        watermarks = high_watermarks(self.topic, self.partitions)
        self.assertEqual(sum(watermarks.values()), expected_events)
        self.assertEqual(self.stored_offsets(), {p: h for p, h in watermarks.items() if h > 0})
        # No gaps: every partition's offsets 0..high-1 are present.
        for partition, high in watermarks.items():
            present = int(scalar(
                "SELECT count(*) FROM (SELECT kafka_offset FROM storyd_page_event WHERE kafka_topic = '%s' "
                "AND kafka_partition = %d UNION SELECT kafka_offset FROM storyd_rejected_event "
                "WHERE kafka_topic = '%s' AND kafka_partition = %d) r"
                % (self.topic, partition, self.topic, partition)
            ))
            self.assertEqual(present, high, "partition %d" % partition)
        return pages, rejects


def run(args, config, check=True, timeout=180):
    """Runs a storyd subcommand; returns stdout; raises with stderr on failure."""
    proc = subprocess.run([STORYD, args[0], "-c", config, *args[1:]],
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError("storyd %s failed (%d):\n%s%s" % (" ".join(args), proc.returncode, proc.stdout, proc.stderr))
    return proc.stdout if check else proc


class Daemon:
    """A `storyd run` process with its log in a file."""

    def __init__(self, config, folder, index, env=None):
        # STORYD_TEST_LOG_DIR keeps the daemons' logs after the test (the folder is removed).
        keep = os.environ.get("STORYD_TEST_LOG_DIR")
        if keep:
            os.makedirs(keep, exist_ok=True)
            folder = keep
        self.log_path = os.path.join(folder, "daemon-%s-%d.log" % (os.path.basename(config), index))
        self.log = open(self.log_path, "wb")
        # STORYD_DAEMON_WRAPPER runs the daemon under a tool, e.g. valgrind with
        # --error-exitcode: its errors then fail the test through the exit code.
        wrapper = shlex.split(os.environ.get("STORYD_DAEMON_WRAPPER", ""))
        self.proc = subprocess.Popen([*wrapper, STORYD, "run", "-c", config], stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     env=None if env is None else {**os.environ, **env})

    def text(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for_log(self, pattern, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.text())
            if match:
                return match
            if self.proc.poll() is not None:
                raise AssertionError("storyd exited (%s) before logging %r:\n%s" % (self.proc.returncode, pattern, self.text()))
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %r in the log:\n%s" % (pattern, self.text()))

    def resumed(self):
        """{partition: offset} from the daemon's "resuming at offset" lines."""
        return {int(p): int(o) for p, o in re.findall(r"\[(\d+)\]: resuming at offset (\d+)", self.text())}

    def stop(self, timeout=60):
        """SIGTERM; returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.log.close()

    def wait(self, timeout=60):
        try:
            return self.proc.wait(timeout)
        finally:
            self.log.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.log.close()


def sql_literal(text):
    """Quotes text as a PostgreSQL string literal (tests only; the product binds parameters)."""
    return "'" + text.replace("'", "''") + "'"
