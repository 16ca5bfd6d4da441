"""The SQLite index's LSH lookup: an in-memory view of the dedup keys of recent days.

Why not SQL: a lookup of an article's 40 band keys in a (band, day, article)
B-tree cost ~150 us from Python, and writing its 40 rows into that tree ~80 us
plus their share of the commit, growing with the tree (random pages: at 1M
articles the tree no longer fits the page cache). The baseline it is compared
with (datasketch's in-memory ``MinHashLSH``) does 32 dict lookups.

So the index file keeps one row per article (``band_keys``: its day and its keys
as packed 64-bit integers), and this view, built from those rows, answers
lookups. The rows stay the record; the view is a cache that needs nothing to
survive a restart. It stays current across processes by reading the rows whose
``seq`` is above the last it applied (every write gets a new, higher ``seq``; a
re-stored article replaces its row and the view drops the old keys), so
articles stored by another crawl are found like one's own. It holds only the
days lookups ask for (``since``), loads older ones on demand, and forgets days
far below every recent lookup.

Layout: the keys merged so far are three numpy arrays sorted by band (band,
seq, and the seq's article and day packed in one int64: 24 bytes a key),
bucketed by their top bits; keys applied since the last merge sit in a hash
table (``index/sqlite/band_kernels.py``) until there are ``MERGE_AT`` of them, then go
in with one compiled O(n) merge of the sorted batch. A posting counts while its
seq is its article's current one (``_seq_of``; checked only while a replaced
row's postings are still in the arrays), so a lookup (one compiled call) needs
no other per-seq array.
"""
from __future__ import annotations

import sqlite3

import numpy as np

from index.sqlite.band_kernels import DAY_BITS, RecentKeys, info, lookup, merge_positions, merged

MERGE_AT = 1_000_000      # keys in the recent table before they are merged into the sorted arrays
FORGET_AFTER_DAYS = 30    # keep this many days below the lowest ``since`` recently asked
_I64 = np.int64
_ROWS = "SELECT seq, article, day, packed FROM band_keys"
_ROOM = 4096              # postings past MERGE_AT: the article that crosses it fits


def _grown(array: np.ndarray, size: int, fill: int) -> np.ndarray:
    if size <= array.size:
        return array
    bigger = np.full(max(size, 2 * array.size, 1024), fill, dtype=array.dtype)
    bigger[:array.size] = array
    return bigger


