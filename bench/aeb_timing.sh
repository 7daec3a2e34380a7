#!/usr/bin/env bash
# Pages per second: storyd's generic extractor against trafilatura on the same 181 pages, in
# one run on this machine. trafilatura comes from PyPI into a venv under build/ (never
# committed; 2.0.0, the version in the benchmark's table). Both sides get the pages decoded to text in memory beforehand; trafilatura is
# timed around trafilatura.extract() alone (its import and file reading are not counted),
# storyd around the whole `storyd process` run over the page events (startup, JSON parsing,
# charset detection, the HTML reader and the generic extractor all counted). Each side runs
# PASSES times (default 3) over the pages and the best pass is kept.
#
# usage: bench/aeb_timing.sh BENCHMARK_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="${1:?usage: bench/aeb_timing.sh BENCHMARK_DIR}"
bin="${STORYD_BIN:-$root/build/storyd}"
out="${OUT_DIR:-$root/build/aeb}"
passes="${PASSES:-3}"
venv="$root/build/bench-venv"
mkdir -p "$out"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import trafilatura' 2>/dev/null || "$venv/bin/pip" install -q "trafilatura==2.0.0" lxml_html_clean
python3 "$root/bench/aeb_events.py" events "$bench" >"$out/events.jsonl"
pages=$(wc -l <"$out/events.jsonl")

best_storyd=""
for ((i = 0; i < passes; i++)); do
  start=$(date +%s.%N)
  "$bin" process "$out/events.jsonl" -o storyd.profile_dir="$root/profiles" >/dev/null 2>&1
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc -l)
  if [[ -z "$best_storyd" ]] || (($(echo "$t < $best_storyd" | bc -l))); then best_storyd=$t; fi
done

best_traf=$("$venv/bin/python" - "$bench" "$passes" <<'PY'
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
awk -v n="$pages" -v s="$best_storyd" -v t="$best_traf" -v v="$version" 'BEGIN {
  printf "pages: %d (best of passes, one core each)\n", n
  printf "storyd process:         %7.3f s  %8.1f pages/s\n", s, n / s
  printf "trafilatura %-10s  %7.3f s  %8.1f pages/s\n", v ":", t, n / t
  printf "ratio: storyd is %.1fx faster\n", t / s
}'
