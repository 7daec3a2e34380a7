"""Hostile input on the real services (issue 10).

Every kind of bad event the crawler (or anyone who can write to the topic) could send goes to one
partition, between good pages: truncated and garbage protobuf, wrong field types, an empty
message and an empty body, a 20 MB page and an event over limits.max_event_bytes, invalid
UTF-8, EUC-KR labelled UTF-8 and the reverse, NUL and control characters, HTML nested 100,000
deep, a million tiny elements, a 10 KB url, a JPEG, and JSON nested 100,000 deep. Each one must
end as what the table below says: a page row (with its items, or with no items and a dead letter
naming the reason), or a rejected event with a dead letter. The daemon stays up, stops cleanly,
and every offset of the topic is accounted for exactly once.

The broker's defaults take messages up to 1 MB; this test's input topic takes 32 MiB, and the
dead-letter topic (made by `storyd topics --create`) 32 MiB plus headroom.
"""

import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def page_event(url, body, content_type="text/plain; charset=utf-8"):
    """storyd.v1.PageEvent, encoded by hand (proto/storyd/v1/page_event.proto)."""
    return (field(1, url.encode()) + varint(3 << 3) + varint(1767225600000) + varint(4 << 3) +
            varint(200) + field(5, content_type.encode()) + field(6, body) +
            field(7, b"bad-input-test"))


ARTICLE = ("Home >  뉴스홈  >  국제뉴스\n"
           "시험 기사 {n}: 연변 박람회 소식\n"
           "[동포투데이] 연길시에서 열린 시험 박람회에 {n}명이 찾았다. 이 글은 storyd 시험용으로 지어낸 글이다.\n"
           "ⓒ 동포투데이 & dspdaily.com 무단전재-재배포금지\n")


def article(n):
    return ARTICLE.format(n=n)


def url(n):
    return "https://dspdaily.com/news/view.php?no=%d" % n


# (name, message bytes, what must become of it). Outcomes:
#   "page": a page row without an extraction error and at least one item;
#   "page-empty": a page row without an error and without items;
#   ("dead", class, message regex): a page row with the error, or a rejected event, and a dead
#   letter of that class whose message matches.
MB = 1 << 20


