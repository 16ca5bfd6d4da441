"""The embedded index: one SQLite file, FTS5 for exact matches, SQL for stories.

How a query runs:
1. Every article's normalized title+body is stored in a contentless FTS5 table
   as one token per character, punctuation and spaces included
   (``index/exact_tokens.py``), so an FTS5 phrase is exactly a substring test.
2. Each query clause becomes part of one FTS5 MATCH (``"项 目"``, ``OR``, ``NOT``):
   its matches are exactly the articles that match the query.
3. The matches are grouped into stories, counted and ordered in SQL
   (``index/sqlite/search.py``); texts are read only for relevance scores.

The connection is shared by one Scrapy pipeline thread and guarded by a lock;
writes are batched in a transaction until ``flush()`` (or every
``AUTOCOMMIT_EVERY`` writes, to keep the transaction bounded). A crawl ends its
transaction after every page (``commit_unit``), so SQLite's one write lock is
held while a page is written, never across the crawl's network waits: another
process's write (a watch added on the web) waits milliseconds, not a batch.
A storage failure (disk full, read-only, locked too long) rolls back only the
unfinished batch and leaves as ``index.errors.StorageError``.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Iterator

from index.base import ArticleRecord, ClosesOnExit, Quarantined, StoryMatch, founder_prefix, order_copies
from index.errors import StorageError, guarded, sqlite_error
from index.query import Query
from index.sqlite import dedup as band_keys
from index.sqlite import search as matching
from index.sqlite.band_window import BandWindow
from index.sqlite.day_counts import DayCounts
from index.sqlite.fts import fts_text, rebuild_fts
from index.sqlite.state import SQLiteState
from index.story_search import build_stories

SCHEMA_VERSION = 6    # v3: packed band keys (dedup.py); v4: search_keys, v6: search_leads (search.py); v5: exact FTS
AUTOCOMMIT_EVERY = 500
_SQL_PARAM_CHUNK = 500     # stay well below SQLite's bound-parameter limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, canonical_url TEXT NOT NULL, site TEXT NOT NULL,
    title TEXT NOT NULL, text TEXT NOT NULL, norm_title TEXT NOT NULL, norm_text TEXT NOT NULL,
    text_hash TEXT NOT NULL, published TEXT, fetched_at TEXT NOT NULL DEFAULT '',
    region TEXT, source TEXT, author TEXT, column_name TEXT,
    story_id TEXT NOT NULL DEFAULT '', canonical INTEGER NOT NULL DEFAULT 0,
    sort_date TEXT NOT NULL,   -- published, else fetched_at: orders stories
    day TEXT NOT NULL,         -- sort_date[:10]: since/until and the dedup window
    lsh_bands TEXT NOT NULL DEFAULT '',  -- dedup keys as given, space-joined
    attachments TEXT NOT NULL DEFAULT '' -- JSON list of {name,url,type,size,sha256,status}; '' = none
);
CREATE INDEX IF NOT EXISTS articles_text_hash ON articles(text_hash);
CREATE INDEX IF NOT EXISTS articles_site_url ON articles(site, url, id);
CREATE INDEX IF NOT EXISTS articles_day ON articles(day);
CREATE INDEX IF NOT EXISTS articles_site_fetched ON articles(site, fetched_at, id, region);  -- site_regions
-- Search keys without touching the rows (their texts sit in overflow pages): index/sqlite/search.py
CREATE INDEX IF NOT EXISTS articles_keys ON articles(story_id, canonical, sort_date, id, day, site, region);
CREATE TABLE IF NOT EXISTS quarantine (
    url TEXT PRIMARY KEY, site TEXT NOT NULL, reason TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '', fetched_at TEXT NOT NULL DEFAULT ''
);
-- Contentless: the normalized text already lives in `articles`, so the FTS table
-- keeps only the inverted index. Rows are removed with FTS5's 'delete' command,
-- re-deriving the indexed text from the stored norm_title/norm_text.
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    body, content='', tokenize='unicode61 remove_diacritics 0'
);
"""

_ARTICLE_COLUMNS = ("id", "url", "canonical_url", "site", "title", "text", "norm_title",
                    "norm_text", "text_hash", "published", "fetched_at", "region", "source",
                    "author", "column_name", "story_id", "canonical")   # ArticleRecord's field order
