"""Is this candidate the same report? Exact shingle overlap plus the facts the texts state.

Shingle overlap alone cannot tell a repost from a sibling report: the same
meeting template used by two counties, or this month's statistics bulletin and
last month's, share most of their shingles. What differs is the facts - place
names, numbers, ordinals ("第九次" vs "第十次"). A repost may drop facts (a
truncated copy, a shortened sentence) or add a lead-in that mentions none, but
it does not *replace* them, so a candidate is rejected when each text carries
facts the other lacks (``fact_substitutions``).
"""
from __future__ import annotations

from collections import Counter

import numpy as np
from numba import njit

from pipelines.stories.minhash import overlap, shingle_hashes, unique_sorted
from index.normalize import code_point_table

MIN_CONTAINMENT_SHINGLES = 100   # containment on a tiny text would match any quote of it
FACT_SUBSTITUTIONS = 2           # this many replaced facts on each side: a different report

# Facts, found in normalize_text output (simplified, full-width folded) by
# ``_fact_spans``, left to right, the first kind that matches at a position:
#   an ordinal   第[零〇一二两三四五六七八九十百千\d]+[次届批期号轮]
#   a quarter    [一二三四]季度|[上下]半年
#   a number     \d+(?:\.\d+)?         (\d: any Unicode decimal digit)
#   a place      [\u4e00-\u9fff]{2}(?:省|市|县|区|镇|乡|街道)
# (what ``re.findall`` of those alternatives finds: tests/test_dedup_stories.py
# checks the two agree). A place is two characters before the unit: counties
# have 2-3 character names, and the two right before the unit tell 宿城区 from
# 泗洪县. Generic words (全区, 我市, 辖区, 园区...) are not places.
_NOT_PLACE_BEFORE_UNIT = "全我本该各辖园景社小片地灾市县乡郊农老街学分专"
_ORDINAL_DIGITS = "零〇一二两三四五六七八九十百千"
_ORDINAL_UNITS = "次届批期号轮"
_UNITS = "省市县区镇乡"


def _codes(chars: str) -> np.ndarray:
    return np.array([ord(c) for c in chars], dtype=np.uint32)


_CHAR_SETS = tuple(_codes(chars) for chars in (_ORDINAL_DIGITS, _ORDINAL_UNITS, _UNITS, _NOT_PLACE_BEFORE_UNIT))


@njit(cache=True)
def _among(code, codes):
    for c in codes:
        if c == code:
            return True
    return False


@njit(cache=True)
def _fact_spans(text, decimal, ordinal_digits, ordinal_units, units, not_place):
    """``(start, end)`` of each fact in ``text`` (code points), and a 64-bit hash
    of its characters. Python's ``re`` tried four alternatives at every
    character (~13 us on a 400-character text); this is one pass."""
    n = text.size
    spans = np.empty((n, 2), np.int64)
    found = 0
    i = 0
    while i < n:
        c = text[i]
        end = -1
        if c == 0x7B2C:                                               # 第
            j = i + 1
            while j < n and (decimal[text[j]] or _among(text[j], ordinal_digits)):
                j += 1
            if j > i + 1 and j < n and _among(text[j], ordinal_units):
                end = j + 1
        if end < 0 and i + 2 < n and (
                ((c == 0x4E00 or c == 0x4E8C or c == 0x4E09 or c == 0x56DB)                  # 一二三四
                 and text[i + 1] == 0x5B63 and text[i + 2] == 0x5EA6) or                           # 季度
                ((c == 0x4E0A or c == 0x4E0B) and text[i + 1] == 0x534A and text[i + 2] == 0x5E74)):      # 上下 半年
            end = i + 3
        if end < 0 and decimal[c]:
            j = i + 1
            while j < n and decimal[text[j]]:
                j += 1
            end = j
            if j + 1 < n and text[j] == 0x2E and decimal[text[j + 1]]:   # .
                end = j + 2
                while end < n and decimal[text[end]]:
                    end += 1
        if end < 0 and i + 2 < n and 0x4E00 <= c <= 0x9FFF and 0x4E00 <= text[i + 1] <= 0x9FFF:
            if _among(text[i + 2], units):
                end = i + 3
            elif text[i + 2] == 0x8857 and i + 3 < n and text[i + 3] == 0x9053:   # 街道
                end = i + 4
            if end > 0 and _among(text[i + 1], not_place):
                i = end                     # consumed, but not a place
                continue
        if end < 0:
            i += 1
            continue
        spans[found, 0], spans[found, 1] = i, end
        found += 1
        i = end
    return spans[:found]


