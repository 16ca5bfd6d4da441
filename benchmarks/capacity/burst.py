#!/usr/bin/env python3
"""newsmon's capacity-bound pass: every site crawled once through the scheduler's crawl pool.

    python benchmarks/capacity/burst.py SITES_FILE INDEX_URL [--max-crawls 100]
        [--sites-per-process 50] [--recycle-after 500] [--time-limit 900]

The same path a scheduled run takes (``crawler.child.crawl_site`` in a job thread,
``crawler.child.RUNNING``: ``--max-crawls / --sites-per-process`` crawl processes
of ``--sites-per-process`` sites each), without APScheduler: all sites are handed
over at once, at most ``--max-crawls`` running, so the pass is bound by the
crawler's capacity, not by a schedule. Runs are recorded as ``manual`` in the run
history of INDEX_URL, which the scheduled phase then continues from.
Prints ``{"runs", "statuses", "pages", "articles_new", "seconds"}`` as JSON
(seconds: first run start to last run end, from the run history).
"""
from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sites_file")
    ap.add_argument("index_url")
    ap.add_argument("--max-crawls", type=int, default=100)
    ap.add_argument("--sites-per-process", type=int, default=50)
    ap.add_argument("--recycle-after", type=int, default=500)
    ap.add_argument("--time-limit", type=float, default=900.0)
    args = ap.parse_args(argv)

    from crawler.child import RUNNING, crawl_site
    from crawler.logsetup import configure_logging
    from crawler.sites import load_sites
    from index import open_index
    from index.runs import RunInfo

    configure_logging(quiet=True)
    RUNNING.configure(-(-args.max_crawls // args.sites_per_process), min(args.sites_per_process, args.max_crawls),
                      args.recycle_after)
    names = [site.name for site in load_sites(args.sites_file).sites]

    def crawl(name: str) -> str:
        return crawl_site(name, args.sites_file, args.index_url, args.time_limit, run=RunInfo(trigger="manual"))

    try:
        with ThreadPoolExecutor(args.max_crawls) as pool:
            list(pool.map(crawl, names))
    finally:
        RUNNING.stop_all(20.0)       # idle by now: the processes just exit
    with open_index(args.index_url) as index:
        runs = [doc for _key, doc in index.state.scan("run") if doc.get("trigger") == "manual"]
    statuses: dict[str, int] = {}
    for run in runs:
        statuses[run["status"]] = statuses.get(run["status"], 0) + 1
    span = (max(datetime.fromisoformat(r["ended"]) for r in runs)
            - min(datetime.fromisoformat(r["started"]) for r in runs)).total_seconds()
    print(json.dumps({"runs": len(runs), "statuses": statuses, "pages": sum(r.get("pages_fetched", 0) for r in runs),
                      "articles_new": sum(r.get("articles_new", 0) for r in runs), "seconds": round(span, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
