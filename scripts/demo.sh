#!/usr/bin/env bash
# The main job on the bundled sample, from a fresh Debian 12 machine:
# installs what is missing, builds storyd, starts a local Kafka broker and
# PostgreSQL, creates storyd's topics, applies migrations, loads
# samples/dspdaily-sample.jsonl into Kafka, runs the daemon until the topic is
# drained, stops it with SIGTERM and prints what landed in PostgreSQL.
# The services keep running afterwards; scripts/services.sh stop ends them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
conf=samples/storyd-local.conf
topic=storyd.pages
say() { printf '\n== demo.sh: %s\n' "$*"; }

say "dependencies"
scripts/install-deps.sh
say "build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
storyd=build/storyd

say "services"
scripts/services.sh start
# The input, story and dead-letter topics with storyd's documented settings; existing ones are
# only checked.
"$storyd" topics -c "$conf" --create
"$storyd" migrate -c "$conf"

say "load the sample into $topic"
"$storyd" produce -c "$conf" samples/dspdaily-sample.jsonl

say "run storyd until $topic is drained"
mkdir -p .run
"$storyd" run -c "$conf" 2>.run/demo-storyd.log &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
"$storyd" lag -c "$conf" --wait 120
kill -TERM "$pid"
wait "$pid"
trap - EXIT
sed 's/^<[0-9]>//' .run/demo-storyd.log

say "what landed in PostgreSQL"
psql_() { scripts/pg.sh psql -X -P pager=off "$@"; }
psql_ -c "SELECT kafka_partition AS partition, count(*) AS events,
                 min(kafka_offset) AS first_offset, max(kafka_offset) AS last_offset,
                 pg_size_pretty(sum(body_size)) AS bodies
            FROM storyd_page_event WHERE kafka_topic = 'storyd.pages'
           GROUP BY 1 ORDER BY 1" \
      -c "SELECT consumer_group, kafka_topic, kafka_partition, next_offset
            FROM storyd_consumer_offset WHERE consumer_group = 'storyd-demo' ORDER BY 3" \
      -c "SELECT left(url, 60) AS url, content_type, body_size,
                 to_char(fetched_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI') AS fetched_kst,
                 encode(content_hash, 'hex') AS content_hash
            FROM storyd_page_event WHERE kafka_topic = 'storyd.pages'
           ORDER BY id DESC LIMIT 10" \
      -c "SELECT story_key, sightings, (SELECT count(*) FROM storyd_title_variant v
                                          WHERE v.story_id = s.story_id) AS titles,
                 left(title, 40) AS title, length(text) AS text_chars,
                 to_char(first_seen_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI') AS first_kst
            FROM storyd_story s ORDER BY sightings DESC, story_key LIMIT 10" \
      -c "SELECT reason, count(*) AS links, round(avg(score)::numeric, 2) AS avg_score
            FROM storyd_story_link GROUP BY 1 ORDER BY 2 DESC" \
      -c "SELECT kafka_topic, kind, count(*) AS outbox_rows, count(sent_at) AS sent
            FROM storyd_outbox GROUP BY 1, 2 ORDER BY 1, 2"
echo "demo.sh: done. The services are still running: scripts/services.sh stop ends them."
