"""A long-lived Elasticsearch backend forgets a story's former id once it stops mattering,
and keeps no other story bookkeeping from one site run to the next.

``newsmon worker`` and the crawl pool keep one backend open for hours over many site
runs. Each time a later-crawled copy turns out to be a story's origin, the story is
renamed to it, and the backend remembers the former id so that, at its next sends,
copies still stored under it are moved too (``index/elasticsearch/story_fields.py``).
Once a send that looked under the former id is confirmed, the id is forgotten: what the
backend holds is the renames since its last send, not every rename since it opened.
Nor does it keep the stories it has sent: it once kept them all, for the life of the
process, to look up a story again when a new page of it came. What it does keep, the
answers of its recent reads by id, may have gone stale when another worker has stored
the page since: that loses and duplicates nothing; and the stories its copies joined
before any canonical copy of theirs was stored wait for one, a bounded few.

The stories are the fixture sites' gold articles, each published by 宿城区人民政府 and
reposted a day later by 宿迁网 (a "宿迁网讯：" relay lead-in), both as TRS pages run
through the real extraction. The repost is crawled first, so the origin, crawled after
it, renames the story.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from conftest import es_index_url
from index import open_index
from index.base import story_key
from index.elasticsearch import story_fields
from output_corpus import SITES, page
from tcp_proxy import TcpProxy
from pipelines.extract import extract_article
from pipelines.records import build_record
from pipelines.stories.clustering import StoryClusterer

GOLD = Path(__file__).resolve().parents[1] / "crawler" / "fixtures" / "gold.json"
STORIES_PER_RUN = 4

pytestmark = pytest.mark.elasticsearch


def record_on(site: str, n: int, title: str, day: date, paragraphs: list[str], published: date | None = None):
    """``published``: the date the page shows, when the site has corrected it since."""
    url = f"{SITES[site][2]}/xwdt/{day:%Y%m}/t{day:%Y%m%d}_{5230000 + n}.html"
    article = extract_article(page(site, title, f"{(published or day).isoformat()} 09:30", paragraphs), url,
                              {"Content-Type": "text/html; charset=utf-8"})
    return build_record(article, site=site, region=SITES[site][1], fetched_at=f"{day.isoformat()}T10:00:00+08:00")


def origins_and_reposts() -> list[tuple]:
    """(origin, repost) records of each gold story's text, the repost a day later."""
    first = {}
    for article in json.loads(GOLD.read_text("utf-8"))["articles"]:
        first.setdefault(article["story"], article)
    pairs = []
    for n, article in enumerate(first.values()):
        day = date(2026, 3, 2) + timedelta(days=n)
        paragraphs = [p for p in article["text"].split("\n") if p.strip()]
        pairs.append((record_on("sucheng-gov", 2 * n, article["title"], day, paragraphs),
                      record_on("suqian-news", 2 * n + 1, article["title"], day + timedelta(days=1),
                                ["宿迁网讯：" + paragraphs[0], *paragraphs[1:]])))
    return pairs


def test_renamed_story_ids_are_forgotten_once_a_send_moved_their_copies(elasticsearch_node, tmp_path, monkeypatch):
    """Each run also crawls the pages of the run before it again (updates, whose stories
    are looked up at the send): the stories stay right, and after each run's flush the
    backend holds no story ids or copies for later sends."""
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    pairs, crawled_again = origins_and_reposts(), origins_and_reposts()
    assert len(pairs) >= 20
    url = es_index_url(elasticsearch_node, "renames")
    renames = 0
    with open_index(url) as backend:
        clusterer = StoryClusterer(backend)
        for start in range(0, len(pairs), STORIES_PER_RUN):      # one site run after another
            run = pairs[start:start + STORIES_PER_RUN]
            for _, repost in run:
                clusterer.store(repost)
            for origin, repost in run:
                assert clusterer.store(origin).renamed_from == story_key(repost.id)
            for origin, repost in crawled_again[max(0, start - STORIES_PER_RUN):start]:
                assert [clusterer.store(origin).stored_new, clusterer.store(repost).stored_new] == [False, False]
            renames += len(run)
            assert backend.stories.pending_renames == len(run)      # this run's, not the earlier runs'
            backend.flush()
            assert backend.stories.pending_renames == 0
            assert backend.stories.held() == 0
    assert renames == len(pairs)
    with open_index(url) as index:
        assert_each_repost_follows_its_origin(list(index.export()), pairs)


