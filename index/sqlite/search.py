"""Which stories match, in the SQLite index: counted and ordered in SQL, no text read.

``SQLiteIndex.search`` and ``match_stories`` both run ``match_stories`` here. The FTS
column holds one token per character with nothing dropped (``index/exact_tokens.py``),
so the FTS5 matches are exactly the articles that match the query
(``fts.match_conditions``), exclusions included:

1. the matching copies on the wanted sites and regions within since..until are
   grouped by story in one statement, which gives each story's first copy in
   search order (canonical first, then date, then id) and its newest date. A
   broad query's matches are read by scanning the covering index ``articles_keys``
   (story order: the grouping needs no sort), a narrower one's are looked up in
   ``search_keys`` (a small row per article keyed by its rowid; the article rows
   hold the texts in overflow pages), so its cost follows its matches, not the corpus;
2. stories are ordered newest first by their canonical copy's date (looked up
   once per story whose canonical copy did not match), then story id. A story
   with no canonical copy is dated and represented by its newest matching copy;
3. only when asked (relevance order), each story's first matching copy is named
   and scored from its title and lead (``search_leads``: the normalized title and
   the body's first ``LEAD_WINDOW`` characters, a row of under 1.5 KB where the
   article row holds the whole texts in overflow pages): SQLite finds each term's
   first position there (``instr``), and whether a copy holds a term it does not
   name there follows from the query (a term every match needs) or from the FTS
   postings. A date-ordered page reads no text here at all, and its stories' first
   matching copies are found among the shown stories' copies (``story_search``).
"""
from __future__ import annotations

import json
import sqlite3
import threading

from index.base import ArticleRecord, StoryMatch
from index.query import Query
from index.sqlite.fts import match_conditions, phrase, positive_expression
from index.story_search import LEAD_WINDOW, TITLE_WEIGHT

BROAD_SHARE = 0.05     # is_broad: a query whose FTS5 matches are more than this share of the articles
KEYS_INDEX = "articles_keys"
# One row per article, kept by ``store_keys`` as the article is written.
KEYS_SCHEMA = """
CREATE TABLE IF NOT EXISTS search_keys (
    article INTEGER PRIMARY KEY, story_id TEXT NOT NULL, canonical INTEGER NOT NULL,
    sort_date TEXT NOT NULL, id TEXT NOT NULL, day TEXT NOT NULL, site TEXT NOT NULL, region TEXT
);
"""
# One row per article: what a relevance score reads (``_scored``).
LEADS_SCHEMA = """
CREATE TABLE IF NOT EXISTS search_leads (article INTEGER PRIMARY KEY, norm_title TEXT NOT NULL, lead TEXT NOT NULL);
"""
_KEY_COLUMNS = "story_id, canonical, sort_date, id, day, site, region"


def store_keys(conn: sqlite3.Connection, article: int, record: ArticleRecord, sort_date: str) -> None:
    """An article's search keys, written with its row (``SQLiteIndex.upsert_article``)."""
    conn.execute(f"INSERT OR REPLACE INTO search_keys (article, {_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (article, record.story_id, int(record.canonical), sort_date, record.id, sort_date[:10],
                  record.site, record.region))
    conn.execute("INSERT OR REPLACE INTO search_leads (article, norm_title, lead) VALUES (?, ?, ?)",
                 (article, record.norm_title, record.norm_text[:LEAD_WINDOW]))


def set_story_keys(conn: sqlite3.Connection, article: int, story_id: str, canonical: int) -> None:
    conn.execute("UPDATE search_keys SET story_id = ?, canonical = ? WHERE article = ?",
                 (story_id, canonical, article))


def migrate_keys(conn: sqlite3.Connection) -> None:
    """Fill ``search_keys`` for an index written before it existed (schema v3): read
    from the covering index, not the rows."""
    conn.execute(f"INSERT OR REPLACE INTO search_keys (article, {_KEY_COLUMNS}) "
                 f"SELECT rowid, {_KEY_COLUMNS} FROM articles INDEXED BY {KEYS_INDEX}")


def migrate_leads(conn: sqlite3.Connection) -> None:
    """Fill ``search_leads`` for an index written before it existed (schema v6)."""
    conn.execute("INSERT OR REPLACE INTO search_leads (article, norm_title, lead) "
                 "SELECT rowid, norm_title, substr(norm_text, 1, ?) FROM articles", (LEAD_WINDOW,))


