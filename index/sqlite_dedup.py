"""Dedup state in the SQLite index: LSH band keys as an integer inverted index.

``ArticleRecord.lsh_bands`` are opaque strings (``b07:<16 hex>``). Stored as
text with two text indexes they took ~5 KB per article and every lookup read
~40 long strings per candidate. Here:

- ``dedup_bands(band, day, article)``, a WITHOUT ROWID table keyed by the band as
  a 64-bit integer (``band_int``), then the day (days since 0001-01-01, so the
  dedup window is a range scan of the key) and the article's rowid: ~15 bytes a
  row, and a lookup of 40 keys is 40 short range scans;
- ``dedup_keys(article, bands)``: the keys exactly as given, space-joined, so
  ``get_article`` returns them unchanged.

``candidates`` ranks the articles sharing any key by how many keys they share
(then day, then id: the same order the Elasticsearch backend uses) and reads
only the best ``limit``.
"""
from __future__ import annotations

import hashlib
import sqlite3
from datetime import date

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS dedup_bands (
    band INTEGER NOT NULL, day INTEGER NOT NULL, article INTEGER NOT NULL,
    PRIMARY KEY (band, day, article)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_keys (article INTEGER PRIMARY KEY, bands TEXT NOT NULL);
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
    pipelines/minhash.py makes) is its hex value xor a hash of the prefix, cheap
    and collision-free in practice; any other string is hashed."""
    prefix, _, digits = key.rpartition(":")
    if len(digits) == 16 and _HEX.issuperset(digits):
        value = int(digits, 16) ^ _salt(prefix)
    else:
        value = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
    return value - (1 << 64) if value >= 1 << 63 else value


_SALTS: dict[tuple[str, ...], np.ndarray] = {}


def band_ints(keys: list[str]) -> list[int]:
    """``band_int`` of each key; the usual 40 ``<prefix>:<16 hex>`` keys of an article
    at once (one ``bytes.fromhex``, the prefixes' salts cached): ~10x faster."""
    if not all(k[-17:-16] == ":" for k in keys):
        return [band_int(k) for k in keys]
    prefixes = tuple(k[:-17] for k in keys)
    salts = _SALTS.get(prefixes)
    if salts is None:
        salts = np.array([_salt(p) for p in prefixes], dtype=np.uint64)
        if len(_SALTS) < 64:
            _SALTS[prefixes] = salts
    try:
        raw = bytes.fromhex("".join(k[-16:] for k in keys))
    except ValueError:
        return [band_int(k) for k in keys]
    return (np.frombuffer(raw, dtype=">u8") ^ salts).view(np.int64).tolist()


def day_number(day: str) -> int:
    """``YYYY-MM-DD`` as an ordinal day; 0 (before any window) when there is no valid date."""
    try:
        return date.fromisoformat(day[:10]).toordinal()
    except ValueError:
        return 0


def store(conn: sqlite3.Connection, article: int, day: str, bands: list[str]) -> None:
    """Index ``bands`` for the article with rowid ``article`` (call ``remove`` first on an update)."""
    if not bands:
        return
    number = day_number(day)
    keys = list(dict.fromkeys(bands))
    conn.executemany("INSERT INTO dedup_bands(band, day, article) VALUES (?, ?, ?)",
                     [(band, number, article) for band in dict.fromkeys(band_ints(keys))])
    conn.execute("INSERT OR REPLACE INTO dedup_keys(article, bands) VALUES (?, ?)",
                 (article, " ".join(keys)))


def remove(conn: sqlite3.Connection, article: int, day: str) -> None:
    """Forget the article's bands (stored under ``day``, the day it had then)."""
    row = conn.execute("SELECT bands FROM dedup_keys WHERE article = ?", (article,)).fetchone()
    if row is None:
        return
    number = day_number(day)
    keys = [k for k in row[0].split(" ") if k]
    conn.executemany("DELETE FROM dedup_bands WHERE band = ? AND day = ? AND article = ?",
                     [(band, number, article) for band in band_ints(keys)])
    conn.execute("DELETE FROM dedup_keys WHERE article = ?", (article,))


def keys_of(conn: sqlite3.Connection, articles: list[int]) -> dict[int, list[str]]:
    """The stored keys of each article rowid, in the order they were given."""
    found: dict[int, list[str]] = {}
    for start in range(0, len(articles), 500):
        chunk = articles[start:start + 500]
        for article, joined in conn.execute(
                f"SELECT article, bands FROM dedup_keys WHERE article IN ({', '.join('?' * len(chunk))})",
                chunk):
            found[article] = joined.split(" ") if joined else []
    return found


def candidates(conn: sqlite3.Connection, bands: list[str], since: str | None,
               limit: int | None) -> list[tuple[int, int, int]]:
    """``(article rowid, shared keys, day)`` of the articles sharing a key with ``bands``
    on or after ``since``, most shared first, then earliest day; at most ``limit``
    of them, those tied at the cut chosen by lowest article id (the caller orders
    ties by id, as Elasticsearch's sort does)."""
    keys = list(dict.fromkeys(band_ints(list(dict.fromkeys(bands)))))
    if not keys or (limit is not None and limit <= 0):
        return []
    # Counting in SQL: an article's copies share ~20 keys, so ~100-200 rows per lookup.
    sql = (f"SELECT article, count(*) AS shared, day FROM dedup_bands "
           f"WHERE band IN ({', '.join('?' * len(keys))})")
    params: list = keys
    if since:
        sql += " AND day >= ?"
        params.append(day_number(since))
    cursor = conn.execute(sql + " GROUP BY article ORDER BY shared DESC, day", params)
    kept: list[tuple[int, int, int]] = []
    for row in cursor:
        if limit is not None and len(kept) >= limit and row[1:] != kept[limit - 1][1:]:
            break
        kept.append(row)
    cursor.close()
    if limit is not None and len(kept) > limit:      # a tied group crosses the cut
        edge = kept[limit - 1][1:]
        head = [k for k in kept if k[1:] != edge]
        tied = [k for k in kept if k[1:] == edge]
        ids = _ids(conn, [k[0] for k in tied])
        tied.sort(key=lambda k: ids.get(k[0], ""))
        kept = head + tied[:limit - len(head)]
    return kept


def _ids(conn: sqlite3.Connection, articles: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(articles), 500):
        chunk = articles[start:start + 500]
        found.update(conn.execute(
            f"SELECT rowid, id FROM articles WHERE rowid IN ({', '.join('?' * len(chunk))})", chunk))
    return found


def migrate_text_bands(conn: sqlite3.Connection) -> None:
    """Schema v1 kept keys in ``lsh_bands(band TEXT, article_id TEXT)``: move them here."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'lsh_bands'").fetchone():
        return
    rows = conn.execute(
        "SELECT a.rowid, a.day, group_concat(b.band, ' ') FROM (SELECT article_id, band FROM lsh_bands "
        "ORDER BY article_id, rowid) b JOIN articles a ON a.id = b.article_id GROUP BY a.rowid").fetchall()
    for article, day, joined in rows:
        store(conn, article, day, joined.split(" "))
    conn.execute("DROP TABLE lsh_bands")
