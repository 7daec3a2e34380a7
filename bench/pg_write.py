#!/usr/bin/env python3
"""End-to-end pages per second of the daemon into PostgreSQL: COPY against
pipelined prepared INSERTs (batch.write_method), and COPY with the story
events of the outbox turned off (storyd.story_topic = ""), on the real services.

For each method and each pass: a fresh database (migrated), a fresh consumer
group on one topic that holds EVENTS page events (the bundled sample crawled
again and again), `storyd run` from start until `storyd lag` reports the
topic drained. The time is from the daemon's start to drained, so it
includes the dedup rebuild (empty), Kafka fetches, extraction, dedup and the
transactions; "relayed" is the time until the outbox is sent too. The best
pass of each variant is printed.

usage: bench/pg_write.py [--events N] [--passes P] [--batch B]
Needs the services (scripts/services.sh start) and a build (build/storyd or $STORYD_BIN).
"""

import argparse
import os
import subprocess
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402
from test_stories import sample_rounds  # noqa: E402


def one_run(method, stories_on, topic, batch, events_path, workdir):
    tag = uuid.uuid4().hex[:8]
    dbname = "bench_%s" % tag
    harness.psql("CREATE DATABASE %s" % dbname, dsn=harness.PG_DSN)
    try:
        dsn = harness.dsn_with_dbname(dbname)
        config = os.path.join(workdir, "bench-%s.conf" % tag)
        with open(config, "w", encoding="utf-8") as f:
            f.write("[storyd]\ninput_topic = %s\nconsumer_group = bench-%s\nlog_level = notice\n" % (topic, tag))
            f.write("story_topic = %s\ndead_letter_topic = %s.dead\n" % (topic + ".stories" if stories_on else "", topic))
            f.write("[batch]\nmax_events = %d\nmax_wait_ms = 50\nwrite_method = %s\n" % (batch, method))
            f.write("[kafka]\nbootstrap.servers = %s\n[postgres]\n" % harness.BROKERS)
            for kv in harness.shlex.split(dsn):
                f.write("%s = %s\n" % tuple(kv.split("=", 1)))
        harness.run(["migrate"], config)
        start = time.monotonic()
        log = open(os.path.join(workdir, "daemon-%s.log" % tag), "wb")
        daemon = subprocess.Popen([harness.STORYD, "run", "-c", config], stdout=log, stderr=subprocess.STDOUT)
        harness.run(["lag", "--wait", "600"], config, timeout=700)
        elapsed = time.monotonic() - start
        while int(harness.psql("SELECT count(*) FROM storyd_outbox WHERE sent_at IS NULL", dsn=dsn)[0][0]):
            time.sleep(0.02)
        relayed = time.monotonic() - start
        events = int(harness.psql("SELECT count(*) FROM storyd_outbox", dsn=dsn)[0][0])
        daemon.terminate()
        daemon.wait(60)
        log.close()
        pages = int(harness.psql("SELECT count(*) FROM storyd_page_event", dsn=dsn)[0][0])
        items = int(harness.psql("SELECT count(*) FROM storyd_sighting", dsn=dsn)[0][0])
        stories = int(harness.psql("SELECT count(*) FROM storyd_story", dsn=dsn)[0][0])
        return elapsed, pages, items, stories, relayed, events
    finally:
        harness.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % dbname, dsn=harness.PG_DSN)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    import tempfile
    with tempfile.TemporaryDirectory(prefix="storyd-bench-") as workdir:
        topic = "bench.pgwrite.%s" % uuid.uuid4().hex[:8]
        harness.create_topic(topic, 3)
        topics_conf = os.path.join(workdir, "topics.conf")
        with open(topics_conf, "w", encoding="utf-8") as f:
            f.write("[storyd]\ninput_topic = %s\nstory_topic = %s.stories\ndead_letter_topic = %s.dead\n"
                    "[kafka]\nbootstrap.servers = %s\n" % (topic, topic, topic, harness.BROKERS))
        harness.run(["topics", "--create"], topics_conf)
        rounds = (args.events + 29) // 30
        events = list(sample_rounds(rounds))[: args.events]
        path = os.path.join(workdir, "events.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            import json
            for event in events:
                f.write(json.dumps(event, ensure_ascii=False) + "\n")
        produce_conf = os.path.join(workdir, "produce.conf")
        with open(produce_conf, "w", encoding="utf-8") as f:
            f.write("[storyd]\ninput_topic = %s\ndead_letter_topic = %s.dead\n[kafka]\nbootstrap.servers = %s\n"
                    % (topic, topic, harness.BROKERS))
        harness.run(["produce", path], produce_conf)
        print("%d page events on %s (3 partitions), batches of %d, best of %d passes"
              % (len(events), topic, args.batch, args.passes))
        print("%-22s %8s %8s %9s %8s %10s %10s %8s %9s" % (
            "variant", "seconds", "pages", "sightings", "stories", "pages/s", "items/s", "events", "relayed"))
        for name, method, stories_on in (("copy", "copy", True), ("copy, no story events", "copy", False),
                                         ("statements", "statements", True)):
            best = None
            for p in range(args.passes):
                result = one_run(method, stories_on, topic, args.batch, path, workdir)
                if sys.stderr.isatty():
                    print("  %s pass %d: %.2f s" % (name, p + 1, result[0]), file=sys.stderr)
                if best is None or result[0] < best[0]:
                    best = result
            elapsed, pages, items, stories, relayed, events = best
            print("%-22s %8.2f %8d %9d %8d %10.0f %10.0f %8d %8.2fs" % (
                name, elapsed, pages, items, stories, pages / elapsed, items / elapsed, events, relayed))


if __name__ == "__main__":
    main()