def assert_each_repost_follows_its_origin(lines: list[dict], pairs: list[tuple]) -> None:
    story_of = {line["url"]: line["story_id"] for line in lines}
    assert {(story_of[o.url], story_of[r.url]) for o, r in pairs} == {(story_key(o.id),) * 2 for o, _ in pairs}
    canonical = defaultdict(list)
    for line in lines:
        if line["canonical"]:
            canonical[line["story_id"]].append(line["url"])
    assert canonical == {story_key(o.id): [o.url] for o, _ in pairs}


def test_renames_whose_send_was_not_confirmed_are_kept_for_the_next_one(elasticsearch_node, tmp_path, monkeypatch):
    """The cluster goes away as the batch that follows four renames is sent (its lookups
    done): the batch is spooled and the renames kept; the next flush, the cluster back,
    replays the batch and only then forgets them."""
    pairs = origins_and_reposts()[:STORIES_PER_RUN]
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("NEWSMON_ES_RETRIES", "1")
    monkeypatch.setenv("NEWSMON_ES_BACKOFF", "0.01")
    monkeypatch.setenv("NEWSMON_ES_RETRY_AFTER", "0")
    proxy = TcpProxy(int(elasticsearch_node.url.rsplit(":", 1)[1]))
    url = proxy.url + "/" + es_index_url(elasticsearch_node, "unsent").rsplit("/", 1)[1]
    try:
        with open_index(url) as backend:
            clusterer = StoryClusterer(backend)
            for _, repost in pairs:
                clusterer.store(repost)
            for origin, _ in pairs:
                clusterer.store(origin)
            proxy.on_bulk(proxy.bulk_requests + 1, proxy.down)     # the batch's bulk request never arrives
            backend.flush()
            assert backend.spool.has_entries()
            assert backend.stories.pending_renames == len(pairs)
            proxy.up()
            backend.flush()
            assert not backend.spool.has_entries()
            assert backend.stories.pending_renames == 0
        with open_index(url) as index:
            assert_each_repost_follows_its_origin(list(index.export()), pairs)
    finally:
        proxy.close()


def test_a_page_crawled_again_while_the_server_could_not_say_it_holds_it_keeps_its_story_date_right(
        elasticsearch_node, tmp_path, monkeypatch):
    """One worker stored a 宿城区 report and 宿迁网's repost of it (one story, the report
    its origin). Another worker crawls the report again, its date corrected on the site
    (3 March -> 2 March), as the cluster goes away for a moment: nothing tells whether the
    page is stored. When its batch goes, the cluster back, the page is sent as an update
    of what may be stored, its story looked up, and the repost takes the story's new date
    (it orders the story in the lists). Only a page this process had sent itself used to be
    looked up so (the stories it sent since open, kept for its life)."""
    origin, repost = origins_and_reposts()[1]
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    for name, value in (("RETRIES", "1"), ("BACKOFF", "0.01"), ("RETRY_AFTER", "0")):
        monkeypatch.setenv(f"NEWSMON_ES_{name}", value)
    url = es_index_url(elasticsearch_node, "unanswered")
    with open_index(url) as first:
        clusterer = StoryClusterer(first)
        clusterer.store(repost)
        clusterer.store(origin)
    proxy = TcpProxy(int(elasticsearch_node.url.rsplit(":", 1)[1]))
    try:
        with open_index(proxy.url + "/" + url.rsplit("/", 1)[1]) as second:
            corrected = record_on("sucheng-gov", 2, origin.title, date(2026, 3, 3),
                                  [p for p in origin.text.split("\n") if p.strip()], published=date(2026, 3, 2))
            assert corrected.url == origin.url
            proxy.down()
            StoryClusterer(second).store(corrected)
            proxy.up()
            second.flush()
            assert not second.spool.has_entries()
    finally:
        proxy.close()
    with open_index(url) as index:
        stored = {i: index.client.get(index=index.articles, id=i)["_source"] for i in (origin.id, repost.id)}
    assert {i: (d["story_id"], d["canonical"], d["story_date"][:10]) for i, d in stored.items()} == {
        origin.id: (story_key(origin.id), True, "2026-03-02"), repost.id: (story_key(origin.id), False, "2026-03-02")}


