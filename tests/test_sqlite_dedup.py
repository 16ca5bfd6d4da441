"""The SQLite index's dedup tables: integer band keys, and indexes written by schema v1."""
from __future__ import annotations

import sqlite3

from index import open_index
from index.sqlite_dedup import band_int, band_ints
from test_index_contract import LASER, make_record


def test_band_keys_map_to_stable_distinct_integers():
    keys = ["b00:0123456789abcdef", "l0:0123456789abcdef", "b07:ffffffffffffffff", "b09:none", "x"]
    values = band_ints(keys)
    assert values == [band_int(k) for k in keys]           # the batch path agrees with one by one
    assert len(set(values)) == len(keys)                   # same hex, other band: another key
    assert all(-2**63 <= v < 2**63 for v in values)        # fits SQLite's INTEGER
    assert band_ints(keys[:2]) == values[:2]               # a key's integer does not depend on its company


def test_v1_index_keeps_its_dedup_keys_after_upgrade(tmp_path):
    path = tmp_path / "old.db"
    index = open_index(f"sqlite:///{path}")
    record = make_record("http://www.sczf.gov.cn/art/2024/7/12/art_1229_3456789.html",
                         "suqian-sucheng", "宿城区召开激光产业园建设推进会", LASER, "2024-07-12")
    index.upsert_article(record)
    index.close()
    # what newsmon <= schema v1 wrote: band strings in a text table
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            DROP TABLE dedup_bands; DROP TABLE dedup_keys;
            CREATE TABLE lsh_bands (band TEXT NOT NULL, article_id TEXT NOT NULL);
            UPDATE schema_version SET version = 1;""")
        conn.executemany("INSERT INTO lsh_bands(band, article_id) VALUES (?, ?)",
                         [("b03:00000000000000aa", record.id), ("l1:odd", record.id)])
    conn.close()
    upgraded = open_index(f"sqlite:///{path}")
    try:
        assert upgraded.get_article(record.id).lsh_bands == ["b03:00000000000000aa", "l1:odd"]
        assert [r.id for r in upgraded.find_by_lsh_bands(["l1:odd"], since="2024-07-01")] == [record.id]
        assert upgraded.find_by_lsh_bands(["l1:odd"], since="2024-07-13") == []
    finally:
        upgraded.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'lsh_bands'").fetchone()[0] == 0
    conn.close()