def cases():
    good = page_event(url(1), article(1).encode())
    yield "good page", good, "page"
    yield "truncated protobuf", good[: len(good) // 2], ("dead", "protobuf", r"do not decode")
    yield "garbage bytes", b"\xff\xfe\x00garbage\x01\x02\x03", ("dead", "protobuf", r"do not decode")
    # Field 1 (url) as a varint: a wire type the schema does not allow.
    yield "wrong field type", varint(1 << 3) + varint(12345) + field(6, b"x"), (
        "dead", "protobuf", r"do not decode")
    yield "empty message", b"", ("dead", "empty", r"no value|empty")
    yield "empty body", page_event(url(2), b""), "page-empty"
    line = ("연변 박람회 시험 문장입니다. " * 40 + "\n").encode()
    big = line * (20 * MB // len(line))
    yield "20 MB page", page_event(url(3), big), ("dead", "limit", r"limits\.max_page_bytes")
    yield "event over max_event_bytes", page_event(url(4), b"x" * (25 * MB)), (
        "dead", "limit", r"limits\.max_event_bytes \(25165824\) exceeded")
    yield "invalid UTF-8", page_event(url(5), article(5).encode() + b"\xff\xfe\xc3\x28 tail\n"), "page"
    yield "EUC-KR labelled UTF-8", page_event(url(6), article(6).encode("euc-kr")), "page"
    yield "UTF-8 labelled EUC-KR", page_event(url(7), article(7).encode(),
                                              "text/plain; charset=euc-kr"), "page"
    yield "NUL and control characters", page_event(
        url(8), article(8).replace("연길시", "연길\x00시\x07\x1b[31m").encode()), "page"
    yield "HTML nested 100,000 deep", page_event(
        url(9), b"<html><body>" + b"<div>" * 100000 + b"deep" + b"</div>" * 100000,
        "text/html; charset=utf-8"), ("dead", "limit", r"limits\.max_html_depth \(512\) exceeded")
    yield "a million tiny elements", page_event(
        url(10), b"<html><body>" + b"<b>x</b>" * 1000000 + b"</body></html>",
        "text/html; charset=utf-8"), ("dead", "limit", r"limits\.max_html_nodes \(2000000\) exceeded")
    yield "10 KB url", page_event(url(11) + "&pad=" + "a" * 10240, article(11).encode()), "page"
    yield "image/jpeg", page_event(url(12), b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40,
                                   "image/jpeg"), ("dead", "extract", r"content_type: image/jpeg is not a text or HTML page")
    yield "JSON nested 100,000 deep", b'{"url": "%s", "body": ' % url(13).encode() + b"[" * 100000, (
        "dead", "json", r".")
    yield "good page after it all", page_event(url(14), article(14).encode()), "page"


class BadInput(harness.StorydTestCase):

    partitions = 1
    topic_configs = ("max.message.bytes=33554432",)

    def produce_raw(self, index, payload):
        if not payload:
            # "key:" with an empty value, which -Z sends as a message without a value.
            proc = subprocess.run(["kcat", "-b", harness.BROKERS, "-P", "-Z", "-K:", "-t",
                                   self.topic, "-p", "0"], input="bad-input:\n",
                                  capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, "kcat: %s" % proc.stderr)
            return
        path = os.path.join(self.tmp.name, "message-%02d.bin" % index)
        with open(path, "wb") as f:
            f.write(payload)
        # One file is one message; kcat sends it with the key "bad-input".
        proc = subprocess.run(["kcat", "-b", harness.BROKERS, "-P", "-t", self.topic, "-p", "0",
                               "-k", "bad-input", "-X", "message.max.bytes=40000000", path],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, "kcat: %s" % proc.stderr)
        os.unlink(path)

    def test_every_bad_event_is_processed_or_dead_lettered(self):
        plan = list(cases())
        daemon = self.start_daemon(self.write_config(**{"limits.max_event_bytes": 24 * MB}))
        daemon.wait_for_log(r"assigned 1 partition")
        for index, (_, payload, _) in enumerate(plan):
            self.produce_raw(index, payload)
        self.wait_drained(timeout=300)
        # Every dead letter reaches its topic: nothing waits in the outbox.
        deadline = time.monotonic() + 120
        while harness.scalar("SELECT count(*) FROM storyd_outbox WHERE sent_at IS NULL") != "0":
            self.assertLess(time.monotonic(), deadline, "the outbox did not drain")
            self.assertIsNone(daemon.proc.poll(), daemon.text()[-3000:])
            time.sleep(0.2)
        self.assertIsNone(daemon.proc.poll(), "the daemon must stay up:\n" + daemon.text()[-3000:])
        self.assertEqual(daemon.stop(), 0, daemon.text()[-3000:])
        self.assert_exactly_once(len(plan))

        pages = {int(r[0]): (r[1], int(r[2] or 0)) for r in harness.psql(
            "SELECT kafka_offset, coalesce(extract_error, ''), item_count FROM storyd_page_event")}
        rejects = {int(r[0]): (r[1], r[2]) for r in harness.psql(
            "SELECT kafka_offset, error_class, error_message FROM storyd_rejected_event")}
        dead = {int(r[0]): (r[1], r[2], int(r[3])) for r in harness.psql(
            "SELECT source_offset, error_class, error_message, octet_length(value) "
            "FROM storyd_outbox WHERE error_class IS NOT NULL")}
        report = []
        for offset, (name, payload, expected) in enumerate(plan):
            if expected in ("page", "page-empty"):
                self.assertIn(offset, pages, name)
                error, items = pages[offset]
                self.assertEqual(error, "", "%s: %s" % (name, error))
                self.assertNotIn(offset, dead, name)
                if expected == "page":
                    self.assertGreater(items, 0, name)
                else:
                    self.assertEqual(items, 0, name)
                report.append("%-28s %9d bytes  stored, %d items" % (name, len(payload), items))
                continue
            _, error_class, pattern = expected
            self.assertIn(offset, dead, "%s: no dead letter" % name)
            dead_class, dead_message, size = dead[offset]
            self.assertEqual(dead_class, error_class, "%s: %s" % (name, dead_message))
            self.assertRegex(dead_message, pattern, name)
            # The dead letter carries the original bytes whole.
            self.assertEqual(size, len(payload), name)
            if offset in pages:
                self.assertEqual(pages[offset], (dead_message, 0), name)
            else:
                self.assertEqual(rejects[offset], (error_class, dead_message), name)
            report.append("%-28s %9d bytes  dead letter %s: %s" % (name, len(payload), dead_class,
                                                                   dead_message[:110]))
        print("\n" + "\n".join(report), file=sys.stderr)
        # Nothing crashed, nothing was logged as a failure of storyd itself.
        self.assertNotRegex(daemon.text(), r"out of memory|stopping so that a restart")
        # The good pages around the bad ones made their stories.
        self.assertEqual(re.findall(r"committed batch", daemon.text()), [])  # info level: none
        self.assertGreaterEqual(int(harness.scalar("SELECT count(*) FROM storyd_story")), 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
