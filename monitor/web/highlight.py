"""Hits marked in a snippet or title: escaped text with ``<mark>`` around each hit.

Terms are normalized (simplified, folded) while the text is in the page's own
script, so hits are found on the folded text and mapped back to the original
characters with the same folding ``make_snippet`` uses to place its window.
"""
from __future__ import annotations

from markupsafe import Markup, escape

from index.query import _fold_with_offsets as fold_with_offsets   # the snippet's own folding


def hit_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Merged (start, end) ranges of ``text`` where any normalized term occurs."""
    if not text or not terms:
        return []
    folded, origin = fold_with_offsets(text)
    spans = []
    for term in terms:
        if not term:
            continue
        at = folded.find(term)
        while at >= 0:
            spans.append((origin[at], origin[at + len(term) - 1] + 1))
            at = folded.find(term, at + len(term))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str | None, terms: list[str]) -> Markup:
    """``text`` escaped, with each hit wrapped in ``<mark>``."""
    text = text or ""
    out, last = [], 0
    for start, end in hit_spans(text, terms):
        out.append(escape(text[last:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)
