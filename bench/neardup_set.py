#!/usr/bin/env python3
"""Builds the near-duplicate evaluation set for the dedup engine, at run time.

usage: bench/neardup_set.py CORPUS_DIR KLUE_DIR OUT.jsonl [--seed N] [--per-kind N]

The corpus pages may not be redistributed, so the set is never committed: it is generated
from CORPUS_DIR (dev-pages.jsonl, dev-labels.jsonl) each time. The article bodies and
leads come from `storyd process` (STORYD_BIN, default build/storyd), the story and event
labels from dev-labels.jsonl; KLUE_DIR holds klue-sts-v1.1_dev.json (KLUE-STS, CC BY-SA 4.0).

Each output line is one pair:
  {"kind", "same": true|false, "a": {"title", "text"[, "title_cut"]}, "b": {...}, "src"}
Kinds dev_same_story and dev_other_story are every pair of distinct labelled items as
extracted (title and text), scored apart from the near-duplicate kinds.
Text kinds carry no titles (title null on both sides), so that a link can only come from the
text; headline_cut carries titles only; the negatives carry what the page carries.
Everything is deterministic for a given seed.
"""

import json
import os
import random
import re
import subprocess
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

POSITIVE = [
    "retag", "byline_added", "byline_removed", "dateline", "quote_space", "particle",
    "sentence_drop", "sentence_reorder", "cut_30", "cut_50", "cut_70", "cut_90", "lead_only",
    "headline_cut",
]
NEGATIVE = ["same_event", "same_template", "klue_high", "klue_low", "klue_para",
            "different_stories"]
DEV = ["dev_same_story", "dev_other_story"]  # scored apart from the near-dup set


def loose(s):
    """A rough match key for joining items to labels: letters and digits only."""
    s = unicodedata.normalize("NFKC", s or "").casefold()
    return "".join(ch for ch in s if ch.isalnum())


def strip_tag(s):
    return re.sub(r"^\s*\[[^\]]*\]\s*", "", s or "")


def run_storyd(corpus):
    storyd = os.environ.get("STORYD_BIN", os.path.join(ROOT, "build", "storyd"))
    cmd = [storyd, "process", "-o", "storyd.profile_dir=" + os.path.join(ROOT, "profiles"),
           os.path.join(corpus, "dev-pages.jsonl")]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return [json.loads(line) for line in out.stdout.decode("utf-8").splitlines() if line.strip()]


def label_items(items, labels):
    """Gives each extracted item the story and event of its label (or a stand-in)."""
    by_page = {}
    for lab in labels:
        by_page.setdefault(lab["page_url"], []).append(lab)
    for it in items:
        best = None
        tkey, xkey = loose(it.get("title")), loose(it.get("text"))[:12]
        for lab in by_page.get(it["page_url"], []):
            lt, lx = loose(lab.get("title")), loose(strip_tag(lab.get("text_prefix")))[:12]
            score = 0
            if tkey and lt and (tkey == lt or tkey.startswith(lt) or lt.startswith(tkey)):
                score += 2
            if xkey and lx and (xkey.startswith(lx) or lx.startswith(xkey)):
                score += 2
            if lab["kind"] == it["kind"]:
                score += 1
            if score >= 2 and (best is None or score > best[0]):
                best = (score, lab)
        if best:
            it["story"], it["event"] = best[1]["story"], best[1]["event"]
        else:
            key = "u:" + (tkey or xkey)
            it["story"], it["event"] = key, key
    return items


def collect(items):
    """Per story: its longest title, its longest text, its distinct (title, text) items."""
    stories = {}
    for it in items:
        st = stories.setdefault(it["story"], {"id": it["story"], "event": it["event"],
                                             "title": None, "text": "", "items": []})
        title, text = it.get("title") or None, it.get("text") or ""
        if title and (not st["title"] or len(title) > len(st["title"])):
            st["title"] = title
        if len(text) > len(st["text"]):
            st["text"] = text
        entry = {"title": title, "text": text or None}
        if entry not in st["items"]:
            st["items"].append(entry)
    return stories


# ---- Variants --------------------------------------------------------------------------------

def cut_mid_word(text, at):
    """Cuts text near `at`, inside a word (both sides of the cut are non-space)."""
    at = max(1, min(at, len(text) - 1))
    while at < len(text) - 1 and (text[at].isspace() or text[at - 1].isspace()):
        at += 1
    return text[:at]


def sentences(text):
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+|\n+", text) if p.strip()]
    return parts