class BandWindow:
    def __init__(self) -> None:
        self.low_day: int | None = None      # every stored key with day >= low_day is here
        self.seq = 0                         # the highest band_keys.seq applied
        self._bands = np.empty(0, _I64)      # merged keys, sorted by band
        self._shift = 56                     # band >> shift: its bucket of the sorted arrays
        self._bucket_start = np.zeros(257, _I64)   # where each bucket starts; one past the last
        self._seqs = np.empty(0, _I64)
        self._infos = np.empty(0, _I64)      # the seq's article and day (band_kernels.info); -1: dead
        self._recent = RecentKeys(MERGE_AT + _ROOM)   # keys not merged yet
        self._article_at = np.empty(0, _I64)     # seq -> article rowid; -1: replaced or forgotten
        self._day_at = np.empty(0, np.int32)     # seq -> day
        self._keys_at = np.empty(0, np.int32)    # seq -> how many keys
        self._seq_of = np.empty(0, _I64)         # article rowid -> its current seq; 0: none here
        self._live = 0
        self._dead = 0                            # keys of replaced rows still in the arrays
        self._lowest_asked: int | None = None     # lowest ``since`` asked since the last merge
        self._version = 0                         # bumped by every change to what lookups see
        self._last_lookup: tuple = (b"", None, -1, None)   # (bands, since, version, answer)
        self._data_version: int | None = None     # PRAGMA data_version when last current
        self._behind = False                      # rows below one we wrote are not applied yet

    def __len__(self) -> int:
        """Articles in the view."""
        return self._live

    def key_count(self) -> int:
        return int(self._bands.size) + self._recent.count

    # -- keeping current ----------------------------------------------------------------

    def _drop(self, seqs: np.ndarray) -> None:
        """Forget these seqs' rows (replaced, or of forgotten days); their postings
        stay in the arrays, dead, until a merge compacts them."""
        self._version += 1
        self._dead += int(self._keys_at[seqs].sum())
        self._seq_of[self._article_at[seqs]] = 0
        self._article_at[seqs] = -1
        self._live -= int(seqs.size)

    def _apply(self, seq: int, article: int, day: int, packed: bytes) -> None:
        self._seq_of = _grown(self._seq_of, article + 1, 0)
        old = int(self._seq_of[article])
        if old:
            if old >= seq:
                return                         # already have this row (or a newer one)
            self._drop(np.array([old], _I64))
        if self.low_day is None or day < self.low_day or not packed:
            return
        if seq >= self._article_at.size:
            self._article_at = _grown(self._article_at, seq + 1, -1)
            self._day_at = _grown(self._day_at, seq + 1, 0)
            self._keys_at = _grown(self._keys_at, seq + 1, 0)
        self._version += 1
        keys = len(packed) // 8
        self._article_at[seq], self._day_at[seq], self._keys_at[seq] = article, day, keys
        self._seq_of[article] = seq
        self._live += 1
        bands = np.frombuffer(packed, dtype="<i8")
        if self._recent.count + keys > self._recent.capacity:
            self._merge()
            if keys > self._recent.capacity:
                self._recent = RecentKeys(keys + _ROOM)
        self._recent.add(bands, seq, info(article, day))

    def refresh(self, conn: sqlite3.Connection) -> None:
        """Apply the rows written since the last call: this connection's were
        applied as it wrote them (``wrote``); another connection's commits change
        ``PRAGMA data_version``, and only then are the rows read (a query per
        lookup was ~25 us)."""
        if self.low_day is None:
            return
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version and not self._behind:
            return
        self._data_version, self._behind = version, False
        rows = conn.execute(f"{_ROWS} WHERE seq > ? ORDER BY seq", (self.seq,)).fetchall()
        for row in rows:
            self._apply(*row)
        if rows:
            self.seq = max(self.seq, rows[-1][0])
        if self._recent.count >= MERGE_AT:
            self._merge()

    def wrote(self, seq: int, article: int, day: int, packed: bytes) -> None:
        """This connection just wrote this row (committed or not: it sees its own
        writes). Applied now if it is the next seq; otherwise another connection
        wrote in between, and the next ``refresh`` reads both."""
        if self.low_day is None:
            return                  # nothing loaded yet: ``cover`` will read it
        if seq != self.seq + 1:
            self._behind = True
            return
        self._apply(seq, article, day, packed)
        self.seq = seq
        if self._recent.count >= MERGE_AT:
            self._merge()

    def cover(self, conn: sqlite3.Connection, since: int) -> None:
        """Make sure every key with day >= ``since`` is here (call ``refresh`` first)."""
        if self._lowest_asked is None or since < self._lowest_asked:
            self._lowest_asked = since
        if self.low_day is not None and since >= self.low_day:
            return
        if self.low_day is None:
            self._data_version = conn.execute("PRAGMA data_version").fetchone()[0]
            # Rows are committed in seq order: every row up to the highest seq seen
            # now is visible, and refresh reads the ones above it.
            self.seq = conn.execute("SELECT coalesce(max(seq), 0) FROM band_keys").fetchone()[0]
            rows = conn.execute(f"{_ROWS} WHERE day >= ? AND seq <= ? ORDER BY seq",
                                (since, self.seq)).fetchall()
        else:   # rows above self.seq were seen by refresh, which skipped these days
            rows = conn.execute(f"{_ROWS} WHERE day >= ? AND day < ? AND seq <= ? ORDER BY seq",
                                (since, self.low_day, self.seq)).fetchall()
        self.low_day = since
        for row in rows:
            self._apply(*row)
        if self._recent.count >= MERGE_AT:
            self._merge()

    def _merge(self) -> None:
        """Move the recent table's keys into the sorted arrays; drop replaced rows'
        keys and days far below every lookup since the last merge."""
        # Forgetting goes in steps of FORGET_AFTER_DAYS, so a lookup a little
        # further back than the last ones does not reload what was just dropped.
        forget_below = None
        if self._lowest_asked is not None and self.low_day is not None:
            forget_below = self._lowest_asked - FORGET_AFTER_DAYS
            if forget_below <= self.low_day + FORGET_AFTER_DAYS:
                forget_below = None
        if forget_below is not None:
            self.low_day = forget_below
            live = np.flatnonzero(self._article_at >= 0)
            self._drop(live[self._day_at[live] < forget_below])
        bands, seqs = self._recent.postings()
        # one key's postings may come in any order: the unstable sort is ~4x faster
        order = np.argsort(bands)
        bands, seqs = bands[order], seqs[order]
        articles = self._article_at[seqs]
        infos = np.where(articles >= 0, (articles << DAY_BITS) | self._day_at[seqs], -1)
        positions = merge_positions(self._bands, bands)
        self._bands = merged(self._bands, bands, positions)
        self._seqs = merged(self._seqs, seqs, positions)
        self._infos = merged(self._infos, infos, positions)
        if forget_below is not None or self._dead * 4 > self._bands.size:
            keep = self._article_at[self._seqs] >= 0
            self._bands, self._seqs, self._infos = self._bands[keep], self._seqs[keep], self._infos[keep]
            self._dead = 0
        if self._recent.count:
            # the next table starts at this one's size: the same crawl fills it again
            self._recent = RecentKeys(max(MERGE_AT + _ROOM, self._recent.capacity),
                                      self._recent.size)
        self._index_buckets()
        self._lowest_asked = None

    def _index_buckets(self) -> None:
        """Bucket the sorted keys by their top bits (~4 keys a bucket: band values
        are hashes, so evenly spread). A lookup then reads its bucket, one or two
        cache lines, instead of a binary search through millions of keys (~20
        cache misses each: at 100k articles 40 searches were ~50 us)."""
        bits = max(8, min(24, (self._bands.size // 4).bit_length()))
        self._shift = 64 - bits
        buckets = (self._bands >> self._shift) + (1 << (bits - 1))   # 0 .. 2**bits - 1, ascending
        self._bucket_start = np.zeros((1 << bits) + 1, _I64)
        np.cumsum(np.bincount(buckets, minlength=1 << bits), out=self._bucket_start[1:])

    # -- lookup ------------------------------------------------------------------------

    def shared_keys(self, bands: np.ndarray, since: int | None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(articles, shared, days)``: each current article (rowid) with day >=
        ``since`` (any loaded day when None) having any of ``bands`` (distinct
        int64 keys), how many of them it has, and its day; most shared first, then
        earliest day, then rowid. The last answer is kept until the view changes:
        dedup asks again when the best candidate was not a clear duplicate."""
        asked = bands.tobytes()
        last_bands, last_since, last_version, answer = self._last_lookup
        if last_version == self._version and last_since == since and last_bands == asked:
            return answer
        recent = self._recent
        answer = lookup(bands, self._shift, self._bucket_start, self._bands, self._seqs, self._infos,
                        recent.slots, recent.posts, recent.shift, self._seq_of,
                        -1 if since is None else since, self._dead > 0)
        self._last_lookup = (asked, since, self._version, answer)
        return answer
