"""Coverage that heals: a site's first run is cut short (page budget, kill -9 at three
moments, the scheduler's time limit, the site going away mid-run); ordinary
``newsmon crawl`` runs afterwards reach every article within two runs, ``newsmon
status`` says "补采中…" until they do, and then paging stops at known articles again.

The site is a 320-article TRS county site with 40 list pages (``index.html``,
``index_1.html`` ... via ``createPageHTML``), generated at test time by
``tests/paged_site.py`` and served by the fixture server (crawler/fixtures/server.py).
"""
from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import REPO, newsmon_env, run_newsmon
from paged_site import build_paged_site
from tcp_proxy import TcpProxy

SITE = "xinyi-gov"
TOTAL = 320


@pytest.fixture(scope="module")
def paged_site(tmp_path_factory):
    from crawler.fixtures import server as fixture_server
    root = tmp_path_factory.mktemp("paged-site")
    layout = build_paged_site(root, SITE, articles=TOTAL)
    assert len(layout["lists"]) == 40
    log = root.parent / "access.log"
    # Lives as long as the module (the 900 s default ran out mid-file on a loaded machine).
    with fixture_server.start_fixture_sites(root=root, access_log=log, lifetime=4 * 3600) as sites:
        yield sites


def write_sites(path: Path, url: str, **fields) -> Path:
    extra = "".join(f"    {key}: {value}\n" for key, value in fields.items())
    path.write_text(f"sites:\n  - name: {SITE}\n    start_urls: [{json.dumps(url)}]\n{extra}", encoding="utf-8")
    return path


