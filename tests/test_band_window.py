"""The SQLite index's in-memory LSH view (index/sqlite/band_window.py) answers like the
table it is built from: across processes, after edits, for days it had to load
or had forgotten, and after its keys were merged into the sorted arrays."""
from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from index import open_index
from index.sqlite import band_window
from index.sqlite.band_kernels import RecentKeys, info
from pipelines.stories.clustering import StoryClusterer
from pipelines.stories.minhash import band_keys, shingle_hashes
from test_index_contract import AI_PARK, FLOOD, LASER, make_record

REPO = Path(__file__).resolve().parents[1]


def keyed(record, text=None):
    """The record with the band keys dedup would give it."""
    record.lsh_bands = band_keys(shingle_hashes(text or record.norm_text))
    return record


def laser_on(day: str, n: int, text: str = LASER):
    return keyed(make_record(f"http://www.sczf.gov.cn/art/{day}/art_{n}.html", "suqian-sucheng",
                             "宿城区召开激光产业园建设推进会", text, day))


def test_an_article_stored_by_another_process_is_found(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with open_index(url) as mine:
        first = laser_on("2024-07-12", 1)
        mine.upsert_article(first)
        mine.flush()
        assert [r.id for r in mine.find_by_lsh_bands(first.lsh_bands, since="2024-07-01")] == [first.id]
        # another crawl, in its own process, stores a repost of the same report
        script = textwrap.dedent(f"""
            import sys; sys.path[:0] = [{str(REPO)!r}, {str(REPO / 'tests')!r}]
            from index import open_index
            from test_band_window import laser_on
            other = open_index({url!r})
            other.upsert_article(laser_on("2024-07-13", 2))
            other.close()
        """)
        subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO)
        found = mine.find_by_lsh_bands(first.lsh_bands, since="2024-07-01")
        assert [r.url for r in found] == [first.url, laser_on("2024-07-13", 2).url]


def test_an_edited_article_is_found_by_its_new_text_only(tmp_path):
    with open_index(f"sqlite:///{tmp_path / 'edit.db'}") as index:
        page = laser_on("2024-07-12", 1)
        index.upsert_article(page)
        assert index.find_by_lsh_bands(page.lsh_bands, since="2024-07-01")
        old_keys = page.lsh_bands
        edited = keyed(make_record(page.url, page.site, "泗洪县防汛", FLOOD, "2024-07-12"))
        index.upsert_article(edited)
        assert index.find_by_lsh_bands(old_keys, since="2024-07-01") == []
        assert [r.id for r in index.find_by_lsh_bands(edited.lsh_bands, since="2024-07-01")] == [page.id]
        # edited down to a text too short for keys: it is found by nothing
        short = make_record(page.url, page.site, "通知", "详见附件。", "2024-07-12")
        index.upsert_article(short)
        assert index.find_by_lsh_bands(edited.lsh_bands, since="2024-07-01") == []


def test_older_days_are_loaded_when_asked_and_forgotten_days_come_back(tmp_path, monkeypatch):
    monkeypatch.setattr(band_window, "MERGE_AT", 100)      # merge (and forget) every few articles
    path = tmp_path / "days.db"
    writer = open_index(f"sqlite:///{path}")
    reader = open_index(f"sqlite:///{path}")
    try:
        march = laser_on("2024-03-01", 1)
        writer.upsert_article(march)
        writer.upsert_article(keyed(make_record("http://www.shuyang.gov.cn/a/1.html", "shuyang",
                                                "沭阳县AI项目签约", AI_PARK, "2024-03-02")))
        writer.flush()
        # the reader first looks at July only: March is not in its view yet
        assert reader.find_by_lsh_bands(march.lsh_bands, since="2024-07-01") == []
        assert reader._band_window.low_day > 0
        # then asks further back: March is read from the index file
        assert [r.id for r in reader.find_by_lsh_bands(march.lsh_bands, since="2024-02-01")] == [march.id]
        # many lookups of autumn days let the view forget March ...
        for n in range(12):
            page = laser_on(f"2024-10-{n + 1:02d}", 100 + n, FLOOD + f"第{n}次")
            writer.upsert_article(page)
            writer.flush()
            reader.find_by_lsh_bands(page.lsh_bands, since=f"2024-09-{n + 1:02d}")
        assert reader._band_window.low_day > 738950           # after 2024-03-01 (day 738946)
        # ... and a lookup that needs it again finds it
        assert [r.id for r in reader.find_by_lsh_bands(march.lsh_bands, since="2024-02-01")] == [march.id]
        assert reader.find_by_lsh_bands(march.lsh_bands, since="2024-03-02") == []
    finally:
        writer.close()
        reader.close()