def region_condition(regions: list[str], column: str = "a.region") -> tuple[str, list[str]]:
    """A region filter matches any region that contains it, so ``江苏省宿迁市`` selects
    ``江苏省宿迁市宿城区`` and so does ``宿城区`` (the rule ``monitor.watches.in_scope``
    uses; Elasticsearch: a ``wildcard`` query)."""
    tests = " OR ".join(f"instr({column}, ?) > 0" for _ in regions)
    return f"({tests})", list(regions)


def day_rowids(conn: sqlite3.Connection, since: str | None, until: str | None) -> tuple[int, int] | None:
    """The first and last rowid of the articles within since..until (``articles_day``),
    or None without a date filter. Articles are written as they are fetched, so a
    week's are mostly a narrow band of rowids: the FTS5 matches outside it are never
    read (an article fetched long after its date only widens the band)."""
    if not (since or until):
        return None
    where = " AND ".join(f"day {op} ?" for op, value in ((">=", since), ("<=", until)) if value)
    params = [value[:10] for value in (since, until) if value]
    first, last = conn.execute(f"SELECT min(rowid), max(rowid) FROM articles INDEXED BY articles_day "
                               f"WHERE {where}", params).fetchone()
    return (first, last) if first is not None else (1, 0)


def matching_conditions(query: Query, *, sites: list[str] | None, regions: list[str] | None,
                        since: str | None, until: str | None, rowid: str = "k.article",
                        rowids: tuple[int, int] | None = None) -> tuple[list[str], list]:
    """SQL conditions on the keys ``k`` (``search_keys`` or ``articles_keys``) holding
    exactly for the copies that match ``query`` within the filters (``rowids``:
    ``day_rowids``'s band, which holds every copy within since..until)."""
    where, params = match_conditions(query, rowid, rowids)
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
    return where, params


def is_broad(conn: sqlite3.Connection, query: Query, rowids: tuple[int, int] | None = None) -> bool:
    """Whether the FTS5 matches are more than ``BROAD_SHARE`` of the articles: then
    scanning ``articles_keys`` in story order costs less CPU than looking up each
    match in ``search_keys`` and sorting by story (measured at 100k, CPU: a few
    hundred matches are looked up in a few ms where the scan reads every article's
    keys; ``项目``, 62% of the articles, costs more looked up than scanned)."""
    enough = int(BROAD_SHARE * (conn.execute("SELECT max(article) FROM search_keys").fetchone()[0] or 0))
    # counting stops at ``enough``: a broad query's FTS5 matches are not all read twice
    band = f"AND rowid BETWEEN {int(rowids[0])} AND {int(rowids[1])} " if rowids else ""
    matches = conn.execute("SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? "
                           f"{band}LIMIT ?)", (positive_expression(query), enough + 1)).fetchone()[0]
    return matches > enough


def few_site_rows(conn: sqlite3.Connection, sites: list[str] | None) -> bool:
    """Whether the wanted sites hold under ``BROAD_SHARE`` of the articles: then their
    articles, read from their index, are fewer than a broad query's FTS5 matches or
    the scan of every article's keys."""
    if not sites:
        return False
    enough = int(BROAD_SHARE * (conn.execute("SELECT max(article) FROM search_keys").fetchone()[0] or 0))
    marks = ", ".join("?" * len(sites))
    rows = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM articles INDEXED BY articles_site_url "
                        f"WHERE site IN ({marks}) LIMIT ?)", [*sites, enough + 1]).fetchone()[0]
    return rows <= enough


# A copy's place within its story: canonical first, then date, then id. As one string
# (char(1) sorts below every character of a date) so one ``min`` picks the first copy
# in SQL, and a bare column beside it is read from that copy's row (SQLite's rule for
# a lone min()): its rowid.
_COPY_RANK = "(1 - k.canonical) || k.sort_date || char(1) || k.id"


