#!/usr/bin/env bash
# Scores `storyd process` against a labelled corpus of real pages.
#
# usage: scripts/score-corpus.sh CORPUS_DIR [SCORER] [--show N]
#   CORPUS_DIR holds dev-pages.jsonl and dev-labels.jsonl (e.g. ../shared/corpus);
#   SCORER defaults to CORPUS_DIR/../tools/score_stories.py.
# The corpus is read where it is: its pages may not be copied into this repo.
# Writes the items to build/score/items.jsonl and prints the scorer's report.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(($# >= 1)) || { echo "usage: $0 CORPUS_DIR [SCORER] [--show N]" >&2; exit 2; }
corpus="$(cd "$1" && pwd)"
shift
scorer="${corpus}/../tools/score_stories.py"
if (($# >= 1)) && [[ "$1" != --* ]]; then
  scorer="$1"
  shift
fi
show=(--show 20)
if (($# >= 2)) && [[ "$1" == --show ]]; then
  show=(--show "$2")
fi
[[ -f "${corpus}/dev-pages.jsonl" && -f "${corpus}/dev-labels.jsonl" ]] ||
  { echo "score-corpus.sh: ${corpus} lacks dev-pages.jsonl or dev-labels.jsonl" >&2; exit 2; }
[[ -f "$scorer" ]] || { echo "score-corpus.sh: no scorer at ${scorer}" >&2; exit 2; }

storyd="${STORYD_BIN:-${root}/build/storyd}"
if [[ ! -x "$storyd" ]]; then
  cmake -S "$root" -B "${root}/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "${root}/build" --target storyd
fi
out="${root}/build/score"
mkdir -p "$out"
"$storyd" process -o storyd.profile_dir="${root}/profiles" "${corpus}/dev-pages.jsonl" >"${out}/items.jsonl"
echo "score-corpus.sh: $(wc -l <"${out}/items.jsonl") items from $(wc -l <"${corpus}/dev-pages.jsonl") pages"
python3 "$scorer" "${corpus}/dev-labels.jsonl" "${out}/items.jsonl" "${show[@]}"
