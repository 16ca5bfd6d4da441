"""Which stories match, in the SQLite index: candidates from FTS5, exactness checked.

``SQLiteIndex.search`` and ``match_stories`` both run ``match_stories`` here:

1. candidates are the articles whose FTS tokens can match (``fts_match_expression``)
   and whose text contains the Latin/number terms (``substring_filters``), on the
   wanted sites and regions within since..until, sorted newest story first (the
   canonical copy's date), then story, canonical copy first, date, id. The keys
   come from ``search_keys``, one small row per article keyed by its rowid, so
   the FTS5 matches are joined to them directly: the article rows hold the texts
   in overflow pages (reading a sort column from there made the sort of 60k
   candidates take seconds), and scanning the covering index ``articles_keys``
   for the matches cost a pass over every article, however few matched;
2. each story's candidates are verified in that order against the stored
   normalized text; the first copy that passes represents the story:
   - a few stories wanted (``search``'s ``limit``): texts are read in batches
     and checked with ``Query.matches``, stopping after ``limit`` stories, so
     most texts are never read;
   - every story (a search page's total): the first candidate of every story
     first, then the next candidate of the stories that failed, and so on.
     SQLite finds each query term in those copies (``instr``, in C) and only the
     positions come back; the same ``Query.matches`` decides on them. A story's
     other copies are never read once one passed (a broad query's candidates
     are mostly copies of stories already matched).
"""
from __future__ import annotations

import json
import sqlite3
import threading

from index.base import StoryMatch
from index.query import Query
from index.sqlite.fts import fts_match_expression, substring_filters
from index.story_search import relevance, relevance_from_positions

VERIFY_BATCH = 500     # candidate texts read per query (well below SQLite's parameter limit)
KEYS_INDEX = "articles_keys"
# One row per article, kept by ``store_keys`` as the article is written.
KEYS_SCHEMA = """
CREATE TABLE IF NOT EXISTS search_keys (
    article INTEGER PRIMARY KEY, story_id TEXT NOT NULL, canonical INTEGER NOT NULL,
    sort_date TEXT NOT NULL, id TEXT NOT NULL, day TEXT NOT NULL, site TEXT NOT NULL, region TEXT
);
"""
_KEY_COLUMNS = "story_id, canonical, sort_date, id, day, site, region"