def _scored(ranked: str, query: Query) -> tuple[str, list]:
    """SQL over ``ranked`` (a statement giving ``story, rank, rep`` rows, ``rep`` the
    first copy's rowid) that adds the copy's relevance in whole points
    (``story_search.relevance_from_positions``: ``LEAD_WINDOW`` a point) from its
    ``search_leads`` row: each positive term's first position in the title and lead
    (``instr``), and whether the copy holds it -- where it is seen, where the query
    needs it in every match (a term standing alone), or where its FTS postings hold
    the copy (a term of an ``OR`` seen in neither)."""
    positions, points, params = "", [], []
    needed = query.needed_terms
    for n, term in enumerate(query.positive_terms):
        positions += f", coalesce(instr(l.norm_title, ?), 0) AS t{n}, coalesce(instr(l.lead, ?), 0) AS l{n}"
        params += [term, term]
        held = "1"
        if term not in needed:
            positions += f", m.rep IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?) AS h{n}"
            params.append(phrase(term))
            held = f"(t{n} > 0 OR l{n} > 0 OR h{n})"
        points.append(f"CASE WHEN {held} THEN {LEAD_WINDOW} * (1 + {TITLE_WEIGHT} * (t{n} > 0)) "
                      f"+ CASE WHEN l{n} > 0 THEN {LEAD_WINDOW + 1} - l{n} ELSE 0 END ELSE 0 END")
    sql = (f"WITH m(story, rank, rep) AS ({ranked}), p AS (SELECT m.story, m.rank, m.rep{positions} FROM m "
           f"LEFT JOIN search_leads l ON l.article = m.rep) SELECT story, rank, rep, {' + '.join(points)} FROM p")
    return sql, params


def _grouped(conn: sqlite3.Connection, query: Query, filters: dict, columns: str) -> tuple[str, list]:
    """``SELECT k.story_id, <columns> ... GROUP BY k.story_id`` over the copies that
    match ``query`` within ``filters`` (``columns`` may name ``{rowid}``, the copy's
    rowid), read the cheapest way: the sites' own articles when few, else the FTS
    matches looked up in ``search_keys``, or for a broad query a scan of the covering
    index ``articles_keys`` in story order (the grouping then needs no sort)."""
    rowids = day_rowids(conn, filters["since"], filters["until"])
    by_site = few_site_rows(conn, filters["sites"])
    scan = not by_site and is_broad(conn, query, rowids)
    rowid = "rowid" if scan else "article"
    where, params = matching_conditions(query, **filters, rowid=f"k.{rowid}", rowids=rowids)
    keys = f"articles k INDEXED BY {KEYS_INDEX}" if scan else "search_keys k"
    if by_site:         # the sites' articles (their index), each looked up in search_keys
        keys = f"articles s INDEXED BY articles_site_url JOIN search_keys k ON k.article = s.rowid"
        where.append(f"s.site IN ({', '.join('?' * len(filters['sites']))})")
        params += list(filters["sites"])
    return (f"SELECT k.story_id, {columns.format(rowid=rowid)} FROM {keys} WHERE {' AND '.join(where)} "
            "GROUP BY k.story_id"), params


# A story's date from ``best`` = max(canonical || sort_date) of its matching copies: its
# canonical copy's date (matching or not: one index probe), NULL if it has none.
_BEST = "max(k.canonical || k.sort_date)"
_CANONICAL_PROBE = (f"(SELECT c.sort_date FROM articles c INDEXED BY {KEYS_INDEX} "
                    "WHERE c.story_id = story AND c.canonical = 1)")
_CANONICAL_DATE = f"CASE WHEN substr(best, 1, 1) = '1' THEN substr(best, 2) ELSE {_CANONICAL_PROBE} END"


def date_ordered_stories(conn: sqlite3.Connection, query: Query, filters: dict) -> list[str]:
    """The matching stories in search order, ordered in SQL: by the canonical copy's
    date, else (no canonical copy at all) the newest matching copy's, then story id."""
    grouped, params = _grouped(conn, query, filters, _BEST)
    rows = conn.execute(f"WITH g(story, best) AS ({grouped}) SELECT story FROM g "
                        f"ORDER BY coalesce({_CANONICAL_DATE}, substr(best, 2)) DESC, story", params).fetchall()
    return [story for (story,) in rows]