BYLINES_START = ["홍길동 기자 = ", "●김정룡(多가치 포럼 대표) ", "●장저우샹(중국) ", "[동포투데이 철민 기자] ",
                 "허훈 기자 = "]
BYLINES_END = [" /곽용호", " /홍길동 기자", " 허훈 기자 hh@dspdaily.com"]
DATELINES = ["(서울=뉴스1) 홍길동 기자 = ", "(베이징=연합뉴스) 김철 특파원 = ", "(연길=동포투데이) 리철민 기자 = ",
             "(워싱턴=뉴시스) 이영희 기자 = "]
TAGS = ["[동포투데이] ", "[인터내셔널포커스] ", "[동포투데이]", "[인터내셔널포커스]"]


def add_byline(rng, text):
    choice = rng.randrange(3)
    if choice == 0:
        return rng.choice(BYLINES_START) + text
    if choice == 1:
        return text + rng.choice(BYLINES_END)
    return rng.choice(BYLINES_START) + text + rng.choice(BYLINES_END)


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def quote_space(rng, text):
    out = text
    if "“" in out or "‘" in out:
        out = out.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    else:
        out = re.sub(r'"([^"]*)"', "“\\1”", out)
        out = re.sub(r"'([^']*)'", "‘\\1’", out)
    style = rng.randrange(3)
    if style == 0:  # spaces added around punctuation
        out = re.sub(r"\s*([,.()·])\s*", r" \1 ", out).strip()
    elif style == 1:  # spaces removed after commas and around brackets
        out = re.sub(r"\s*([,()])\s*", r"\1", out)
    else:  # double spaces, spaces before full stops
        out = out.replace(". ", " .  ").replace(", ", " ,  ")
    if rng.random() < 0.7:
        out = out.translate(FULLWIDTH)
    return out


PARTICLES = [("은", "는"), ("는", "은"), ("이", "가"), ("가", "이"), ("을", "를"), ("를", "을"),
             ("에서", "에"), ("에", "에서"), ("와", "과"), ("과", "와"), ("으로", "로"), ("로", "으로"),
             ("의", "에")]


def particle_edit(rng, text):
    """Changes 5-10% of the particles at word ends (at least one)."""
    tokens = re.split(r"(\s+)", text)
    spots = []
    for i, tok in enumerate(tokens):
        m = re.match(r"^(.*[가-힣])(에서|으로|[은는이가을를에와과로의])([,.!?”’\"')]*)$", tok)
        if m and len(m.group(1)) >= 1:
            spots.append((i, m))
    if not spots:
        return None
    n = max(1, round(len(spots) * rng.uniform(0.05, 0.10)))
    for i, m in rng.sample(spots, min(n, len(spots))):
        stem, part, tail = m.group(1), m.group(2), m.group(3)
        repl = dict(PARTICLES)[part]
        tokens[i] = stem + repl + tail
    return "".join(tokens)


def sentence_drop(rng, text):
    sents = sentences(text)
    if len(sents) < 4:
        return None
    k = rng.choice([1, 2])
    drop = set(rng.sample(range(len(sents)), k))
    return " ".join(s for i, s in enumerate(sents) if i not in drop)


def sentence_reorder(rng, text):
    sents = sentences(text)
    if len(sents) < 3:
        return None
    i = rng.randrange(len(sents) - 1)
    sents[i], sents[i + 1] = sents[i + 1], sents[i]
    return " ".join(sents)


def lead_only(rng, text):
    n = rng.randint(140, 160)
    if len(text) < n + 40:
        return None
    return cut_mid_word(text, n).rstrip() + "..."


def item(title=None, text=None, title_cut=False):
    d = {"title": title, "text": text}
    if title_cut:
        d["title_cut"] = True
    return d


# ---- The set -----------------------------------------------------------------------------------

