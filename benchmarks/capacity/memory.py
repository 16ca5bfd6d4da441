#!/usr/bin/env python3
"""Peak RSS and CPU of one crawl process by the number of sites it crawls at once.

    python benchmarks/capacity/memory.py [--counts 1 10 50 100] [--initial 30]

For each count K: a fresh process crawls K generated sites (``siteserver.py``) at
once with ``crawler.sitebatch.run_site_batch`` (first full crawl: the heaviest run
a site has), and its peak RSS (``ru_maxrss``) and CPU seconds are read when it
exits. This is what ``--sites-per-process`` is chosen from (README.md).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

CRAWL = """
import sys
from crawler.logsetup import configure_logging
from crawler.sitebatch import SiteRun, run_site_batch
from crawler.sites import load_sites
configure_logging(quiet=True)
sites = load_sites(sys.argv[1]).sites[:int(sys.argv[3])]
results = run_site_batch([SiteRun(s, time_limit=1800) for s in sites], sys.argv[2], max_concurrent=len(sites))
print(sum(r.doc.get("pages_fetched", 0) for r in results), sum(r.status == "ok" for r in results))
"""


def measure(count: int, sites_file: Path, tmp: Path) -> dict:
    env = dict(os.environ, NEWSMON_ALLOW_HOSTS="127.100.0.0/16", PYTHONIOENCODING="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", CRAWL, str(sites_file), f"sqlite:///{tmp}/k{count}.db", str(count)],
                          cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    pages, ok = (int(x) for x in proc.stdout.split())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"sites": count, "ok": ok, "pages": pages, "peak_rss_mb": round(after.ru_maxrss / 1024),
            "cpu_seconds": round(cpu, 1), "wall_seconds": round(wall, 1),
            "cpu_ms_per_page": round(1000 * cpu / max(1, pages), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--counts", type=int, nargs="+", default=[1, 10, 50, 100])
    ap.add_argument("--initial", type=int, default=30)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="newsmon-capacity-mem-"))
    sites_file = tmp / "sites.yaml"
    server = subprocess.Popen([sys.executable, str(HERE / "siteserver.py"), "--sites", str(max(args.counts)),
                               "--sites-file", str(sites_file), "--initial", str(args.initial)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        server.stdout.readline()
        # (ru_maxrss of RUSAGE_CHILDREN is the largest child so far: smallest count first)
        for count in sorted(args.counts):
            print(json.dumps(measure(count, sites_file, tmp)), flush=True)
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
