"""Dedup state in the SQLite index: one row of band keys per article, and the lookup.

``ArticleRecord.lsh_bands`` are opaque strings (``b07:<16 hex>``); the article row
keeps them as given (``articles.lsh_bands``, space-joined). For lookups each key
is a 64-bit integer (``band_int``), and ``band_keys`` holds an article's integers
packed in one row with its day (days since 0001-01-01). ``index/sqlite/band_window.py``
reads those rows into memory and answers ``candidates``; ``seq`` (never reused)
orders the writes so it can pick up new and replaced rows, whoever wrote them.

History: schema v1 kept text keys in ``lsh_bands(band, article_id)`` (~5 KB an
article); v2 one integer row per key in ``dedup_bands(band, day, article)``,
whose per-article lookup (~150 us) and 40 random B-tree inserts (~80 us, more
once the tree outgrows the page cache) were most of dedup's cost.

``candidates`` ranks the articles sharing any key by how many keys they share
(then day, then id: the same order the Elasticsearch backend uses) and reads
only the best ``limit``.
"""
from __future__ import annotations

import hashlib
import sqlite3
from datetime import date

import numpy as np

from index.sqlite.band_kernels import ranked_cut
from index.sqlite.band_window import BandWindow

SCHEMA = """
CREATE TABLE IF NOT EXISTS band_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,   -- write order; a re-stored article gets a new one
    article INTEGER NOT NULL UNIQUE,         -- articles.rowid
    day INTEGER NOT NULL,
    packed BLOB NOT NULL                     -- the keys' band_int values, little-endian int64
);
CREATE INDEX IF NOT EXISTS band_keys_day ON band_keys(day);
"""

_HEX = frozenset("0123456789abcdef")
_PREFIX_SALT: dict[str, int] = {}


def _salt(prefix: str) -> int:
    salt = _PREFIX_SALT.get(prefix)
    if salt is None:
        salt = _PREFIX_SALT[prefix] = int.from_bytes(
            hashlib.blake2b(prefix.encode(), digest_size=8).digest(), "little")
    return salt


def band_int(key: str) -> int:
    """A signed 64-bit integer for a band key string. ``<prefix>:<16 hex>`` (what
    pipelines/stories/minhash.py makes) is its hex value xor a hash of the prefix, cheap
    and collision-free in practice; any other string is hashed."""
    prefix, _, digits = key.rpartition(":")
    if len(digits) == 16 and _HEX.issuperset(digits):
        value = int(digits, 16) ^ _salt(prefix)
    else:
        value = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
    return value - (1 << 64) if value >= 1 << 63 else value


_SALTS: dict[tuple[str, ...], np.ndarray] = {}


def _salts(prefixes: tuple[str, ...]) -> np.ndarray:
    salts = _SALTS.get(prefixes)
    if salts is None:
        salts = np.array([_salt(p) for p in prefixes], dtype=np.uint64)
        if len(_SALTS) < 64:
            _SALTS[prefixes] = salts
    return salts


def band_ints(keys: list[str]) -> np.ndarray:
    """``band_int`` of each key, without repeats (int64, in first-seen order). Keys
    from ``pipelines.stories.minhash.band_keys`` carry their values and prefixes
    (``BandKeys``): one xor with the prefixes' salts. Other ``<prefix>:<16 hex>``
    keys are parsed at once (one ``bytes.fromhex``), anything else hashed one by one."""
    global _last_converted
    values = getattr(keys, "values", None)
    carried = values is not None and len(values) == len(keys)
    if carried:
        if _last_converted[0] is values:      # an article's keys are looked up, then stored
            return _last_converted[1]
        converted = (values ^ _salts(keys.prefixes)).view(np.int64)
    else:
        converted = np.array(_band_ints(keys), dtype=np.int64)
    as_list = converted.tolist()
    if len(set(as_list)) < len(as_list):
        converted = np.array(list(dict.fromkeys(as_list)), dtype=np.int64)
    if carried:
        _last_converted = (values, converted)
    return converted


_last_converted: tuple[np.ndarray | None, np.ndarray] = (None, np.empty(0, np.int64))


def _band_ints(keys: list[str]) -> list[int]:
    if not all(k[-17:-16] == ":" for k in keys):
        return [band_int(k) for k in keys]
    try:
        raw = bytes.fromhex("".join(k[-16:] for k in keys))
    except ValueError:
        return [band_int(k) for k in keys]
    salts = _salts(tuple(k[:-17] for k in keys))
    return (np.frombuffer(raw, dtype=">u8") ^ salts).view(np.int64).tolist()


def day_number(day: str) -> int:
    """``YYYY-MM-DD`` as an ordinal day; 0 (before any window) when there is no valid date."""
    try:
        return date.fromisoformat(day[:10]).toordinal()
    except ValueError:
        return 0


