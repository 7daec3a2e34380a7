#!/usr/bin/env python3
"""Resident memory of the daemon with a large backlog waiting in Kafka.

Publishes EVENTS page events (default 1,000,000; small pages in dspdaily's text template with
invented text, 2,000 distinct stories, so the dedup engine stays small and what grows, if
anything, is buffering) to a fresh 3-partition topic, then runs `storyd run` against it for
SECONDS and samples VmRSS from /proc every 0.5 s. Printed: RSS at start (engine empty), the
maximum and the last sample, how many events were committed and how many still wait. With
backpressure, RSS stays flat however long the backlog: a full batch while another commits
pauses the partitions, and librdkafka's prefetch is bounded by queued.max.messages.kbytes.

usage: bench/backlog_rss.py [--events N] [--seconds S] [--batch B]
Needs the services (scripts/services.sh start) and a build (build/storyd or $STORYD_BIN).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402


def events(count):
    brands = ["[동포투데이]", "[인터내셔널포커스]"]
    for i in range(count):
        story = i % 2000
        body = ("Home >  뉴스홈  >  국제뉴스\n벤치 기사 %d: 연변 박람회 소식\n"
                "%s 연길시에서 열린 벤치 박람회에 %d명이 찾았다. 이 글은 storyd 벤치용으로 지어낸 글이다.\n"
                "ⓒ 동포투데이 & dspdaily.com 무단전재-재배포금지\n" % (story, brands[i % 2], 100 + story))
        yield {"url": "https://dspdaily.com/news/view.php?no=%07d" % i, "fetched_at": "2026-03-02T08:15:00Z",
               "http_status": 200, "content_type": "text/plain; charset=utf-8", "source_id": "bench",
               "publisher_hint": "dspdaily.com", "body": body}


def rss_kib(pid):
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000000)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--storyd", action="append", default=[], metavar="KEY=VALUE",
                        help="a [storyd] setting for the daemon (repeatable)")
    parser.add_argument("--kafka", action="append", default=[], metavar="KEY=VALUE",
                        help="a librdkafka setting for the daemon's consumer (repeatable)")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    topic = "bench.backlog.%s" % tag
    dbname = "bench_backlog_%s" % tag
    with tempfile.TemporaryDirectory(prefix="storyd-bench-") as workdir:
        harness.create_topic(topic, 3)
        config = os.path.join(workdir, "backlog.conf")
        dsn = harness.dsn_with_dbname(dbname)
        with open(config, "w", encoding="utf-8") as f:
            f.write("[storyd]\ninput_topic = %s\nconsumer_group = bench-%s\nlog_level = notice\n"
                    "story_topic = %s.stories\ndead_letter_topic = %s.dead\n" % (topic, tag, topic, topic))
            for kv in args.storyd:
                f.write("%s = %s\n" % tuple(kv.split("=", 1)))
            f.write("[batch]\nmax_events = %d\nmax_wait_ms = 50\n" % args.batch)
            f.write("[kafka]\nbootstrap.servers = %s\n" % harness.BROKERS)
            for kv in args.kafka:
                f.write("%s = %s\n" % tuple(kv.split("=", 1)))
            f.write("[postgres]\n")
            for kv in harness.shlex.split(dsn):
                f.write("%s = %s\n" % tuple(kv.split("=", 1)))
        harness.psql("CREATE DATABASE %s" % dbname, dsn=harness.PG_DSN)
        try:
            harness.run(["migrate"], config)
            harness.run(["topics", "--create"], config)
            path = os.path.join(workdir, "events.jsonl")
            print("writing %d events ..." % args.events, file=sys.stderr)
            with open(path, "w", encoding="utf-8") as f:
                for event in events(args.events):
                    f.write(json.dumps(event, ensure_ascii=False) + "\n")
            started = time.monotonic()
            harness.run(["produce", path], config, timeout=3600)
            print("produced %d events (%.0f MB of JSON) in %.0f s" % (
                args.events, os.path.getsize(path) / 1e6, time.monotonic() - started), file=sys.stderr)
            log = open(os.path.join(workdir, "daemon.log"), "wb")
            daemon = subprocess.Popen([harness.STORYD, "run", "-c", config], stdout=log, stderr=subprocess.STDOUT)
            samples = []
            started = time.monotonic()
            while time.monotonic() - started < args.seconds:
                time.sleep(0.5)
                if daemon.poll() is not None:
                    raise SystemExit("storyd exited early (%d); see %s" % (daemon.returncode, log.name))
                samples.append((time.monotonic() - started, rss_kib(daemon.pid)))
                if sys.stderr.isatty():
                    print("\r%5.0f s  RSS %7.1f MiB" % (samples[-1][0], samples[-1][1] / 1024), end="",
                          file=sys.stderr)
            committed = int(harness.psql("SELECT coalesce(sum(next_offset), 0) FROM storyd_consumer_offset",
                                         dsn=dsn)[0][0])
            daemon.terminate()
            daemon.wait(120)
            log.close()
            if sys.stderr.isatty():
                print(file=sys.stderr)
            first = next((kib for t, kib in samples if t >= 5), samples[0][1])
            peak = max(kib for _, kib in samples)
            print("backlog %d events on 3 partitions, batches of %d, %.0f s of storyd run"
                  % (args.events, args.batch, args.seconds))
            print("RSS after 5 s %.1f MiB, peak %.1f MiB, last %.1f MiB" % (first / 1024, peak / 1024,
                                                                            samples[-1][1] / 1024))
            print("committed %d events (%.0f/s); still waiting %d"
                  % (committed, committed / args.seconds, args.events - committed))
            curve = [(t, kib) for t, kib in samples if int(t * 2) % 20 == 0]
            print("RSS every 10 s (MiB): " + " ".join("%.0f" % (kib / 1024) for _, kib in curve))
        finally:
            harness.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % dbname, dsn=harness.PG_DSN)


if __name__ == "__main__":
    main()
