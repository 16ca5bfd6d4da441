"""With the search cache off (``newsmon serve --cache-seconds 0``) a search asked while
the same search is being computed gets that answer instead of running it again, and
a search asked after it finished runs again (sees what was written meanwhile). A
date-ordered page takes the answer of the same search computed with scores for the
relevance order, and a request waiting for a search holds none of the server's
pooled indexes, so another search runs meanwhile."""
from __future__ import annotations

import queue
import threading
from contextlib import contextmanager

from benchmarks.dedup.corpus import generate
from benchmarks.dedup.run import record_of
from index import open_index
from index.query import parse_query
from monitor.web.cache import CachedMatches
from monitor.web.state import Readers


class _HeldIndex:
    """A real SQLite index whose ``match_stories`` waits for ``release`` once started
    (a slow search) and counts how often it runs."""

    def __init__(self, index):
        self.index, self.runs = index, 0
        self.started, self.release = threading.Event(), threading.Event()

    def match_stories(self, query, **filters):
        self.runs += 1
        self.asked = filters
        self.started.set()
        self.release.wait(30)
        return self.index.match_stories(query, **filters)

    def story_copies(self, story_id):
        return self.index.story_copies(story_id)


def write_corpus(index, articles, skip=None) -> None:
    for article in articles:
        if article is skip:
            continue
        record = record_of(article)
        record.story_id, record.canonical = f"s-{article.story:05d}", article.origin
        index.upsert_article(record)
    index.flush()


def test_a_search_running_now_is_shared_and_a_later_one_runs_again(tmp_path):
    url = f"sqlite:///{tmp_path}/newsmon.db"
    with open_index(url) as index:
        articles = list(generate(300, seed=3))
        late = next(a for a in reversed(articles) if "项目" in a.text)    # written after the first searches
        write_corpus(index, articles, skip=late)
        held = _HeldIndex(index)
        cache = CachedMatches(ttl=0)
        query = parse_query("项目")
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(cache.match_stories(held, query)))
                   for _ in range(3)]
        threads[0].start()
        assert held.started.wait(30)
        for thread in threads[1:]:
            thread.start()
        while next(iter(cache._running.values())).waiters < 2:      # both wait for the first
            threading.Event().wait(0.01)
        held.release.set()
        for thread in threads:
            thread.join(30)
        assert held.runs == 1 and len(answers) == 3
        assert answers[0] == answers[1] == answers[2] == index.match_stories(query)

        record = record_of(late)
        record.story_id, record.canonical = "s-late", True
        index.upsert_article(record)
        index.flush()
        again = cache.match_stories(held, query)
        assert held.runs == 2 and len(again) == len(answers[0]) + 1
        assert any(m.story_id == "s-late" for m in again)


def test_a_waiting_request_holds_no_pooled_index(tmp_path):
    """Two pooled indexes (``newsmon serve --readers 2``): the relevance search of 项目
    is computing on the first; the date-ordered pages of 项目 wait for its answer and
    leave the second free, so a search of 会议 asked after them is answered first."""
    with open_index(f"sqlite:///{tmp_path}/newsmon.db") as index, \
            open_index(f"sqlite:///{tmp_path}/newsmon.db") as second:
        write_corpus(index, list(generate(300, seed=3)))
        held = _HeldIndex(index)
        pool: queue.Queue = queue.Queue()
        pool.put(held)
        pool.put(second)

        @contextmanager
        def readers():
            taken = pool.get()
            try:
                yield taken
            finally:
                pool.put(taken)

        cache = CachedMatches(ttl=0)
        projects, meetings = parse_query("项目"), parse_query("会议")
        answers: dict[str, list] = {}

        def ask(name, query, scores):       # one request: its search, then its first story's copies
            with cache.over_readers(readers) as view:
                matches = view.match_stories(query, scores=scores)
                answers[name] = matches if view.story_copies(matches[0].story_id) else None

        first = threading.Thread(target=ask, args=("relevance", projects, True))
        first.start()
        assert held.started.wait(30)
        dates = [threading.Thread(target=ask, args=(f"date{n}", projects, False)) for n in range(2)]
        for thread in dates:
            thread.start()
        while next(iter(cache._running.values())).waiters < 2:
            threading.Event().wait(0.01)
        other = threading.Thread(target=ask, args=("meetings", meetings, False))
        other.start()
        other.join(30)
        assert answers["meetings"] == index.match_stories(meetings, scores=False)
        assert "relevance" not in answers          # still computing
        held.release.set()
        for thread in [first, *dates]:
            thread.join(30)
        assert held.runs == 1 and held.asked["scores"] is True
        assert answers["date0"] == answers["date1"] == answers["relevance"] == index.match_stories(projects)


class _GatedIndex:
    """A real SQLite index whose ``match_stories`` of a query waits until that query's
    gate is opened (a search taking long)."""

    def __init__(self, index):
        self.index, self.gates, self.computing = index, {}, queue.Queue()

    def match_stories(self, query, **filters):
        self.computing.put(query.text)
        self.gates.setdefault(query.text, threading.Event()).wait(30)
        return self.index.match_stories(query, **filters)

    def story_copies(self, story_id):
        return self.index.story_copies(story_id)


def test_a_shared_answer_reads_its_page_without_queueing_behind_searches(tmp_path):
    """One search reader (``--readers 1``): 项目 is computing, a second request for
    项目 waits for it, and a search of 会议 queues for the reader. When 项目 is done,
    会议 takes the reader; the second 项目 request reads its page's stories from the
    quick reader and is answered while 会议 is still computing."""
    url = f"sqlite:///{tmp_path}/newsmon.db"
    with open_index(url) as index:
        write_corpus(index, list(generate(300, seed=3)))
    readers = Readers(url, 1, quick_size=1)
    gated = _GatedIndex(readers._free.get())
    readers._free.put(gated)
    cache = CachedMatches(ttl=0)
    projects, meetings = parse_query("项目"), parse_query("会议")
    for text in ("项目", "会议"):
        gated.gates[text] = threading.Event()
    answers: dict[str, list] = {}

    def ask(name, query):
        with cache.over_readers(readers) as view:
            matches = view.match_stories(query, scores=False)
            answers[name] = [view.story_copies(m.story_id) for m in matches[:20]]

    try:
        first = threading.Thread(target=ask, args=("first", projects))
        first.start()
        assert gated.computing.get(timeout=30) == "项目"
        second = threading.Thread(target=ask, args=("second", projects))
        second.start()
        while next(iter(cache._running.values())).waiters < 1:
            threading.Event().wait(0.01)
        other = threading.Thread(target=ask, args=("meetings", meetings))
        other.start()
        gated.gates["项目"].set()
        assert gated.computing.get(timeout=30) == "会议"      # 会议 holds the search reader now
        second.join(30)
        assert "meetings" not in answers and answers["second"] == answers["first"]
        assert len(answers["second"]) == 20 and all(answers["second"])
        gated.gates["会议"].set()
        for thread in (first, other):
            thread.join(30)
        assert answers["meetings"]
    finally:
        for gate in gated.gates.values():
            gate.set()
        readers.close()