def scored_stories(conn: sqlite3.Connection, query: Query, filters: dict) -> list[StoryMatch]:
    """The matching stories in search order, each with its first matching copy and its
    relevance (``_scored``), ordered in SQL like ``date_ordered_stories``. A story
    with no canonical copy at all is dated and represented by its newest matching
    copy (then id), as Elasticsearch's order has it: those few are looked up after."""
    grouped, params = _grouped(conn, query, filters, f"min({_COPY_RANK}), k.{{rowid}}")
    scored, score_params = _scored(grouped, query)
    rows = conn.execute(
        f"WITH s(story, rank, rep, points) AS ({scored}) SELECT story, rank, points, "
        "CASE WHEN substr(rank, 1, 1) = '0' THEN substr(rank, 2, instr(rank, char(1)) - 2) ELSE "
        f"{_CANONICAL_PROBE} END AS date FROM s ORDER BY date DESC, story", params + score_params).fetchall()
    orphans = [story for story, _rank, _points, date in rows if date is None]
    if not orphans:
        return [StoryMatch(story, rank.split("\x01", 1)[1], points / LEAD_WINDOW) for story, rank, points, _date in rows]
    newest = _newest_copies(conn, query, filters, orphans)
    rescored = term_scores(conn, query, [rowid for _date, _id, rowid in newest.values()])
    dated = []
    for story, rank, points, date in rows:
        if date is None:
            date, article_id, rowid = newest[story]
            dated.append((date, StoryMatch(story, article_id, rescored.get(rowid, 0.0))))
        else:
            dated.append((date, StoryMatch(story, rank.split("\x01", 1)[1], points / LEAD_WINDOW)))
    dated.sort(key=lambda row: row[1].story_id)
    dated.sort(key=lambda row: row[0], reverse=True)       # stable: ties by story id
    return [match for _date, match in dated]


def _newest_copies(conn: sqlite3.Connection, query: Query, filters: dict, stories: list[str]) -> dict[str, tuple]:
    """For stories with no canonical copy at all: the newest matching copy (then id),
    which dates and represents the story (as Elasticsearch's story order does)."""
    where, params = matching_conditions(query, **filters)
    rows = conn.execute(f"SELECT k.story_id, k.sort_date, k.id, k.article FROM search_keys k "
                        f"WHERE k.story_id IN (SELECT value FROM json_each(?)) AND {' AND '.join(where)}",
                        [json.dumps(stories)] + params).fetchall()
    newest: dict[str, tuple] = {}
    for story, date, article_id, rowid in sorted(rows, key=lambda row: row[2]):
        if story not in newest or date > newest[story][0]:
            newest[story] = (date, article_id, rowid)
    return newest


def match_stories(conn: sqlite3.Connection, lock: threading.RLock, query: Query, *, sites: list[str] | None = None,
                  regions: list[str] | None = None, since: str | None = None,
                  until: str | None = None, limit: int | None = None, scores: bool = True) -> list[StoryMatch]:
    """Matching stories in search order (see the module docstring), the first ``limit``.
    ``scores=False``: every score 0 and ``article_id`` left empty (no text read;
    ``story_search.build_stories`` finds the shown stories' first matching copy)."""
    filters = {"sites": sites, "regions": regions, "since": since, "until": until}
    with lock:
        if not scores:
            stories = date_ordered_stories(conn, query, filters)
            return [StoryMatch(story, "", 0.0) for story in (stories[:limit] if limit else stories)]
        matches = scored_stories(conn, query, filters)
        return matches[:limit] if limit else matches


def term_scores(conn: sqlite3.Connection, query: Query, rowids: list[int]) -> dict[int, float]:
    """``relevance`` of each of these matching articles (``_scored``)."""
    sql, params = _scored("SELECT '', '', value FROM json_each(?)", query)
    return {rep: points / LEAD_WINDOW for _story, _rank, rep, points in conn.execute(sql, [json.dumps(rowids)] + params)}


def site_regions(conn: sqlite3.Connection, lock: threading.RLock) -> dict[str, str | None]:
    """Every site in the index with its region (the most recent one it was crawled with)."""
    # One seek per site in articles_site_fetched (site, fetched_at, id, region): the sites
    # by skipping from one to the next, each one's latest region from the end of its
    # entries (the rows, texts in overflow pages, took 3.4 s CPU at 1M articles).
    index = "articles INDEXED BY articles_site_fetched"
    with lock:
        rows = conn.execute(
            f"WITH RECURSIVE s(site) AS (SELECT min(site) FROM {index} UNION ALL "
            f"SELECT (SELECT min(site) FROM {index} WHERE site > s.site) FROM s WHERE s.site IS NOT NULL) "
            "SELECT s.site, (SELECT region FROM articles r INDEXED BY articles_site_fetched "
            "WHERE r.site = s.site AND r.region IS NOT NULL "
            "ORDER BY r.fetched_at DESC, r.id DESC LIMIT 1) AS region FROM s WHERE s.site IS NOT NULL "
            "ORDER BY s.site").fetchall()
    return {row["site"]: row["region"] for row in rows}