def positives(rng, bodies, leads, titled, per_kind):
    out = []

    def fill(kind, pool, make):
        made, tries, seen = 0, 0, set()
        while made < per_kind and tries < per_kind * 20 and pool:
            st = pool[tries % len(pool)]
            tries += 1
            pair = make(st)
            if pair is None:
                continue
            a, b = pair
            sig = json.dumps([a, b], sort_keys=True)
            if a == b or sig in seen:
                continue
            seen.add(sig)
            out.append({"kind": kind, "same": True, "a": a, "b": b, "src": st["id"]})
            made += 1

    texts = bodies + leads

    def retag(st):
        t = st["text"]
        if rng.random() < 0.5:
            return item(text=rng.choice(TAGS[0::2]) + t), item(text=rng.choice(TAGS[1::2]) + t)
        return item(text=t), item(text=rng.choice(TAGS) + t)

    fill("retag", texts, retag)
    fill("byline_added", texts, lambda st: (item(text=st["text"]),
                                            item(text=add_byline(rng, st["text"]))))
    fill("byline_removed", texts, lambda st: (item(text=add_byline(rng, st["text"])),
                                              item(text=st["text"])))
    fill("dateline", texts, lambda st: (item(text=st["text"]),
                                        item(text=rng.choice(DATELINES) + st["text"])))
    fill("quote_space", texts, lambda st: (item(text=st["text"]),
                                           item(text=quote_space(rng, st["text"]))))

    def wrap(fn):
        def make(st):
            v = fn(rng, st["text"])
            return None if v is None else (item(text=st["text"]), item(text=v))
        return make

    fill("particle", texts, wrap(particle_edit))
    fill("sentence_drop", bodies, wrap(sentence_drop))
    fill("sentence_reorder", bodies, wrap(sentence_reorder))
    for pct in (30, 50, 70, 90):
        def cut(st, pct=pct):
            t = st["text"]
            at = int(len(t) * (pct + rng.uniform(-3, 3)) / 100)
            return item(text=t), item(text=cut_mid_word(t, at))
        fill("cut_%d" % pct, bodies, cut)
    fill("lead_only", bodies, wrap(lead_only))

    def headline_cut(st):
        title = st["title"]
        n = int(len(title) * rng.uniform(0.6, 0.8))
        cut = title[:n].rstrip()
        if rng.random() < 0.5:
            cut += rng.choice(["…", "...", ""])
        a = item(title=title, text=st["text"] if rng.random() < 0.5 and st["text"] else None)
        return a, item(title=cut, title_cut=True)

    fill("headline_cut", titled, headline_cut)
    return out


TEMPLATES = [
    ("• 최종편집 2024-05-23(목) 뉴스홈 Home > 뉴스홈 > 국제뉴스 실시간뉴스 • ", " • 뉴스홈 • 국제뉴스 • 아시아 2024-05-23"),
    ("BEST 뉴스 - ", " ... - 실시간뉴스 - 트럼프, 흑백 사진 올리며 “나는 관세의 왕” - 미국 덮친 겨울 폭풍…최소 30명 사망"),
    ("로그인 회원가입 • 허훈 기자 • 입력 2025.12.31 21:10 • 댓글 0 • 글자크기설정 1000024144.jpg ",
     " ⓒ 인터내셔널포커스 & www.dspdaily.com 무단전재-재배포금지 추천뉴스"),
    ("글로벌이슈최신기사 - [인터내셔널포커스] ", " - 국제 - 아시아 2026.03.11 14:11"),
    ("", " ‹저작권자ⓒ동포투데이 & dspdaily.com 무단전재-재배포금지. > 태그 기사제목"),
]


