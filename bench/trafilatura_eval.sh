#!/usr/bin/env bash
# Scores the generic extractor on trafilatura's own evaluation set (../shared/eval/external/
# trafilatura-eval: evaldata-subset200.json, whose 200 pages are in html/), next to trafilatura
# itself (PyPI, in build/bench-venv) on the same pages in the same run.
#
# usage: bench/trafilatura_eval.sh EVAL_DIR
#
# The set has no reference body, only snippets per page: "with" (text the main content holds)
# and "without" (boilerplate that must not be extracted). There is no body to cut into
# 4-grams, so the benchmark's token metric cannot apply; the set's own snippet metric does,
# as trafilatura's evaluation computes it: a "with" snippet found in the extraction is a true
# positive, missed a false negative; a "without" snippet found is a false positive, absent a
# true negative. Precision, recall, F1 and accuracy are over all snippets of all pages.
# Snippets and extractions are compared with whitespace collapsed to single spaces.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
eval_dir="${1:?usage: bench/trafilatura_eval.sh EVAL_DIR}"
bin="${STORYD_BIN:-$root/build/storyd}"
out="${OUT_DIR:-$root/build/trafilatura-eval}"
venv="$root/build/bench-venv"
mkdir -p "$out"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import trafilatura' 2>/dev/null ||
  "$venv/bin/pip" install -q "trafilatura==2.0.0" lxml_html_clean

# Page events: https://teval.invalid/<n>, so no site profile serves them.
python3 - "$eval_dir" >"$out/events.jsonl" <<'PY'
import base64, json, os, sys
d = sys.argv[1]
data = json.load(open(os.path.join(d, 'evaldata-subset200.json'), encoding='utf-8'))
for n, (url, v) in enumerate(data.items()):
    raw = open(os.path.join(d, 'html', v['file']), 'rb').read()
    event = {'url': f'https://teval.invalid/{n}', 'content_type': 'text/html'}
    try:
        event['body'] = raw.decode('utf-8')
    except UnicodeDecodeError:
        event['body_base64'] = base64.b64encode(raw).decode('ascii')
    print(json.dumps(event, ensure_ascii=False))
PY
"$bin" process "$out/events.jsonl" -o storyd.profile_dir="$root/profiles" >"$out/items.jsonl" 2>/dev/null || true

"$venv/bin/python" - "$eval_dir" "$out/items.jsonl" <<'PY'
import json, os, sys
import trafilatura
d, items_path = sys.argv[1], sys.argv[2]
data = json.load(open(os.path.join(d, 'evaldata-subset200.json'), encoding='utf-8'))
storyd = {}
for line in open(items_path, encoding='utf-8'):
    item = json.loads(line)
    n = int(item['page_url'].rsplit('/', 1)[1])
    if item.get('kind') == 'article' and n not in storyd:
        storyd[n] = item.get('text') or ''

def norm(s):
    return ' '.join((s or '').split())

def score(extract):
    tp = fp = tn = fn = 0
    for n, (url, v) in enumerate(data.items()):
        text = norm(extract(n, v))
        for s in v.get('with', []):
            if norm(s) in text: tp += 1
            else: fn += 1
        for s in v.get('without', []):
            if norm(s) in text: fp += 1
            else: tn += 1
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    a = (tp + tn) / (tp + tn + fp + fn)
    return f, p, r, a

def traf(n, v):
    raw = open(os.path.join(d, 'html', v['file']), 'rb').read()
    return trafilatura.extract(raw) or ''

print(f'pages: {len(data)}  snippet metric (with = must be found, without = must not be)')
for name, fn in (('storyd', lambda n, v: storyd.get(n, '')),
                 (f'trafilatura {trafilatura.__version__}', traf)):
    f, p, r, a = score(fn)
    print(f'{name:18s} F1={f:.3f} precision={p:.3f} recall={r:.3f} accuracy={a:.3f}')
PY
