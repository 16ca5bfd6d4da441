"""FTS5 side of the embedded index's search: how text is tokenized and how a query
becomes an FTS5 MATCH (a superset of its matches) plus substring tests for the
terms FTS tokens cannot narrow. ``index/sqlite/backend.py`` and ``index/sqlite/search.py``
use it; verification with ``Query.matches`` makes results exact.
"""
from __future__ import annotations

import re
from typing import Iterator

from index.query import Query, Term

# Scripts written without spaces between words: one FTS token per character.
_UNSPACED_CHAR = re.compile(
    "([\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003ffff])")
_HAS_TOKEN_CHAR = re.compile(r"\w")
# Word characters FTS keeps in multi-character tokens (Latin, digits, …): not CJK.
_HAS_SPACED_WORD_CHAR = re.compile(
    "[^\\W\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003ffff]")


class _SpaceAroundUnspaced(dict):
    """``str.translate`` table, filled on first sight of each character: a CJK
    character maps to itself with a space on each side, anything else to itself.
    Same output as ``_UNSPACED_CHAR.sub(r" \1 ", text)``, several times faster
    (Python 3.11 expands a regex replacement template per match, in Python)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        self[code] = f" {char} " if _UNSPACED_CHAR.match(char) else char
        return self[code]


_FTS_TABLE = _SpaceAroundUnspaced()


def fts_text(norm_text: str) -> str:
    """Normalized text as the FTS column stores it: a space around each CJK character."""
    return norm_text.translate(_FTS_TABLE)


def _fts_phrase(term: Term) -> str | None:
    """FTS5 phrase for a term, or None when FTS tokens cannot narrow it.

    A CJK character is one token, so a CJK phrase finds every substring. Latin
    letters and digits form whole-word tokens (``2021``, ``20kw``), so a term with
    any of them (``kw``, ``20``) could sit inside a longer token: such a term is
    matched with ``instr`` on the normalized text instead (see ``search``), and
    a term with no token character at all (e.g. "·") only by verification."""
    if not _HAS_TOKEN_CHAR.search(term.text) or _HAS_SPACED_WORD_CHAR.search(term.text):
        return None
    return '"' + fts_text(term.text).replace('"', '""') + '"'


def _positive_clauses(query: Query) -> Iterator[tuple[Term, ...]]:
    # A clause a text can satisfy by lacking a term (an exclusion, or a distributed
    # parenthesized one) cannot narrow: verification decides it.
    yield from query.positive_clauses


def fts_match_expression(query: Query) -> str | None:
    """FTS5 MATCH string selecting a superset of the query's matches, or None for
    "every article". Exclusions are left to verification: an FTS phrase can match
    across punctuation, so ``NOT`` there could drop a true match."""
    parts: list[str] = []
    for alternatives in _positive_clauses(query):
        phrases = [_fts_phrase(t) for t in alternatives]
        if None in phrases:
            continue
        parts.append(phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")")
    return " AND ".join(parts) or None


def substring_filters(query: Query) -> tuple[list[str], list[str]]:
    """SQL conditions (and their parameters) for the clauses FTS cannot narrow
    because a term has Latin letters or digits: plain substring tests (``instr``)
    on the normalized title and text, so ``kw`` finds ``20kW``."""
    where, params = [], []
    for alternatives in _positive_clauses(query):
        if not any(_HAS_SPACED_WORD_CHAR.search(t.text) for t in alternatives):
            continue
        if not all(_HAS_TOKEN_CHAR.search(t.text) for t in alternatives):
            continue   # an alternative with no token character: only verification can say
        tests = []
        for term in alternatives:
            tests.append("(instr(a.norm_title, ?) > 0 OR instr(a.norm_text, ?) > 0)")
            params += [term.text, term.text]
        where.append("(" + " OR ".join(tests) + ")")
    return where, params
