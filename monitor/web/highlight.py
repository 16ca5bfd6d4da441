"""Hits marked in a snippet or title: escaped text with ``<mark>`` around each hit.

Terms are normalized (simplified, folded) while the text is in the page's own
script, so hits are found on the folded text and mapped back to the original
characters with the same folding ``make_snippet`` uses to place its window
(``index.query.hit_spans``, which the digest uses too).
"""
from __future__ import annotations

from markupsafe import Markup, escape

from index.query import hit_spans   # one hit finder for the web UI and the digest


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
