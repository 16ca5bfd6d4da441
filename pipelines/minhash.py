"""MinHash signatures and LSH band keys over character shingles, vectorized with numpy.

Why not ``datasketch.MinHash``: its ``update_batch`` hashes every shingle with
sha1 in a Python loop and then permutes with a modulo on a 61-bit prime. Here a
document's shingles are hashed at once (a polynomial over the code points of the
k characters, then the splitmix64 finalizer), and each permutation is a
multiply-add modulo 2**64 (odd multiplier: a bijection, whose high bits - the
ones ``min`` looks at - depend on every input bit). Measured on a 923-character
article, 128 permutations, one core: datasketch 0.70 ms, this 0.23 ms including
the 8 lead bands; the gap grows with length. Its estimates are unbiased (mean
error +0.001, sd 0.041 over 200 pairs; tests/test_dedup_stories.py checks it).

Band keys are plain strings so every backend stores them as keyword terms:
``b07:<16 hex>`` for band 7 of the whole-text signature, ``l3:<16 hex>`` for band
3 of the lead signature (the first ``LEAD_CHARS`` characters). The lead bands
find truncated reposts, whose whole-text Jaccard can be far below the threshold
while their opening is the original's.
"""
from __future__ import annotations

import numpy as np

SHINGLE = 5                  # characters per shingle
NUM_PERM = 128               # whole-text signature: 32 bands x 4 rows
BANDS = 32
LEAD_CHARS = 160             # lead signature: the opening of the dedup form
LEAD_BANDS = 8               # 8 bands x 4 rows, the first 32 permutations
_ROWS = NUM_PERM // BANDS

_U64 = np.uint64
_POLY = _U64(0x100000001B3)       # FNV-64 prime: spreads code points over the word
_rng = np.random.default_rng(20240712)   # fixed: band keys must never change between runs
_PERM_A = _rng.integers(1, 2**63, NUM_PERM, dtype=np.uint64) * _U64(2) + _U64(1)   # odd
_PERM_B = _rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64)
_BAND_MIX = _rng.integers(1, 2**63, (_ROWS, 1), dtype=np.uint64) * _U64(2) + _U64(1)
_EMPTY = np.empty(0, dtype=np.uint64)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: every output bit depends on every input bit."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def shingle_hashes(text: str, k: int = SHINGLE) -> np.ndarray:
    """64-bit hashes of the k-character shingles of ``text``, in text order
    (duplicates kept; ``np.unique`` makes the set). A text shorter than k is one shingle."""
    if not text:
        return _EMPTY
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    width = min(k, len(codes))
    count = len(codes) - width + 1
    h = codes[:count].copy()
    for j in range(1, width):
        h = h * _POLY + codes[j:j + count]
    return _mix64(h + _U64(width))


def signature(hashes: np.ndarray, num_perm: int = NUM_PERM) -> np.ndarray:
    """MinHash signature: for each permutation, the minimum permuted shingle hash."""
    if hashes.size == 0:
        return np.full(num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
    a, b = _PERM_A[:num_perm, None], _PERM_B[:num_perm, None]
    out = np.empty(num_perm, dtype=np.uint64)
    step = max(1, 262144 // hashes.size)      # bound the (perm x shingle) matrix on long texts
    for start in range(0, num_perm, step):
        block = a[start:start + step] * hashes[None, :] + b[start:start + step]
        out[start:start + step] = block.min(axis=1)
    return out


def band_values(sig: np.ndarray) -> np.ndarray:
    """One 64-bit value per band of ``_ROWS`` consecutive signature rows."""
    rows = sig.reshape(-1, _ROWS).T                      # (_ROWS, bands)
    return _mix64((rows * _BAND_MIX).sum(axis=0, dtype=np.uint64))


def band_keys(hashes: np.ndarray) -> list[str]:
    """Whole-text and lead band keys for a text's shingle hashes (in text order)."""
    whole = band_values(signature(np.unique(hashes)))
    lead_count = max(1, LEAD_CHARS - SHINGLE + 1)
    lead = band_values(signature(np.unique(hashes[:lead_count]), LEAD_BANDS * _ROWS))
    return ([f"b{i:02d}:{int(v):016x}" for i, v in enumerate(whole)]
            + [f"l{i}:{int(v):016x}" for i, v in enumerate(lead)])


def overlap(a: np.ndarray, b: np.ndarray) -> int:
    """Shared elements of two sorted unique hash arrays."""
    return int(np.intersect1d(a, b, assume_unique=True).size)
