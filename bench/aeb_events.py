#!/usr/bin/env python3
"""Turns the article-extraction-benchmark's pages into storyd page events, and back.

usage:
  aeb_events.py events BENCHMARK_DIR [--text] > events.jsonl
  aeb_events.py predictions ITEMS.jsonl > predictions.json
  aeb_events.py report GROUND_TRUTH.json PREDICTIONS.json [--worst N]

events: one event per page in html/ (plain or .gz), url https://aeb.invalid/<id> (a host no
profile serves, so the generic extractor runs). The body goes as text when it is UTF-8 and as
body_base64 otherwise, so storyd does its own charset detection. With --text each page is first
rendered to plain text as a crawler would, with inscriptis (PyPI), and sent as text/plain.
predictions: maps storyd's article items back to page ids by page_url.
report: per-page scores with the scorer's metric; prints the Korean pages and the worst pages.
The benchmark is read where it is; nothing is copied.
"""
import base64, gzip, json, os, re, sys
from collections import Counter

PREFIX = 'https://aeb.invalid/'


def page_files(bench):
    html = os.path.join(bench, 'html')
    for name in sorted(os.listdir(html)):
        m = re.match(r'^([0-9a-f]+)\.html(\.gz)?$', name)
        if m:
            yield m.group(1), os.path.join(html, name)


def read_page(path):
    with open(path, 'rb') as f:
        data = f.read()
    return gzip.decompress(data) if path.endswith('.gz') else data


def events(bench, text):
    render = None
    if text:
        from inscriptis import get_text
        render = get_text
    out = sys.stdout
    for page_id, path in page_files(bench):
        data = read_page(path)
        event = {'url': PREFIX + page_id}
        if render:
            # inscriptis needs text: decode as the page most likely is (UTF-8, else cp1252 as
            # browsers assume), then render.
            try:
                html = data.decode('utf-8')
            except UnicodeDecodeError:
                html = data.decode('cp1252', errors='replace')
            event['content_type'] = 'text/plain; charset=utf-8'
            event['body'] = render(html)
        else:
            event['content_type'] = 'text/html'
            try:
                event['body'] = data.decode('utf-8')
            except UnicodeDecodeError:
                event['body_base64'] = base64.b64encode(data).decode('ascii')
        out.write(json.dumps(event, ensure_ascii=False) + '\n')


def predictions(items_path):
    pred = {}
    with open(items_path, encoding='utf-8') as f:
        for line in f:
            item = json.loads(line)
            url = item.get('page_url', '')
            if item.get('kind') != 'article' or not url.startswith(PREFIX):
                continue
            page_id = url[len(PREFIX):]
            if page_id not in pred:
                pred[page_id] = {'articleBody': item.get('text') or ''}
    json.dump(pred, sys.stdout, ensure_ascii=False)


TOKEN = re.compile(r'\w+', re.UNICODE)


def shingles(text, n=4):
    toks = TOKEN.findall(text or '')
    return Counter(tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1)))


def page_prf(true, pred):
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return f1, prec, rec


def report(truth_path, pred_path, worst):
    truth = json.load(open(truth_path, encoding='utf-8'))
    pred = json.load(open(pred_path, encoding='utf-8'))
    rows = []
    for key, v in truth.items():
        body = (pred.get(key) or {}).get('articleBody', '')
        f1, p, r = page_prf(v.get('articleBody', ''), body)
        rows.append((f1, p, r, key, v.get('url', '')))
    korean = [row for row in rows
              if re.search('[\uac00-\ud7a3]', truth[row[3]].get('articleBody', ''))]
    print('Korean pages:')
    for f1, p, r, key, url in korean:
        print(f'  F1={f1:.3f} P={p:.3f} R={r:.3f}  {key[:12]}  {url}')
    print(f'{worst} worst pages:')
    for f1, p, r, key, url in sorted(rows)[:worst]:
        print(f'  F1={f1:.3f} P={p:.3f} R={r:.3f}  {key[:12]}  {url}')


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == 'events':
        events(sys.argv[2], '--text' in sys.argv[3:])
    elif cmd == 'predictions':
        predictions(sys.argv[2])
    elif cmd == 'report':
        worst = 10
        if '--worst' in sys.argv:
            worst = int(sys.argv[sys.argv.index('--worst') + 1])
        report(sys.argv[2], sys.argv[3], worst)
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
