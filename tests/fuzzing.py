#!/usr/bin/env python3
"""Fuzz the decode -> extract -> clean path (``pipelines.extract.extract_article``).

    python tests/fuzzing.py --examples 100000 [--seed N] [--hang-seconds 20] [--jobs 2]

Inputs (hypothesis strategies, shared with the bounded CI step in
``tests/test_fuzz_extract.py``):

* random bytes, with and without an HTML prefix;
* real pages (``tests/pages/`` and ``../shared/realpages/``) mutated: bytes flipped,
  chunks cut, repeated or spliced from another page, hostile markup inserted
  (deep nesting, unclosed comments/CDATA/scripts, NULs, huge attributes), truncated;
* real pages re-encoded in every charset Python knows a Chinese page may come in
  (and a few it may not), declared right, wrong or not at all, in the HTTP header
  and/or ``<meta>``.

The contract under test: every input either yields an ``Article`` or raises
``ExtractionError`` with a reason, and no single input takes longer than
``--hang-seconds`` of CPU. Anything else is a crash: the script prints the input's file
(saved under ``tests/artifacts/fuzz/``) and exits 1. It prints the count, the time
and the slowest input at the end.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sys
import time
from functools import lru_cache
from pathlib import Path

from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pipelines.article import Article, ExtractionError  # noqa: E402
from pipelines.extract import extract_article  # noqa: E402

CORPUS_DIRS = (REPO / "tests" / "pages", REPO.parent / "shared" / "realpages")
ARTIFACTS = REPO / "tests" / "artifacts" / "fuzz"
URLS = (
    "http://www.example.gov.cn/xwdt/202107/t20210712_4123456.html",
    "http://www.example.gov.cn/art/2021/7/12/art_1229_3456789.html",
    "http://news.example.com/",
    "http://www.example.gov.cn/content_88123.htm?page=2&jsessionid=ABC",
)
# Charsets Chinese government pages come in, their neighbours, and a few wrong ones.
CHARSETS = (
    "utf-8", "gb2312", "gbk", "gb18030", "big5", "big5hkscs", "hz", "utf-16", "utf-16-le",
    "utf-16-be", "utf-32", "shift_jis", "euc-jp", "iso-2022-jp", "euc-kr", "cp1252", "latin-1",
    "koi8-r", "cp866", "mac-roman", "utf-7", "ascii",
)
DECLARED = CHARSETS + ("x-gbk", "cp936", "unicode", "utf8", "bogus-charset", "", "\"gb2312\"",
                       "utf-8;q=0", "gb2312,utf-8", "\x00", "窗口", "a" * 300)
HOSTILE = (
    b"<div>" * 5000, b"<span><b>" * 3000, b"<table><tr><td>" * 2000, b"<!--", b"<![CDATA[",
    b"<script>", b"</script>", b"<style>", b"<textarea>", b"<plaintext>", b"<xmp>", b"\x00" * 64,
    b"<a href='" + b"x" * 70000 + b"'>", b"&#x110000;&#0;&#xD800;&#99999999999;", b"\xef\xbb\xbf",
    b"<meta charset=utf-16>", b"<meta http-equiv=Content-Type content='text/html; charset=gb2312'>",
    b"<p>" + "正文内容。".encode() * 2000 + b"</p>", b"<?xml version='1.0' encoding='big5'?>",
    b"<html><head><title>" + b"\xd5\xfd" * 1000, b"\r" * 1000, b"<br>" * 10000, b"<svg><math>",
    b"<body onload=x><frameset>", b"<h1>", b"</html>" * 100, "（kāi）開(kāi)".encode() * 500,
)


# Real pages are fuzzed in windows of this many bytes (whole pages are the extraction
# tests. job): 100,000 inputs then take ~15 CPU minutes instead of hours.
WINDOW = 12_000


@lru_cache(maxsize=1)
def corpus() -> tuple[bytes, ...]:
    """Real pages to mutate (sorted, so a seed means the same inputs on every machine)."""
    files = sorted(p for d in CORPUS_DIRS if d.is_dir() for p in d.rglob("*.htm*"))
    pages = tuple(p.read_bytes() for p in files)
    if not pages:
        raise RuntimeError(f"no fuzz corpus: no .html files under {', '.join(map(str, CORPUS_DIRS))}")
    return pages


@st.composite
def mutated_page(draw) -> bytes:
    pages = corpus()
    data = bytearray(pages[draw(st.integers(0, len(pages) - 1))])
    if len(data) > WINDOW:   # inputs stay quick: the page's head, or a window of it
        start = draw(st.integers(0, len(data) - WINDOW)) if draw(st.booleans()) else 0
        data = data[start:start + WINDOW]
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(("flip", "cut", "repeat", "splice", "insert", "truncate")))
        pos = draw(st.integers(0, len(data)))
        if op == "flip" and data:
            for _ in range(draw(st.integers(1, 64))):
                i = draw(st.integers(0, len(data) - 1))
                data[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos:pos + draw(st.integers(1, 5000))]
        elif op == "repeat":
            chunk = bytes(data[pos:pos + draw(st.integers(1, 2000))])
            data[pos:pos] = chunk * draw(st.integers(1, 20))
        elif op == "splice":
            other = pages[draw(st.integers(0, len(pages) - 1))]
            at = draw(st.integers(0, len(other)))
            data[pos:pos] = other[at:at + draw(st.integers(1, 20_000))]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(HOSTILE)) * draw(st.integers(1, 3))
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


@st.composite
def reencoded_page(draw) -> bytes:
    """A real page re-encoded: the bytes say one charset, the declarations maybe another."""
    page = corpus()[draw(st.integers(0, len(corpus()) - 1))]
    text = page.decode("utf-8", errors="ignore") or page.decode("gb18030", errors="replace")
    text = text[:draw(st.integers(100, WINDOW // 2))]
    codec = draw(st.sampled_from(CHARSETS))
    declared = draw(st.sampled_from(DECLARED))
    if draw(st.booleans()):
        text = f'<meta charset="{declared}">' + text
    return text.encode(codec, errors=draw(st.sampled_from(("replace", "ignore", "xmlcharrefreplace"))))


def headers_for(declared: str | None) -> dict:
    if declared is None:
        return {}
    return {"Content-Type": f"text/html; charset={declared}"}


inputs = st.one_of(
    st.binary(max_size=20_000),
    st.binary(max_size=5_000).map(lambda b: b"<!DOCTYPE html><html><head><meta charset=gb2312></head><body>" + b),
    mutated_page(),
    reencoded_page(),
)
fuzz_cases = st.tuples(inputs, st.sampled_from(URLS), st.one_of(st.none(), st.sampled_from(DECLARED)))


def run_one(body: bytes, url: str, declared: str | None) -> Article | None:
    """The contract: an Article, or ExtractionError with a reason (returned as None)."""
    try:
        article = extract_article(body, url, headers_for(declared))
    except ExtractionError as exc:
        assert exc.reason and exc.message, f"ExtractionError without a reason: {exc!r}"
        return None
    assert isinstance(article.title, str) and isinstance(article.text, str)
    assert "\x00" not in article.text, "a NUL reached the clean text"
    return article


def save_input(body: bytes, url: str, declared: str | None) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (hashlib.sha1(body).hexdigest()[:16] + ".bin")
    path.write_bytes(body)
    path.with_suffix(".meta").write_text(f"url={url}\ndeclared={declared!r}\n", encoding="utf-8")
    return path


class Hang(Exception):
    pass


def fuzz_worker(examples: int, seed: int, hang_seconds: int, worker: int = 0) -> dict:
    """Run ``examples`` inputs from ``seed``; returns counts (raises on a crash or hang).

    A hang is ``hang_seconds`` of CPU time in one input (ITIMER_VIRTUAL), not wall
    time, so a busy shared machine does not fake one; the timer sets a flag as well
    as raising, because an exception raised inside a gc callback is swallowed."""
    import logging

    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    logging.disable(logging.WARNING)   # trafilatura/htmldate warn on every broken page
    stats = {"n": 0, "articles": 0, "errors": 0, "slowest": 0.0, "slowest_bytes": 0}
    timed_out = []

    def on_timer(_signum, _frame):
        timed_out.append(True)
        raise Hang()

    signal.signal(signal.SIGVTALRM, on_timer)
    started = time.monotonic()

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(case=fuzz_cases)
    def fuzz(case):
        body, url, declared = case
        timed_out.clear()
        t0 = time.process_time()
        signal.setitimer(signal.ITIMER_VIRTUAL, hang_seconds)
        try:
            result = run_one(body, url, declared)
        except Hang:
            raise AssertionError(f"hang: over {hang_seconds}s CPU on {save_input(body, url, declared)}") from None
        except Exception:
            print(f"crash on {save_input(body, url, declared)}", file=sys.stderr)
            raise
        finally:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        if timed_out:
            raise AssertionError(f"hang: over {hang_seconds}s CPU on {save_input(body, url, declared)}")
        took = time.process_time() - t0
        stats["n"] += 1
        stats["articles" if result is not None else "errors"] += 1
        if took > stats["slowest"]:
            stats["slowest"], stats["slowest_bytes"] = took, len(body)
        if stats["n"] % 5000 == 0:
            print(f"[worker {worker}] {stats['n']} inputs, {time.monotonic() - started:.0f}s",
                  file=sys.stderr, flush=True)

    hseed(seed)(fuzz)()
    return stats


def main(argv=None) -> int:
    from concurrent.futures import ProcessPoolExecutor

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", type=int, default=100_000, help="inputs in all, split over --jobs")
    ap.add_argument("--seed", type=int, default=None, help="default: random (printed); worker i uses seed+i")
    ap.add_argument("--hang-seconds", type=int, default=20, help="CPU seconds one input may take")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    corpus()   # load once, before the workers fork
    jobs = max(1, args.jobs)
    shares = [args.examples // jobs + (i < args.examples % jobs) for i in range(jobs)]
    print(f"fuzzing decode -> extract -> clean: {args.examples} inputs, seed {seed}, {jobs} job(s)",
          file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        if jobs == 1:
            results = [fuzz_worker(shares[0], seed, args.hang_seconds)]
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(fuzz_worker, n, seed + i, args.hang_seconds, i) for i, n in enumerate(shares)]
                results = [f.result() for f in futures]
    except Exception as exc:  # noqa: BLE001 - report, then fail
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    n = sum(r["n"] for r in results)
    slowest = max(results, key=lambda r: r["slowest"])
    print(f"{n} inputs in {elapsed:.0f}s ({n / elapsed:.0f}/s, {jobs} job(s)): "
          f"{sum(r['articles'] for r in results)} articles, {sum(r['errors'] for r in results)} refused "
          f"with a reason, no crash, no hang; slowest {slowest['slowest']:.2f}s CPU "
          f"({slowest['slowest_bytes']} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