def indexed(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def seen_batches(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM state WHERE kind = 'crawl_page'").fetchone()[0]
    except sqlite3.Error:
        return 0


def exported(db: Path) -> int:
    proc = run_newsmon("export", "--index", f"sqlite:///{db}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return len({json.loads(line)["url"] for line in proc.stdout.splitlines() if line.strip()})


def site_status(db: Path) -> dict:
    proc = run_newsmon("status", "--json", "--index", f"sqlite:///{db}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [entry] = [s for s in json.loads(proc.stdout)["sites"] if s["name"] == SITE]
    return entry


def crawl(sites: Path, db: Path, **env) -> subprocess.CompletedProcess:
    proc = run_newsmon("crawl", "--sites", sites, "--index", f"sqlite:///{db}", "--json", **env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def crawl_killed_when(sites: Path, db: Path, ready, what: str) -> None:
    """A crawl SIGKILLed as soon as ``ready()``: no spider_closed, no last flush, nothing."""
    proc = subprocess.Popen([sys.executable, "-m", "crawler", "crawl", "--sites", str(sites),
                             "--index", f"sqlite:///{db}"], cwd=REPO, env=newsmon_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while not ready():
            assert proc.poll() is None, f"finished before {what}: " + proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, f"never {what}"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()


# -- the ways a run ends early: each gets the site's URL and returns the URL to crawl on ------------

def cut_by_page_budget(url, tmp_path, db, _cleanup):
    crawl(write_sites(tmp_path / "budget.yaml", url, max_pages=60), db)
    return url


def killed_after_first_flush(url, tmp_path, db, _cleanup):
    crawl_killed_when(write_sites(tmp_path / "sites.yaml", url), db,
                      lambda: seen_batches(db) >= 1, "flushed seen pages")
    return url


def killed_mid_run(url, tmp_path, db, _cleanup):
    crawl_killed_when(write_sites(tmp_path / "sites.yaml", url), db,
                      lambda: indexed(db) >= TOTAL // 2, "indexed half")
    return url


def killed_near_the_end(url, tmp_path, db, _cleanup):
    crawl_killed_when(write_sites(tmp_path / "sites.yaml", url), db,
                      lambda: indexed(db) >= TOTAL - 20, "indexed nearly all")
    return url


def stopped_by_time_limit(url, tmp_path, db, _cleanup):
    """The scheduler's own child process, with its time limit (Scrapy's CLOSESPIDER_TIMEOUT)."""
    sites = write_sites(tmp_path / "sites.yaml", url)
    started = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    proc = subprocess.run([sys.executable, "-m", "crawler.child", "--sites", str(sites), "--site", SITE,
                           "--index", f"sqlite:///{db}", "--run-id", "limited", "--started", started,
                           "--trigger", "manual", "--time-limit", "3"],
                          cwd=REPO, env=newsmon_env(NEWSMON_DOWNLOAD_DELAY="0.02"), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert site_status(db)["last_run"]["status"] == "timeout"
    return url


def site_went_away_near_the_end(url, tmp_path, db, cleanup):
    """Fetch errors: through a proxy that starts refusing (and resetting) connections
    when most articles are in; the run itself finishes, with errors."""
    proxy = cleanup.enter_context(contextlib.closing(TcpProxy(urlsplit(url).port)))
    url = proxy.url + "/"
    proc = subprocess.Popen([sys.executable, "-m", "crawler", "crawl", "--sites",
                             str(write_sites(tmp_path / "sites.yaml", url)), "--index", f"sqlite:///{db}"],
                            cwd=REPO, env=newsmon_env(NEWSMON_RETRY_BACKOFF="0.05"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while indexed(db) < TOTAL - 30:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()[-2000:]
        time.sleep(0.02)
    proxy.down()
    _out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0 and "connection_refused" in err.decode(), err.decode()[-2000:]
    proxy.up()
    return url


INTERRUPTIONS = {
    "max_pages": cut_by_page_budget,
    "kill -9 after the first seen-pages flush": killed_after_first_flush,
    "kill -9 mid-run": killed_mid_run,
    "kill -9 near the end": killed_near_the_end,
    "time limit": stopped_by_time_limit,
    "fetch errors": site_went_away_near_the_end,
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("how", list(INTERRUPTIONS))
def test_a_site_reaches_every_article_within_two_runs_after_an_early_end(how, paged_site, tmp_path):
    db = tmp_path / "newsmon.db"
    with contextlib.ExitStack() as cleanup:
        url = INTERRUPTIONS[how](paged_site.urls[SITE], tmp_path, db, cleanup)
        after_cut = exported(db)
        assert after_cut < TOTAL, f"{how}: the run was not cut short"
        flags = {flag["kind"]: flag for flag in site_status(db)["health"]}
        assert "backfill" in flags and flags["backfill"]["message"].startswith("补采中…"), flags

        sites = write_sites(tmp_path / "ordinary.yaml", url)
        reached = []
        while len(reached) < 2 and TOTAL not in reached:
            proc = crawl(sites, db)
            reached.append(exported(db))
        print(f"\n{how}: {after_cut}/{TOTAL} after the cut run, then {reached} after ordinary runs")
        assert reached[-1] == TOTAL, f"{how}: {after_cut} -> {reached}"
        assert "补采完成" in proc.stderr
        assert all(flag["kind"] != "backfill" for flag in site_status(db)["health"])
        if how != "max_pages":
            return
        # The backfill is over: the next run pages no further than the first list page.
        mark = len(paged_site.requests())
        again = crawl(sites, db)
        served = [(path, status) for _site, _method, path, status in paged_site.requests()[mark:]]
        assert ("/xwdt/index.html", 200) in served
        assert not [path for path, _ in served if path.startswith("/xwdt/index_")], "paged past known articles"
        assert not [path for path, status in served if path.startswith("/xwdt/2") and status == 200]
        assert "不再往后翻页" in again.stderr


@pytest.mark.timeout(300)
def test_new_articles_seen_by_a_killed_run_do_not_hide_the_older_new_ones(tmp_path):
    """After a complete run, 240 new articles go on top; a run killed right after it
    saved 200 of them must not make the next run stop at a page of those: the
    frontier is what the complete run knew, not whatever was seen last."""
    from crawler.fixtures import server as fixture_server
    root = tmp_path / "site"
    build_paged_site(root, SITE, articles=TOTAL)
    db = tmp_path / "newsmon.db"
    with fixture_server.start_fixture_sites(root=root) as sites_server:
        sites = write_sites(tmp_path / "sites.yaml", sites_server.urls[SITE])
        crawl(sites, db)
        assert exported(db) == TOTAL and site_status(db)["health"] == []
        build_paged_site(root, SITE, articles=TOTAL + 240)        # the site publishes; older pages shift down
        batches = seen_batches(db)
        crawl_killed_when(sites, db, lambda: seen_batches(db) > batches, "flushed seen pages")
        after_cut = exported(db)
        assert after_cut < TOTAL + 240 and frontier_status(db) == "incomplete"
        reached = []
        while len(reached) < 2 and TOTAL + 240 not in reached:
            crawl(sites, db)
            reached.append(exported(db))
        print(f"\n240 new on top, killed after a flush: {after_cut}/{TOTAL + 240}, then {reached}")
        assert reached[-1] == TOTAL + 240
        assert site_status(db)["health"] == []


def frontier_status(db: Path) -> str | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute("SELECT doc FROM state WHERE kind = 'crawl_frontier'").fetchone()
    except sqlite3.Error:
        return None
    return json.loads(row[0])["status"] if row else None


def test_a_run_killed_on_a_covered_site_costs_the_next_run_nothing_more(paged_site, tmp_path):
    """Killed as it starts: the site is in backfill, but the frontier is where it was, so
    the next run stops at the first list page, asks for no known article again (they
    count as unchanged), and succeeds. Status does not flag a covered site whose run
    began this recently (it may still be going); in two hours it would."""
    from index import open_index
    from monitor.health import source_status
    db = tmp_path / "newsmon.db"
    sites = write_sites(tmp_path / "sites.yaml", paged_site.urls[SITE])
    crawl(sites, db)
    assert frontier_status(db) == "complete"
    crawl_killed_when(sites, db, lambda: frontier_status(db) == "incomplete", "marked the run incomplete")
    assert site_status(db)["health"] == []
    with open_index(f"sqlite:///{db}") as index:
        [later] = source_status(index, [SITE], now=datetime.now(timezone.utc) + timedelta(hours=2, minutes=1))
    assert [flag.kind for flag in later.health if flag.kind == "backfill"] == ["backfill"]
    mark = len(paged_site.requests())
    again = crawl(sites, db)
    served = [(path, status) for _site, _method, path, status in paged_site.requests()[mark:]]
    assert not [path for path, _ in served if path.startswith(("/xwdt/index_", "/xwdt/2"))], served
    assert json.loads(again.stdout)["sites"][SITE]["unchanged_skipped"] >= 8
    assert frontier_status(db) == "complete" and site_status(db)["health"] == []