@pytest.mark.parametrize("merge_at", [40, 100_000])
def test_clustering_is_the_same_whether_keys_are_merged_or_not(tmp_path, monkeypatch, merge_at):
    """Reposts in two months (the same reports again in July), with keys merged into the sorted arrays after
    every article or never: the same stories."""
    monkeypatch.setattr(band_window, "MERGE_AT", merge_at)
    index = open_index(f"sqlite:///{tmp_path / f'merge{merge_at}.db'}")
    clusterer = StoryClusterer(index)
    texts = {"laser": LASER, "flood": FLOOD, "ai": AI_PARK}
    stories = {}
    try:
        for month in ("03", "07"):   # further apart than the 30-day window
            for n, (name, text) in enumerate(texts.items()):
                for copy in range(3):
                    lead = ["", "宿迁网讯：", "（来源：宿迁日报）"][copy]
                    record = make_record(f"http://site{copy}.gov.cn/{month}/{name}.html", f"site{copy}",
                                         name, lead + text + f"（{month}月第{n}期）", f"2024-{month}-1{copy}")
                    clusterer.store(record)
                    stories.setdefault((month, name), set()).add(record.story_id)
        assert all(len(ids) == 1 for ids in stories.values()), stories
        assert len({next(iter(ids)) for ids in stories.values()}) == 6
    finally:
        index.close()


def test_lookups_agree_with_counting_by_hand(tmp_path, monkeypatch):
    """3,000 articles over 90 days with keys drawn from a small pool (so keys are
    shared by many), some re-stored with new keys, merged every ~50 articles, the
    recent keys' table growing (rehashed) in between:
    every lookup returns exactly the articles a brute-force count finds."""
    monkeypatch.setattr(band_window, "MERGE_AT", 2000)
    monkeypatch.setattr(RecentKeys, "START", 64)          # and the recent table grows 64 -> 6,096
    rng = random.Random(4)
    pool = [f"b{i % 32:02d}:{rng.getrandbits(64):016x}" for i in range(4000)]
    index = open_index(f"sqlite:///{tmp_path / 'many.db'}")
    stored = {}
    try:
        for n in range(3000):
            day = f"2024-{1 + n // 1000:02d}-{1 + n % 28:02d}"
            record = make_record(f"http://www.example.gov.cn/{n % 2600}.html", "example", "标题",
                                 LASER, day)
            record.lsh_bands = rng.sample(pool, 40)
            index.upsert_article(record)       # ids repeat past 2,600: re-stored with new keys
            stored[record.id] = (record.lsh_bands, day)
            if n % 97 == 0:
                query = rng.sample(pool, 40) if n % 2 else record.lsh_bands
                since = f"2024-{1 + rng.randrange(3):02d}-{1 + rng.randrange(28):02d}"
                expected = {i for i, (bands, d) in stored.items() if d >= since and set(bands) & set(query)}
                found = index.find_by_lsh_bands(query, since=since)
                assert {r.id for r in found} == expected
                shared = [len(set(r.lsh_bands) & set(query)) for r in found]
                assert shared == sorted(shared, reverse=True)
                assert {r.id for r in index.find_by_lsh_bands(query, since=since, min_shared=2)} == {
                    i for i in expected if len(set(stored[i][0]) & set(query)) >= 2}
    finally:
        index.close()