def store(conn: sqlite3.Connection, article: int, day: str, bands: list[str],
          replacing: bool, window: BandWindow | None = None) -> None:
    """Index ``bands`` for the article with rowid ``article``. ``replacing``: the
    article had a row, which this one replaces (even with no keys, so the window
    forgets the old ones). ``window``: this connection's view, told of the row."""
    if not bands and not replacing:
        return
    packed = band_ints(bands).astype("<i8").tobytes()
    if replacing:   # the new row gets a new seq, which tells the window to drop the old keys
        conn.execute("DELETE FROM band_keys WHERE article = ?", (article,))
    number = day_number(day)
    seq = conn.execute("INSERT INTO band_keys(article, day, packed) VALUES (?, ?, ?)",
                       (article, number, packed)).lastrowid
    if window is not None:
        window.wrote(seq, article, number, packed)


def joined(bands: list[str]) -> str:
    """The keys as ``articles.lsh_bands`` keeps them."""
    return " ".join(dict.fromkeys(bands))


def candidates(conn: sqlite3.Connection, window: BandWindow, bands: list[str], since: str | None,
               limit: int | None, min_shared: int = 1,
               whole_ties: int = 0) -> list[tuple[int, int, int]]:
    """``(article rowid, shared keys, day)`` of the articles sharing ``min_shared`` or
    more keys with ``bands`` on or after ``since``, most shared first, then earliest
    day; at most ``limit`` of them, those tied at the cut chosen by lowest article
    id (the caller orders ties by id, as Elasticsearch's sort does). A tied group
    that crosses the cut by at most ``whole_ties`` is returned whole instead: a
    caller that reads the rows anyway orders it by id and cuts, without the query
    for the ids."""
    keys = band_ints(bands)
    if not keys.size or (limit is not None and limit <= 0):
        return []
    since_day = day_number(since) if since else None
    window.refresh(conn)
    window.cover(conn, since_day if since_day is not None else 0)
    articles, shared, days = window.shared_keys(keys, since_day)   # ranked
    end = ranked_cut(shared, days, min_shared, -1 if limit is None else limit)
    articles, shared, days = articles[:end], shared[:end], days[:end]
    kept = list(zip(articles.tolist(), shared.tolist(), days.tolist()))
    if limit is not None and len(kept) > limit and kept[limit][1:] == kept[limit - 1][1:]:
        if len(kept) - limit <= whole_ties:
            return kept
        edge = kept[limit - 1][1:]              # a tied group crosses the cut
        first = next(i for i, k in enumerate(kept) if k[1:] == edge)
        tied = [k for k in kept[first:] if k[1:] == edge]
        ids = _ids(conn, [k[0] for k in tied])
        tied.sort(key=lambda k: ids.get(k[0], ""))
        return kept[:first] + tied[:limit - first]
    return kept[:limit] if limit is not None else kept


def _ids(conn: sqlite3.Connection, articles: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(articles), 500):
        chunk = articles[start:start + 500]
        found.update(conn.execute(
            f"SELECT rowid, id FROM articles WHERE rowid IN ({', '.join('?' * len(chunk))})", chunk))
    return found


def migrate(conn: sqlite3.Connection) -> None:
    """Bring v1 (``lsh_bands`` text table) and v2 (``dedup_bands`` + ``dedup_keys``)
    dedup keys into ``articles.lsh_bands`` and ``band_keys``."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(articles)")}
    if "lsh_bands" not in columns:
        conn.execute("ALTER TABLE articles ADD COLUMN lsh_bands TEXT NOT NULL DEFAULT ''")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "lsh_bands" in tables:         # v1
        rows = conn.execute(
            "SELECT a.rowid, a.day, group_concat(b.band, ' ') FROM (SELECT article_id, band FROM lsh_bands "
            "ORDER BY article_id, rowid) b JOIN articles a ON a.id = b.article_id GROUP BY a.rowid").fetchall()
        conn.execute("DROP TABLE lsh_bands")
    elif "dedup_keys" in tables:      # v2
        rows = conn.execute("SELECT a.rowid, a.day, k.bands FROM dedup_keys k "
                            "JOIN articles a ON a.rowid = k.article").fetchall()
    else:
        rows = []
    conn.execute("DROP TABLE IF EXISTS dedup_keys")
    conn.execute("DROP TABLE IF EXISTS dedup_bands")
    for article, day, text in rows:
        bands = [k for k in (text or "").split(" ") if k]
        conn.execute("UPDATE articles SET lsh_bands = ? WHERE rowid = ?", (joined(bands), article))
        store(conn, article, day, bands, replacing=False)
