"""MinHash signatures and LSH band keys over character shingles, compiled with numba.

Why not ``datasketch.MinHash``: its ``update_batch`` hashes every shingle with
sha1 in a Python loop and then permutes each hash 128 times with a modulo on a
61-bit prime. Here a document's shingles are hashed in one pass (a polynomial
over the code points of the k characters, then the splitmix64 finalizer) and the
128 "permutations" are one-permutation hashing (``signature``): sort the hashes
once, take the smallest in each of 128 hash ranges.

Why numba: the same steps as numpy array code are 30-odd numpy calls on arrays of
a few hundred values, and the calls' fixed overhead was most of their cost;
compiled loops do them in three calls (measured on the benchmark corpus, one
core: ~56 -> ~14 us for the hashes, their set, both signatures and the keys).
The kernels are compiled on first use and cached on disk (``cache=True``;
``make install`` compiles them, ``pipelines/warmup.py``).

Band keys are plain strings so every backend stores them as keyword terms:
``b07:<16 hex>`` for band 7 of the whole-text signature, ``l3:<16 hex>`` for band
3 of the lead signature (the first ``LEAD_CHARS`` characters). The lead bands
find truncated reposts, whose whole-text Jaccard can be far below the threshold
while their opening is the original's. Stored indexes hold these keys, so they
must never change: ``tests/test_minhash.py`` pins them.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uint64

SHINGLE = 5                  # characters per shingle
NUM_PERM = 128               # whole-text signature: 32 bands x 4 rows
BANDS = 32
LEAD_CHARS = 160             # lead signature: the opening of the dedup form
LEAD_BANDS = 8               # 8 bands x 4 rows: a 32-bin signature of the lead
_ROWS = NUM_PERM // BANDS
_LEAD_SHINGLES = max(1, LEAD_CHARS - SHINGLE + 1)

_POLY = 0x100000001B3             # FNV-64 prime: spreads code points over the word
_rng = np.random.default_rng(20240712)   # fixed: band keys must never change between runs
_BAND_MIX = _rng.integers(1, 2**63, _ROWS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_EMPTY = np.empty(0, dtype=np.uint64)


@njit(cache=True)
def _mix64(x):
    """splitmix64 finalizer: every output bit depends on every input bit."""
    x = x ^ (x >> uint64(30))
    x = x * uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> uint64(27))
    x = x * uint64(0x94D049BB133111EB)
    return x ^ (x >> uint64(31))


@njit(cache=True)
def _shingle_hashes(codes, k):
    width = min(k, codes.size)
    count = codes.size - width + 1
    out = np.empty(count, np.uint64)
    for i in range(count):
        h = uint64(codes[i])
        for j in range(1, width):
            h = h * uint64(_POLY) + uint64(codes[i + j])
        out[i] = _mix64(h + uint64(width))
    return out


@njit(cache=True)
def _distinct(ordered):
    """The distinct values of a sorted array."""
    if ordered.size < 2:
        return ordered.copy()
    out = np.empty_like(ordered)
    out[0] = ordered[0]
    kept = 1
    for i in range(1, ordered.size):
        if ordered[i] != out[kept - 1]:
            out[kept] = ordered[i]
            kept += 1
    return out[:kept]


@njit(cache=True)
def _signature(shingles, num_perm):
    out = np.empty(num_perm, np.uint64)
    if shingles.size == 0:
        out[:] = np.iinfo(np.uint64).max
        return out
    bits = 0
    while (1 << bits) < num_perm:   # num_perm is a power of two: its top bits pick the bin
        bits += 1
    shift = uint64(64 - bits)
    filled = np.zeros(num_perm, np.bool_)
    previous = -1
    for value in shingles:          # sorted: a bin's first value is its smallest
        b = int(value >> shift)
        if b != previous:
            out[b] = value
            filled[b] = True
            previous = b
    if filled.all():
        return out
    # densify: an empty bin i takes the next filled bin j (circularly) at distance
    # j - i, mixed with the distance
    result = out.copy()
    for i in range(num_perm):
        if not filled[i]:
            distance = 1
            while not filled[(i + distance) % num_perm]:
                distance += 1
            result[i] = _mix64(out[(i + distance) % num_perm] + uint64(distance) * uint64(_POLY))
    return result


@njit(cache=True)
def _band_values(signature, mix):
    rows = mix.size
    out = np.empty(signature.size // rows, np.uint64)
    for band in range(out.size):
        value = uint64(0)
        for row in range(rows):
            value += signature[band * rows + row] * mix[row]
        out[band] = value
    return out


@njit(cache=True)
def _all_band_values(shingles, lead_sorted, mix, num_perm, lead_perm):
    whole = _band_values(_signature(shingles, num_perm), mix)
    lead = _band_values(_signature(_distinct(lead_sorted), lead_perm), mix)
    return np.concatenate((whole, lead))


@njit(cache=True)
def _overlap(a, b):
    shared, i, j = 0, 0, 0
    while i < a.size and j < b.size:
        if a[i] < b[j]:
            i += 1
        elif a[i] > b[j]:
            j += 1
        else:
            shared += 1
            i += 1
            j += 1
    return shared


def shingle_hashes(text: str | np.ndarray, k: int = SHINGLE) -> np.ndarray:
    """64-bit hashes of the k-character shingles of ``text`` (a string, or its code
    points as uint32: ``normalize.dedup_codepoints``), in text order (duplicates
    kept; ``unique_sorted`` makes the set). A text shorter than k is one shingle."""
    if not len(text):
        return _EMPTY
    codes = text if isinstance(text, np.ndarray) else np.frombuffer(
        text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return _shingle_hashes(codes, k)


def unique_sorted(hashes: np.ndarray) -> np.ndarray:
    """The set of ``hashes`` as a sorted array. (numpy's sort, not numba's: numpy
    2's vectorized sort takes ~1.5 us for 330 hashes, numba's ~10.)"""
    return _distinct(np.sort(hashes))


def signature(shingles: np.ndarray, num_perm: int = NUM_PERM) -> np.ndarray:
    """MinHash signature of a sorted set of shingle hashes (``unique_sorted``).

    One-permutation hashing: the top bits of a shingle's (already mixed) hash pick
    one of ``num_perm`` bins (a power of two), and each bin keeps its smallest
    hash. Two texts agree on a bin with probability = their Jaccard, like
    ``num_perm`` separate permutations (without replacement, so slightly lower
    variance). An empty bin (short texts) borrows the next filled bin's value,
    mixed with the distance ("densification", Shrivastava & Li 2014), so every
    position still estimates the Jaccard."""
    return _signature(shingles, num_perm)


def band_values(sig: np.ndarray) -> np.ndarray:
    """One 64-bit value per band of ``_ROWS`` consecutive signature rows: a
    multiply-add of the rows (the rows are already well-mixed hashes)."""
    return _band_values(sig, _BAND_MIX)


_KEY_PREFIXES = [f"b{i:02d}:" for i in range(BANDS)] + [f"l{i}:" for i in range(LEAD_BANDS)]
_PREFIXES = tuple(prefix[:-1] for prefix in _KEY_PREFIXES)
_KEY_SLICES = [(prefix, 16 * i, 16 * i + 16) for i, prefix in enumerate(_KEY_PREFIXES)]


class BandKeys(list):
    """Band key strings that also carry what they spell: ``values`` (the 64-bit
    band values, in key order) and ``prefixes`` (``b07``...). A backend that
    indexes keys as integers (index/sqlite/dedup.py) uses them instead of parsing
    the hex back (~20 us an article). A plain list of the same strings means the
    same keys."""

    __slots__ = ("values", "prefixes")


def band_keys(hashes: np.ndarray, shingles: np.ndarray | None = None) -> BandKeys:
    """Whole-text and lead band keys for a text's shingle hashes (in text order);
    ``shingles`` is their ``unique_sorted`` set when the caller already has it."""
    if shingles is None:
        shingles = unique_sorted(hashes)
    values = _all_band_values(shingles, np.sort(hashes[:_LEAD_SHINGLES]), _BAND_MIX, NUM_PERM,
                              LEAD_BANDS * _ROWS)
    digits = values.astype(">u8").tobytes().hex()
    keys = BandKeys([prefix + digits[start:end] for prefix, start, end in _KEY_SLICES])
    keys.values, keys.prefixes = values, _PREFIXES
    return keys


def overlap(a: np.ndarray, b: np.ndarray) -> int:
    """Shared elements of two sorted unique hash arrays (one merge pass)."""
    return _overlap(a, b)
