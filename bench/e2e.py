#!/usr/bin/env python3
"""End to end, Kafka -> storyd -> PostgreSQL committed, against the ceilings of the same run.

On the real services (scripts/services.sh start), with one workload file of page events
(bench/workload.py), it measures in one run:

1. load: `storyd produce` of the workload into a 3-partition topic (events/s);
2. ceiling, consume only: kcat reading the whole topic with no processing;
3. storyd: `storyd run` on a fresh database from start until the topic is drained
   (committed), sampling /metrics every 0.5 s: committed events, dedup stories and RSS over
   time (written as CSV for bench/plot.py);
4. ceiling, COPY only: the final rows storyd wrote (every storyd table), copied with COPY
   into the same tables of a fresh migrated database, in one transaction;
5. latency: a fresh database and topic, the daemon running, a paced producer sending
   --latency-events at --rate events/s; p50 and p99 of commit time minus produce time
   (pg_xact_commit_timestamp of each page row against its Kafka CreateTime; the test
   cluster has track_commit_timestamp on).

It prints one table and writes bench-e2e.csv and bench-e2e.json into --out.

usage: bench/e2e.py WORKLOAD.jsonl [--out DIR] [--rate R] [--latency-events M] [--batch B]
A benchmark, not a test: it prints numbers and asserts nothing. STORYD_BIN picks the binary.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402

# In an order that loads referenced rows first.
TABLES = ["storyd_page_event", "storyd_rejected_event", "storyd_consumer_offset", "storyd_text",
          "storyd_story", "storyd_story_alias", "storyd_sighting", "storyd_title_variant",
          "storyd_story_link", "storyd_outbox"]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Deployment:
    """A fresh database (migrated) and config for one topic."""

    def __init__(self, workdir, topic, batch, http_port=None):
        self.tag = uuid.uuid4().hex[:8]
        self.dbname = "bench_%s" % self.tag
        harness.psql("CREATE DATABASE %s" % self.dbname, dsn=harness.PG_DSN)
        self.dsn = harness.dsn_with_dbname(self.dbname)
        self.config = os.path.join(workdir, "bench-%s.conf" % self.tag)
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("[storyd]\ninput_topic = %s\nconsumer_group = bench-%s\nlog_level = notice\n"
                    "story_topic = %s.stories\ndead_letter_topic = %s.dead\nhttp_listen = %s\n"
                    % (topic, self.tag, topic, topic,
                       "127.0.0.1:%d" % http_port if http_port else ""))
            f.write("[batch]\nmax_events = %d\nmax_wait_ms = 50\n" % batch)
            f.write("[kafka]\nbootstrap.servers = %s\n[postgres]\n" % harness.BROKERS)
            for kv in harness.shlex.split(self.dsn):
                f.write("%s = %s\n" % tuple(kv.split("=", 1)))
        harness.run(["migrate"], self.config)

    def scalar(self, sql):
        return harness.psql(sql, dsn=self.dsn)[0][0]

    def drop(self):
        harness.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.dbname, dsn=harness.PG_DSN)


def make_topic(workdir, name):
    harness.create_topic(name, 3, "max.message.bytes=33554432")
    conf = os.path.join(workdir, "topics-%s.conf" % name)
    with open(conf, "w", encoding="utf-8") as f:
        f.write("[storyd]\ninput_topic = %s\nstory_topic = %s.stories\ndead_letter_topic = %s.dead\n"
                "[kafka]\nbootstrap.servers = %s\n" % (name, name, name, harness.BROKERS))
    harness.run(["topics", "--create"], conf)
    return conf


def produce(config, path):
    start = time.monotonic()
    harness.run(["produce", path], config, timeout=3600)
    return time.monotonic() - start


def consume_only(topic, events):
    """kcat reading every message of the topic and throwing it away."""
    start = time.monotonic()
    proc = subprocess.run(["kcat", "-b", harness.BROKERS, "-C", "-t", topic, "-o", "beginning", "-e",
                           "-q", "-f", "%o\n"], stdout=subprocess.PIPE, check=True, timeout=3600)
    elapsed = time.monotonic() - start
    got = proc.stdout.count(b"\n")
    if got != events:
        print("consume-only read %d of %d events" % (got, events), file=sys.stderr)
    return elapsed


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        values = {}
        for line in r.read().decode().splitlines():
            if line and not line.startswith("#") and "{" not in line:
                name, value = line.split(" ")
                values[name] = float(value)
        return values


def run_storyd(workdir, topic, events, batch, samples_path):
    port = free_port()
    dep = Deployment(workdir, topic, batch, http_port=port)
    log = open(os.path.join(workdir, "daemon-%s.log" % dep.tag), "wb")
    start = time.monotonic()
    daemon = subprocess.Popen([harness.STORYD, "run", "-c", dep.config], stdout=log,
                              stderr=subprocess.STDOUT)
    samples = []
    committed = 0
    while committed < events:
        time.sleep(0.5)
        if daemon.poll() is not None:
            raise SystemExit("storyd exited %d; log in %s" % (daemon.returncode, log.name))
        try:
            m = scrape(port)
        except OSError:
            continue
        committed = int(m.get("storyd_events_committed_total", 0))
        samples.append((time.monotonic() - start, committed, int(m.get("storyd_dedup_stories", 0)),
                        int(m.get("process_resident_memory_bytes", 0))))
    elapsed = time.monotonic() - start
    final = scrape(port)
    daemon.terminate()
    daemon.wait(120)
    log.close()
    with open(samples_path, "w", encoding="utf-8") as f:
        f.write("seconds,committed_events,dedup_stories,rss_bytes\n")
        for row in samples:
            f.write("%.2f,%d,%d,%d\n" % row)
    counts = {t: int(dep.scalar("SELECT count(*) FROM %s" % t)) for t in TABLES}
    return dep, elapsed, final, counts


def copy_only(workdir, source):
    """COPY of the final rows of source into the same tables of a fresh database."""
    dumps = {}
    for table in TABLES:
        path = os.path.join(workdir, "%s.copy" % table)
        with open(path, "wb") as out:
            subprocess.run(["psql", "-X", "-q", source.dsn, "-c",
                            "COPY %s TO STDOUT" % table], stdout=out, check=True)
        dumps[table] = path
    target = Deployment(workdir, "unused", 500)
    script = ["BEGIN;"]
    for table in TABLES:
        # COPY writes identity columns as given and leaves the generated ones out both ways.
        script.append("\\copy %s FROM '%s' WITH (FORMAT text)" % (table, dumps[table]))
    script.append("COMMIT;")
    sql_path = os.path.join(workdir, "copy.sql")
    with open(sql_path, "w", encoding="utf-8") as f:
        f.write("\n".join(script) + "\n")
    start = time.monotonic()
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", target.dsn, "-f", sql_path],
                   check=True, capture_output=True)
    elapsed = time.monotonic() - start
    target.drop()
    return elapsed


def latency(workdir, workload, count, rate, batch):
    topic = "bench.latency.%s" % uuid.uuid4().hex[:8]
    conf = make_topic(workdir, topic)
    dep = Deployment(workdir, topic, batch)
    log = open(os.path.join(workdir, "daemon-latency.log"), "wb")
    daemon = subprocess.Popen([harness.STORYD, "run", "-c", dep.config], stdout=log,
                              stderr=subprocess.STDOUT)
    # Latency is measured from a running daemon: its start and first assignment are not in it.
    deadline = time.monotonic() + 120
    while b"assigned 3 partition" not in open(log.name, "rb").read():
        if time.monotonic() > deadline or daemon.poll() is not None:
            raise SystemExit("the latency daemon did not get its partitions; log in %s" % log.name)
        time.sleep(0.1)
    # Chunks of a tenth of a second's worth, each sent on its own schedule.
    chunk = max(1, rate // 10)
    with open(workload, encoding="utf-8") as f:
        lines = [next(f) for _ in range(count)]
    start = time.monotonic()
    for i in range(0, count, chunk):
        path = os.path.join(workdir, "chunk.jsonl")
        with open(path, "w", encoding="utf-8") as out:
            out.writelines(lines[i:i + chunk])
        harness.run(["produce", path], conf)
        wait = start + (i + chunk) / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    harness.run(["lag", "--wait", "600"], dep.config, timeout=700)
    daemon.terminate()
    daemon.wait(120)
    log.close()
    row = harness.psql(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), "
        "percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), count(*) FROM ("
        "SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - kafka_timestamp) * 1000 AS ms "
        "FROM storyd_page_event) d", dsn=dep.dsn)[0]
    dep.drop()
    return float(row[0]), float(row[1]), int(row[2])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench-e2e"))
    parser.add_argument("--rate", type=int, default=0, help="latency phase events/s (0: half of storyd's)")
    parser.add_argument("--latency-events", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with open(args.workload, encoding="utf-8") as f:
        events = sum(1 for line in f if line.strip())
    results = {"events": events, "workload": os.path.abspath(args.workload)}
    with tempfile.TemporaryDirectory(prefix="storyd-e2e-") as workdir:
        topic = "bench.e2e.%s" % uuid.uuid4().hex[:8]
        conf = make_topic(workdir, topic)
        results["produce_s"] = produce(conf, args.workload)
        results["consume_only_s"] = consume_only(topic, events)
        dep, elapsed, final, counts = run_storyd(workdir, topic, events, args.batch,
                                                 os.path.join(args.out, "bench-e2e.csv"))
        results.update(storyd_s=elapsed, rows=counts, final_metrics=final)
        results["copy_only_s"] = copy_only(workdir, dep)
        dep.drop()
        rate = args.rate or max(100, int(events / elapsed / 2))
        p50, p99, n = latency(workdir, args.workload, min(args.latency_events, events), rate,
                              args.batch)
        results.update(latency_rate=rate, latency_p50_ms=p50, latency_p99_ms=p99, latency_events=n)
    with open(os.path.join(args.out, "bench-e2e.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    rows = [("produce (storyd produce, load)", results["produce_s"]),
            ("ceiling: consume only (kcat)", results["consume_only_s"]),
            ("storyd: Kafka -> PostgreSQL committed", results["storyd_s"]),
            ("ceiling: COPY of the final rows", results["copy_only_s"])]
    print("%d events, %d items (sightings), %d stories" % (
        events, counts["storyd_sighting"], counts["storyd_story"]))
    print("%-40s %10s %12s" % ("step", "seconds", "events/s"))
    for name, seconds in rows:
        print("%-40s %10.2f %12.0f" % (name, seconds, events / seconds))
    print("latency at %d events/s (%d events): p50 %.0f ms, p99 %.0f ms" % (rate, n, p50, p99))
    print("RSS at the end %.1f MiB with %d stories indexed" % (
        final.get("process_resident_memory_bytes", 0) / 2**20, final.get("storyd_dedup_stories", 0)))


if __name__ == "__main__":
    main()