def variants_of(rng, st):
    """What one story can look like on a page: its items, a lead, a cut, its bare title."""
    out = [dict(x) for x in st["items"]]
    if st["text"]:
        lead = lead_only(rng, st["text"])
        if lead:
            out.append(item(st["title"], lead))
        if len(st["text"]) > 200:
            out.append(item(None, cut_mid_word(st["text"], len(st["text"]) // 2)))
    if st["title"]:
        out.append(item(st["title"], None))
    uniq = []
    for v in out:
        if (v.get("title") or v.get("text")) and v not in uniq:
            uniq.append(v)
    return uniq


def negatives(rng, stories, klue, per_kind):
    out = []
    by_event = {}
    for st in stories.values():
        by_event.setdefault(st["event"], []).append(st)
    for ev in sorted(by_event):
        group = sorted(by_event[ev], key=lambda s: s["id"])
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                for a in variants_of(rng, group[i]):
                    for b in variants_of(rng, group[j]):
                        out.append({"kind": "same_event", "same": False, "a": a, "b": b,
                                    "src": group[i]["id"] + "/" + group[j]["id"]})

    texty = sorted((s for s in stories.values() if len(s["text"]) >= 100), key=lambda s: s["id"])
    by_page = {}
    for st in texty:
        for pg in st["pages"]:
            by_page.setdefault(pg, []).append(st)
    page_pairs = []
    for pg in sorted(by_page):
        group = by_page[pg]
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                if group[i]["event"] != group[j]["event"]:
                    page_pairs.append((group[i], group[j]))
    rng.shuffle(page_pairs)
    made = 0
    while made < per_kind and page_pairs:
        x, y = page_pairs[made % len(page_pairs)]
        pre, post = TEMPLATES[made % len(TEMPLATES)]
        tx, ty = x["text"], y["text"]
        if made % 2 == 0:  # teasers: leads cut at the same length
            n = rng.randint(140, 170)
            tx, ty = cut_mid_word(tx, n) + "...", cut_mid_word(ty, n) + "..."
        out.append({"kind": "same_template", "same": False, "a": item(x["title"], pre + tx + post),
                    "b": item(y["title"], pre + ty + post), "src": x["id"] + "/" + y["id"]})
        made += 1

    high = [p for p in klue if p["labels"]["label"] >= 4.0]
    low = [p for p in klue if p["labels"]["label"] < 2.0]
    for kind, pool in (("klue_high", high), ("klue_low", low)):
        for p in rng.sample(pool, min(per_kind, len(pool))):
            out.append({"kind": kind, "same": False, "a": item(None, p["sentence1"]),
                        "b": item(None, p["sentence2"]), "src": p["guid"]})
    news = [p for p in high if "news" in p["source"]] or high
    for _ in range(per_kind):
        group = rng.sample(news, 6)
        out.append({"kind": "klue_para", "same": False,
                    "a": item(None, " ".join(p["sentence1"] for p in group)),
                    "b": item(None, " ".join(p["sentence2"] for p in group)),
                    "src": "+".join(p["guid"][-5:] for p in group)})

    ids = sorted(stories)
    made = 0
    while made < per_kind:
        x, y = rng.sample(ids, 2)
        if stories[x]["event"] == stories[y]["event"]:
            continue
        a = rng.choice(stories[x]["items"])
        b = rng.choice(stories[y]["items"])
        out.append({"kind": "different_stories", "same": False, "a": dict(a), "b": dict(b),
                    "src": x + "/" + y})
        made += 1
    return out


def dev_pairs(items):
    """Every pair of labelled items as extracted: dev_same_story and dev_other_story."""
    labelled, seen = [], set()
    for it in items:
        if it["story"].startswith("u:"):
            continue
        entry = (it.get("title") or None, it.get("text") or None, it["story"])
        if entry not in seen:
            seen.add(entry)
            labelled.append(entry)
    out = []
    for i in range(len(labelled)):
        for j in range(i + 1, len(labelled)):
            x, y = labelled[i], labelled[j]
            same = x[2] == y[2]
            out.append({"kind": "dev_same_story" if same else "dev_other_story", "same": same,
                        "a": item(x[0], x[1]), "b": item(y[0], y[1]), "src": x[2] + "/" + y[2]})
    return out


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    opts = dict(a[2:].split("=", 1) for a in argv[1:] if a.startswith("--") and "=" in a)
    if len(args) != 3:
        sys.stderr.write(__doc__)
        return 2
    corpus, klue_dir, out_path = args
    seed, per_kind = int(opts.get("seed", 20240517)), int(opts.get("per-kind", 48))
    rng = random.Random(seed)
    with open(os.path.join(corpus, "dev-labels.jsonl"), encoding="utf-8") as f:
        labels = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(klue_dir, "klue-sts-v1.1_dev.json"), encoding="utf-8") as f:
        klue = json.load(f)
    items = label_items(run_storyd(corpus), labels)
    stories = collect(items)
    for st in stories.values():
        st["pages"] = sorted({it["page_url"] for it in items if it["story"] == st["id"]})
    ordered = [stories[k] for k in sorted(stories)]
    bodies = [s for s in ordered if len(s["text"]) >= 300]
    leads = [s for s in ordered if 100 <= len(s["text"]) < 300]
    titled = [s for s in ordered if s["title"] and len(s["title"]) >= 12]
    pairs = positives(rng, bodies, leads, titled, per_kind)
    pairs += negatives(rng, stories, klue, per_kind) + dev_pairs(items)
    with open(out_path, "w", encoding="utf-8") as f:
        for p in pairs:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    counts = {}
    for p in pairs:
        counts[p["kind"]] = counts.get(p["kind"], 0) + 1
    sys.stderr.write("neardup_set.py: %d items, %d stories (%d bodies >= 300 chars, %d leads), "
                     "%d pairs -> %s\n" % (len(items), len(stories), len(bodies), len(leads),
                                           len(pairs), out_path))
    sys.stderr.write("  " + ", ".join("%s %d" % (k, counts.get(k, 0))
                                      for k in POSITIVE + NEGATIVE + DEV) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
