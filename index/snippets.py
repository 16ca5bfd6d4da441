"""Snippets and hit positions in the display text, for the terms of a parsed query.

The search results, the web UI's highlighting and the digest all find a
normalized term in a page's own script here: folding keeps, per folded
character, where it came from (``index.query`` re-exports these names).
"""
from __future__ import annotations

import re
import unicodedata

from index.normalize import to_simplified

_SPACE_OR_WORD = re.compile(r"\s+|\S+")


def _fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """``normalize_text(text)`` (near enough) plus, per folded character, the index
    of the original character it came from.

    NFKC can turn one character into several (``㈱`` -> ``(株)``) and whitespace runs
    collapse, so positions in the normalized text are not positions in the display
    text. Folding one character at a time keeps the map; the script conversion runs
    once over the whole string when it keeps the length (it nearly always does)."""
    pieces: list[str] = []
    origin: list[int] = []
    lowered = text.casefold()
    if len(lowered) == len(text) and unicodedata.is_normalized("NFKC", text):
        # Fast path, same result: in an NFKC-normalized text every character is its own
        # NFKC form, and a length-keeping casefold folds character by character, so only
        # the whitespace runs need the loop (NFKC per character costs ~5 ms a page).
        for run in _SPACE_OR_WORD.finditer(lowered):
            if not run.group().isspace():
                pieces.append(run.group())
                origin.extend(range(run.start(), run.end()))
            elif pieces:
                pieces.append(" ")
                origin.append(run.start())
        return _simplified_with_offsets(pieces, origin)
    last_space = True
    for index, char in enumerate(text):
        if char.isspace():
            if not last_space:
                pieces.append(" ")
                origin.append(index)
            last_space = True
            continue
        for folded in unicodedata.normalize("NFKC", char).casefold():
            pieces.append(folded)
            origin.append(index)
        last_space = False
    return _simplified_with_offsets(pieces, origin)


def _simplified_with_offsets(pieces: list[str], origin: list[int]) -> tuple[str, list[int]]:
    folded_text = "".join(pieces)
    simplified = to_simplified(folded_text)
    if len(simplified) == len(folded_text):
        return simplified, origin
    # A phrase conversion changed the length: convert per character (slower, exact map).
    chars = list(folded_text)
    return "".join(to_simplified(c) if len(to_simplified(c)) == 1 else c for c in chars), origin


def make_snippet(text: str, terms: list[str], width: int = 120) -> str:
    """A ~``width``-character window of the display text around the first hit of any
    normalized term, in the page's own script, whitespace collapsed."""
    if not text:
        return ""
    folded, origin = _fold_with_offsets(text)
    hits = [pos for pos in (folded.find(term) for term in terms if term) if pos >= 0]
    start = 0
    if hits:
        hit = origin[min(hits)]
        start = max(0, hit - width // 3)
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    window = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + window + ("…" if end < len(text) else "")


def hit_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """``(start, end)`` offsets in the display ``text`` of every hit of any
    normalized term (so a simplified term marks its traditional-script hit),
    sorted, overlaps merged: what a digest highlights in a snippet."""
    if not text:
        return []
    folded, origin = _fold_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        if not term:
            continue
        at = folded.find(term)
        while at >= 0:
            spans.append((origin[at], origin[at + len(term) - 1] + 1))
            at = folded.find(term, at + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
