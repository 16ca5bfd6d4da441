"""Compiled parts of the band window (``index/sqlite/band_window.py``).

Keys applied since the last merge live in an open-addressing hash table held in
numpy arrays (``RecentKeys``): a slot per distinct key, and a posting per
(key, seq) chained from the slot to the key's earlier postings. As a Python dict
(band -> seq, plus a dict of lists for keys seen twice) the 40 inserts and 40
lookups of an article cost ~45 us, most of it interpreter work and cache misses
on a dict of 250k entries; here each is one call. The postings are also what a
merge needs: the (key, seq) pairs, in arrays already.

``lookup`` answers a query from both the merged sorted arrays and the table,
resolves seqs to current articles and ranks them.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uint64

_GOLDEN = 0x9E3779B97F4A7C15      # Fibonacci hashing: the slot is the product's top bits


class RecentKeys:
    """Hash table of keys applied since the last merge, with room for ``capacity``
    postings; it starts small and doubles up to that (a small index need not
    allocate the table a million keys need)."""

    START = 1 << 16

    def __init__(self, capacity: int, size: int | None = None):
        self.capacity = capacity
        self._allocate(min(capacity, self.START) if size is None else size)
        self.count = 0

    def _allocate(self, size: int) -> None:
        self.size = size
        bits = max(4, (2 * size - 1).bit_length())      # at most half full
        self.shift = 64 - bits
        # (key, its latest posting; -1: empty slot) side by side: one cache line a probe
        self.slots = np.empty((1 << bits, 2), np.int64)
        self.slots[:, 1] = -1
        # (seq, the key's previous posting or -1, the seq's ``info``)
        self.posts = np.empty((size, 3), np.int64)
        self.post_key = np.empty(size, np.int64)        # read only by merges

    def add(self, keys: np.ndarray, seq: int, info: int) -> None:
        """Postings of ``keys`` for ``seq`` (``info``: see ``info``); the caller keeps
        ``count`` within ``capacity``."""
        if self.count + keys.size > self.size:
            self._grow(max(self.count + keys.size, min(2 * self.size, self.capacity)))
        self.count = _insert(self.slots, self.posts, self.post_key, self.count, self.shift, keys,
                             seq, info)

    def _grow(self, size: int) -> None:
        keys, posts, count = self.post_key[:self.count], self.posts[:self.count], self.count
        self._allocate(size)
        self.post_key[:count], self.posts[:count] = keys, posts
        _rehash(self.slots, self.posts, self.post_key, count, self.shift)

    def postings(self) -> tuple[np.ndarray, np.ndarray]:
        return self.post_key[:self.count], self.posts[:self.count, 0]


DAY_BITS = 22                     # day ordinals stay below 2**22 (year 9999: 3.65M)


def info(article: int, day: int) -> int:
    """What a posting says of its seq: ``article << DAY_BITS | day`` (rowids stay
    below 2**41). With it in the posting, a lookup needs no per-seq arrays, only
    whether the seq is still the article's current one (``seq_of``)."""
    return (article << DAY_BITS) | day


@njit(cache=True)
def _slot(key, shift, mask):
    return int((uint64(key) * uint64(_GOLDEN)) >> uint64(shift)) & mask


@njit(cache=True)
def _probe(slots, key, shift):
    """The key's slot, or the empty slot where it would go (linear probing)."""
    mask = slots.shape[0] - 1
    slot = _slot(key, shift, mask)
    while slots[slot, 1] != -1 and slots[slot, 0] != key:
        slot = (slot + 1) & mask
    return slot


@njit(cache=True)
def _insert(slots, posts, post_key, count, shift, keys, seq, info):
    for key in keys:
        slot = _probe(slots, key, shift)
        post_key[count] = key
        posts[count, 0] = seq
        posts[count, 1] = slots[slot, 1]      # -1 for a new key
        posts[count, 2] = info
        slots[slot, 0] = key
        slots[slot, 1] = count
        count += 1
    return count


@njit(cache=True)
def _rehash(slots, posts, post_key, count, shift):
    """Chain postings 0..count-1 (in order, as ``_insert`` did) into empty slots."""
    for at in range(count):
        key = post_key[at]
        slot = _probe(slots, key, shift)
        posts[at, 1] = slots[slot, 1]
        slots[slot, 0] = key
        slots[slot, 1] = at


@njit(cache=True)
def lookup(query, shift, bucket_start, bands, seqs, infos, slots, posts, table_shift, seq_of, since,
           check_live):
    """``(articles, shared, days)``: the current articles (rowids) on or after
    ``since`` having any of the ``query`` keys, ranked: most keys shared first,
    then earliest day, then rowid. Postings come from each key's bucket of the
    sorted arrays (``bands``/``seqs``/``infos``) and from the recent table, and
    count if their seq is still their article's (``seq_of``; only when
    ``check_live``: the caller knows when no replaced row's postings remain). The arrays are
    tens of MB, so every random load is a likely cache miss: a posting carries
    its article and day (a common phrase's key has hundreds of postings), and
    only the article's current seq is looked up, once per article in effect."""
    half = bucket_start.size // 2
    day_mask = (1 << DAY_BITS) - 1
    capacity = 0
    heads = np.empty(query.size, np.int64)        # the key's latest posting in the table; -1: none
    for i in range(query.size):
        bucket = (query[i] >> shift) + half
        capacity += bucket_start[bucket + 1] - bucket_start[bucket]
        heads[i] = slots[_probe(slots, query[i], table_shift), 1]
        at = heads[i]
        while at != -1:
            capacity += 1
            at = posts[at, 1]
    live = np.empty(capacity, np.int64)       # the infos of the live postings
    kept = 0
    for i in range(query.size):
        key = query[i]
        bucket = (key >> shift) + half
        for at in range(bucket_start[bucket], bucket_start[bucket + 1]):
            if bands[at] == key:
                kept = _keep(seqs[at], infos[at], seq_of, since, day_mask, live, kept, check_live)
        at = heads[i]
        while at != -1:
            kept = _keep(posts[at, 0], posts[at, 2], seq_of, since, day_mask, live, kept, check_live)
            at = posts[at, 1]
    unique, shared, article_days = _count(live[:kept])
    return _ranked(unique, shared, article_days, query.size)


