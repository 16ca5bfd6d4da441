"""Short write transactions (issue 16, item 8): while a real ``newsmon crawl`` writes
the embedded index, 20 concurrent ``POST /api/watches`` to a real ``newsmon serve``
on it all succeed (the crawl used to hold SQLite's one write lock for up to 500
pages, and a web write waited 10 s and got a 500). How long they wait is measured,
not asserted, by ``benchmarks/web/writes_during_crawl.py``, before and after.

The crawl is a re-crawl with incremental fetching off: every page is stored again
and nothing else in the crawl commits, the case that held the lock longest.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from conftest import REPO, newsmon_env
from web_server import copy_of, serving

TOKEN = "write-concurrency-token"
ARTICLE_LINE = re.compile(r"\] (new story|copy \(|seen before)")     # pipelines/stages.py, once stored
WRITERS = 20


def test_web_writes_during_a_crawl_all_succeed(crawl, tmp_path):
    index_url = copy_of(crawl.index_url, tmp_path)
    with serving(index_url, NEWSMON_WEB_TOKEN=TOKEN) as base, \
            httpx.Client(timeout=60, headers={"Authorization": f"Bearer {TOKEN}"},
                         limits=httpx.Limits(max_connections=WRITERS)) as http:
        # polite, so the crawl lasts a few seconds and keeps writing between fetches
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "crawl", "--sites", str(crawl.sites_file), "--index", index_url,
             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=REPO,
            env=newsmon_env(NEWSMON_INCREMENTAL="0", NEWSMON_DOWNLOAD_DELAY="0.3"))
        log = ""
        while not ARTICLE_LINE.search(line := proc.stderr.readline()):    # the crawl is writing
            assert line, f"the crawl stored nothing: {log[-3000:]}"
            log += line

        def create(n: int) -> tuple[float, int, str]:
            started = time.perf_counter()
            answer = http.post(f"{base}/api/watches",
                               json={"name": f"duty-{n}", "query": "防汛", "emails": ["duty@example.com"]})
            return time.perf_counter() - started, answer.status_code, answer.text

        with ThreadPoolExecutor(WRITERS) as pool:
            results = list(pool.map(create, range(WRITERS)))
        crawling = proc.poll() is None
        out, rest = proc.communicate(timeout=300)
        watches = http.get(f"{base}/api/watches").json()["watches"]
    assert proc.returncode == 0, (log + rest)[-3000:]
    assert [status for _s, status, _t in results] == [201] * WRITERS, [t for _s, s, t in results if s != 201]
    latencies = sorted(seconds for seconds, _status, _text in results)
    p95 = latencies[int(round(0.95 * (WRITERS - 1)))]
    print(f"\n{WRITERS} concurrent web writes during a crawl: p50 {latencies[WRITERS // 2] * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms (crawl still running after: {crawling})")
    assert sorted(w["name"] for w in watches) == sorted(f"duty-{n}" for n in range(WRITERS))
    assert json.loads(out)["totals"]["articles_indexed"] == len(crawl.export)      # and the crawl stored all
