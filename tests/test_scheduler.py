"""The scheduler daemon for real: `python scheduler.py` against the fixture sites with
second-scale schedules, stopped with SIGTERM in the middle of a crawl and restarted.

One scenario runs once per module (it takes about a minute on an idle machine); the tests
read what it left: the run history, the index, the scheduler's log."""
from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from conftest import REPO, newsmon_env, run_newsmon
from index.runs import NOT_RUN, iso, utc_now

INTERVAL = 5.0          # seconds, the live sites
DEAD_INTERVAL = 3.0     # seconds, a site whose server is gone
JITTER = 0.5


def site_entry(name: str, url: str, schedule: str) -> str:
    return f"  - name: {name}\n    start_urls: [{json.dumps(url)}]\n    schedule: {schedule}\n"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def read_runs(index_url: str) -> list[dict]:
    from index import open_index
    index = open_index(index_url)
    try:
        return [doc for _key, doc in index.state.scan("run")]
    finally:
        index.close()


def wait_until(what: str, check, timeout: float, proc=None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.3)
    tail = log.read_text(encoding="utf-8")[-4000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


@dataclass
class Scenario:
    index_url: str
    sites_file: Path
    log: Path
    exit_codes: list[int] = field(default_factory=list)
    stopped_at: str = ""
    restarted_at: str = ""
    runs: list[dict] = field(default_factory=list)

    def site_runs(self, site: str) -> list[dict]:
        return sorted((r for r in self.runs if r["site"] == site), key=lambda r: r["started"])


def start_scheduler(sites_file: Path, index_url: str, log: Path) -> subprocess.Popen:
    out = log.open("a", encoding="utf-8")
    # A short download delay keeps each crawl running long enough to be caught mid-run.
    env = newsmon_env(NEWSMON_DOWNLOAD_DELAY="0.3")
    return subprocess.Popen([sys.executable, "scheduler.py", "--sites", str(sites_file), "--index", index_url,
                             "--jitter", str(JITTER), "--max-crawls", "3", "--reload-every", "1",
                             "--time-limit", "120"],
                            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


@pytest.fixture(scope="module")
def scenario(fixture_sites, tmp_path_factory) -> Scenario:
    tmp = tmp_path_factory.mktemp("scheduler")
    index_url = f"sqlite:///{tmp}/newsmon.db"
    sites_file = tmp / "sites.yaml"
    sites_file.write_text("sites:\n" + site_entry("sucheng-gov", fixture_sites.urls["sucheng-gov"], "every 5s")
                          + site_entry("dead-site", closed_port_url(), "every 3s"), encoding="utf-8")
    s = Scenario(index_url, sites_file, tmp / "scheduler.log")

    def ok_runs(site):
        return [r for r in read_runs(index_url) if r["site"] == site and r["status"] == "ok"]

    def requests_to(site, path):
        return sum(1 for name, _m, p, _s in fixture_sites.requests() if (name, p) == (site, path))

    proc = start_scheduler(sites_file, index_url, s.log)
    try:
        wait_until("sucheng-gov's first run", lambda: ok_runs("sucheng-gov"), 90, proc, s.log)
        # The sites file changes while the scheduler runs: a new site is picked up.
        with sites_file.open("a", encoding="utf-8") as f:
            f.write(site_entry("laser-industry", fixture_sites.urls["laser-industry"], "every 5s"))
        wait_until("two runs of each live site and three of the dead one",
                   lambda: len(ok_runs("sucheng-gov")) >= 2 and len(ok_runs("laser-industry")) >= 2
                   and sum(r["status"] == "failed" for r in read_runs(index_url) if r["site"] == "dead-site") >= 3,
                   120, proc, s.log)
        # Stop in the middle of a sucheng-gov crawl: its home page was just asked for.
        homes = requests_to("sucheng-gov", "/")
        wait_until("the next sucheng-gov crawl", lambda: requests_to("sucheng-gov", "/") > homes, 60, proc, s.log)
    finally:
        s.exit_codes.append(stop(proc))
    s.stopped_at = iso(utc_now())
    time.sleep(2 * INTERVAL + 1)            # down for two scheduled runs of each site

    s.restarted_at = iso(utc_now())
    proc = start_scheduler(sites_file, index_url, s.log)
    try:
        wait_until("a run of each live site after the restart",
                   lambda: all(any(r["started"] > s.restarted_at for r in ok_runs(site))
                               for site in ("sucheng-gov", "laser-industry")), 90, proc, s.log)
    finally:
        s.exit_codes.append(stop(proc))
    s.runs = read_runs(index_url)
    return s


def test_sigterm_stops_the_scheduler_cleanly(scenario):
    assert scenario.exit_codes == [0, 0], scenario.log.read_text(encoding="utf-8")[-3000:]
    log = scenario.log.read_text(encoding="utf-8")
    assert log.count("received SIGTERM: stopping") == 2 and log.count("scheduler stopped") == 2
    assert "Traceback" not in log, log[-3000:]
    assert "not recorded" not in log, [line for line in log.splitlines() if "not recorded" in line]


def test_every_site_is_crawled_on_schedule_and_runs_never_overlap(scenario):
    for site, interval in (("sucheng-gov", INTERVAL), ("laser-industry", INTERVAL), ("dead-site", DEAD_INTERVAL)):
        docs = [r for r in scenario.site_runs(site) if r["started"] < scenario.stopped_at]
        runs = [r for r in docs if r["status"] not in NOT_RUN]
        assert len(runs) >= 2, site
        assert all(r["trigger"] == "scheduled" and r["scheduled_for"] for r in docs)
        for before, after in zip(runs, runs[1:]):
            assert after["started"] >= before["ended"], f"{site}: overlapping runs {before} {after}"
        # Every scheduled time is accounted for: it ran, or is recorded as skipped (the site's
        # previous run was still going) or missed; consecutive times are one interval apart
        # (each on the site's phase grid plus its own jitter, so +- the jitter). A site never
        # crawled runs at once, off its phase, and returns to it at least an interval later.
        slots = sorted(docs, key=lambda r: r["scheduled_for"])
        for i, (before, after) in enumerate(zip(slots, slots[1:])):
            step = (datetime.fromisoformat(after["scheduled_for"])
                    - datetime.fromisoformat(before["scheduled_for"])).total_seconds()
            longest = (2 if i == 0 else 1) * interval + JITTER + 0.01
            assert interval - JITTER - 0.01 <= step <= longest, (
                site, step, before["scheduled_for"], after["scheduled_for"],
                [line for line in scenario.log.read_text(encoding="utf-8").splitlines()
                 if site in line or "not recorded" in line][-40:])
    live = [r for r in scenario.runs if r["site"] != "dead-site" and r["status"] not in ("stopped", *NOT_RUN)]
    assert live and {r["status"] for r in live} == {"ok"}, Counter(r["status"] for r in live)


def test_the_sites_share_one_long_lived_crawl_process(scenario):
    """--max-crawls 3 (under --sites-per-process 50): one crawl process per scheduler
    start serves every site run, instead of a process per run."""
    log = scenario.log.read_text(encoding="utf-8")
    started = re.findall(r"crawl process (\d+) started \(1 of at most 1, 3 sites each\)", log)
    assert len(started) == 2, log[-3000:]
    ran = [r for r in scenario.runs if r["status"] not in NOT_RUN]
    assert len(ran) >= 10 and len({r["site"] for r in ran}) == 3


def test_a_site_added_to_the_sites_file_is_picked_up_without_a_restart(scenario):
    log = scenario.log.read_text(encoding="utf-8")
    assert "sites file" in log and "reloaded: 3 sites" in log
    assert [r for r in scenario.site_runs("laser-industry") if r["started"] < scenario.stopped_at]


def test_a_dead_site_is_flagged_failing(scenario):
    status = run_newsmon("status", "--json", "--index", scenario.index_url)
    assert status.returncode == 0, status.stderr
    sites = {entry["name"]: entry for entry in json.loads(status.stdout)["sites"]}
    dead = sites["dead-site"]
    assert dead["failure_streak"] >= 3
    assert [flag["kind"] for flag in dead["health"]] == ["failing"]
    assert "connection_refused" in dead["health"][0]["message"]
    # A live site is never flagged failing; it may say 补采中 when the scheduler's SIGTERM
    # (test below) cut its last run short, which is true and not a failure.
    assert [f["kind"] for f in sites["sucheng-gov"]["health"]] in ([], ["backfill"])
    assert sites["sucheng-gov"]["failure_streak"] == 0


def test_a_crawl_stopped_by_sigterm_is_recorded(scenario):
    stopped = [r for r in scenario.site_runs("sucheng-gov") if r["status"] == "stopped"]
    assert stopped, [(r["started"], r["status"]) for r in scenario.site_runs("sucheng-gov")]
    assert any(r["started"] < scenario.stopped_at for r in stopped)


def test_runs_missed_while_stopped_are_coalesced_into_one(scenario):
    for site in ("sucheng-gov", "laser-industry"):
        after = [r for r in scenario.site_runs(site) if r["started"] > scenario.restarted_at]
        catch_up, *later = [r for r in after if r["status"] not in NOT_RUN]
        # The first run after the restart serves the latest missed time and folds in the others...
        assert catch_up["coalesced"] >= 1, catch_up
        assert catch_up["scheduled_for"] < catch_up["started"] and catch_up["status"] == "ok"
        # ...and no other run was made for any time missed while the scheduler was down.
        assert all(r["coalesced"] == 0 and r["scheduled_for"] > catch_up["scheduled_for"] for r in later)
        missed = [r for r in scenario.site_runs(site)
                  if scenario.stopped_at < r["scheduled_for"] < catch_up["scheduled_for"]]
        assert missed == [], missed
        print(f"\n{site}: {catch_up['coalesced'] + 1} runs due while stopped ran once "
              f"(scheduled for {catch_up['scheduled_for']}, started {catch_up['started']})")


def test_nothing_is_lost_and_nothing_indexed_twice(scenario, gold, fixture_sites):
    exported = run_newsmon("export", "--index", scenario.index_url)
    assert exported.returncode == 0, exported.stderr
    urls = Counter(json.loads(line)["url"] for line in exported.stdout.splitlines())
    assert urls and set(urls.values()) == {1}, [u for u, n in urls.items() if n > 1]
    expected = {fixture_sites.url_of(a["site"], a["path"]) for a in gold["articles"]
                if a["site"] in ("sucheng-gov", "laser-industry")}
    assert expected <= set(urls), sorted(expected - set(urls))


def test_a_bad_schedule_names_the_site_and_the_field(tmp_path):
    bad = tmp_path / "sites.yaml"
    bad.write_text("sites:\n  - name: sucheng-gov\n    start_urls: [\"http://www.sucheng.gov.cn/\"]\n"
                   "    schedule: every 30x\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "scheduler.py", "--sites", str(bad)], cwd=REPO, env=newsmon_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"{bad}:4: site 'sucheng-gov': field 'schedule'" in proc.stderr, proc.stderr
    bad.write_text(bad.read_text(encoding="utf-8").replace("every 30x", '"61 * * * *"'), encoding="utf-8")
    cli = run_newsmon("schedule", "--sites", bad, "--index", f"sqlite:///{tmp_path}/n.db", timeout=60)
    assert cli.returncode == 2
    assert "site 'sucheng-gov': field 'schedule'" in cli.stderr and "61 * * * *" in cli.stderr, cli.stderr
    assert "Traceback" not in cli.stderr


@pytest.fixture
def one_site(fixture_sites, tmp_path, monkeypatch):
    from crawler.child import RUNNING
    monkeypatch.setenv("NEWSMON_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("NEWSMON_CHILD_QUIET", "1")
    monkeypatch.chdir(REPO)
    sites_file = tmp_path / "sites.yaml"
    fixture_sites.write_sites_file(sites_file, names=["mianyang-news"])
    # The crawl pool's processes live on between runs with the environment they started
    # with: an earlier test's process on this worker (another NEWSMON_ALLOW_HOSTS) must
    # not take this test's runs, nor be the process the test kills.
    fresh_pool(RUNNING)
    yield sites_file, f"sqlite:///{tmp_path}/newsmon.db"
    fresh_pool(RUNNING)


def fresh_pool(pool) -> None:
    pool.stop_all(wait=10)
    pool.configure(pool.processes, pool.sites_per_process, pool.recycle_after)


def test_a_crawl_process_that_dies_is_recorded_as_crashed(one_site, monkeypatch):
    """The child is SIGKILLed mid-crawl (what the OOM killer does): the job returns, the
    scheduler thread lives on, and the run is in the history with what happened."""
    import threading

    from crawler.child import RUNNING, crawl_site
    sites_file, index_url = one_site
    monkeypatch.setenv("NEWSMON_DOWNLOAD_DELAY", "0.5")       # a crawl of several seconds
    result = {}
    job = threading.Thread(target=lambda: result.setdefault("status", crawl_site(
        "mianyang-news", str(sites_file), index_url, time_limit=60)))
    job.start()
    wait_until("the crawl process", lambda: RUNNING.count() == 1, 30)
    [(_site, proc)] = RUNNING._procs.values()
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    job.join(timeout=60)
    assert result.get("status") == "crashed"
    [run] = read_runs(index_url)
    assert run["status"] == "crashed" and run["exit_code"] == -9
    assert "SIGKILL" in run["message"]


def test_a_crawl_over_its_time_limit_is_stopped_and_recorded(one_site, monkeypatch):
    from crawler.child import crawl_site
    sites_file, index_url = one_site
    monkeypatch.setenv("NEWSMON_DOWNLOAD_DELAY", "1.0")       # 14 pages: well over 3 s
    assert crawl_site("mianyang-news", str(sites_file), index_url, time_limit=3) == "timeout"
    [run] = read_runs(index_url)
    assert run["status"] == "timeout" and 0 < run["pages_fetched"] < 14