@njit(cache=True)
def _count(live):
    """Distinct infos (an article and its day: a live article has one seq) and how
    many postings each has, in first-seen order. Counted in a small hash table:
    sorting the postings first (numba's sort) was ~15 us of a lookup at 1M articles."""
    size = 16
    while size < 2 * live.size:
        size *= 2
    mask = size - 1
    shift = 64 - _bits(mask)
    slot_info = np.full(size, -1, np.int64)
    slot_at = np.empty(size, np.int64)
    infos = np.empty(live.size, np.int64)
    shared = np.zeros(live.size, np.int64)
    distinct = 0
    for value in live:
        slot = _slot(value, shift, mask)
        while slot_info[slot] != -1 and slot_info[slot] != value:
            slot = (slot + 1) & mask
        if slot_info[slot] == -1:
            slot_info[slot] = value
            slot_at[slot] = distinct
            infos[distinct] = value
            distinct += 1
        shared[slot_at[slot]] += 1
    infos, shared = infos[:distinct], shared[:distinct]
    return infos >> DAY_BITS, shared, (infos & ((1 << DAY_BITS) - 1)).astype(np.int32)


@njit(cache=True)
def _bits(mask):
    bits = 0
    while mask:
        bits += 1
        mask >>= 1
    return bits


@njit(cache=True)
def _ranked(unique, shared, article_days, keys):
    """Most shared first, then earliest day, then lowest rowid. Usually one sort of
    one int64 per article, (keys - shared, day - first day, rowid) in 6, 16 and 41
    bits (two stable argsorts were another ~15 us); days more than 2**16 apart
    (an undated article is day 0) or more than 63 keys take stable argsorts."""
    if unique.size == 0:
        return unique, shared, article_days
    first, last = article_days.min(), article_days.max()
    if last - first < (1 << 16) and keys < 64:
        order_key = ((keys - shared) << 57) | ((article_days - first).astype(np.int64) << 41) | unique
        order_key.sort()
        return (order_key & ((1 << 41) - 1), keys - (order_key >> 57),
                (((order_key >> 41) & 0xFFFF) + first).astype(np.int32))
    order = np.argsort(unique, kind="mergesort")
    order = order[np.argsort(article_days[order], kind="mergesort")]
    order = order[np.argsort(-shared[order], kind="mergesort")]
    return unique[order], shared[order], article_days[order]


@njit(cache=True)
def _keep(seq, info, seq_of, since, day_mask, live, kept, check_live):
    if info >= 0 and (info & day_mask) >= since:
        article = info >> DAY_BITS
        if not check_live or (article < seq_of.size and seq_of[article] == seq):
            live[kept] = info
            return kept + 1
    return kept


@njit(cache=True)
def ranked_cut(shared, days, min_shared, limit):
    """How many of a ranked answer to keep: those sharing ``min_shared`` or more keys
    (a prefix: most shared come first), at most ``limit`` (-1: no limit) plus any
    tied with the last kept one (same keys shared, same day)."""
    end = 0
    while end < shared.size and shared[end] >= min_shared:
        end += 1
    if 0 <= limit < end:
        cut = limit
        while limit > 0 and cut < end and shared[cut] == shared[limit - 1] and days[cut] == days[limit - 1]:
            cut += 1
        end = cut
    return end


@njit(cache=True)
def merge_positions(bands, new_bands):
    """Where each of the sorted ``new_bands`` goes when merged into the sorted
    ``bands`` (after equal keys): what ``np.searchsorted`` + ``np.insert`` work
    out, in one pass (those took ~300 ms a merge at 1M articles)."""
    positions = np.empty(new_bands.size, np.int64)
    i = 0
    for j in range(new_bands.size):
        while i < bands.size and bands[i] <= new_bands[j]:
            i += 1
        positions[j] = i + j
    return positions


@njit(cache=True)
def merged(values, new_values, positions):
    """``values`` with ``new_values`` placed at ``positions`` (``merge_positions``).
    One array at a time, so a merge holds one new array beside the old ones."""
    out = np.empty(values.size + new_values.size, np.int64)
    i = 0
    for j in range(new_values.size):
        while i + j < positions[j]:
            out[i + j] = values[i]
            i += 1
        out[positions[j]] = new_values[j]
    while i < values.size:
        out[i + new_values.size] = values[i]
        i += 1
    return out
