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

import re
from collections import Counter

import numpy as np

from pipelines.minhash import overlap, shingle_hashes, unique_sorted

MIN_CONTAINMENT_SHINGLES = 100   # containment on a tiny text would match any quote of it
FACT_SUBSTITUTIONS = 2           # this many replaced facts on each side: a different report

# Facts, matched on normalize_text output (simplified, full-width folded).
_NUMBER = r"\d+(?:\.\d+)?"
_ORDINAL = r"第[零〇一二两三四五六七八九十百千\d]+[次届批期号轮]"
_QUARTER = r"[一二三四]季度|[上下]半年"
# An administrative place name: two characters before the unit. Counties have
# 2-3 character names; the two characters right before the unit are enough to
# tell 宿城区 from 泗洪县. Generic words (全区, 我市, 辖区, 园区...) are not places.
_PLACE = r"[\u4e00-\u9fff]{2}(?:省|市|县|区|镇|乡|街道)"
_NOT_PLACE_BEFORE_UNIT = frozenset("全我本该各辖园景社小片地灾市县乡郊农老街学分专")
_FACT = re.compile(f"{_ORDINAL}|{_QUARTER}|{_NUMBER}|{_PLACE}")
_PLACE_LAST_CHARS = frozenset("省市县区镇乡道")   # no number, ordinal or quarter ends so


def facts(norm_text: str) -> Counter:
    """Multiset of the facts a normalized text states (numbers, ordinals, places).
    (``findall`` and one pass over the distinct tokens: a Python step per match
    was ~15 us a text.)"""
    found = Counter(_FACT.findall(norm_text))
    for token in [t for t in found if t[-1] in _PLACE_LAST_CHARS]:
        if token[1] in _NOT_PLACE_BEFORE_UNIT:
            del found[token]
    return found


def fact_substitutions(a: Counter, b: Counter) -> int:
    """How many facts were replaced, not just dropped or added: the smaller of
    "facts only in a" and "facts only in b" (counted with multiplicity)."""
    only_a = sum(n - b.get(fact, 0) for fact, n in a.items() if n > b.get(fact, 0))
    if not only_a:
        return 0
    return min(only_a, sum(n - a.get(fact, 0) for fact, n in b.items() if n > a.get(fact, 0)))


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
        self._facts: Counter | None = None

    @classmethod
    def of(cls, dedup_text: str | np.ndarray, norm_text: str, norm_title: str = "") -> "TextFeatures":
        """``dedup_text``: the dedup form, or its code points (``normalize.dedup_codepoints``)."""
        hashes = shingle_hashes(dedup_text)
        return cls(len(dedup_text), hashes, unique_sorted(hashes), (norm_title, norm_text))

    @property
    def facts(self) -> Counter:
        if self._facts is None:
            # one pass over all texts: no fact spans a line break
            self._facts = facts("\n".join(self._texts))
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
