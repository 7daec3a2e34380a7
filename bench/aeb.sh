#!/usr/bin/env bash
# Scores the generic extractor on the ScrapingHub article-extraction-benchmark (181 pages).
#
# usage: bench/aeb.sh [--text] BENCHMARK_DIR [SCORER]
#   e.g. bench/aeb.sh ../shared/eval/external/article-extraction-benchmark ../shared/tools/score_aeb.py
#
# Each page becomes a page event (url https://aeb.invalid/<id>, which no site profile serves),
# `storyd process` extracts it, article items are mapped back to page ids and written to
# predictions.json, and the scorer prints F1, precision and recall; then the two Korean pages'
# scores and the ten worst pages. With --text the pages are first rendered to plain text by
# inscriptis (PyPI, installed into build/bench-venv) as a crawler would, and the text path is
# scored against the same ground truth.
# STORYD_BIN picks the binary (default build/storyd; build-asan/storyd for the ASan run).
# OUT_DIR (default build/aeb) receives events, items and predictions. The benchmark's pages are
# read where they are and never copied into the repository.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
text=()
if [[ "${1:-}" == "--text" ]]; then
  text=(--text)
  shift
fi
bench="${1:?usage: bench/aeb.sh [--text] BENCHMARK_DIR [SCORER]}"
scorer="${2:-$root/../shared/tools/score_aeb.py}"
bin="${STORYD_BIN:-$root/build/storyd}"
out="${OUT_DIR:-$root/build/aeb}"
mkdir -p "$out"
python=python3
if ((${#text[@]})); then
  venv="$root/build/bench-venv"
  if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -c 'import inscriptis' 2>/dev/null || "$venv/bin/pip" install -q inscriptis
  python="$venv/bin/python"
fi
suffix="${text:+-text}"
"$python" "$root/bench/aeb_events.py" events "$bench" "${text[@]}" >"$out/events$suffix.jsonl"
status=0
"$bin" process "$out/events$suffix.jsonl" -o storyd.profile_dir="$root/profiles" \
  >"$out/items$suffix.jsonl" || status=$?
if ((status != 0)); then
  echo "storyd process exited with $status" >&2
fi
python3 "$root/bench/aeb_events.py" predictions "$out/items$suffix.jsonl" \
  >"$out/predictions$suffix.json"
if ((${#text[@]})); then echo "path: text (inscriptis rendering, text/plain)"; else echo "path: html"; fi
python3 "$scorer" "$bench/ground-truth.json" "$out/predictions$suffix.json"
python3 "$root/bench/aeb_events.py" report "$bench/ground-truth.json" "$out/predictions$suffix.json" \
  --worst "${WORST:-10}"
exit "$status"
