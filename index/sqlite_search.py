"""Which stories match, in the SQLite index: candidates from FTS5, exactness in Python.

``SQLiteIndex.search`` and ``match_stories`` both run ``match_stories`` here (the
first stops at ``limit``, a search page reads them all for the total):

1. candidates are the articles whose FTS tokens can match (``fts_match_expression``)
   and whose text contains the Latin/number terms (``substring_filters``), on the
   wanted sites and regions within since..until, sorted newest story first (the
   canonical copy's date), then story, canonical copy first, date, id;
2. each story's candidates are verified in that order with ``Query.matches`` on
   the stored normalized text, read in batches; the first copy that passes
   represents the story.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from index.query import Query
from index.story_search import StoryMatch, relevance

VERIFY_BATCH = 500     # candidate texts read per query (well below SQLite's parameter limit)

if TYPE_CHECKING:
    from index.sqlite import SQLiteIndex


def region_condition(regions: list[str], column: str = "a.region") -> tuple[str, list[str]]:
    """A region filter matches any region that contains it, so ``江苏省宿迁市`` selects
    ``江苏省宿迁市宿城区`` and so does ``宿城区`` (the rule ``monitor.watches.in_scope``
    uses; Elasticsearch: a ``wildcard`` query)."""
    tests = " OR ".join(f"instr({column}, ?) > 0" for _ in regions)
    return f"({tests})", list(regions)


def candidate_sql(query: Query, *, sites: list[str] | None, regions: list[str] | None,
                  since: str | None, until: str | None) -> tuple[str, list]:
    """Keys of the candidate copies, in search order."""
    from index.sqlite import fts_match_expression, substring_filters

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
    # Only keys are sorted; a candidate's text is read when it is verified.
    sql = ("SELECT a.rowid AS rowid, a.id AS id, a.story_id AS story_id FROM articles a "
           "LEFT JOIN articles c ON c.story_id = a.story_id AND c.canonical = 1 "
           + (f"WHERE {' AND '.join(where)} " if where else "")
           + "ORDER BY coalesce(c.sort_date, a.sort_date) DESC, a.story_id, "
             "a.canonical DESC, a.sort_date, a.id")
    return sql, params


def match_stories(index: SQLiteIndex, query: Query, *, sites: list[str] | None = None,
                  regions: list[str] | None = None, since: str | None = None,
                  until: str | None = None, limit: int | None = None) -> list[StoryMatch]:
    """Matching stories in search order (see the module docstring); stop at ``limit``.

    Texts are read ``VERIFY_BATCH`` candidates at a time (one query per batch, not
    one per candidate), skipping stories already matched; with a small ``limit``
    the first batch is small, so ``search`` still reads few texts."""
    sql, params = candidate_sql(query, sites=sites, regions=regions, since=since, until=until)
    terms = query.positive_terms
    matched: dict[str, StoryMatch] = {}
    batch = min(VERIFY_BATCH, 2 * limit) if limit else VERIFY_BATCH
    with index._lock:
        conn = index._conn
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
                    if limit and len(matched) >= limit:
                        return list(matched.values())
            batch = VERIFY_BATCH
    return list(matched.values())


def site_regions(index: SQLiteIndex) -> dict[str, str | None]:
    """Every site in the index with its region (the most recent one it was crawled with)."""
    with index._lock:
        rows = index._conn.execute(
            "SELECT site, (SELECT region FROM articles r WHERE r.site = s.site AND r.region IS NOT NULL "
            "ORDER BY r.fetched_at DESC, r.id DESC LIMIT 1) AS region FROM (SELECT DISTINCT site FROM articles) s "
            "ORDER BY site").fetchall()
    return {row["site"]: row["region"] for row in rows}
