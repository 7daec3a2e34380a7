#!/usr/bin/env bash
# Pages per second: storyd's generic extractor against trafilatura on the same 181 pages, in
# one run on this machine, one core each (taskset -c ${CORE:-0} when taskset exists).
# trafilatura comes from PyPI into a venv under build/ (never committed; 2.0.0, the version in
# the benchmark's table).
#
# Two storyd numbers, clearly apart:
#   in-memory   bench_extract (build-rel/bench/bench_extract, a Release build) over the same
#               page events loaded into memory beforehand: ex_extract alone (charset detection,
#               the HTML parse and the generic extractor, text normalization). Like for like with
#               trafilatura's number, which times trafilatura.extract() over pages decoded in
#               memory beforehand (its import and file reading are not counted). Pages that
#               go as body_base64 (none of the 181) are left out of bench_extract's set; trafilatura
#               gets all pages.
#   end-to-end  the whole `storyd process` run over the page events file (startup, reading and
#               decoding 33 MB of JSON events, extraction, JSON output), best of PASSES runs.
# trafilatura runs PASSES times (default 3) over the pages and the best pass is kept; the
# in-memory storyd number runs for SECONDS (default 5).
#
# usage: bench/aeb_timing.sh BENCHMARK_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${1:?usage: bench/aeb_timing.sh BENCHMARK_DIR}"
bin="${STORYD_BIN:-$root/build/storyd}"
rel="${REL_DIR:-$root/build-rel}"
out="${OUT_DIR:-$root/build/aeb}"
passes="${PASSES:-3}"
seconds="${SECONDS_INMEM:-5}"
venv="$root/build/bench-venv"
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c "${CORE:-0}"); fi
mkdir -p "$out"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import trafilatura' 2>/dev/null || "$venv/bin/pip" install -q "trafilatura==2.0.0" lxml_html_clean
if [[ ! -x "$rel/bench/bench_extract" ]]; then
  cmake -S "$root" -B "$rel" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$rel" --target bench_extract >/dev/null
fi
python3 "$root/bench/aeb_events.py" events "$bench" >"$out/events.jsonl"
pages=$(wc -l <"$out/events.jsonl")

best_storyd=""
for ((i = 0; i < passes; i++)); do
  start=$(date +%s.%N)
  "${pin[@]}" "$bin" process "$out/events.jsonl" -o storyd.profile_dir="$root/profiles" >/dev/null 2>&1
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc -l)
  if [[ -z "$best_storyd" ]] || (($(echo "$t < $best_storyd" | bc -l))); then best_storyd=$t; fi
done

inmem=$("${pin[@]}" "$rel/bench/bench_extract" --seconds "$seconds" "$out/events.jsonl" |
  awk '$1 == "html" { print $2, $5 }')
inmem_pages=${inmem%% *}
inmem_rate=${inmem##* }

best_traf=$("${pin[@]}" "$venv/bin/python" - "$bench" "$passes" <<'PY'
import gzip, os, sys, time
import trafilatura
bench, passes = sys.argv[1], int(sys.argv[2])
pages = []
for name in sorted(os.listdir(os.path.join(bench, 'html'))):
    path = os.path.join(bench, 'html', name)
    data = open(path, 'rb').read()
    if name.endswith('.gz'):
        data = gzip.decompress(data)
    try:
        pages.append(data.decode('utf-8'))
    except UnicodeDecodeError:
        pages.append(data.decode('cp1252', errors='replace'))
best = None
for _ in range(passes):
    start = time.perf_counter()
    for html in pages:
        trafilatura.extract(html)
    t = time.perf_counter() - start
    best = t if best is None else min(best, t)
print(best)
PY
)
version=$("$venv/bin/python" -c 'import trafilatura; print(trafilatura.__version__)')
awk -v n="$pages" -v s="$best_storyd" -v t="$best_traf" -v v="$version" \
  -v mp="$inmem_pages" -v mr="$inmem_rate" 'BEGIN {
  traf = n / t
  printf "pages: %d (one core each)\n", n
  printf "in memory (like for like):\n"
  printf "  storyd ex_extract (bench_extract, %d pages)  %8.1f pages/s\n", mp, mr
  printf "  trafilatura %-10s extract()               %8.1f pages/s\n", v, traf
  printf "  ratio: storyd is %.1fx faster\n", mr / traf
  printf "end to end:\n"
  printf "  storyd process (events file in, items out)  %8.1f pages/s  (%.3f s)\n", n / s, s
  printf "  ratio against trafilatura extract():        %.1fx\n", (n / s) / traf
}'