@njit(cache=True)
def _span_keys(text, spans):
    """A sorted 64-bit hash per span (FNV-1a of its code points): the facts as a
    multiset that ``_substitutions`` compares."""
    keys = np.empty(spans.shape[0], np.uint64)
    for k in range(spans.shape[0]):
        h = np.uint64(0xCBF29CE484222325)
        for at in range(spans[k, 0], spans[k, 1]):
            h = (h ^ np.uint64(text[at])) * np.uint64(0x100000001B3)
        keys[k] = h
    return np.sort(keys)


def _text_codes(norm_text: str) -> np.ndarray:
    return np.frombuffer(norm_text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _spans(codes: np.ndarray) -> np.ndarray:
    return _fact_spans(codes, code_point_table("isdecimal"), *_CHAR_SETS)


def facts(norm_text: str) -> Counter:
    """Multiset of the facts a normalized text states (numbers, ordinals, places)."""
    return Counter(norm_text[start:end] for start, end in _spans(_text_codes(norm_text)).tolist())


def fact_keys(norm_text: str) -> np.ndarray:
    """The facts of ``facts`` as sorted 64-bit hashes: what verification compares."""
    codes = _text_codes(norm_text)
    return _span_keys(codes, _spans(codes))


@njit(cache=True)
def _substitutions(a, b):
    only_a = only_b = 0
    i = j = 0
    while i < a.size or j < b.size:
        if j >= b.size or (i < a.size and a[i] < b[j]):
            only_a += 1
            i += 1
        elif i >= a.size or b[j] < a[i]:
            only_b += 1
            j += 1
        else:
            i += 1
            j += 1
    return min(only_a, only_b)


def fact_substitutions(a: np.ndarray, b: np.ndarray) -> int:
    """How many facts were replaced, not just dropped or added: the smaller of
    "facts only in a" and "facts only in b" (counted with multiplicity), from
    their ``fact_keys``."""
    return _substitutions(a, b)


class TextFeatures:
    """What verification compares. The facts are found only when asked for: most
    candidates are rejected (or most reposts accepted) on shingles first."""

    __slots__ = ("length", "hashes", "shingles", "_texts", "_facts")

    def __init__(self, length: int, hashes: np.ndarray | None, shingles: np.ndarray,
                 texts: tuple[str, ...] = ()):
        self.length = length          # characters of the dedup form
        self.hashes = hashes          # shingle hashes in text order (band keys need the lead), or None
        self.shingles = shingles      # sorted unique shingle hashes
        self._texts = texts           # normalized title and text, where the facts are
        self._facts: np.ndarray | None = None

    @classmethod
    def of(cls, dedup_text: str | np.ndarray, norm_text: str, norm_title: str = "") -> "TextFeatures":
        """``dedup_text``: the dedup form, or its code points (``normalize.dedup_codepoints``)."""
        hashes = shingle_hashes(dedup_text)
        return cls(len(dedup_text), hashes, unique_sorted(hashes), (norm_title, norm_text))

    @property
    def facts(self) -> np.ndarray:
        """``fact_keys`` of the title and text."""
        if self._facts is None:
            # one pass over all texts: no fact spans a line break
            self._facts = fact_keys("\n".join(self._texts))
        return self._facts


def similarity(a: TextFeatures, b: TextFeatures, *, threshold: float,
               containment: float) -> float | None:
    """max(Jaccard, containment) of the shingle sets if either passes its threshold
    and the facts agree, else None. Containment (shared / smaller set) is what
    joins a repost that dropped paragraphs or was cut short."""
    common = overlap(a.shingles, b.shingles)
    jaccard = common / (a.shingles.size + b.shingles.size - common or 1)
    smaller = min(a.shingles.size, b.shingles.size)
    contained = common / smaller if smaller >= MIN_CONTAINMENT_SHINGLES else 0.0
    if jaccard < threshold and contained < containment:
        return None
    if fact_substitutions(a.facts, b.facts) >= FACT_SUBSTITUTIONS:
        return None
    return max(jaccard, contained)
