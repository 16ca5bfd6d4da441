"""Web writes while a crawl writes the same embedded index (issue 16, item 8).

Example:
    python -m benchmarks.web.writes_during_crawl                 # this checkout
    python -m benchmarks.web.writes_during_crawl --code DIR      # another checkout's newsmon (e.g. before)

Steps, one run, one machine:
1. the fixture mini-internet (``crawler/fixtures``) on loopback and one crawl of it
   into a fresh index: the populated index of scenario 2;
2. for each scenario, ``newsmon serve`` on the index and a real ``newsmon crawl``
   of the fixture sites into it, polite (``NEWSMON_DOWNLOAD_DELAY``, default
   0.3 s per site) so it lasts a few seconds; from its first stored article on,
   a wave of ``--writers`` concurrent ``POST /api/watches`` every 0.5 s until the
   crawl ends; each request's latency and status are kept;
   - "first crawl": an empty index (new stories: alerts' state writes commit often);
   - "re-crawl": the populated index with ``NEWSMON_INCREMENTAL=0`` (every page is
     stored again, nothing else commits: the old 500-write batch stayed open);
3. per scenario: writes, statuses, latency p50/p95/max, and the crawl's time.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO)]

from benchmarks.indexing.bench import pct  # noqa: E402
from crawler.fixtures import server as fixture_server  # noqa: E402

WORK = REPO / "data" / "bench-writes"
TOKEN = "bench-writes-token"
ARTICLE_LINE = re.compile(r"\] (new story|copy \(|seen before)")
_URL = re.compile(r"newsmon web UI on (http://\S+?)/ ")


def env(**extra) -> dict:
    return {**os.environ, "NEWSMON_ALLOW_HOSTS": "127.0.0.1", "NEWSMON_WEB_TOKEN": TOKEN,
            "PYTHONIOENCODING": "utf-8", **extra}


@contextmanager
def serving(code: Path, index_url: str):
    proc = subprocess.Popen([sys.executable, "-m", "crawler", "serve", "--port", "0", "--index", index_url],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=code, env=env())
    try:
        out = b""
        while not _URL.search(out.decode("utf-8", "replace")):
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                raise RuntimeError(f"newsmon serve did not start: {out!r}")
            out += chunk
        yield _URL.search(out.decode("utf-8")).group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


def client(writers: int) -> httpx.Client:
    """One client, a connection per writer: building an httpx client per request costs
    ~30 ms of CPU, which on 2 cores would be most of what is measured."""
    return httpx.Client(timeout=60, headers={"Authorization": f"Bearer {TOKEN}"},
                        limits=httpx.Limits(max_connections=writers, max_keepalive_connections=writers))


def post(http: httpx.Client, base: str, name: str) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        answer = http.post(f"{base}/api/watches", json={"name": name, "query": "防汛", "emails": ["duty@example.com"]})
        status = answer.status_code
    except httpx.HTTPError:
        status = 0
    return time.perf_counter() - started, status


def scenario(code: Path, sites_file: Path, index_url: str, writers: int, delay: float, label: str,
             **crawl_env) -> dict:
    results: list[tuple[float, int]] = []
    with serving(code, index_url) as base:
        started = time.perf_counter()
        crawl = subprocess.Popen([sys.executable, "-m", "crawler", "crawl", "--sites", str(sites_file),
                                  "--index", index_url, "--json"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=code,
                                 env=env(NEWSMON_DOWNLOAD_DELAY=str(delay), **crawl_env))
        log: list[str] = []
        reader = threading.Thread(target=lambda: log.extend(crawl.stderr), daemon=True)
        while not ARTICLE_LINE.search(line := crawl.stderr.readline()):
            if not line:
                raise RuntimeError("the crawl stored no article")
        reader.start()
        wave = 0
        with ThreadPoolExecutor(writers) as pool, client(writers) as http:
            while crawl.poll() is None:
                wave += 1
                names = [f"{label}-{wave}-{n}" for n in range(writers)]
                results += pool.map(lambda name: post(http, base, name), names)
                time.sleep(0.5)
        crawl_seconds = time.perf_counter() - started
        crawl.wait()
        reader.join(5)
    latencies = sorted(seconds for seconds, _status in results)
    statuses: dict[int, int] = {}
    for _seconds, status in results:
        statuses[status] = statuses.get(status, 0) + 1
    summary = json.loads(crawl.stdout.read() or "{}")
    return {"scenario": label, "writes": len(results), "waves": wave, "statuses": statuses,
            "p50": pct(latencies, 50), "p95": pct(latencies, 95), "max": latencies[-1] if latencies else None,
            "crawl_seconds": round(crawl_seconds, 1), "crawl_exit": crawl.returncode,
            "articles": summary.get("totals", {}).get("articles_indexed")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--code", type=Path, default=REPO, help="the newsmon checkout whose commands run")
    parser.add_argument("--writers", type=int, default=20, help="concurrent POSTs per wave")
    parser.add_argument("--delay", type=float, default=0.3, help="the crawl's download delay per site (s)")
    args = parser.parse_args(argv)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    sites_file = WORK / "sites.yaml"
    rows = []
    with fixture_server.start_fixture_sites() as fixture:
        fixture.write_sites_file(sites_file)
        base_url = f"sqlite:///{WORK}/populated.db"
        first = subprocess.run([sys.executable, "-m", "crawler", "crawl", "--sites", str(sites_file), "--index",
                                base_url, "-q"], cwd=args.code, env=env(NEWSMON_DOWNLOAD_DELAY="0"),
                               capture_output=True, text=True)
        if first.returncode:
            raise SystemExit(first.stderr[-2000:])
        rows.append(scenario(args.code, sites_file, f"sqlite:///{WORK}/fresh.db", args.writers, args.delay,
                             "first-crawl"))
        rows.append(scenario(args.code, sites_file, base_url, args.writers, args.delay, "re-crawl",
                             NEWSMON_INCREMENTAL="0"))
    print(f"web writes during a crawl ({args.code}), {args.writers} concurrent POST /api/watches per wave, "
          f"download delay {args.delay}s")
    print(f"{'scenario':<12} {'writes':>6} {'p50':>8} {'p95':>8} {'max':>8}  statuses        crawl")
    for row in rows:
        stats = ", ".join(f"{k}: {v}" for k, v in sorted(row["statuses"].items()))
        times = " ".join(f"{row[k]:7.3f}s" if row[k] is not None else "      -" for k in ("p50", "p95", "max"))
        print(f"{row['scenario']:<12} {row['writes']:>6} {times}  {stats:<15} {row['crawl_seconds']}s, "
              f"exit {row['crawl_exit']}, {row['articles']} articles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
