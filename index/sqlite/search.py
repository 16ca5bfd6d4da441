"""Which stories match, in the SQLite index: candidates from FTS5, exactness checked.

``SQLiteIndex.search`` and ``match_stories`` both run ``match_stories`` here:

1. candidates are the articles whose FTS tokens can match (``fts_match_expression``)
   and whose text contains the Latin/number terms (``substring_filters``), on the
   wanted sites and regions within since..until, sorted newest story first (the
   canonical copy's date), then story, canonical copy first, date, id. The keys
   come from the covering index ``articles_keys``: the article rows hold the
   texts in overflow pages, and reading a sort column from there made the sort
   of 60k candidates take seconds;
2. each story's candidates are verified in that order against the stored
   normalized text; the first copy that passes represents the story:
   - a few stories wanted (``search``'s ``limit``): texts are read in batches
     and checked with ``Query.matches``, stopping after ``limit`` stories, so
     most texts are never read;
   - every story (a search page's total): SQLite finds each query term in every
     candidate (``instr``, in C) and only the positions come back; the same
     ``Query.matches`` decides on them.
"""
from __future__ import annotations

import sqlite3
import threading

from index.base import StoryMatch
from index.query import Query
from index.sqlite.fts import fts_match_expression, substring_filters
from index.story_search import relevance, relevance_from_positions

VERIFY_BATCH = 500     # candidate texts read per query (well below SQLite's parameter limit)
KEYS_INDEX = "articles_keys"


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
    """Keys of the candidate copies, in search order; with ``find``, also the 1-based
    position (0 = absent) of each of those terms in the title (``t<n>``) and text (``x<n>``)."""
    match = fts_match_expression(query)
    where: list[str] = []
    params: list = []
    if match is not None:
        where.append("a.rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
        params.append(match)
    substring_where, substring_params = substring_filters(query)
    where += substring_where
    params += substring_params
    if sites:
        where.append(f"a.site IN ({', '.join('?' * len(sites))})")
        params.extend(sites)
    if regions:
        condition, region_params = region_condition(regions)
        where.append(condition)
        params += region_params
    if since:
        where.append("a.day >= ?")
        params.append(since[:10])
    if until:
        where.append("a.day <= ?")
        params.append(until[:10])
    columns = "".join(f", instr(a.norm_title, ?) AS t{n}, instr(a.norm_text, ?) AS x{n}" for n in range(len(find)))
    column_params = [term for term in find for _ in (0, 1)]
    sql = (f"SELECT a.rowid AS rowid, a.id AS id, a.story_id AS story_id{columns} "
           f"FROM articles a INDEXED BY {KEYS_INDEX} "
           f"LEFT JOIN articles c INDEXED BY {KEYS_INDEX} ON c.story_id = a.story_id AND c.canonical = 1 "
           + (f"WHERE {' AND '.join(where)} " if where else "")
           + "ORDER BY coalesce(c.sort_date, a.sort_date) DESC, a.story_id, "
             "a.canonical DESC, a.sort_date, a.id")
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
    positive = query.positive_terms
    terms = list(dict.fromkeys(positive + query.negative_terms))
    sql, params = candidate_sql(query, **filters, find=terms)
    matched: dict[str, StoryMatch] = {}
    for row in conn.execute(sql, params):
        if row["story_id"] in matched:
            continue
        # A term never holds a newline (whitespace folds to one space), so "in title +
        # newline + text" is "in the title or in the text".
        found = {t for n, t in enumerate(terms) if row[f"t{n}"] or row[f"x{n}"]}
        if query.matches(_Found(found)):
            positions = [(row[f"t{n}"] - 1, row[f"x{n}"] - 1) for n in range(len(positive))]
            matched[row["story_id"]] = StoryMatch(row["story_id"], row["id"], relevance_from_positions(positions))
    return list(matched.values())


def site_regions(conn: sqlite3.Connection, lock: threading.RLock) -> dict[str, str | None]:
    """Every site in the index with its region (the most recent one it was crawled with)."""
    with lock:
        rows = conn.execute(
            "SELECT site, (SELECT region FROM articles r WHERE r.site = s.site AND r.region IS NOT NULL "
            "ORDER BY r.fetched_at DESC, r.id DESC LIMIT 1) AS region FROM (SELECT DISTINCT site FROM articles) s "
            "ORDER BY site").fetchall()
    return {row["site"]: row["region"] for row in rows}
