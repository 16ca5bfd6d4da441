"""One query, the same stories everywhere: ``search``, ``watch test``, the alerts
sent during a crawl and the digest, on the embedded index and on a real
Elasticsearch -- and both backends agree with each other."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import crawl_into, es_index_url, run_newsmon
from webhook_receiver import WebhookReceiver

QUERY = '"产业园" OR 激光 -招聘'
results: dict[str, dict[str, set[str]]] = {}      # backend -> where -> story ids


@pytest.fixture(scope="module")
def hooks():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def matches_everywhere(index_url: str, directory, fixture_sites, hooks, path: str) -> dict[str, set[str]]:
    added = run_newsmon("watch", "add", "laser", "--query", QUERY, "--webhook", f"{hooks.url}{path}",
                        "--email", "team@example.com", "--mode", "both", "--index", index_url)
    assert added.returncode == 0, added.stderr
    crawl_into(fixture_sites, directory, index_url=index_url)

    searched = run_newsmon("search", QUERY, "--json", "--limit", "1000", "--index", index_url)
    assert searched.returncode == 0, searched.stderr
    tested = run_newsmon("watch", "test", "laser", "--days", "5000", "--json", "--index", index_url)
    assert tested.returncode == 0, tested.stderr

    from index import open_index
    from monitor.digest import build_digests
    index = open_index(index_url)
    try:
        now = datetime.now(timezone.utc)
        (digest,) = build_digests(index, now - timedelta(hours=1), now + timedelta(seconds=1),
                                  label=now.date().isoformat(), to="team@example.com")
    finally:
        index.close()
    return {
        "search": {s["story_id"] for s in json.loads(searched.stdout)},
        "watch test": {s["story_id"] for s in json.loads(tested.stdout)},
        "alerts": {p.body["story"]["story_id"] for p in hooks.at(path)},
        "digest": {item.story["story_id"] for item in digest.sections[0].stories},
        "alert count": {str(len(hooks.at(path)))},
        "canonical urls": {s["url"] for s in json.loads(searched.stdout)},
    }


def check(found: dict[str, set[str]]) -> None:
    assert len(found["search"]) >= 5
    for where in ("watch test", "alerts", "digest"):
        assert found[where] == found["search"], where
    assert found["alert count"] == {str(len(found["search"]))}     # one alert per story


def test_sqlite_search_alerts_and_digest_agree(fixture_sites, tmp_path, hooks):
    found = matches_everywhere(f"sqlite:///{tmp_path}/newsmon.db", tmp_path, fixture_sites, hooks, "/sqlite")
    check(found)
    results["sqlite"] = found


@pytest.mark.elasticsearch
def test_elasticsearch_search_alerts_and_digest_agree(fixture_sites, tmp_path, hooks, elasticsearch_node):
    found = matches_everywhere(es_index_url(elasticsearch_node, "watch"), tmp_path, fixture_sites, hooks, "/es")
    check(found)
    results["elasticsearch"] = found


def test_both_backends_match_the_same_stories():
    if set(results) != {"sqlite", "elasticsearch"}:
        pytest.fail("run with the two tests above (they record what each backend matched)")
    # Story ids come from whichever copy a crawl met first, so compare the stories by
    # their canonical copy (the origin, chosen from all copies whatever the order).
    assert results["sqlite"]["canonical urls"] == results["elasticsearch"]["canonical urls"]
    assert results["sqlite"]["alert count"] == results["elasticsearch"]["alert count"]
