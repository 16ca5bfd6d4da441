"""Text-similarity metrics shared by the extraction benchmarks and the crawl tests.

The one F1 of the project. Both texts are NFKC-normalized (full-width folded) and
stripped of whitespace, so line wrapping and ``，`` vs ``,`` do not count; then:

* ``char_scores``: precision/recall/F1 from difflib's matching blocks, i.e. the
  characters the two texts share *in order*. A bag-of-characters F1 would give
  credit for the right characters in the wrong places (a related-article list
  made of the same common characters); matching blocks do not.
* ``bigram_f1``: F1 over character-bigram multisets: order-aware locally, blind to
  paragraph order, cheap. Reported next to the char F1 as a second opinion.
"""
from __future__ import annotations

import difflib
import unicodedata
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float


def squeeze(text: str) -> str:
    """The compared form: NFKC, no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _f1(common: int, got: int, want: int) -> Scores:
    if not got and not want:
        return Scores(1.0, 1.0, 1.0)
    if not common:
        return Scores(0.0, 0.0, 0.0)
    p, r = common / got, common / want
    return Scores(p, r, 2 * p * r / (p + r))


def char_scores(got: str, want: str) -> Scores:
    """Character P/R/F1 over difflib matching blocks (autojunk off: in Chinese the
    frequent characters 的/，/。 are content, not junk)."""
    g, w = squeeze(got), squeeze(want)
    if not g or not w:
        return _f1(0, len(g), len(w))
    matcher = difflib.SequenceMatcher(None, g, w, autojunk=False)
    common = sum(block.size for block in matcher.get_matching_blocks())
    return _f1(common, len(g), len(w))


def char_f1(got: str, want: str) -> float:
    """F1 of ``char_scores``; 1.0 for two empty texts."""
    return char_scores(got, want).f1


def bigram_f1(got: str, want: str) -> float:
    g, w = squeeze(got), squeeze(want)
    gb = Counter(g[i:i + 2] for i in range(len(g) - 1))
    wb = Counter(w[i:i + 2] for i in range(len(w) - 1))
    return _f1(sum((gb & wb).values()), sum(gb.values()), sum(wb.values())).f1