def test_a_new_process_reads_only_the_days_it_needs(tmp_path):
    """An index with a year of old articles and none recent: the first lookup of
    a new process reads none of the old rows, and neither does the next."""
    path = tmp_path / "old.db"
    writer = open_index(f"sqlite:///{path}")
    for n in range(300):
        writer.upsert_article(laser_on(f"2023-{1 + n % 12:02d}-{1 + n % 28:02d}", n, FLOOD + f"第{n}期"))
    writer.close()
    with open_index(f"sqlite:///{path}") as reader:
        fresh = laser_on("2024-07-12", 1000)
        assert reader.find_by_lsh_bands(fresh.lsh_bands, since="2024-06-12") == []
        # the view is current up to the newest row without having read the old
        # ones: the next lookup reads only rows written after this
        assert reader._band_window.seq == 300
        reader.upsert_article(fresh)
        assert [r.id for r in reader.find_by_lsh_bands(fresh.lsh_bands, since="2024-06-12")] == [fresh.id]
        window = reader._band_window
        assert len(window) == 1 and window.key_count() == len(fresh.lsh_bands)


@pytest.mark.parametrize("start, undated", [(16, False), (1 << 16, False), (1 << 16, True)])
def test_recent_table_finds_every_posting_as_it_grows(monkeypatch, start, undated):
    """The recent keys' hash table (index/sqlite/band_kernels.py) against a dict of
    lists: 500 seqs of 40 keys from a pool of 3,000 (so chains are long), looked
    up after every 50 seqs, the table growing from ``start`` postings. The answer
    is ranked like a brute-force count: most shared, earliest day, lowest rowid,
    also when some articles are undated (day 0: ranked by the slower path, as
    are queries of more than 63 keys)."""
    from index.sqlite.band_kernels import lookup
    monkeypatch.setattr(RecentKeys, "START", start)
    rng = np.random.default_rng(9)
    pool = rng.integers(-2**63, 2**63 - 1, 3000, dtype=np.int64)
    table, expected, day_of = RecentKeys(500 * 40), {}, {}
    seq_of = np.arange(501, dtype=np.int64)       # article n's current seq is n
    empty, no_buckets = np.empty(0, np.int64), np.zeros(257, np.int64)
    for seq in range(1, 501):
        keys = rng.choice(pool, 40, replace=False)
        day_of[seq] = 0 if undated and seq % 7 == 0 else 738_000 + int(rng.integers(0, 5))
        table.add(keys, seq, info(seq, day_of[seq]))
        for key in keys.tolist():
            expected.setdefault(key, []).append(seq)
        if seq % 50 == 0:
            query = rng.choice(pool, 70 if seq % 100 == 0 else 40, replace=False)
            counted = {}
            for key in query.tolist():
                for s in expected.get(key, []):
                    counted[s] = counted.get(s, 0) + 1
            ranked = sorted(((s, n, day_of[s]) for s, n in counted.items()),
                            key=lambda t: (-t[1], t[2], t[0]))
            for check_live in (True, False):     # every seq is current: the same answer
                articles, shared, days = lookup(query, 56, no_buckets, empty, empty, empty, table.slots,
                                                table.posts, table.shift, seq_of, -1, check_live)
                assert list(zip(articles.tolist(), shared.tolist(), days.tolist())) == ranked
    assert table.count == 500 * 40 and (start > 500 * 40 or table.size >= 500 * 40)


def test_merging_sorted_keys_is_inserting_them():
    """The merge kernels place new sorted keys where ``np.searchsorted`` +
    ``np.insert`` would (the arrays a lookup's buckets are cut from stay sorted),
    with repeated keys, empty sides and keys at both ends."""
    from index.sqlite.band_kernels import merge_positions, merged
    rng = np.random.default_rng(3)
    for size, new_size in [(0, 5), (5, 0), (0, 0), (40, 40), (1000, 300)]:
        old = np.sort(rng.integers(-30, 30, size))
        new = np.sort(rng.integers(-40, 40, new_size))
        positions = merge_positions(old, new)
        expected = np.insert(old, np.searchsorted(old, new, side="right"), new)
        assert merged(old, new, positions).tolist() == expected.tolist()
        # the other arrays travel with their keys
        tags, new_tags = np.arange(size), -1 - np.arange(new_size)
        moved = merged(tags, new_tags, positions)
        assert sorted(moved.tolist()) == sorted(tags.tolist() + new_tags.tolist())
        assert merged(old, new, positions)[moved < 0].tolist() == new.tolist()
