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
     first, then the other candidates of the stories that failed, in order.
     SQLite finds each query term in those copies (``instr``, in C) and only the
     positions come back; the same ``Query.matches`` decides on them. A story's
     other copies are never read once one passed (a broad query's candidates
     are mostly copies of stories already matched).
"""
from __future__ import annotations

import json
import sqlite3
import threading

from index.base import ArticleRecord, StoryMatch
from index.query import Query
from index.sqlite.fts import fts_match_expression, substring_filters
from index.story_search import relevance, relevance_from_positions

VERIFY_BATCH = 500     # candidate texts read per query (well below SQLite's parameter limit)
BROAD_SHARE = 0.05     # is_broad: a query whose FTS5 matches are more than this share of the articles
KEYS_INDEX = "articles_keys"
# One row per article, kept by ``store_keys`` as the article is written.
KEYS_SCHEMA = """
CREATE TABLE IF NOT EXISTS search_keys (
    article INTEGER PRIMARY KEY, story_id TEXT NOT NULL, canonical INTEGER NOT NULL,
    sort_date TEXT NOT NULL, id TEXT NOT NULL, day TEXT NOT NULL, site TEXT NOT NULL, region TEXT
);
"""
_KEY_COLUMNS = "story_id, canonical, sort_date, id, day, site, region"


def store_keys(conn: sqlite3.Connection, article: int, record: ArticleRecord, sort_date: str) -> None:
    """An article's search keys, written with its row (``SQLiteIndex.upsert_article``)."""
    conn.execute(f"INSERT OR REPLACE INTO search_keys (article, {_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (article, record.story_id, int(record.canonical), sort_date, record.id, sort_date[:10],
                  record.site, record.region))


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
                  since: str | None, until: str | None, find: list[str] = (),
                  ordered: bool = True, scan: bool = False) -> tuple[str, list]:
    """Keys of the candidate copies (``rowid``, ``id``, ``story_id``), in search order;
    with ``find``, also the 1-based position (0 = absent) of each of those terms in
    the title (``t<n>``) and text (``x<n>``). ``ordered=False``: in no order, with
    ``canonical`` and ``sort_date`` (``ordered_candidates`` sorts them). ``scan``: the
    keys read by scanning the covering index ``articles_keys`` (``is_broad``)."""
    match = fts_match_expression(query)
    where: list[str] = []
    params: list = []
    if match is not None:
        where.append("k.rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
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
    rows = "JOIN articles a ON a.rowid = k.rowid " if find or substring_where else ""
    keys = f"articles k INDEXED BY {KEYS_INDEX}" if scan else "search_keys k"
    condition = f"WHERE {' AND '.join(where)} " if where else ""
    if not ordered:
        return (f"SELECT k.rowid, k.id, k.story_id, k.canonical, k.sort_date{columns} "
                f"FROM {keys} {rows}{condition}"), column_params + params
    sql = (f"SELECT k.rowid AS rowid, k.id AS id, k.story_id AS story_id{columns} "
           f"FROM {keys} {rows}"
           f"LEFT JOIN articles c INDEXED BY {KEYS_INDEX} ON c.story_id = k.story_id AND c.canonical = 1 "
           + condition + "ORDER BY coalesce(c.sort_date, k.sort_date) DESC, k.story_id, "
             "k.canonical DESC, k.sort_date, k.id")
    return sql, column_params + params


def ordered_candidates(conn: sqlite3.Connection, query: Query, filters: dict,
                       broad: bool | None = None) -> list[tuple[int, str, str]]:
    """``candidate_sql``'s keys (rowid, id, story_id) in its search order. A broad
    query's come from the covering index in story order; a narrower one's from
    ``search_keys``, sorted here: the story dates are looked up once per story, in
    index order, where the SQL ``ORDER BY`` joined every candidate to its story's
    canonical copy, a random probe into ``articles_keys`` each."""
    if broad if broad is not None else is_broad(conn, query):
        sql, params = candidate_sql(query, **filters, scan=True)
        return [(row[0], row[1], row[2]) for row in conn.execute(sql, params)]
    sql, params = candidate_sql(query, **filters, ordered=False)
    rows = conn.execute(sql, params).fetchall()
    story_date: dict[str, str] = {}
    stories = json.dumps(list({row[2] for row in rows}))
    for story, date in conn.execute(f"SELECT story_id, sort_date FROM articles INDEXED BY {KEYS_INDEX} "
                                    "WHERE canonical = 1 AND story_id IN (SELECT value FROM json_each(?))",
                                    [stories]):
        story_date[story] = max(date, story_date.get(story, date))   # (a story has one canonical copy)
    rows.sort(key=lambda row: (row[2], -row[3], row[4], row[1]))
    rows.sort(key=lambda row: story_date.get(row[2], row[4]), reverse=True)     # stable: ties keep the above
    return [(row[0], row[1], row[2]) for row in rows]


def is_broad(conn: sqlite3.Connection, query: Query) -> bool:
    """Whether the FTS5 matches are more than ``BROAD_SHARE`` of the articles (or there
    is no FTS expression): then scanning ``articles_keys`` in story order, the texts
    checked in the same statement, costs less CPU than looking up each match in
    ``search_keys``. Measured at 100k (CPU): ``项目`` (62% of the articles) 0.57 s
    scanned, 0.85 s looked up; ``"项目为王"`` (9%) 85 against 110 ms; at ~5%
    (``疫苗接种``, ``城乡环境综合整治``) both ~60-75 ms; a few hundred matches are
    looked up in a few ms where the scan reads every article's keys."""
    match = fts_match_expression(query)
    if match is None:
        return True
    enough = int(BROAD_SHARE * (conn.execute("SELECT max(article) FROM search_keys").fetchone()[0] or 0))
    # counting stops at ``enough``: a broad query's FTS5 matches are not all read twice
    matches = conn.execute("SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? "
                           "LIMIT ?)", (match, enough + 1)).fetchone()[0]
    return matches > enough


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
    terms = query.positive_terms
    matched: dict[str, StoryMatch] = {}
    batch = min(VERIFY_BATCH, 2 * limit)
    candidates = [{"rowid": rowid, "id": article_id, "story_id": story}
                  for rowid, article_id, story in ordered_candidates(conn, query, filters)]
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
    if is_broad(conn, query):
        return _all_matches_in_one_scan(conn, query, filters)
    tries: dict[str, list[tuple[int, str]]] = {}      # story -> its candidates, in search order
    for rowid, article_id, story in ordered_candidates(conn, query, filters, broad=False):
        tries.setdefault(story, []).append((rowid, article_id))
    positive = query.positive_terms
    terms = list(dict.fromkeys(positive + query.negative_terms))
    matched: dict[str, StoryMatch] = {}
    # Two rounds: each story's first candidate, then every other candidate of the
    # stories that first one failed (an exclusion can fail many: one query, not one
    # per copy), taken in order.
    rounds = [[(story, copies[0]) for story, copies in tries.items()]]
    rounds.append(lambda: [(story, copy) for story, copies in tries.items() if story not in matched
                           for copy in copies[1:]])
    for asked in rounds:
        asked = asked() if callable(asked) else asked
        positions = term_positions(conn, [rowid for _story, (rowid, _id) in asked], terms)
        for story, (rowid, article_id) in asked:
            found = positions.get(rowid)
            if story in matched or found is None:    # a copy before passed; removed since
                continue
            # A term never holds a newline (whitespace folds to one space), so "in title +
            # newline + text" is "in the title or in the text".
            if query.matches(_Found({t for t, (title, text) in zip(terms, found) if title or text})):
                matched[story] = StoryMatch(story, article_id, relevance_from_positions(
                    [(title - 1, text - 1) for title, text in found[:len(positive)]]))
    return [matched[story] for story in tries if story in matched]


def _all_matches_in_one_scan(conn, query: Query, filters: dict) -> list[StoryMatch]:
    """Every candidate's term positions from the statement that reads the keys."""
    positive = query.positive_terms
    terms = list(dict.fromkeys(positive + query.negative_terms))
    sql, params = candidate_sql(query, **filters, find=terms, scan=True)
    matched: dict[str, StoryMatch] = {}
    for row in conn.execute(sql, params):
        if row["story_id"] in matched:
            continue
        found = {t for n, t in enumerate(terms) if row[f"t{n}"] or row[f"x{n}"]}
        if query.matches(_Found(found)):
            positions = [(row[f"t{n}"] - 1, row[f"x{n}"] - 1) for n in range(len(positive))]
            matched[row["story_id"]] = StoryMatch(row["story_id"], row["id"], relevance_from_positions(positions))
    return list(matched.values())


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
