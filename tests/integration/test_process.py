"""`storyd process`: the offline pipeline as users run it (no services needed)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STORYD = os.environ.get("STORYD_BIN", os.path.join(ROOT, "build", "storyd"))
PROFILES = ["-o", "storyd.profile_dir=" + os.path.join(ROOT, "profiles")]
FIELDS = {"page_url", "canonical_url", "page_kind", "kind", "title", "text", "brand", "section",
          "published_at", "published_precision", "cut", "position", "url", "story_id"}


def process(path_or_dash, stdin=None):
    return subprocess.run([STORYD, "process", *PROFILES, path_or_dash], input=stdin,
                          capture_output=True, text=True, timeout=120)


class Process(unittest.TestCase):

    def test_sample_items_in_input_order_with_every_field(self):
        sample = os.path.join(ROOT, "samples", "dspdaily-sample.jsonl")
        proc = process(sample)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        items = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertGreater(len(items), 100)
        for item in items:
            self.assertTrue(FIELDS <= set(item), set(FIELDS) - set(item))
            self.assertIn(item["kind"], ("article", "teaser", "headline"))
            self.assertIn(item["cut"], ("none", "site", "page_end"))
            self.assertTrue(item["title"] or item["text"])
        # Items come out page by page, in input order, positions counting up within a page.
        urls = iter(json.loads(line)["url"] for line in open(sample, encoding="utf-8"))
        previous = None
        for item in items:
            if item["page_url"] != previous or item["position"] == 0:
                # The next page with items must come later in the input (a subsequence).
                self.assertIn(item["page_url"], urls, "pages out of input order")
                previous = item["page_url"]
                self.assertEqual(item["position"], 0)
        kinds = {item["kind"] for item in items}
        self.assertEqual(kinds, {"article", "teaser", "headline"})
        brands = {item["brand"] for item in items}
        self.assertTrue({"동포투데이", "인터내셔널포커스"} <= brands)

    def test_bad_lines_are_reported_with_line_numbers_and_skipped(self):
        good = json.dumps({"url": "https://dspdaily.com/news/view.php?no=1",
                           "content_type": "text/plain; charset=utf-8",
                           "body": "[동포투데이] 시험용으로 지어낸 본문입니다. 연변의 봄 축제가 열렸다는 짧은 글로, 추출기가 기사 하나를 돌려줘야 한다.\n"},
                          ensure_ascii=False)
        text = "\n".join([good, "{not json", json.dumps({"content_type": "text/plain"}),
                          json.dumps({"url": "https://x/", "body_base64": "!!!"}), good]) + "\n"
        proc = process("-", stdin=text)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("-:2:", proc.stderr)
        self.assertIn("-:3: key url: required", proc.stderr)
        self.assertIn("-:4: key body_base64: not base64", proc.stderr)
        items = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertEqual([i["kind"] for i in items], ["article", "article"])
        self.assertEqual(items[0]["brand"], "동포투데이")
        self.assertEqual(items[0]["story_id"], items[1]["story_id"])

    def test_base64_euc_kr_body(self):
        body = "[동포투데이] 시험용 본문입니다. 연변에서 열린 가상의 행사를 다룬 글로 EUC-KR로 인코딩되어 들어온다.\n"
        event = {"url": "https://www.dspdaily.com/news/view.php?no=7&page=2",
                 "content_type": "text/plain; charset=euc-kr",
                 "body_base64": __import__("base64").b64encode(body.encode("cp949")).decode()}
        proc = process("-", stdin=json.dumps(event) + "\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        item = json.loads(proc.stdout.splitlines()[0])
        self.assertEqual(item["canonical_url"], "https://dspdaily.com/news/view.php?no=7")
        self.assertTrue(item["text"].startswith("시험용 본문입니다"))

    def test_missing_input_file_is_an_error(self):
        proc = process("/nonexistent/pages.jsonl")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("/nonexistent/pages.jsonl", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
