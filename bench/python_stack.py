#!/usr/bin/env python3
"""The job a user would assemble in Python instead of storyd: trafilatura, then datasketch MinHashLSH.

usage: bench/python_stack.py EVENTS.jsonl [--limit N]

setup, done by the script itself when the packages are missing (PyPI must be reachable):
  python3 -m venv build/bench-venv && build/bench-venv/bin/pip install trafilatura==2.3.1 \\
      datasketch==2.0.0 lxml_html_clean
(lxml 5.2 and later moved lxml.html.clean out, and trafilatura's justext fallback imports it.)

For each page event of the file, in order:
- text/html bodies go through trafilatura.extract with its defaults: it returns the main text of
  the page, so each page gives one item at most (no teasers, no headline lists, no listing entries);
- text/plain bodies (the crawler's renderings) are passed on as they are, boilerplate and all:
  trafilatura parses HTML only and has nothing to offer a text rendering.
Each text is then deduplicated with datasketch: character 3-gram shingles (whitespace collapsed),
a MinHash of 64 permutations, MinHashLSH with threshold 0.5. A text whose LSH query hits joins the
story of the hit with the lowest key; otherwise it starts a story. Every text is inserted, so later
copies can match any earlier one.

Printed: pages, items, stories, seconds and pages/s of the loop (reading, extraction and dedup;
not the imports), with the extraction and dedup seconds apart. It runs on one thread: numpy's
thread pools are set to one thread before numpy loads, and the loop itself is sequential.
"""

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "build", "bench-venv")
VENV_PYTHON = os.path.join(VENV, "bin", "python")
PACKAGES = ["trafilatura==2.3.1", "datasketch==2.0.0", "lxml_html_clean"]
SETUP = "python3 -m venv build/bench-venv && build/bench-venv/bin/pip install " + " ".join(PACKAGES)
# One thread for every pool numpy (under datasketch) could start, set before anything imports it.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[variable] = "1"


def run_in_venv():
    """Re-runs this script with the venv's Python, creating the venv and installing what it lacks."""
    if not os.path.exists(VENV_PYTHON):
        print("python_stack: creating %s" % VENV, file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    probe = subprocess.run([VENV_PYTHON, "-c", "import trafilatura, datasketch"], capture_output=True)
    if probe.returncode != 0:
        print("python_stack: installing %s" % " ".join(PACKAGES), file=sys.stderr)
        if subprocess.run([VENV_PYTHON, "-m", "pip", "install", "-q"] + PACKAGES).returncode != 0:
            sys.exit("python_stack: the install failed; set up by hand with:\n  " + SETUP)
    os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])


try:
    import trafilatura
    from datasketch import MinHash, MinHashLSH
except ImportError:
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        sys.exit("python_stack: the venv lacks the packages; set up with:\n  " + SETUP)
    run_in_venv()

WHITESPACE = re.compile(r"\s+")


def shingles(text):
    """Character 3-grams of the text with whitespace collapsed, as bytes for MinHash."""
    text = WHITESPACE.sub(" ", text).strip()
    if len(text) < 3:
        return [text.encode("utf-8")]
    return [text[i:i + 3].encode("utf-8") for i in range(len(text) - 2)]


def page_text(event):
    """The text one page gives: trafilatura's main text for HTML, the body itself for text renderings."""
    body = event.get("body")
    if body is None and "body_base64" in event:
        body = base64.b64decode(event["body_base64"]).decode("utf-8", "replace")
    if "html" in (event.get("content_type") or "").lower():
        return "html", trafilatura.extract(body or "", url=event.get("final_url") or event.get("url"))
    return "text", body


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("events", help="page events, JSON Lines (bench/workload.py writes them)")
    parser.add_argument("--limit", type=int, help="stop after this many pages")
    args = parser.parse_args()

    lsh = MinHashLSH(threshold=0.5, num_perm=64)
    story_of_item, pages, kinds, empty = [], 0, {"html": 0, "text": 0}, 0
    extract_s = dedup_s = 0.0
    started = time.perf_counter()
    with open(args.events, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            if args.limit is not None and pages >= args.limit:
                break
            event = json.loads(line)
            pages += 1
            t0 = time.perf_counter()
            kind, text = page_text(event)
            t1 = time.perf_counter()
            extract_s += t1 - t0
            kinds[kind] += 1
            if not text or not text.strip():
                empty += 1  # trafilatura found no main text: no item
                continue
            signature = MinHash(num_perm=64)
            signature.update_batch(shingles(text))
            hits = lsh.query(signature)
            key = len(story_of_item)
            # The story of the earliest matching text; a text nothing matches starts one.
            story_of_item.append(story_of_item[min(hits)] if hits else key)
            lsh.insert(key, signature)
            dedup_s += time.perf_counter() - t1
    seconds = time.perf_counter() - started

    items, stories = len(story_of_item), len(set(story_of_item))
    print("pages: %d (%d HTML through trafilatura.extract, %d text/plain passed on as is: trafilatura "
          "reads HTML only)" % (pages, kinds["html"], kinds["text"]))
    print("items: %d (one per page at most: trafilatura gives the main text only; %d pages gave none)"
          % (items, empty))
    print("stories: %d (datasketch MinHashLSH, threshold 0.5, 64 permutations, character 3-grams)" % stories)
    print("seconds: %.2f (extraction %.2f, dedup %.2f), one thread" % (seconds, extract_s, dedup_s))
    print("pages/s: %.1f" % (pages / seconds if seconds else 0.0))


if __name__ == "__main__":
    main()
