#!/usr/bin/env python3
"""What a site that needs the browser costs: time and memory per browser page.

    python benchmarks/browser/bench.py [--repeat 3]

The 瑞数 site of ``tests/challenge_server.py`` (412 + ``$_ts`` script, a cookie that
opens 5 pages; 1 home + 6 articles) is crawled by the real ``newsmon crawl`` twice:

* ``plain``: ``NEWSMON_BROWSER=0``, what plain Scrapy fetching gets (blocked, 0 articles);
* ``ladder``: the fetch ladder (Chromium through the pinning proxy, cookies reused).

For each: wall seconds of the crawl process, peak PSS of its whole process tree
(Chromium's processes included; /proc sampled every 0.1 s), articles, browser pages
and browser milliseconds (the crawl's own counts). Printed as JSON with the ladder's
extra seconds and MB per browser page, and ladder/plain ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def tree_pss(root: int) -> int:
    """Bytes of memory ``root`` and all its descendants use, shared pages split between
    the processes that share them (PSS: Chromium's processes share most of their code)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            pass
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def crawl(sites_file: Path, index: str, **env) -> dict:
    environment = dict(os.environ, NEWSMON_ALLOW_HOSTS="127.0.0.1", NEWSMON_BROWSER_TIMEOUT="30",
                       PYTHONIOENCODING="utf-8", **env)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "crawler", "crawl", "--sites", str(sites_file), "--index", index,
                             "--json"], cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_pss(proc.pid))
            time.sleep(0.1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate(timeout=600)
    seconds = time.perf_counter() - started
    sampler.join()
    site = json.loads(out)["sites"]["ruishu"] if out.strip() else {"error": err[-500:]}
    return {"seconds": round(seconds, 2), "peak_pss_mb": round(peak[0] / 2**20, 1),
            "articles": site.get("articles_new", site.get("items_indexed", 0)),
            "browser_pages": site.get("browser/pages", 0), "browser_ms": site.get("browser/milliseconds", 0),
            "cookie_reuse": site.get("browser/cookie_reuse", 0), "blocked": site.get("blocked/ruishu", 0)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    server = subprocess.Popen([sys.executable, str(REPO / "tests" / "challenge_server.py"), "--lifetime", "900",
                               "--delay", "800", "--cookie-uses", "5"], cwd=REPO / "tests",
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(server.stdout.readline())["sites"]["ruishu"]
        runs: dict[str, list[dict]] = {"plain": [], "ladder": []}
        with tempfile.TemporaryDirectory() as tmp:
            sites = Path(tmp) / "sites.yaml"
            sites.write_text(f"sites:\n  - name: ruishu\n    start_urls: ['{url}']\n    download_delay: 0\n",
                             encoding="utf-8")
            for n in range(args.repeat):
                runs["plain"].append(crawl(sites, f"sqlite:///{tmp}/plain{n}.db", NEWSMON_BROWSER="0"))
                runs["ladder"].append(crawl(sites, f"sqlite:///{tmp}/ladder{n}.db"))
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    best = {name: min(rs, key=lambda r: r["seconds"]) for name, rs in runs.items()}
    plain, ladder = best["plain"], best["ladder"]
    pages = max(ladder["browser_pages"], 1)
    print(json.dumps({
        "runs": runs, "best": best,
        "browser_ms_per_page": round(ladder["browser_ms"] / pages),
        "extra_seconds_per_browser_page": round((ladder["seconds"] - plain["seconds"]) / pages, 2),
        "extra_mb_for_the_browser": round(ladder["peak_pss_mb"] - plain["peak_pss_mb"], 1),
        "ratio_seconds_ladder_to_plain": round(ladder["seconds"] / plain["seconds"], 2),
        "ratio_peak_pss_ladder_to_plain": round(ladder["peak_pss_mb"] / plain["peak_pss_mb"], 2),
    }, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