_TIES_READ = 4          # find_by_lsh_bands: tied candidates past the limit read as rows, not ids
_RECORD_COLUMNS = "rowid, " + ", ".join(_ARTICLE_COLUMNS) + ", lsh_bands, attachments"
# The same positions with the text cut to its opening and no normalized text
# (``full_text=False``): what dedup reads of candidates and of a story's copies.
# Decoding the two texts is most of reading a row (~15 -> ~6 us).
_OPENING_COLUMNS = _RECORD_COLUMNS.replace(", text, norm_title, norm_text,",
                                           ", substr(text, 1, 100), norm_title, '',")

def _chunks(items: list, size: int = _SQL_PARAM_CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class SQLiteIndex(DayCounts, ClosesOnExit):
    """``IndexBackend`` over one SQLite file (WAL mode)."""

    local_lsh_lookups = True

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.RLock()
        self._pending = 0
        self._on_commit: list[Callable[[], None]] = []   # commit_unit callbacks not yet durable
        self._closed = False
        self._band_window = BandWindow()   # the LSH lookup's view of band_keys
        try:
            # check_same_thread=False: Scrapy may open the index in one thread and write
            # from the reactor thread; the lock serializes access.
            self._conn = sqlite3.connect(self.path, check_same_thread=False)
        except sqlite3.Error as exc:
            error = sqlite_error(exc, self.path)
            if error is None:
                raise
            raise error from exc
        self._conn.row_factory = sqlite3.Row
        try:
            self._migrate()
            self.state = SQLiteState(self._conn, self._lock, self.flush, self._storage_failed)
        except BaseException:
            self._conn.close()
            raise

    def _storage_failed(self, exc: sqlite3.Error) -> StorageError | None:
        """After a storage failure: roll back the unfinished batch (SQLite may have
        rolled part of it back already), forget what it would have made durable, and
        rebuild the band window from the rows if it saw writes that are now gone."""
        error = sqlite_error(exc, self.path)
        if error is None:
            return None
        with self._lock:
            if self._closed:
                return error
            lost = self._pending or self._conn.in_transaction
            try:
                self._conn.rollback()
            except sqlite3.Error:
                pass
            self._pending = 0
            self._on_commit.clear()
            if lost:
                self._band_window = BandWindow()
        return error

    @guarded
    def _migrate(self) -> None:
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        # 64 MiB page cache (default 2 MiB): dedup looks up ~40 band keys per
        # article in an index that grows with the corpus.
        self._conn.execute("PRAGMA cache_size=-65536")
        self._conn.executescript(_SCHEMA + band_keys.SCHEMA + matching.KEYS_SCHEMA + matching.LEADS_SCHEMA)
        if "attachments" not in {row[1] for row in self._conn.execute("PRAGMA table_info(articles)")}:
            # an index made before attachments were read: additive, no version change
            self._conn.execute("ALTER TABLE articles ADD COLUMN attachments TEXT NOT NULL DEFAULT ''")
        version = self._conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        if version is None:
            self._conn.execute("INSERT INTO schema_version(version) VALUES (?)", (SCHEMA_VERSION,))
        elif version > SCHEMA_VERSION:
            raise RuntimeError(f"{self.path} has index schema v{version}; this newsmon knows "
                               f"v{SCHEMA_VERSION}: upgrade newsmon")
        elif version < SCHEMA_VERSION:
            if version < 4:
                band_keys.migrate(self._conn)
                # articles_story repeated the start of articles_keys: a random insert per write
                self._conn.execute("DROP INDEX IF EXISTS articles_story")
                matching.migrate_keys(self._conn)
            if version < 5:
                rebuild_fts(self._conn)
            matching.migrate_leads(self._conn)
            self._conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        self._conn.commit()

    # -- writing -----------------------------------------------------------------

    def _wrote(self) -> None:
        self._pending += 1
        if self._pending >= AUTOCOMMIT_EVERY:
            self.flush()

    @guarded
    def upsert_article(self, record: ArticleRecord) -> bool:
        values = (record.id, record.url, record.canonical_url, record.site, record.title,
                  record.text, record.norm_title, record.norm_text, record.text_hash,
                  record.published, record.fetched_at or "", record.region, record.source,
                  record.author, record.column, record.story_id, int(record.canonical))
        sort_date = record.published or record.fetched_at or ""
        new_fts = fts_text(record.match_text)
        bands = band_keys.joined(record.lsh_bands)
        attachments = json.dumps(record.attachments, ensure_ascii=False) if record.attachments else ""
        with self._lock:
            old = self._conn.execute(
                "SELECT rowid, norm_title, norm_text, day FROM articles WHERE id = ?", (record.id,)
            ).fetchone()
            assignments = ", ".join(f"{c} = ?" for c in _ARTICLE_COLUMNS[1:])
            if old is None:
                cursor = self._conn.execute(
                    f"INSERT INTO articles ({', '.join(_ARTICLE_COLUMNS)}, sort_date, day, lsh_bands, attachments) "
                    f"VALUES ({', '.join('?' * len(_ARTICLE_COLUMNS))}, ?, ?, ?, ?)",
                    (*values, sort_date, sort_date[:10], bands, attachments))
                rowid = cursor.lastrowid
            else:
                rowid = old["rowid"]
                self._conn.execute(
                    f"UPDATE articles SET {assignments}, sort_date = ?, day = ?, lsh_bands = ?, attachments = ? "
                    "WHERE id = ?", (*values[1:], sort_date, sort_date[:10], bands, attachments, record.id))
                old_fts = fts_text(old["norm_title"] + "\n" + old["norm_text"])
                self._conn.execute(
                    "INSERT INTO articles_fts(articles_fts, rowid, body) VALUES ('delete', ?, ?)",
                    (rowid, old_fts))
            self._conn.execute("INSERT INTO articles_fts(rowid, body) VALUES (?, ?)",
                               (rowid, new_fts))
            matching.store_keys(self._conn, rowid, record, sort_date)
            band_keys.store(self._conn, rowid, sort_date[:10], record.lsh_bands,
                               replacing=old is not None, window=self._band_window)
            self._wrote()
        return old is None

    @guarded
    def begin_story_unit(self) -> None:    # write lock from dedup reads to commit: no copy lands unseen
        with self._lock:
            if not self._conn.in_transaction:
                self._conn.execute("BEGIN IMMEDIATE")

    @guarded
    def set_story(self, article_ids: list[str], story_id: str, canonical_id: str) -> None:
        """Rows are read first and only those that change are updated, one by id:
        an UPDATE that may touch several rows opens a statement savepoint, which
        makes FTS5 flush its pending inserts into a new segment (measured: ~650 us
        a call mid-batch, and more segments to merge later)."""
        wanted = set(article_ids)
        with self._lock:
            rows = self._conn.execute("SELECT id, story_id, canonical, rowid FROM articles WHERE story_id = ?",
                                      (story_id,)).fetchall()
            for chunk in _chunks(list(wanted)):
                rows += self._conn.execute(
                    f"SELECT id, story_id, canonical, rowid FROM articles WHERE id IN ({', '.join('?' * len(chunk))})",
                    chunk).fetchall()
            done = set()
            for article, old_story, old_canonical, rowid in rows:
                if article in done:
                    continue
                done.add(article)
                new_story = story_id if article in wanted else old_story
                new_canonical = int(article == canonical_id) if new_story == story_id else old_canonical
                if (new_story, new_canonical) != (old_story, old_canonical):
                    self._conn.execute("UPDATE articles SET story_id = ?, canonical = ? WHERE id = ?",
                                       (new_story, new_canonical, article))
                    matching.set_story_keys(self._conn, rowid, new_story, new_canonical)
            self._wrote()

    @guarded
    def record_quarantine(self, item: Quarantined) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO quarantine(url, site, reason, title, fetched_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (item.url, item.site, item.reason, item.title or "", item.fetched_at or ""))
            self._wrote()

    @guarded
    def flush(self) -> None:
        with self._lock:
            self._conn.commit()
            self._pending = 0
            durable, self._on_commit = self._on_commit, []
        for callback in durable:
            callback()

    def commit_unit(self, on_durable: Callable[[], None] | None = None) -> None:
        """Commit now (see the module docstring), then call ``on_durable``."""
        if on_durable is not None:
            with self._lock:
                self._on_commit.append(on_durable)
        self.flush()

    def close(self) -> None:
        """Commit and close; closing twice is harmless. A commit that fails is
        rolled back and raised, and the file is closed all the same."""
        with self._lock:
            if self._closed:
                return
            try:
                self.flush()
            finally:
                self._conn.close()
                self._closed = True

    # -- reading articles ------------------------------------------------------------

    def _records(self, rows: list[sqlite3.Row]) -> list[ArticleRecord]:
        return [self._record(row) for row in rows]

    @staticmethod
    def _record(row: sqlite3.Row) -> ArticleRecord:
        """A ``SELECT _RECORD_COLUMNS`` row as a record (by position: dedup reads
        several per article, and a dict of named fields per row costs more)."""
        bands, attachments = row[18], row[19]
        return ArticleRecord(*row[1:17], bool(row[17]), bands.split(" ") if bands else [],
                             json.loads(attachments) if attachments else [])

    @guarded
    def _select(self, where: str, params: tuple | list, order: str = "",
                columns: str = _RECORD_COLUMNS) -> list[ArticleRecord]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {columns} FROM articles WHERE {where} {order}", params).fetchall()
            return self._records(rows)

    def get_article(self, article_id: str) -> ArticleRecord | None:
        found = self._select("id = ?", (article_id,))
        return found[0] if found else None

    def find_by_text_hash(self, text_hash: str) -> list[ArticleRecord]:
        return self._select("text_hash = ?", (text_hash,), "ORDER BY sort_date, id")

    @guarded
    def find_by_lsh_bands(self, bands: list[str], since: str | None = None,
                          limit: int | None = None, min_shared: int = 1,
                          full_text: bool = True) -> list[ArticleRecord]:
        columns = _RECORD_COLUMNS if full_text else _OPENING_COLUMNS
        with self._lock:
            # a few rows more than ``limit`` when ties cross the cut: reading them
            # costs less than the query for their ids (~50 us at 1M articles)
            ranked = {article: (-shared, day) for article, shared, day
                      in band_keys.candidates(self._conn, self._band_window, bands, since, limit,
                                                 min_shared, whole_ties=_TIES_READ)}
            rows: list[sqlite3.Row] = []
            for chunk in _chunks(list(ranked)):
                rows += self._conn.execute(
                    f"SELECT {columns} FROM articles WHERE rowid IN ({', '.join('?' * len(chunk))})",
                    chunk).fetchall()
            rows.sort(key=lambda row: (ranked[row[0]], row[1]))
            return self._records(rows[:limit])

    def story_copies(self, story_id: str, *, full_text: bool = True) -> list[ArticleRecord]:
        columns = _RECORD_COLUMNS if full_text else _OPENING_COLUMNS
        copies = self._select("story_id = ?", (story_id,), columns=columns)
        prefix = None if copies else founder_prefix(story_id)
        if prefix:      # a former id: the story is where the copy it names is now
            with self._lock:
                row = self._conn.execute("SELECT story_id FROM articles WHERE id >= ? AND id < ? LIMIT 1",
                                         (prefix, prefix + "~")).fetchone()
            if row and row[0] != story_id:
                copies = self._select("story_id = ?", (row[0],), columns=columns)
        return order_copies(copies)

    @guarded
    def quarantined(self) -> list[Quarantined]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT url, site, reason, title, fetched_at FROM quarantine "
                "ORDER BY fetched_at, url").fetchall()
        return [Quarantined(**dict(row)) for row in rows]

    @guarded
    def count_articles(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM articles").fetchone()[0]

    # -- search and export -----------------------------------------------------------------

    def search(self, query: Query, *, sites: list[str] | None = None, since: str | None = None,
               until: str | None = None, limit: int | None = 20) -> list[dict]:
        """Stories newest first (canonical copy's date), ties by story_id.

        Filters apply to the matching copies: a story is returned when one of its
        copies matches the query on a wanted site within since..until (inclusive
        days of the published date, else the fetch date); ``copies`` always lists
        the whole story. How candidates are found and verified: ``index/sqlite/search.py``."""
        matches = self.match_stories(query, sites=sites, since=since, until=until, limit=limit)
        return build_stories(self, matches, query)

    @guarded
    def match_stories(self, query: Query, *, sites: list[str] | None = None,
                      regions: list[str] | None = None, since: str | None = None,
                      until: str | None = None, limit: int | None = None, scores: bool = True) -> list[StoryMatch]:
        return matching.match_stories(self._conn, self._lock, query, sites=sites, regions=regions,
                                      since=since, until=until, limit=limit, scores=scores)

    @guarded
    def site_regions(self) -> dict[str, str | None]:
        return matching.site_regions(self._conn, self._lock)

    def export(self) -> Iterator[dict]:
        """Export lines ordered by site, then URL. Read in keyset pages so the lock
        is never held while the consumer works (it may be writing)."""
        after = ("", "", "")
        while True:
            rows = self._export_page(after)
            if not rows:
                return
            for row in rows:
                yield self._record(row).export_dict()
            last = rows[-1]
            after = (last[4], last[2], last[1])   # site, url, id in _RECORD_COLUMNS

    @guarded
    def _export_page(self, after: tuple[str, str, str]) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM articles WHERE (site, url, id) > (?, ?, ?) "
                "ORDER BY site, url, id LIMIT 500", after).fetchall()
