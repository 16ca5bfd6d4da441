"""Text-similarity metrics shared by the extraction benchmarks and the crawl tests."""
from __future__ import annotations

from collections import Counter


def char_f1(got: str, want: str) -> float:
    """F1 over character multisets with whitespace removed: line wrapping does not
    count, every missing or extra character does. 1.0 for two empty texts."""
    g = Counter(ch for ch in got if not ch.isspace())
    w = Counter(ch for ch in want if not ch.isspace())
    if not g and not w:
        return 1.0
    common = sum((g & w).values())
    if not common:
        return 0.0
    precision, recall = common / sum(g.values()), common / sum(w.values())
    return 2 * precision * recall / (precision + recall)