def test_a_page_read_as_absent_then_stored_by_another_worker_stays_one_article_in_one_story(
        elasticsearch_node, tmp_path, monkeypatch):
    """Two crawl-pool processes on one fresh index. The second reads two 宿城区 reports
    by id and finds neither (say, its earlier run's resume check), and remembers that.
    The first then stores each with 宿迁网's repost (the report, crawled second, renames
    the story), its batch sent and not searchable yet. The second crawls the first
    report in its next run: its read by id, real-time, finds it, so the page keeps its
    story and is not new. It crawls the second report at the very moment the first's
    batch lands, between its own read and its write: both stored the same decision
    under the page's one id, so the index still has one article and one story."""
    monkeypatch.setenv("NEWSMON_ES_SHARED", "1")
    monkeypatch.setenv("NEWSMON_ES_BATCH_DOCS", "2")       # an origin and its repost make a full batch
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    pairs, crawled_again = origins_and_reposts()[2:4], origins_and_reposts()[2:4]
    url = es_index_url(elasticsearch_node, "staleread")
    first, second = open_index(url), open_index(url)        # both while the index is empty
    try:
        first.client.indices.put_settings(index=first.articles, settings={"index": {"refresh_interval": "-1"}})
        assert [second.get_article(origin.id) for origin, _ in pairs] == [None, None]
        (origin, repost), (later, later_repost) = pairs
        stores = StoryClusterer(first)
        stores.store(repost)
        stores.store(origin)
        assert len(first.overlay) == 0                      # sent, not refreshed
        assert StoryClusterer(second).store(crawled_again[0][0]).stored_new is False

        upsert = second.upsert_article

        def the_first_s_batch_lands_first(record):
            stores.store(later_repost)
            stores.store(later)
            assert len(first.overlay) == 0
            return upsert(record)
        monkeypatch.setattr(second, "upsert_article", the_first_s_batch_lands_first)
        StoryClusterer(second).store(crawled_again[1][0])
        second.flush()
    finally:
        for backend in (first, second):
            backend.close()
    with open_index(url) as index:
        lines = list(index.export())
    assert sorted(line["url"] for line in lines) == sorted(r.url for pair in pairs for r in pair)
    assert_each_repost_follows_its_origin(lines, pairs)


def test_stories_waiting_for_their_canonical_copy_stay_few_over_many_site_runs(
        elasticsearch_node, tmp_path, monkeypatch, caplog):
    """A worker stores 宿迁网 reposts joined to 宿城区 reports another worker claimed and
    never sent (it died with them in its bulk buffer): no canonical copy ever comes.
    Each such story waits and is looked up again after each later site run, up to
    ``_RECHECKS`` times, and no more than ``_WAITING_MAX`` wait at once (the oldest
    leaves, logged; both made small here): over 14 runs the backend never holds more.
    The reposts are all stored, each in the story it joined."""
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setattr(story_fields, "_RECHECKS", 2)
    monkeypatch.setattr(story_fields, "_WAITING_MAX", 3)
    caplog.set_level(logging.INFO, logger="newsmon.index")
    pairs = origins_and_reposts()
    url = es_index_url(elasticsearch_node, "waiting")
    held = []
    with open_index(url) as backend:
        for start in range(0, len(pairs), 2):       # two reposts a run
            for origin, repost in pairs[start:start + 2]:
                repost.story_id, repost.canonical = story_key(origin.id), False
                assert backend.upsert_article(repost)
            backend.flush()
            held.append(backend.stories.held())
    assert len(held) >= 10 and max(held) == 3
    assert "no longer waits for its canonical copy" in caplog.text         # past _WAITING_MAX
    assert "still has no canonical copy after 2 looks" in caplog.text       # past _RECHECKS
    with open_index(url) as index:
        lines = list(index.export())
    assert {(line["url"], line["story_id"], line["canonical"]) for line in lines} == {
        (r.url, story_key(o.id), False) for o, r in pairs}
