"""SIGKILL in the middle of a crawl, restart with the same --jobdir: the final index
equals that of an uninterrupted crawl (compared through ``newsmon export``)."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import REPO, newsmon_env, run_newsmon


def indexed_count(db_path) -> int:
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def comparable(export: list[dict]) -> tuple[dict, set]:
    """Each page's fields, its story id included (a story is named after its origin, so
    the order pages came in does not matter), and the partition of pages into stories."""
    pages = {line["url"]: {k: line[k] for k in ("id", "site", "title", "published", "text", "canonical",
                                                 "story_id")}
             for line in export}
    stories: dict[str, set] = {}
    for line in export:
        stories.setdefault(line["story_id"], set()).add(line["url"])
    return pages, {frozenset(urls) for urls in stories.values()}


@pytest.mark.timeout(600)
def test_sigkill_mid_crawl_then_resume_equals_an_uninterrupted_crawl(fixture_sites, crawl, tmp_path):
    sites = fixture_sites.write_sites_file(tmp_path / "sites.yaml")
    db = tmp_path / "newsmon.db"
    args = ["crawl", "--sites", sites, "--index", f"sqlite:///{db}", "--jobdir", tmp_path / "job", "--json"]
    total = len(crawl.export)

    # Slow enough (0.5 s between requests per site) to be caught in the middle.
    proc = subprocess.Popen([sys.executable, "-m", "crawler", *map(str, args)], cwd=REPO,
                            env=newsmon_env(NEWSMON_DOWNLOAD_DELAY="0.5"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while indexed_count(db) < 20:   # the first checkpoint (NEWSMON_CHECKPOINT_ITEMS) is durable
        assert proc.poll() is None, "the crawl finished before it could be killed: " + proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "nothing was committed in time"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    before_restart = indexed_count(db)
    assert 0 < before_restart < total, f"killed with {before_restart} of {total} indexed: not mid-crawl"
    assert json.loads((tmp_path / "job" / "run.json").read_text())["finished"] is False

    resumed = run_newsmon(*args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads(resumed.stdout)
    assert "resuming the run started" in resumed.stderr
    print(f"killed with {before_restart}/{total} articles committed; the restart skipped "
          f"{summary['totals'].get('resume_skipped', 0)} and fetched {summary['totals']['article_pages_fetched']} article pages")
    # The articles committed before the kill were not fetched again.
    assert summary["totals"].get("resume_skipped", 0) >= before_restart - 1
    assert summary["totals"]["article_pages_fetched"] < total
    assert json.loads((tmp_path / "job" / "run.json").read_text())["finished"] is True

    exported = run_newsmon("export", "--index", f"sqlite:///{db}")
    lines = [json.loads(x) for x in exported.stdout.splitlines() if x.strip()]
    assert len(lines) == total, "an article was lost or duplicated"
    got_pages, got_stories = comparable(lines)
    want_pages, want_stories = comparable(crawl.export)
    assert got_pages == want_pages
    assert got_stories == want_stories

    # The same jobdir once the run finished: a new run, which fetches everything again.
    again = run_newsmon(*args)
    assert again.returncode == 0 and "resuming" not in again.stderr
    assert json.loads(again.stdout)["totals"].get("resume_skipped", 0) == 0
