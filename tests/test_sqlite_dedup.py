"""The SQLite index's dedup keys: integer band keys, and indexes written by schemas v1 and v2."""
from __future__ import annotations

import sqlite3

import pytest

from index import open_index
from index.sqlite.backend import SCHEMA_VERSION
from index.sqlite.dedup import band_int, band_ints
from test_index_contract import LASER, make_record


def test_band_keys_map_to_stable_distinct_integers():
    keys = ["b00:0123456789abcdef", "l0:0123456789abcdef", "b07:ffffffffffffffff", "b09:none", "x"]
    values = band_ints(keys).tolist()
    assert values == [band_int(k) for k in keys]           # the batch path agrees with one by one
    assert len(set(values)) == len(keys)                   # same hex, other band: another key
    assert all(-2**63 <= v < 2**63 for v in values)        # fits SQLite's INTEGER
    assert band_ints(keys[:2]).tolist() == values[:2]               # a key's integer does not depend on its company


def _as_older_schema(path, version: int, band_rows: list[tuple[str, str]]) -> None:
    """Rewrite an index file the way newsmon with schema ``version`` left it."""
    with sqlite3.connect(path) as conn:
        conn.executescript("DROP TABLE band_keys; ALTER TABLE articles DROP COLUMN lsh_bands;"
                           "CREATE INDEX articles_story ON articles(story_id, canonical);")
        conn.execute("UPDATE schema_version SET version = ?", (version,))
        if version == 1:      # band strings in a text table
            conn.execute("CREATE TABLE lsh_bands (band TEXT NOT NULL, article_id TEXT NOT NULL)")
            conn.executemany("INSERT INTO lsh_bands(band, article_id) VALUES (?, ?)",
                             [(band, article) for article, band in band_rows])
        else:                 # one integer row per key, and the strings per article rowid
            conn.executescript("""
                CREATE TABLE dedup_bands (band INTEGER NOT NULL, day INTEGER NOT NULL,
                    article INTEGER NOT NULL, PRIMARY KEY (band, day, article)) WITHOUT ROWID;
                CREATE TABLE dedup_keys (article INTEGER PRIMARY KEY, bands TEXT NOT NULL);""")
            for article, band in band_rows:
                rowid = conn.execute("SELECT rowid FROM articles WHERE id = ?", (article,)).fetchone()[0]
                conn.execute("INSERT INTO dedup_keys(article, bands) VALUES (?, ?) ON CONFLICT(article) "
                             "DO UPDATE SET bands = bands || ' ' || excluded.bands", (rowid, band))
    conn.close()


@pytest.mark.parametrize("version", [1, 2])
def test_older_index_keeps_its_dedup_keys_after_upgrade(tmp_path, version):
    path = tmp_path / "old.db"
    record = make_record("http://www.sczf.gov.cn/art/2024/7/12/art_1229_3456789.html",
                         "suqian-sucheng", "宿城区召开激光产业园建设推进会", LASER, "2024-07-12")
    with open_index(f"sqlite:///{path}") as index:
        index.upsert_article(record)
    _as_older_schema(path, version, [(record.id, "b03:00000000000000aa"), (record.id, "l1:odd")])
    with open_index(f"sqlite:///{path}") as upgraded:
        assert upgraded.get_article(record.id).lsh_bands == ["b03:00000000000000aa", "l1:odd"]
        assert [r.id for r in upgraded.find_by_lsh_bands(["l1:odd"], since="2024-07-01")] == [record.id]
        assert upgraded.find_by_lsh_bands(["l1:odd"], since="2024-07-13") == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name IN "
                            "('lsh_bands', 'dedup_bands', 'dedup_keys', 'articles_story')").fetchone()[0] == 0
    conn.close()
