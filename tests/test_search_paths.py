"""The embedded index's search (the exact FTS5 matches grouped into stories in SQL,
read from ``search_keys`` or from ``articles_keys``) gives the same stories, in the
same order, with the same matched copy and score, as the plain definition: every
copy of a realistic generated corpus checked with ``Query.matches`` on its text.
Also after stories are regrouped (``set_story``) and after an index written before
``search_keys`` (schema v3), before exact tokens (v4) or before the leads relevance
reads (v5) is opened."""
from __future__ import annotations

import re
import sqlite3

import pytest

from benchmarks.dedup.corpus import generate
from benchmarks.dedup.run import record_of
from index import open_index
from index.base import ArticleRecord, StoryMatch
from index.query import parse_query
from index.sqlite.search import few_site_rows, is_broad
from index.story_search import relevance, search_page

CORPUS_SIZE = 3000
# (query, filters): phrases, NOT, OR, parentheses, Latin/number terms, script variants,
# site/region/date filters; a few hit most of the corpus, a few a handful of stories.
SEARCHES: list[tuple[str, dict]] = [
    ("项目", {}),
    ("項目 開工", {}),
    ('"项目为王"', {}),
    ('"专项督查组"', {}),
    ("营商环境 OR 耕地保护", {}),
    ("疫苗接种 -龙游", {}),
    ("会议 -项目", {}),
    ("(防汛 OR 疫苗) -会议", {}),
    ("(营商环境 OR 项目) (签约 OR 开工) -平桥", {}),
    ("亿元", {}),
    ("154", {}),
    ("十四五 高质量发展", {}),
    ("项目", {"sites": ["gov-16", "gov-29", "news-11"]}),
    ("项目", {"regions": ["江苏省宿迁市"]}),
    ("会议", {"regions": ["平桥区", "龙游县"]}),
    ("项目", {"since": "2024-02-01", "until": "2024-02-07"}),
    ("防汛", {"since": "2024-03-01"}),
    ("项目 OR 会议", {"until": "2024-01-15", "sites": ["news-11", "gov-3"]}),
]


def expected_matches(records: list[ArticleRecord], text: str, *, sites=None, regions=None,
                     since=None, until=None) -> list[StoryMatch]:
    """The definition: each copy on a wanted site/region/day that matches the query
    on its whole text, in search order (newest story first by its canonical copy's
    date, then story, canonical copy first, date, id); the first copy per story."""
    query = parse_query(text)
    def sort_date(r: ArticleRecord) -> str:
        return r.published or r.fetched_at or ""

    story_date = {r.story_id: sort_date(r) for r in records if r.canonical}

    def keep(r: ArticleRecord) -> bool:
        day = r.date[:10]
        return ((not sites or r.site in sites)
                and (not regions or any(x in (r.region or "") for x in regions))
                and (not since or day >= since) and (not until or day <= until))

    copies = [r for r in records if keep(r)]
    copies.sort(key=lambda r: (r.id,))
    copies.sort(key=sort_date)
    copies.sort(key=lambda r: not r.canonical)
    copies.sort(key=lambda r: r.story_id)
    copies.sort(key=lambda r: story_date.get(r.story_id, sort_date(r)), reverse=True)
    matched: dict[str, StoryMatch] = {}
    for r in copies:
        if r.story_id not in matched and query.matches(r.norm_title + "\n" + r.norm_text):
            matched[r.story_id] = StoryMatch(r.story_id, r.id, relevance(r.norm_title, r.norm_text,
                                                                         query.positive_terms))
    return list(matched.values())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("search-paths") / "newsmon.db"
    ids = []
    with open_index(f"sqlite:///{path}") as index:
        for article in generate(CORPUS_SIZE, seed=11):
            record = record_of(article)
            record.story_id, record.canonical = f"s-{article.story:06d}", article.origin
            index.upsert_article(record)
            ids.append(record.id)
    return path, ids


def stored(index, ids: list[str]) -> list[ArticleRecord]:
    return [index.get_article(article_id) for article_id in ids]


def assert_same_answers(index, records: list[ArticleRecord]) -> None:
    for text, filters in SEARCHES:
        expected = expected_matches(records, text, **filters)
        query = parse_query(text)
        assert index.match_stories(query, **filters) == expected, (text, filters)
        assert index.match_stories(query, **filters, limit=20) == expected[:20], (text, filters)
        for sort in ("date", "relevance"):
            page = search_page(index, query, **filters, sort=sort, offset=20, limit=20)
            order = expected if sort == "date" else sorted(expected, key=lambda m: -m.score)
            assert page.total == len(expected)
            assert [s["story_id"] for s in page.stories] == [m.story_id for m in order[20:40]]


