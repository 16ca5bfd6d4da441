"""Bad inputs through the real `newsmon extract --jsonl --from-list`, one batch, one line each.

Example:
    python benchmarks/extraction/bad_inputs.py

Every input the issue names (empty body, binary bytes, a 50 MB page, deeply nested
tags, a wrong charset, a page that is only a spam keyword cloud) plus a few more goes
through the CLI, one process per input, then all of them in one batch; the table shows,
per input, its size, the wall time of its process (start-up included) and what
newsmon answered: the error reason, or the article it found and how it decoded it.
The exit status is 1 on a crash, a lost line, a wrong answer, or an input that takes
longer than ``--limit`` seconds (a hang).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
URL = "http://www.example.gov.cn/xwdt/202107/t20210712_1.html"
TITLE = "宿城区召开激光产业园建设会办会"
ARTICLE = f"<h1>{TITLE}</h1><p>" + "宿迁市宿城区召开激光产业园建设会办会，区长出席会议并讲话。" * 5 + "</p>"
SPAM_WORDS = ["在线观看", "国产精品", "久久精品", "一区二区", "亚洲第一", "无码", "毛片", "百家乐", "娱乐城", "时时彩"]


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def inputs() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, what a right answer starts with: an error reason, or "title")."""
    return {
        "empty body": (b"", "empty"),
        "whitespace only": (b"  \r\n\t ", "empty"),
        "binary (random bytes)": (bytes(range(256)) * 200, "binary|undecodable|no_body"),
        "binary (PNG)": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 4096, "binary"),
        "binary (PDF)": (b"%PDF-1.7\n" + bytes(range(256)) * 10, "binary"),
        "NUL bytes": (b"<html>" + b"\x00" * 10000 + b"</html>", "binary"),
        "50 MB page": (page(("<p>" + "正文内容。" * 20 + "</p>") * 170_000).encode(), "too_large"),
        "100k nested <div>": (page("<div>" * 100_000 + ARTICLE + "</div>" * 100_000).encode(), "too_deep"),
        "100k unclosed <div><span>": (page("<div><span>" * 100_000 + ARTICLE).encode(), "too_deep"),
        "spam keyword cloud (links)": (page(" ".join(f'<a href="/{i}">{w}</a>' for i, w in enumerate(SPAM_WORDS * 30)),
                                            "<title>在线观看|国产精品|久久精品|一区二区</title>").encode(), "spam_cloud"),
        "spam keyword cloud (text)": (page("<p>" + "，".join(SPAM_WORDS * 20) + "。</p>", "<title>新闻</title>").encode(),
                                      "spam_cloud"),
        "markup only": (page("<div><span></span></div>" * 1000).encode(), "no_body"),
        "meta gb2312, bytes UTF-8": (page(ARTICLE, '<meta charset="gb2312">').encode("utf-8"), "title"),
        "meta utf-8, bytes GBK": (page(ARTICLE, '<meta charset="utf-8">').encode("gbk"), "title"),
        "no charset, bytes GBK": (page(ARTICLE).encode("gbk"), "title"),
        "good article": (page(ARTICLE).encode(), "title"),
    }


def run_cli(listing: Path, timeout: float) -> tuple[list[dict], float, str]:
    start = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, "-m", "crawler", "extract", "--jsonl", "--from-list", str(listing)],
                             capture_output=True, text=True, encoding="utf-8", cwd=ROOT, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], time.perf_counter() - start, f"hang: no answer within {timeout:.0f} s"
    seconds = time.perf_counter() - start
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return lines, seconds, "" if out.returncode == 0 else f"exit {out.returncode}: {out.stderr[-300:]}"


def judge(result: dict, want: str) -> tuple[bool, str]:
    if "error" in result:
        return result["error"].split(":")[0] in want.split("|"), result["error"]
    ok = want == "title" and result.get("title") == TITLE and "\ufffd" not in result.get("text", "")
    return ok, f"article {result.get('title')!r}, decoded as {result.get('encoding')}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=float, default=60.0, help="seconds one input may take before it counts as a hang")
    args = ap.parse_args()
    cases = inputs()
    problems = []
    print(f"{'input':<28}{'bytes':>11}  {'seconds':>7}  answer")
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (name, (body, want)) in enumerate(cases.items()):
            path = Path(tmp) / f"{i:02d}.html"
            path.write_bytes(body)
            paths.append(path)
            listing = Path(tmp) / f"{i:02d}.txt"
            listing.write_text(f"{path}\t{URL}\n", encoding="utf-8")
            results, seconds, failure = run_cli(listing, args.limit)
            ok, answer = judge(results[0], want) if len(results) == 1 and not failure else (False, failure or "no line")
            if not ok:
                problems.append(f"{name}: expected {want}, got {answer}")
            print(f"{name:<28}{len(body):>11}  {seconds:7.2f}  {answer[:90]}")
        # All of them in one batch: each answered on its own line, in order, and the batch goes on.
        listing = Path(tmp) / "all.txt"
        listing.write_text("".join(f"{p}\t{URL}\n" for p in paths), encoding="utf-8")
        results, seconds, failure = run_cli(listing, args.limit * len(paths))
        verdicts = [judge(r, want)[0] for r, (_, want) in zip(results, cases.values())]
        batch_ok = not failure and len(results) == len(cases) and all(verdicts)
        if not batch_ok:
            problems.append(f"batch: {failure or f'{sum(verdicts)}/{len(cases)} right answers'}")
    print(f"\n(seconds: one `newsmon extract --jsonl` process per input, start-up included)")
    print(f"all {len(cases)} in one batch: {seconds:.1f} s, {len(results)} lines, "
          f"{'every answer right, in order' if batch_ok else 'WRONG'}")
    print("BAD INPUTS: " + ("all answered clearly, no crash, no hang" if not problems else "PROBLEMS"))
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
