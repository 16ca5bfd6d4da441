"""Compiled parts of the band window (``index/band_window.py``).

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
        self.posts = np.empty((size, 2), np.int64)      # (seq, the key's previous posting; -1: none)
        self.post_key = np.empty(size, np.int64)        # read only by merges

    def add(self, keys: np.ndarray, seq: int) -> None:
        """Postings of ``keys`` for ``seq``; the caller keeps ``count`` within ``capacity``."""
        if self.count + keys.size > self.size:
            self._grow(max(self.count + keys.size, min(2 * self.size, self.capacity)))
        self.count = _insert(self.slots, self.posts, self.post_key, self.count, self.shift, keys, seq)

    def _grow(self, size: int) -> None:
        keys, seqs, count = self.post_key[:self.count], self.posts[:self.count, 0], self.count
        self._allocate(size)
        self.post_key[:count], self.posts[:count, 0] = keys, seqs
        _rehash(self.slots, self.posts, self.post_key, count, self.shift)

    def postings(self) -> tuple[np.ndarray, np.ndarray]:
        return self.post_key[:self.count], self.posts[:self.count, 0]


@njit(cache=True)
def _slot(key, shift, mask):
    return int((uint64(key) * uint64(_GOLDEN)) >> uint64(shift)) & mask


@njit(cache=True)
def _insert(slots, posts, post_key, count, shift, keys, seq):
    mask = slots.shape[0] - 1
    for key in keys:
        slot = _slot(key, shift, mask)
        while slots[slot, 1] != -1 and slots[slot, 0] != key:
            slot = (slot + 1) & mask
        post_key[count] = key
        posts[count, 0] = seq
        posts[count, 1] = slots[slot, 1]      # -1 for a new key
        slots[slot, 0] = key
        slots[slot, 1] = count
        count += 1
    return count


@njit(cache=True)
def _rehash(slots, posts, post_key, count, shift):
    """Chain postings 0..count-1 (in order, as ``_insert`` did) into empty slots."""
    mask = slots.shape[0] - 1
    for at in range(count):
        key = post_key[at]
        slot = _slot(key, shift, mask)
        while slots[slot, 1] != -1 and slots[slot, 0] != key:
            slot = (slot + 1) & mask
        posts[at, 1] = slots[slot, 1]
        slots[slot, 0] = key
        slots[slot, 1] = at


@njit(cache=True)
def lookup(query, shift, bucket_start, bands, seqs, days, slots, posts, table_shift, article_at,
           day_at, since):
    """``(articles, shared, days)``: the current articles (rowids) on or after
    ``since`` having any of the ``query`` keys, ranked: most keys shared first,
    then earliest day, then rowid. Postings come from each key's bucket of the
    sorted arrays (``bands``/``seqs``/``days``) and from the recent table. Every
    load here is a likely cache miss (the arrays are tens of MB), so each is
    made once: a posting's seq gives its article and day, and a live article
    has one live seq, so that day is the article's."""
    half = bucket_start.size // 2
    mask = slots.shape[0] - 1
    capacity = 0
    heads = np.full(query.size, -1, np.int64)
    for i in range(query.size):
        bucket = (query[i] >> shift) + half
        capacity += bucket_start[bucket + 1] - bucket_start[bucket]
        slot = _slot(query[i], table_shift, mask)
        while slots[slot, 1] != -1:
            if slots[slot, 0] == query[i]:
                heads[i] = slots[slot, 1]
                at = heads[i]
                while at != -1:
                    capacity += 1
                    at = posts[at, 1]
                break
            slot = (slot + 1) & mask
    found = np.empty(capacity, np.int64)
    n = 0
    for i in range(query.size):
        key = query[i]
        bucket = (key >> shift) + half
        for at in range(bucket_start[bucket], bucket_start[bucket + 1]):
            if bands[at] == key and days[at] >= since:
                found[n] = seqs[at]
                n += 1
        at = heads[i]
        while at != -1:
            found[n] = posts[at, 0]
            n += 1
            at = posts[at, 1]
    # (article << 22 | day) of each live posting (day ordinals stay below 2**22,
    # rowids below 2**41): sorting groups an article's postings
    live = np.empty(n, np.int64)
    kept = 0
    for i in range(n):
        article = article_at[found[i]]
        if article >= 0:
            day = day_at[found[i]]
            if day >= since:
                live[kept] = (article << 22) | day
                kept += 1
    live = np.sort(live[:kept])
    distinct = 0
    for i in range(kept):
        if i == 0 or live[i] != live[i - 1]:
            distinct += 1
    unique = np.empty(distinct, np.int64)
    shared = np.zeros(distinct, np.int64)
    article_days = np.empty(distinct, np.int32)
    at = -1
    for i in range(kept):
        if i == 0 or live[i] != live[i - 1]:
            at += 1
            unique[at] = live[i] >> 22
            article_days[at] = live[i] & 0x3FFFFF
        shared[at] += 1
    # most shared first, then earliest day, then lowest rowid (stable sorts of
    # what is already in rowid order)
    order = np.argsort(article_days, kind="mergesort")
    order = order[np.argsort(-shared[order], kind="mergesort")]
    return unique[order], shared[order], article_days[order]


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
