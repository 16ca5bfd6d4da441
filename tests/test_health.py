"""Source health from run history, on a real SQLite index's state store.

Histories here are written with ``index.runs.record_run``, the same call every
crawl makes; the crawl-driven cases (a template swap, a dead site under the
scheduler) are in test_incremental_crawl.py and test_scheduler.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from index.runs import RunInfo, iso, record_run, run_doc
from monitor.health import HealthConfig, source_status

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def index(tmp_path):
    from index import open_index
    with open_index(f"sqlite:///{tmp_path}/health.db") as backend:
        yield backend


def add_run(index, site, at: datetime, status="ok", minutes=2, period_s=None, **counts):
    info = RunInfo(started=iso(at), trigger="scheduled", scheduled_for=iso(at), period_s=period_s)
    counts.setdefault("pages_fetched", 0 if status == "failed" else 12)
    errors = counts.pop("errors", {})
    quality = counts.pop("quality", {})
    doc = run_doc(site, info, iso(at + timedelta(minutes=minutes)),
                  {**counts, **{f"errors/{k}": v for k, v in errors.items()},
                   **{f"quality/{k}": v for k, v in quality.items()}}, status)
    record_run(index.state, doc)
    return doc


def status_of(index, site, now, **config):
    [status] = source_status(index, [site], now=now, config=HealthConfig(**config))
    return status


def test_failing_after_three_failed_runs_in_a_row_not_two(index):
    add_run(index, "sucheng-gov", T0, articles_new=5)
    add_run(index, "sucheng-gov", T0 + timedelta(hours=1), "failed", errors={"connection_refused": 3})
    add_run(index, "sucheng-gov", T0 + timedelta(hours=2), "failed", errors={"connection_refused": 3})
    two = status_of(index, "sucheng-gov", T0 + timedelta(hours=2, minutes=5))
    assert two.failure_streak == 2 and two.health == []

    third = add_run(index, "sucheng-gov", T0 + timedelta(hours=3), "failed", errors={"dns": 1})
    status = status_of(index, "sucheng-gov", T0 + timedelta(hours=3, minutes=5))
    assert status.failure_streak == 3
    [flag] = status.health
    assert flag.kind == "failing"
    assert flag.since == iso(T0 + timedelta(hours=1)), "since = the first failed run of the streak"
    assert "最近 3 次运行连续失败" in flag.message and "dns 1 次" in flag.message
    assert status.last_run["started"] == third["started"] and status.last_run["status"] == "failed"
    assert status.runs == 4


def test_a_good_run_ends_the_streak_and_a_stopped_run_neither_ends_nor_extends_it(index):
    for hour in range(3):
        add_run(index, "pingqiao-gov", T0 + timedelta(hours=hour), "failed")
    add_run(index, "pingqiao-gov", T0 + timedelta(hours=3), "stopped")
    stopped = status_of(index, "pingqiao-gov", T0 + timedelta(hours=4))
    assert stopped.failure_streak == 3 and [f.kind for f in stopped.health] == ["failing"]

    add_run(index, "pingqiao-gov", T0 + timedelta(hours=4), "ok", articles_new=1)
    recovered = status_of(index, "pingqiao-gov", T0 + timedelta(hours=5))
    assert recovered.failure_streak == 0 and recovered.health == []


def test_the_failing_threshold_is_configurable(index):
    for hour in range(2):
        add_run(index, "laser-industry", T0 + timedelta(hours=hour), "timeout")
    assert [f.kind for f in status_of(index, "laser-industry", T0 + timedelta(hours=3),
                                       failing_after=2).health] == ["failing"]


def test_silent_when_no_new_article_for_much_longer_than_the_usual_gap(index):
    # New articles about every 6 hours for two days, then runs keep succeeding with nothing new.
    at = T0
    for _ in range(8):
        add_run(index, "mianyang-news", at, articles_new=2)
        add_run(index, "mianyang-news", at + timedelta(hours=3), articles_new=0)
        at += timedelta(hours=6)
    last_new = at - timedelta(hours=6)
    for hour in range(1, 25):
        add_run(index, "mianyang-news", last_new + timedelta(hours=hour))
    quiet_day = status_of(index, "mianyang-news", last_new + timedelta(hours=17))
    assert quiet_day.health == [], "17 h is less than 3 usual gaps (18 h)"

    status = status_of(index, "mianyang-news", last_new + timedelta(hours=25))
    [flag] = status.health
    assert flag.kind == "silent"
    assert flag.since == status.last_new_article
    assert "它通常每 6 小时就有新文章" in flag.message, flag.message


def test_not_silent_while_the_site_is_not_being_crawled(index):
    """No runs since the last new article is a crawl problem (failing, missed), not a quiet source."""
    add_run(index, "sucheng-gov", T0, articles_new=3)
    assert status_of(index, "sucheng-gov", T0 + timedelta(days=30)).health == []


def test_degraded_when_short_bodies_jump_against_the_sites_own_history(index):
    for day in range(5):
        add_run(index, "sucheng-gov", T0 + timedelta(days=day), articles_new=10,
                quality={"articles": 10, "short_body": day % 2, "no_date": 1})
    assert status_of(index, "sucheng-gov", T0 + timedelta(days=5)).health == []

    swapped = add_run(index, "sucheng-gov", T0 + timedelta(days=5), articles_new=8,
                      quality={"articles": 8, "empty_body": 3, "short_body": 4, "no_date": 1})
    status = status_of(index, "sucheng-gov", T0 + timedelta(days=5, hours=1))
    [flag] = status.health
    assert flag.kind == "degraded" and flag.since == swapped["started"]
    assert "8 个文章页中有 7 个正文为空或过短" in flag.message


def test_a_site_that_never_dates_its_pages_is_not_degraded(index):
    for day in range(4):
        add_run(index, "laser-industry", T0 + timedelta(days=day), articles_new=5,
                quality={"articles": 5, "no_date": 5})
    assert status_of(index, "laser-industry", T0 + timedelta(days=4)).health == []


def test_to_dict_is_the_status_json_entry(index):
    add_run(index, "sucheng-gov", T0, articles_new=4, errors={"http_404": 1})
    [entry] = [s.to_dict() for s in source_status(index, now=T0 + timedelta(hours=1))]
    assert set(entry) == {"name", "runs", "last_run", "last_new_article", "failure_streak", "health",
                          "article_shapes", "fetch_rung", "fetch_rung_memory", "title"}   # (issues 18, 20 and 21 extended the contract)
    assert entry["fetch_rung"] == "plain" and entry["fetch_rung_memory"] is None
    assert entry["name"] == "sucheng-gov" and entry["runs"] == 1
    assert entry["last_run"]["errors"] == {"http_404": 1} and entry["last_run"]["articles_new"] == 4
    assert entry["last_new_article"] == iso(T0 + timedelta(minutes=2))
    never = source_status(index, ["never-crawled"], now=T0)[0].to_dict()
    assert never == {"name": "never-crawled", "runs": 0, "last_run": None, "last_new_article": None,
                     "failure_streak": 0, "health": [], "article_shapes": [], "fetch_rung": "plain",
                     "fetch_rung_memory": None, "title": "never-crawled"}


def test_a_scheduled_site_with_no_run_for_three_periods_is_flagged(index):
    """The scheduler died: nothing fails, nothing is quiet, there are simply no runs."""
    for n in range(4):
        add_run(index, "sucheng-gov", T0 + timedelta(minutes=30 * n), articles_new=1, period_s=1800)
    last = T0 + timedelta(minutes=90)
    assert status_of(index, "sucheng-gov", last + timedelta(minutes=91)).health == []
    [flag] = status_of(index, "sucheng-gov", last + timedelta(hours=2)).health
    assert flag.kind == "failing" and flag.since == iso(last)
    assert "已 2 小时没有运行，而它应每 30 分钟采集一次" in flag.message


def test_a_site_removed_from_the_schedule_is_not_overdue(index, tmp_path):
    from index.runs import retire_site
    add_run(index, "old-portal", T0, articles_new=1, period_s=600)
    assert [f.kind for f in status_of(index, "old-portal", T0 + timedelta(days=2)).health] == ["failing"]
    retire_site(f"sqlite:///{tmp_path}/health.db", "old-portal")    # what the scheduler does
    assert status_of(index, "old-portal", T0 + timedelta(days=2)).health == []
