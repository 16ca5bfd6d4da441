"""Two processes storing copies of one story at the same moment make one story (issue 23).

Each of two processes (as two crawl workers are) gets one copy of each of 20
syndicated stories from the dedup corpus, and both store story i's copies at the
same moment (a barrier before each), into one real Elasticsearch or one SQLite
file. Neither copy is searchable to the other process when it is clustered
(Elasticsearch: still in the other process's bulk buffer; SQLite: not committed),
so only the cross-process guarantee makes them one story: the first writer's
claim on the shared dedup keys (Elasticsearch), the write lock held from dedup's
reads to the commit (SQLite). Without it, most of the 20 stories split in two.
"""
from __future__ import annotations

import multiprocessing
import os
from collections import defaultdict

import pytest

from benchmarks.dedup.corpus import generate
from benchmarks.dedup.run import record_of
from conftest import es_index_url
from index import open_index
from pipelines.stories.clustering import StoryClusterer
from store_processes import stored_by_processes

STORIES = 20


def syndicated_pairs(scratch) -> list[tuple]:
    """Two copies (on two sites) of each of the first ``STORIES`` syndicated stories that
    one process, storing them one after the other, makes one story."""
    by_story = defaultdict(list)
    for article in generate(600):
        if article.family == -1:          # no look-alike siblings: the story is the copies alone
            by_story[article.story].append(article)
    pairs = []
    for copies in by_story.values():
        origin = next((a for a in copies if a.origin), None)
        repost = next((a for a in copies if not a.origin and origin and a.site != origin.site), None)
        if repost is not None:
            pairs.append((origin, repost))
    with open_index(f"sqlite:///{scratch}/alone.db") as alone:
        clusterer = StoryClusterer(alone)
        for pair in pairs:
            for article in pair:
                clusterer.store(record_of(article))
        story_of = {line["url"]: line["story_id"] for line in alone.export()}
    return [pair for pair in pairs if story_of[pair[0].url] == story_of[pair[1].url]]


def store_copies(index_url: str, copies: list, barrier, spool_dir: str) -> None:
    """One process: store each copy right after the other process reached the same story."""
    os.environ["NEWSMON_ES_SPOOL_DIR"] = spool_dir
    with open_index(index_url) as backend:
        clusterer = StoryClusterer(backend)
        for article in copies:
            barrier.wait(timeout=120)
            clusterer.store(record_of(article))
            backend.commit_unit()        # as the crawl does after each page (SQLite commits here)


def store_at_once(index_url: str, pairs: list[tuple], tmp_path) -> list[dict]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    return stored_by_processes(context, index_url, store_copies,
                               [(index_url, [pair[side] for pair in pairs], barrier, str(tmp_path / f"spool-{side}"))
                                for side in (0, 1)], timeout=600)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    found = syndicated_pairs(tmp_path_factory.mktemp("alone"))
    assert len(found) >= STORIES
    return found[:STORIES]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def test_copies_stored_at_once_by_two_processes_are_one_story(backend, pairs, tmp_path, request):
    if backend == "sqlite":
        index_url = f"sqlite:///{tmp_path}/shared.db"
    else:
        index_url = es_index_url(request.getfixturevalue("elasticsearch_node"), "claims")
    lines = store_at_once(index_url, pairs, tmp_path)
    story_of = {line["url"]: line["story_id"] for line in lines}
    assert len(lines) == 2 * STORIES
    assert [p[0].url for p in pairs if story_of[p[0].url] != story_of[p[1].url]] == []   # no story split
    assert len(set(story_of.values())) == STORIES
    canonical = defaultdict(int)
    for line in lines:
        canonical[line["story_id"]] += line["canonical"]
    assert set(canonical.values()) == {1}          # one canonical copy each