def test_searches_answer_as_checking_every_copy(corpus):
    path, ids = corpus
    with open_index(f"sqlite:///{path}") as index:
        records = stored(index, ids)
        assert len({r.story_id for r in records}) > 1000       # many stories of several copies
        assert max(len(expected_matches(records, t, **f)) for t, f in SEARCHES) > 500
        # both ways of finding candidates are taken (a broad query scans articles_keys)
        assert {is_broad(index._conn, parse_query(t)) for t, _f in SEARCHES} == {True, False}
        # and the few sites' own articles (their index) when a site filter leaves few
        assert {few_site_rows(index._conn, f.get("sites")) for _t, f in SEARCHES} == {True, False}
        assert_same_answers(index, records)


def test_regrouped_stories_answer_as_checking_every_copy(corpus, tmp_path):
    path, ids = corpus
    copy = tmp_path / "regrouped.db"
    with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    source.close()
    target.close()
    with open_index(f"sqlite:///{copy}") as index:
        records = stored(index, ids)
        # merge every tenth story into the next one, its newest copy the new canonical
        by_story: dict[str, list[ArticleRecord]] = {}
        for r in records:
            by_story.setdefault(r.story_id, []).append(r)
        stories = sorted(by_story)
        for first, second in list(zip(stories, stories[1:]))[::10]:
            members = by_story[first] + by_story[second]
            index.set_story([r.id for r in members], second, max(members, key=lambda r: (r.date, r.id)).id)
        index.flush()
        assert_same_answers(index, stored(index, ids))


def older_copy(path, old, script: str) -> None:
    """A copy of the index at ``path`` in ``old``, made older by ``script``."""
    with sqlite3.connect(path) as source, sqlite3.connect(old) as target:
        source.backup(target)
        target.executescript(script)
    source.close()
    target.close()


def test_an_index_from_before_search_keys_is_upgraded(corpus, tmp_path):
    path, ids = corpus
    old = tmp_path / "v3.db"
    older_copy(path, old, "DROP TABLE search_keys; UPDATE schema_version SET version = 3;")
    with open_index(f"sqlite:///{old}") as index:
        assert_same_answers(index, stored(index, ids))


def test_an_index_from_before_exact_tokens_is_upgraded(corpus, tmp_path):
    """Schema v4 indexed a space around each CJK character (punctuation dropped, Latin
    words whole): opening it rebuilds the FTS from the stored normalized texts."""
    path, ids = corpus
    old = tmp_path / "v4.db"
    with sqlite3.connect(path) as source, sqlite3.connect(old) as target:
        source.backup(target)
        target.create_function("v4_fts_text", 1, lambda text: re.sub("([\u3400-\u9fff])", r" \1 ", text))
        target.execute("INSERT INTO articles_fts(articles_fts) VALUES ('delete-all')")
        target.execute("INSERT INTO articles_fts(rowid, body) "
                       "SELECT rowid, v4_fts_text(norm_title || char(10) || norm_text) FROM articles")
        target.execute("UPDATE schema_version SET version = 4")
    source.close()
    target.close()
    full_stops = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'u3002'"   # 。
    with sqlite3.connect(old) as before:     # the v4 form: punctuation was not indexed
        assert not before.execute(full_stops).fetchone()[0]
    before.close()
    with open_index(f"sqlite:///{old}") as index:
        assert index._conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 6
        assert index._conn.execute(full_stops).fetchone()[0] > 1000
        assert_same_answers(index, stored(index, ids))


def test_an_index_from_before_search_leads_is_upgraded(corpus, tmp_path):
    """Schema v5 had no ``search_leads``: opening it fills them from the rows, and the
    relevance order is the definition's again."""
    path, ids = corpus
    old = tmp_path / "v5.db"
    older_copy(path, old, "DROP TABLE search_leads; UPDATE schema_version SET version = 5;")
    with open_index(f"sqlite:///{old}") as index:
        assert index._conn.execute("SELECT count(*) FROM search_leads").fetchone()[0] == len(ids)
        assert_same_answers(index, stored(index, ids))
