#!/usr/bin/env python3
"""The peer: Kafka Connect with the Debezium JDBC sink, writing the same page events into
PostgreSQL with an upsert on the url, on the same services and the same machine.

This is the job a team would set up instead of storyd if it only wanted the pages in
PostgreSQL: no extraction, no normalization, no dedup, no story events; one row per url. The
sink needs records with a schema, so each page event is sent as Connect JSON
({"schema", "payload"}: url, final_url, fetched_at, http_status, content_type, body, source_id,
publisher_hint) to a topic of its own with 3 partitions. Connect runs standalone (one worker,
--tasks tasks) from the jars Maven Central serves (connect-runtime 4.4.0, debezium-connector-jdbc
3.6.0.Final, the PostgreSQL driver), which `mvn dependency:copy-dependencies` puts into
.cache/peer/lib (bench/peer_connect.pom.xml). The time is from the worker's start until every
distinct url has its row.

usage: bench/peer_connect.py WORKLOAD.jsonl [--tasks N] [--batch B]
Needs the services (scripts/services.sh start) and Java 17. A benchmark: it asserts nothing.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402

PEER = os.path.join(ROOT, ".cache", "peer")
FIELDS = [("url", "string", False), ("final_url", "string", True), ("fetched_at", "string", True),
          ("http_status", "int32", True), ("content_type", "string", True),
          ("body", "string", True), ("source_id", "string", True),
          ("publisher_hint", "string", True), ("event_seq", "int64", False)]
SCHEMA = {"type": "struct", "name": "page_event", "optional": False,
          "fields": [{"field": f, "type": t, "optional": o} for f, t, o in FIELDS]}


def fetch_jars():
    lib = os.path.join(PEER, "lib")
    if os.path.isdir(lib) and any(n.startswith("debezium-connector-jdbc") for n in os.listdir(lib)):
        return lib
    os.makedirs(PEER, exist_ok=True)
    shutil.copy(os.path.join(ROOT, "bench", "peer_connect.pom.xml"), os.path.join(PEER, "pom.xml"))
    subprocess.run(["mvn", "-q", "-B", "dependency:copy-dependencies", "-DoutputDirectory=lib"],
                   cwd=PEER, check=True, timeout=1800)
    return lib


def to_connect_json(workload, out_path):
    """Writes "url<TAB>record" lines; returns the distinct urls and the sum of each url's last
    event_seq, which the table holds once every event is written (keyed by url, the events of
    one url stay in order on one partition)."""
    last = {}
    with open(workload, encoding="utf-8") as f, open(out_path, "w", encoding="utf-8") as out:
        for seq, line in enumerate(f, 1):
            if not line.strip():
                continue
            event = json.loads(line)
            payload = {name: event.get(name) for name, _, _ in FIELDS}
            payload["event_seq"] = seq
            last[payload["url"]] = seq
            out.write(payload["url"] + "\t" +
                      json.dumps({"schema": SCHEMA, "payload": payload}, ensure_ascii=False) + "\n")
    return len(last), sum(last.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload")
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    lib = fetch_jars()
    tag = uuid.uuid4().hex[:8]
    topic = "bench.peer.%s" % tag
    dbname = "bench_peer_%s" % tag
    with tempfile.TemporaryDirectory(prefix="storyd-peer-") as work:
        converted = os.path.join(work, "connect.jsonl")
        distinct, expected_sum = to_connect_json(args.workload, converted)
        harness.create_topic(topic, 3, "max.message.bytes=33554432")
        with open(converted, "rb") as f:
            subprocess.run(["kcat", "-b", harness.BROKERS, "-P", "-t", topic, "-K", "\t", "-X",
                            "message.max.bytes=40000000"], stdin=f, check=True, timeout=3600)
        harness.psql("CREATE DATABASE %s" % dbname, dsn=harness.PG_DSN)
        dsn = harness.dsn_with_dbname(dbname)
        params = dict(kv.split("=", 1) for kv in harness.shlex.split(dsn))
        worker = os.path.join(work, "worker.properties")
        with open(worker, "w", encoding="utf-8") as f:
            f.write("bootstrap.servers=%s\n" % harness.BROKERS)
            f.write("key.converter=org.apache.kafka.connect.storage.StringConverter\n")
            f.write("value.converter=org.apache.kafka.connect.json.JsonConverter\n")
            f.write("value.converter.schemas.enable=true\n")
            f.write("offset.storage.file.filename=%s/offsets\n" % work)
            f.write("consumer.max.poll.records=%d\nconsumer.auto.offset.reset=earliest\n" % args.batch)
            f.write("consumer.max.partition.fetch.bytes=33554432\nconsumer.fetch.max.bytes=67108864\n")
            f.write("plugin.path=%s\n" % work)
        sink = os.path.join(work, "sink.properties")
        with open(sink, "w", encoding="utf-8") as f:
            f.write("name=peer-%s\n" % tag)
            f.write("connector.class=io.debezium.connector.jdbc.JdbcSinkConnector\n")
            f.write("tasks.max=%d\ntopics=%s\n" % (args.tasks, topic))
            f.write("connection.url=jdbc:postgresql://%s:%s/%s\n" % (params["host"], params["port"], dbname))
            f.write("connection.username=%s\nconnection.password=\n" % params["user"])
            f.write("insert.mode=upsert\nprimary.key.mode=record_value\nprimary.key.fields=url\n")
            f.write("schema.evolution=basic\ntable.name.format=peer_pages\nbatch.size=%d\n" % args.batch)
        log = open(os.path.join(work, "connect.log"), "wb")
        start = time.monotonic()
        java = subprocess.Popen(["java", "-Xmx2g", "-cp", os.path.join(lib, "*"),
                                 "org.apache.kafka.connect.cli.ConnectStandalone", worker, sink],
                                stdout=log, stderr=subprocess.STDOUT)
        written = 0
        first_row = None
        try:
            while written != expected_sum:
                time.sleep(0.5)
                if java.poll() is not None:
                    log.close()
                    with open(log.name, encoding="utf-8", errors="replace") as f:
                        print(f.read()[-4000:], file=sys.stderr)
                    raise SystemExit("Kafka Connect exited %d" % java.returncode)
                out = harness.psql("SELECT count(*) FROM pg_class WHERE relname = 'peer_pages'", dsn=dsn)
                if out[0][0] == "1":
                    written = int(harness.psql("SELECT coalesce(sum(event_seq), 0) FROM peer_pages",
                                               dsn=dsn)[0][0])
                    if written and first_row is None:
                        first_row = time.monotonic() - start
            elapsed = time.monotonic() - start
        finally:
            java.terminate()
            java.wait(60)
            log.close()
            harness.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % dbname, dsn=harness.PG_DSN)
        with open(args.workload, encoding="utf-8") as f:
            events = sum(1 for line in f if line.strip())
        print("Kafka Connect + Debezium JDBC sink (%d tasks): %d events, %d urls upserted in "
              "%.2f s: %.0f events/s from the worker's start (JVM start included); the first row "
              "after %.2f s, %.0f events/s from there"
              % (args.tasks, events, distinct, elapsed, events / elapsed, first_row,
                 events / max(elapsed - first_row, 0.001)))
        print(json.dumps({"peer_s": elapsed, "peer_first_row_s": first_row, "events": events,
                          "urls": distinct, "tasks": args.tasks}))


if __name__ == "__main__":
    main()
