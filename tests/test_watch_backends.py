"""One query, the same stories everywhere: ``search``, ``watch test``, the alerts
sent during a crawl and the digest agree on a real Elasticsearch (the SQLite side
is in ``test_alerts_crawl.py``), and both backends match the same stories."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from alert_helpers import NO_BURST, add_archive_watch
from conftest import crawl_into, es_index_url, run_newsmon
from webhook_receiver import WebhookReceiver

QUERY = '"产业园" OR 激光 -招聘'


def matched_everywhere(index_url: str, hooks: WebhookReceiver, path: str) -> dict[str, set[str]]:
    """Story ids the ``laser`` watch (QUERY) got in search, watch test, alerts and the digest."""
    searched = run_newsmon("search", QUERY, "--json", "--limit", "1000", "--index", index_url)
    assert searched.returncode == 0, searched.stderr
    tested = run_newsmon("watch", "test", "laser", "--days", "5000", "--json", "--index", index_url)
    assert tested.returncode == 0, tested.stderr

    from index import open_index
    from monitor.digest import build_digests
    with open_index(index_url) as index:
        now = datetime.now(timezone.utc)
        (digest,) = build_digests(index, now - timedelta(hours=1), now + timedelta(seconds=1),
                                  label=now.date().isoformat(), to="team@example.com")
        # As the stories are named now: one whose origin was crawled after its alert went
        # out took the origin's id, and the id in the alert still finds it.
        alerts = [index.story_copies(p.body["story"]["story_id"])[0].story_id for p in hooks.at(path)]
    section = next(s for s in digest.sections if s.watch.name == "laser")
    assert len(alerts) == len(set(alerts))                       # one alert per story
    return {"search": {s["story_id"] for s in json.loads(searched.stdout)},
            "watch test": {s["story_id"] for s in json.loads(tested.stdout)},
            "alerts": set(alerts),
            "digest": {item.story["story_id"] for item in section.stories}}


def assert_agree(found: dict[str, set[str]]) -> None:
    assert len(found["search"]) >= 5
    for where in ("watch test", "alerts", "digest"):
        assert found[where] == found["search"], where


def canonical_urls(index_url: str) -> set[str]:
    """Stories named by their canonical copy's path (story ids and ports differ between crawls)."""
    from urllib.parse import urlsplit
    proc = run_newsmon("search", QUERY, "--json", "--limit", "1000", "--index", index_url)
    assert proc.returncode == 0, proc.stderr
    return {(s["site"], urlsplit(s["url"]).path) for s in json.loads(proc.stdout)}


@pytest.mark.elasticsearch
def test_elasticsearch_search_alerts_and_digest_agree_and_match_sqlite(
        fixture_sites, tmp_path, elasticsearch_node, crawl):
    hooks = WebhookReceiver().start()
    try:
        index_url = es_index_url(elasticsearch_node, "watch")
        add_archive_watch(index_url, "laser", "--query", QUERY, "--webhook", f"{hooks.url}/es",
                          "--email", "team@example.com")
        crawl_into(fixture_sites, tmp_path, index_url=index_url, **NO_BURST)
        assert_agree(matched_everywhere(index_url, hooks, "/es"))
    finally:
        hooks.stop()
    # the same stories as the shared SQLite crawl of the same sites finds
    assert canonical_urls(index_url) == canonical_urls(crawl.index_url)
