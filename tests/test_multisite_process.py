"""Many sites in one crawl process (crawler/sitebatch.py), for real: 20 generated TRS and
Hanweb sites, each on its own loopback address (127.100.0.x), one crawl process.

Each site gets its own run record with the counts the server saw; a site whose pages make
a pipeline raise is recorded failed while the others succeed; one site's time limit stops
only that site; and the server never sees two requests to one host closer than the
site's delay allows."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest

from conftest import REPO, newsmon_env

SITES = 20
ARTICLES = 8                 # per site: one list page
RAISING = 7                  # its pages make a pipeline raise
LIMITED = 13                 # a slow site with a 4 s time limit
LIMIT = 4.0
JITTER = 0.5                 # crawler/settings.py DOWNLOAD_DELAY_JITTER: each wait is 0.5x..1.5x the delay
ARRIVAL_SKEW = 0.1           # seconds: a connect, or the server's event loop waiting for a busy CPU


def delay_of(i: int) -> float:
    return 2.0 if i == LIMITED else (1.0 if i % 3 else 1.4)


@dataclass
class Batch:
    results: dict[str, dict]          # site name -> {"status", "doc"}
    names: list[str]
    hosts: dict[str, str]             # site name -> its address
    log: list[tuple[str, str, float, int]]

    def requests(self, site: str) -> list[tuple[str, float, int]]:
        host = self.hosts[site]
        return sorted(((path, t, status) for h, path, t, status in self.log if h == host), key=lambda r: r[1])


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    tmp = tmp_path_factory.mktemp("multisite")
    access = tmp / "access.log"
    server = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "capacity" / "siteserver.py"), "--sites", str(SITES),
         "--latency", "0.02", "0.06", "--initial", str(ARTICLES), "--round-seconds", "0",
         "--access-log", str(access)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        line = server.stdout.readline()
        if not line:
            raise RuntimeError("the generated-sites server did not start")
        urls = json.loads(line)["sites"]
        names = list(urls)
        sites_file = tmp / "sites.yaml"
        sites_file.write_text("sites:\n" + "".join(
            f"  - name: {name}\n    start_urls: [\"{url}\"]\n    download_delay: {delay_of(i)}\n"
            f"    region: 江苏省宿迁市\n" for i, (name, url) in enumerate(urls.items())), encoding="utf-8")
        limits = {names[LIMITED]: LIMIT}
        proc = subprocess.run(
            [sys.executable, "tests/multisite_batch.py", str(sites_file), f"sqlite:///{tmp}/newsmon.db",
             json.dumps(limits), names[RAISING]],
            cwd=REPO, env=newsmon_env(NEWSMON_ALLOW_HOSTS="127.100.0.0/16", NEWSMON_DOWNLOAD_DELAY="0.25"),
            capture_output=True, text=True, encoding="utf-8", timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results = {r["site"]: r for r in json.loads(proc.stdout.strip().splitlines()[-1])}
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    log = []
    for row in access.read_text(encoding="utf-8").splitlines():
        host, path, t, status = row.split("\t")
        log.append((host, path, float(t), int(status)))
    hosts = {name: url.split("/")[2].split(":")[0] for name, url in urls.items()}
    return Batch(results, names, hosts, log)


def test_every_site_gets_its_own_run_record_with_the_counts_the_server_saw(batch):
    assert sorted(batch.results) == sorted(batch.names)
    run_ids = {r["doc"]["run_id"] for r in batch.results.values()}
    assert len(run_ids) == SITES                       # its own run, not one run for the batch
    for i, name in enumerate(batch.names):
        if i in (RAISING, LIMITED):
            continue
        doc = batch.results[name]["doc"]
        served = [path for path, _t, status in batch.requests(name) if path != "/robots.txt" and status == 200]
        articles = [path for path in served if "/t2" in path or "/art_" in path]
        assert batch.results[name]["status"] == "ok", doc
        assert doc["site"] == name and doc["pages_fetched"] == len(served), (name, doc, served)
        assert doc["article_pages_fetched"] == len(articles) == ARTICLES
        assert doc["articles_new"] == ARTICLES


def test_a_site_whose_pages_make_the_pipeline_raise_is_recorded_failed_and_only_it(batch):
    raising = batch.results[batch.names[RAISING]]
    assert raising["status"] == "failed"
    assert raising["doc"]["errors"]["pipeline_exception"] == ARTICLES
    assert raising["doc"]["articles_new"] == 0 and "异常" in raising["doc"]["message"]
    others = [r["status"] for i, r in enumerate(batch.results[n] for n in batch.names) if i not in (RAISING, LIMITED)]
    assert others == ["ok"] * (SITES - 2)


def test_one_sites_time_limit_stops_only_that_site(batch):
    limited = batch.results[batch.names[LIMITED]]
    assert limited["status"] == "timeout"
    assert limited["doc"]["finish_reason"] == "closespider_timeout"
    # (what the downloader already held when the limit struck is still fetched, as Scrapy does)
    # it was stopped, yet every other site read its whole column
    assert all(batch.results[n]["doc"]["articles_new"] == ARTICLES
               for i, n in enumerate(batch.names) if i not in (RAISING, LIMITED))


def test_no_two_requests_to_one_host_come_closer_than_its_delay_allows(batch):
    """Scrapy waits a random 0.5x..1.5x of the site's delay between requests to its
    download slot (DOWNLOAD_DELAY_JITTER = 0.5); robots.txt is fetched before the
    first page, outside the slot, so the pair (robots.txt, first page) is not counted.
    Arrivals are stamped by the server's event loop: a connect, or the loop waiting for a
    CPU on a loaded machine, can make one gap look shorter by that (ARRIVAL_SKEW)."""
    for i, name in enumerate(batch.names):
        seen = [(path, t) for path, t, _s in batch.requests(name) if path != "/robots.txt"]
        assert len(seen) >= 2, name
        close = [(a, b, round(b[1] - a[1], 3)) for a, b in zip(seen, seen[1:])
                 if b[1] - a[1] < delay_of(i) * (1 - JITTER) - ARRIVAL_SKEW]
        assert not close, (name, delay_of(i), close)


def start_server(sites: int, tmp) -> tuple[subprocess.Popen, dict[str, str]]:
    server = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "capacity" / "siteserver.py"), "--sites", str(sites),
         "--latency", "0.02", "0.06", "--initial", str(ARTICLES), "--round-seconds", "0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    line = server.stdout.readline()
    if not line:
        raise RuntimeError("the generated-sites server did not start")
    return server, json.loads(line)["sites"]


def test_a_killed_crawl_process_leaves_each_of_its_sites_crashed_and_the_next_runs_heal(tmp_path, monkeypatch):
    """SIGKILL (the OOM killer) of a process serving three sites: each site's run is in
    the history as crashed, with the signal; the next runs fetch what the killed ones missed."""
    import signal
    import threading
    import time

    from crawler.child import RUNNING, crawl_site
    from index import open_index
    server, urls = start_server(3, tmp_path)
    try:
        monkeypatch.setenv("NEWSMON_ALLOW_HOSTS", "127.100.0.0/16")
        monkeypatch.setenv("NEWSMON_CHILD_QUIET", "1")
        monkeypatch.chdir(REPO)
        sites_file = tmp_path / "sites.yaml"
        sites_file.write_text("sites:\n" + "".join(
            f"  - name: {name}\n    start_urls: [\"{url}\"]\n    download_delay: 0.6\n" for name, url in urls.items()),
            encoding="utf-8")
        index_url = f"sqlite:///{tmp_path}/newsmon.db"

        def crawl_all() -> dict[str, str]:
            statuses = {}
            jobs = [threading.Thread(target=lambda n=name: statuses.setdefault(n, crawl_site(
                n, str(sites_file), index_url, time_limit=120))) for name in urls]
            for job in jobs:
                job.start()
            return statuses, jobs

        statuses, jobs = crawl_all()
        deadline = time.monotonic() + 120
        while RUNNING.count() != 1 or not _articles(index_url):    # all three in one process, crawling
            assert time.monotonic() < deadline, "the crawl process did not start crawling"
            time.sleep(0.2)
        [(_label, proc)] = RUNNING._procs.values()
        proc.send_signal(signal.SIGKILL)
        for job in jobs:
            job.join(timeout=60)
        assert statuses == {name: "crashed" for name in urls}
        index = open_index(index_url)
        try:
            runs = [doc for _key, doc in index.state.scan("run")]
        finally:
            index.close()
        assert sorted(r["site"] for r in runs) == sorted(urls)
        assert all(r["status"] == "crashed" and "SIGKILL" in r["message"] for r in runs)

        statuses, jobs = crawl_all()
        for job in jobs:
            job.join(timeout=300)
        assert statuses == {name: "ok" for name in urls}
        assert _articles(index_url) == 3 * ARTICLES
    finally:
        server.stdin.close()
        server.wait(timeout=30)


def _articles(index_url: str) -> int:
    import sqlite3
    path = index_url[len("sqlite:///"):]
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0
