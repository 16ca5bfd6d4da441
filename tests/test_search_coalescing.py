"""With the search cache off (``newsmon serve --cache-seconds 0``) a search asked while
the same search is being computed gets that answer instead of running it again, and
a search asked after it finished runs again (sees what was written meanwhile)."""
from __future__ import annotations

import threading

from benchmarks.dedup.corpus import generate
from benchmarks.dedup.run import record_of
from index import open_index
from index.query import parse_query
from monitor.web.cache import CachedMatches


class _HeldIndex:
    """A real SQLite index whose ``match_stories`` waits for ``release`` once started
    (a slow search) and counts how often it runs."""

    def __init__(self, index):
        self.index, self.runs = index, 0
        self.started, self.release = threading.Event(), threading.Event()

    def match_stories(self, query, **filters):
        self.runs += 1
        self.started.set()
        self.release.wait(30)
        return self.index.match_stories(query, **filters)


def test_a_search_running_now_is_shared_and_a_later_one_runs_again(tmp_path):
    url = f"sqlite:///{tmp_path}/newsmon.db"
    with open_index(url) as index:
        articles = list(generate(300, seed=3))
        late = next(a for a in reversed(articles) if "项目" in a.text)    # written after the first searches
        for article in articles:
            if article is late:
                continue
            record = record_of(article)
            record.story_id, record.canonical = f"s-{article.story:05d}", article.origin
            index.upsert_article(record)
        index.flush()
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