def store_keys(conn: sqlite3.Connection, article: int, story_id: str, canonical: bool, sort_date: str,
               article_id: str, site: str, region: str | None) -> None:
    """An article's search keys, written with its row (``SQLiteIndex.upsert_article``)."""
    conn.execute(f"INSERT OR REPLACE INTO search_keys (article, {_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (article, story_id, int(canonical), sort_date, article_id, sort_date[:10], site, region))


def set_story_keys(conn: sqlite3.Connection, article: int, story_id: str, canonical: int) -> None:
    conn.execute("UPDATE search_keys SET story_id = ?, canonical = ? WHERE article = ?",
                 (story_id, canonical, article))


def migrate_keys(conn: sqlite3.Connection) -> None:
    """Fill ``search_keys`` for an index written before it existed (schema v3): read
    from the covering index, not the rows."""
    conn.execute(f"INSERT OR REPLACE INTO search_keys (article, {_KEY_COLUMNS}) "
                 f"SELECT rowid, {_KEY_COLUMNS} FROM articles INDEXED BY {KEYS_INDEX}")


class _Found:
    """The terms found in a copy, standing in for its text: ``Query.matches`` only
    asks ``term in text``, so it decides on positions SQLite found."""

    def __init__(self, found: set[str]):
        self.found = found

    def __contains__(self, term: str) -> bool:
        return term in self.found


def region_condition(regions: list[str], column: str = "a.region") -> tuple[str, list[str]]:
    """A region filter matches any region that contains it, so ``江苏省宿迁市`` selects
    ``江苏省宿迁市宿城区`` and so does ``宿城区`` (the rule ``monitor.watches.in_scope``
    uses; Elasticsearch: a ``wildcard`` query)."""
    tests = " OR ".join(f"instr({column}, ?) > 0" for _ in regions)
    return f"({tests})", list(regions)


def candidate_sql(query: Query, *, sites: list[str] | None, regions: list[str] | None,
                  since: str | None, until: str | None, find: list[str] = ()) -> tuple[str, list]:
    """Keys of the candidate copies (``rowid``, ``id``, ``story_id``), in search order;
    with ``find``, also the 1-based position (0 = absent) of each of those terms in
    the title (``t<n>``) and text (``x<n>``)."""
    match = fts_match_expression(query)
    where: list[str] = []
    params: list = []
    if match is not None:
        where.append("k.article IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
        params.append(match)
    substring_where, substring_params = substring_filters(query)     # on the article row ``a``
    where += substring_where
    params += substring_params
    if sites:
        where.append(f"k.site IN ({', '.join('?' * len(sites))})")
        params.extend(sites)
    if regions:
        condition, region_params = region_condition(regions, "k.region")
        where.append(condition)
        params += region_params
    if since:
        where.append("k.day >= ?")
        params.append(since[:10])
    if until:
        where.append("k.day <= ?")
        params.append(until[:10])
    columns = "".join(f", instr(a.norm_title, ?) AS t{n}, instr(a.norm_text, ?) AS x{n}" for n in range(len(find)))
    column_params = [term for term in find for _ in (0, 1)]
    # the article rows only when a text is read (their texts sit in overflow pages)
    rows = "JOIN articles a ON a.rowid = k.article " if find or substring_where else ""
    sql = (f"SELECT k.article AS rowid, k.id AS id, k.story_id AS story_id{columns} "
           f"FROM search_keys k {rows}"
           f"LEFT JOIN articles c INDEXED BY {KEYS_INDEX} ON c.story_id = k.story_id AND c.canonical = 1 "
           + (f"WHERE {' AND '.join(where)} " if where else "")
           + "ORDER BY coalesce(c.sort_date, k.sort_date) DESC, k.story_id, "
             "k.canonical DESC, k.sort_date, k.id")
    return sql, column_params + params


def match_stories(conn: sqlite3.Connection, lock: threading.RLock, query: Query, *, sites: list[str] | None = None,
                  regions: list[str] | None = None, since: str | None = None,
                  until: str | None = None, limit: int | None = None) -> list[StoryMatch]:
    """Matching stories in search order (see the module docstring); stop at ``limit``."""
    filters = {"sites": sites, "regions": regions, "since": since, "until": until}
    with lock:
        if limit:
            return _first_matches(conn, query, filters, limit)
        return _all_matches(conn, query, filters)


def _first_matches(conn, query: Query, filters: dict, limit: int) -> list[StoryMatch]:
    sql, params = candidate_sql(query, **filters)
    terms = query.positive_terms
    matched: dict[str, StoryMatch] = {}
    batch = min(VERIFY_BATCH, 2 * limit)
    candidates = conn.execute(sql, params).fetchall()
    for start in range(0, len(candidates), batch):
        chunk = [c for c in candidates[start:start + batch] if c["story_id"] not in matched]
        if not chunk:
            continue
        texts = {row[0]: (row[1], row[2]) for row in conn.execute(
            f"SELECT rowid, norm_title, norm_text FROM articles WHERE rowid IN ({', '.join('?' * len(chunk))})",
            [c["rowid"] for c in chunk])}
        for candidate in chunk:
            if candidate["story_id"] in matched or candidate["rowid"] not in texts:
                continue
            title, text = texts[candidate["rowid"]]
            if query.matches(title + "\n" + text):
                matched[candidate["story_id"]] = StoryMatch(candidate["story_id"], candidate["id"],
                                                            relevance(title, text, terms))
                if len(matched) >= limit:
                    return list(matched.values())
        batch = VERIFY_BATCH
    return list(matched.values())


def _all_matches(conn, query: Query, filters: dict) -> list[StoryMatch]:
    sql, params = candidate_sql(query, **filters)
    tries: dict[str, list[tuple[int, str]]] = {}      # story -> its candidates, in search order
    for rowid, article_id, story in conn.execute(sql, params):
        tries.setdefault(story, []).append((rowid, article_id))
    positive = query.positive_terms
    terms = list(dict.fromkeys(positive + query.negative_terms))
    matched: dict[str, StoryMatch] = {}
    turn, waiting = 0, list(tries)
    while waiting:      # turn n: the n-th candidate of each story none of whose earlier ones passed
        asked = {tries[story][turn][0]: story for story in waiting}
        positions = term_positions(conn, list(asked), terms)
        waiting = []
        for rowid, story in asked.items():
            found = positions.get(rowid)
            if found is None:               # removed since it was a candidate
                continue
            # A term never holds a newline (whitespace folds to one space), so "in title +
            # newline + text" is "in the title or in the text".
            if query.matches(_Found({t for t, (title, text) in zip(terms, found) if title or text})):
                matched[story] = StoryMatch(story, tries[story][turn][1], relevance_from_positions(
                    [(title - 1, text - 1) for title, text in found[:len(positive)]]))
        turn += 1
        waiting = [story for story in asked.values() if story not in matched and len(tries[story]) > turn]
    return [matched[story] for story in tries if story in matched]


def term_positions(conn, rowids: list[int], terms: list[str]) -> dict[int, list[tuple[int, int]]]:
    """For each article, each term's 1-based position (0 = absent) in its normalized
    title and text, found by SQLite (``instr``)."""
    columns = "".join(f", instr(norm_title, ?), instr(norm_text, ?)" for _ in terms)
    found: dict[int, list[tuple[int, int]]] = {}
    rows = conn.execute(f"SELECT rowid{columns} FROM articles WHERE rowid IN (SELECT value FROM json_each(?))",
                        [term for term in terms for _ in (0, 1)] + [json.dumps(rowids)])
    for row in rows:
        found[row[0]] = [(row[1 + 2 * n], row[2 + 2 * n]) for n in range(len(terms))]
    return found


def site_regions(conn: sqlite3.Connection, lock: threading.RLock) -> dict[str, str | None]:
    """Every site in the index with its region (the most recent one it was crawled with)."""
    with lock:
        rows = conn.execute(
            "SELECT site, (SELECT region FROM articles r WHERE r.site = s.site AND r.region IS NOT NULL "
            "ORDER BY r.fetched_at DESC, r.id DESC LIMIT 1) AS region FROM (SELECT DISTINCT site FROM articles) s "
            "ORDER BY site").fetchall()
    return {row["site"]: row["region"] for row in rows}
