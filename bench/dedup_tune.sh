#!/usr/bin/env bash
# Tunes the dedup engine on the near-duplicate set and the dev labels.
#
# usage: bench/dedup_tune.sh CORPUS_DIR KLUE_DIR
#   e.g. bench/dedup_tune.sh ../shared/corpus ../shared/eval/external/KLUE-sts
# Generates the pair set (bench/neardup_set.py; into build/dedup/, never committed: the corpus
# may not be redistributed), builds dedup_eval, prints the per-kind table for the default
# config, runs the grid (gram 2,3,4; similarity 0.5,0.6,0.7; bands x rows 16x4, 32x2, 8x8;
# anchor 12,16,24) sorted by F1 on the set, then F1 on the dev-label pairs, then the margins
# (weakest MinHash-only positive, closest shingled negative), with the default marked, and
# finally scores `storyd process` (default config) on the dev labels (scripts/score-corpus.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(($# == 2)) || { echo "usage: $0 CORPUS_DIR KLUE_DIR" >&2; exit 2; }
corpus="$(cd "$1" && pwd)"
klue="$(cd "$2" && pwd)"
build="${root}/build"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target storyd dedup_eval >/dev/null
out="${build}/dedup"
mkdir -p "$out"
STORYD_BIN="${build}/storyd" python3 "${root}/bench/neardup_set.py" "$corpus" "$klue" \
  "${out}/neardup.jsonl"
eval_bin="${build}/bench/dedup_eval"

echo
echo "== Default config"
"$eval_bin" "${out}/neardup.jsonl"

echo
echo "== Grid (sorted by F1, then dev F1, then margins; * = dd_default_config)"
: >"${out}/grid.txt"
for gram in 2 3 4; do
  for sim in 0.5 0.6 0.7; do
    for br in 16x4 32x2 8x8; do
      for anchor in 12 16 24; do
        "$eval_bin" --summary --gram "$gram" --sim "$sim" --bands "${br%x*}" --rows "${br#*x}" \
          --anchor "$anchor" "${out}/neardup.jsonl" >>"${out}/grid.txt"
      done
    done
  done
done
# Sort keys: F1, dev F1, the positive margin (mh_pos_min - sim), the negative margin
# (sim - neg_max); the smaller of the two margins decides among equals.
python3 - "${out}/grid.txt" <<'EOF'
import sys
rows = []
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    sim = float(f["sim"])
    pos = float(f["mh_pos_min"]) - sim if float(f["mh_pos_min"]) >= 0 else 1.0
    margin = min(pos, sim - float(f["neg_max"]))
    rows.append((float(f["F1"]), float(f["devF1"]), round(margin, 2), line.rstrip(), f))
rows.sort(key=lambda r: (-r[0], -r[1], -r[2]))
print("%-1s %4s %4s %5s %6s %6s %6s %6s %4s %4s %6s %6s %7s %7s %6s" % (
    "", "gram", "sim", "bxr", "anchor", "P", "R", "F1", "FP", "FN", "devF1", "margin",
    "mhPosMn", "negMax", "order"))
for f1, dev, margin, line, f in rows:
    print("%-1s %4s %4s %5s %6s %6s %6s %6s %4s %4s %6s %6.2f %7s %7s %6s" % (
        "*" if line.endswith(" default") else "", f["gram"], f["sim"],
        f["bands"] + "x" + f["rows"], f["anchor"], f["P"], f["R"], f["F1"], f["FP"], f["FN"],
        f["devF1"], margin, f["mh_pos_min"], f["neg_max"], f["order_mismatch"]))
best = rows[0]
print("\nbest: " + best[3])
default = [r for r in rows if r[3].endswith(" default")]
if default and (default[0][0], default[0][1], default[0][2]) == (best[0], best[1], best[2]):
    print("the default config ties with the best")
elif default:
    print("the default config ranks %d of %d: %s" % (rows.index(default[0]) + 1, len(rows),
                                                     default[0][3]))
EOF

echo
echo "== storyd process on the dev labels (default config)"
STORYD_BIN="${build}/storyd" "${root}/scripts/score-corpus.sh" "$corpus" --show 5
