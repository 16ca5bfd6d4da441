"""Story ids do not depend on crawl order: a story is named after its origin copy.

What the crawl's pipelines do, on a real SQLite index: ``StoryClusterer.store`` (assign
and upsert, ``test_dedup.add``); when the story takes a later-crawled origin's id,
``carry_alert_marks`` (StoryPipeline) before the alert stage observes the page. The
crawl-level check -- a crawl killed and resumed exports the story ids of an
uninterrupted one -- is tests/test_crawl_resume.py.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from index import open_index
from index.base import story_key
from monitor.alerts import ALERT_KIND, AlertRecorder
from monitor.story_moves import carry_alert_marks
from monitor.watches import Watch, WatchStore
from pipelines.stories.clustering import StoryClusterer
from test_dedup import LASER, add, make_record, text, variants


def copies(day: datetime):
    """The county's own report and a city portal's repost of it, a day later."""
    fetched = day.isoformat(timespec="seconds")
    origin = make_record("http://www.sczf.gov.cn/art/2024/7/12/art_1229_1.html", text(LASER),
                         day.date().isoformat(), site="sucheng-gov", fetched_at=fetched)
    repost = make_record("http://www.sqxww.cn/a.htm", variants(LASER)["lead_in"],
                         (day + timedelta(days=1)).date().isoformat(), site="suqian-news", fetched_at=fetched)
    return origin, repost


@pytest.fixture
def index(tmp_path):
    with open_index(f"sqlite:///{tmp_path}/stories.db") as backend:
        yield backend


def test_the_same_copies_in_either_order_give_the_same_story_id(tmp_path):
    day = datetime(2024, 7, 12, 8, tzinfo=timezone.utc)
    exports = []
    for name, first_origin in (("origin-first", True), ("repost-first", False)):
        with open_index(f"sqlite:///{tmp_path}/{name}.db") as backend:
            clusterer = StoryClusterer(backend)
            origin, repost = copies(day)
            for record in ((origin, repost) if first_origin else (repost, origin)):
                add(clusterer, record)
            backend.flush()
            exports.append({line["url"]: (line["story_id"], line["canonical"]) for line in backend.export()})
    assert exports[0] == exports[1]
    assert set(exports[0].values()) == {(story_key(origin.id), True), (story_key(origin.id), False)}


def test_a_former_story_id_still_finds_the_story(index):
    clusterer = StoryClusterer(index)
    origin, repost = copies(datetime(2024, 7, 12, 8, tzinfo=timezone.utc))
    former = add(clusterer, repost).story_id
    assignment = add(clusterer, origin)
    assert assignment.renamed_from == former and assignment.story_id == story_key(origin.id)
    index.flush()
    found = index.story_copies(former)              # a link in an alert sent before the rename
    assert {c.id for c in found} == {origin.id, repost.id}
    assert {c.story_id for c in found} == {assignment.story_id} and found[0].id == origin.id
    assert index.story_copies("s-0000000000000000") == []


def state_counts(db) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT kind, count(*) FROM state GROUP BY kind").fetchall())


def test_a_story_renamed_after_its_alert_is_not_alerted_again(index, tmp_path):
    WatchStore(index).add(Watch(name="laser", query="激光产业园", emails=["team@example.gov.cn"]))
    clusterer, recorder = StoryClusterer(index), AlertRecorder(index)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    origin, repost = copies(now - timedelta(days=1))

    first = add(clusterer, repost)                    # crawled first: the story is alerted under its id
    recorder.observe(repost, new_story=True, recrawl=False)
    assert index.state.get(ALERT_KIND, f"laser/{first.story_id}") is not None

    joined = clusterer.store(origin)                   # the origin turns up: the story takes its id
    assert joined.renamed_from == first.story_id
    assert carry_alert_marks(index.state, joined.renamed_from, joined.story_id) == ["laser"]
    before = state_counts(tmp_path / "stories.db")
    recorder.observe(origin, new_story=False, recrawl=False)
    assert state_counts(tmp_path / "stories.db") == before, "the renamed story was alerted (or queued) again"
