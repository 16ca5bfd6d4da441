"""A monitoring team's 200 county sites on "every 30m": `python scheduler.py` spreads
their runs over the half hour (a stable phase per site), keeps those times across a
restart that lost its job store, and crawls at once a site never crawled or overdue."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import REPO, newsmon_env
from test_scheduler import closed_port_url

BEIJING = timezone(timedelta(hours=8))
NEXT_RUN = re.compile(r"crawl (\S+) every 30m \(.*\): next run (\d{4}-\d\d-\d\d \d\d:\d\d)$")


def site_names() -> list[str]:
    # county portals and their departments, as a provincial team lists them
    return [f"{county}-{dept}-gov" for county in ("suqian", "xinyang") for dept in range(100)]


def seed_history(index_url: str, names: list[str], started: datetime) -> None:
    """Each site's last crawl, as the run history of a deployment that has run before."""
    from index import open_index
    from index.runs import RunInfo, iso, record_run, run_doc
    with open_index(index_url) as index:
        for name in names:
            info = RunInfo(started=iso(started), trigger="scheduled", scheduled_for=iso(started), period_s=1800)
            record_run(index.state, run_doc(name, info, iso(started + timedelta(seconds=40)),
                                            {"pages_fetched": 9, "articles_new": 2}, "ok"))


def next_runs(sites_file: Path, index_url: str, jobstore: str, log: Path, expected: int) -> dict[str, datetime]:
    """Start the scheduler, read each crawl job's next run from its log, stop it."""
    env = newsmon_env(NEWSMON_TZ="Asia/Shanghai")
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "scheduler.py", "--sites", str(sites_file), "--index", index_url,
                                 "--jobstore", jobstore, "--jitter", "0", "--time-limit", "60"],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while len(read_next_runs(log)) < expected:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")[-3000:]
                time.sleep(0.3)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(90) == 0, log.read_text(encoding="utf-8")[-3000:]
    return read_next_runs(log)


def read_next_runs(log: Path) -> dict[str, datetime]:
    found = (NEXT_RUN.search(line) for line in log.read_text(encoding="utf-8").splitlines())
    return {m.group(1): datetime.strptime(m.group(2), "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING) for m in found if m}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("phases")
    names = site_names()
    url = closed_port_url()          # nothing answers: a run that starts fails at once
    entries = "".join(f"  - name: {name}\n    start_urls: [\"{url}\"]\n    schedule: every 30m\n"
                      for name in [*names, "new-county-gov", "overdue-county-gov"])
    sites_file = tmp / "sites.yaml"
    sites_file.write_text("sites:\n" + entries, encoding="utf-8")
    index_url = f"sqlite:///{tmp}/newsmon.db"
    now = datetime.now(timezone.utc)
    seed_history(index_url, names, now - timedelta(minutes=5))
    seed_history(index_url, ["overdue-county-gov"], now - timedelta(hours=2))
    first = next_runs(sites_file, index_url, f"sqlite:///{tmp}/jobs-1.db", tmp / "first.log", len(names) + 2)
    # A restart that lost its job store: the phases come back from the site names alone
    again = next_runs(sites_file, index_url, f"sqlite:///{tmp}/jobs-2.db", tmp / "again.log", len(names) + 2)
    return names, now, first, again


def test_two_hundred_sites_on_every_30m_fall_due_evenly_over_the_half_hour(deployment):
    names, started, first, _again = deployment
    times = [first[name] for name in names]
    # Crawled 5 minutes ago: each next run is 30-60 minutes after that crawl, on the site's phase
    assert all(started + timedelta(minutes=24) <= t <= started + timedelta(minutes=56) for t in times), times
    by_minute = Counter((t - min(times)) // timedelta(minutes=1) for t in times)
    assert max(times) - min(times) >= timedelta(minutes=27), (min(times), max(times))
    # Even: every 5 minutes of the half hour takes its share (~33), no minute takes a herd
    windows = Counter(min(5, minute // 5) for minute in by_minute.elements())
    assert all(15 <= windows[w] <= 60 for w in range(6)), windows
    assert max(by_minute.values()) <= 20, by_minute


def test_a_restart_that_lost_its_job_store_keeps_every_sites_time(deployment):
    names, _started, first, again = deployment
    assert [again[name] for name in names] == [first[name] for name in names]


def test_a_site_never_crawled_or_overdue_runs_at_once(deployment):
    _names, started, first, _again = deployment
    for name in ("new-county-gov", "overdue-county-gov"):
        assert first[name] <= started.astimezone(BEIJING) + timedelta(minutes=5), (name, first[name])
