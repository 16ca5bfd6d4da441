"""A crawl killed with SIGKILL after it wrote a batch of known pages loses no article.

A crawl remembers the article pages it got through (``crawler/incremental.py``, a
batch every 200 pages), and the next run does not fetch known pages again. Articles
go to Elasticsearch in bulks of 500: a crawl killed between the two left pages known
whose articles never reached the index, and the next run (a worker's redo of the
run, or the next scheduled one) skipped them for good. Seen: a 320-article site
killed after 250 article pages, the next run indexed 120 of 320. Now a batch of
known pages is written only once the index holds its articles.
"""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, es_index_url, newsmon_env, run_newsmon
from paged_site import build_paged_site

pytestmark = [pytest.mark.elasticsearch, pytest.mark.timeout(900)]

SITE = "xinyi-gov"
ARTICLES = 240          # more than one batch of known pages (200)


def crawl_child(sites_file, index_url: str, run_id: str, folder) -> subprocess.Popen:
    """The crawl process a worker or the scheduler starts for one site run."""
    cmd = [sys.executable, "-m", "crawler.child", "--sites", str(sites_file), "--site", SITE, "--run-id", run_id,
           "--started", time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime()), "--trigger", "scheduled",
           "--coalesced", "0", "--time-limit", "600", "--index", index_url]
    log = open(folder / f"crawl-{run_id}.log", "wb")
    proc = subprocess.Popen(cmd, cwd=folder, env=newsmon_env(PYTHONPATH=str(REPO), NEWSMON_ES_SPOOL_DIR=str(folder)),
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return proc


def test_a_crawl_killed_after_remembering_pages_loses_none_of_their_articles(elasticsearch_node, tmp_path):
    from crawler.fixtures.server import start_fixture_sites
    from crawler.incremental import PAGE_KIND
    from index import open_index

    build_paged_site(tmp_path / "sites", SITE, articles=ARTICLES, per_page=24)
    url = es_index_url(elasticsearch_node, "known")
    with start_fixture_sites(root=tmp_path / "sites", access_log=tmp_path / "access.log", lifetime=900) as paged:
        sites_file = tmp_path / "sites.yaml"
        sites_file.write_text(f"sites:\n  - name: {SITE}\n    start_urls: [{paged.urls[SITE]}]\n"
                              f"    download_delay: 0.1\n", encoding="utf-8")     # the kill comes mid-crawl
        first = crawl_child(sites_file, url, "killedrun001", tmp_path)
        index = open_index(url)
        try:
            deadline = time.monotonic() + 600      # a backstop on a busy machine, not a measure
            while not list(index.state.scan(PAGE_KIND, f"{SITE}/")):      # a batch of known pages written
                assert first.poll() is None and time.monotonic() < deadline, "the crawl ended before a batch"
                time.sleep(0.1)
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        finally:
            index.close()
        fetched = {path for site, _m, path, status in paged.requests()
                   if status == 200 and re.search(r"/t\d{8}_\d+\.html$", path)}
        assert 200 <= len(fetched) < ARTICLES
        again = crawl_child(sites_file, url, "nextrun00002", tmp_path)
        assert again.wait(600) == 0, (tmp_path / "crawl-nextrun00002.log").read_text("utf-8")[-3000:]
    exported = run_newsmon("export", "--index", url, NEWSMON_ES_SPOOL_DIR=str(tmp_path))
    assert exported.returncode == 0, exported.stderr
    urls = [json.loads(line)["url"] for line in exported.stdout.splitlines() if line.strip()]
    assert len(urls) == ARTICLES and len(set(urls)) == ARTICLES       # every article, once
