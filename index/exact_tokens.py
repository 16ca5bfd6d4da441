"""Normalized text as a row of one-character tokens, so a phrase query is exactly a
substring test: the form both backends' full-text indexes hold.

A query term matches as a plain substring of the normalized title + body
(``index/query.py``). FTS5's ``unicode61`` and Elasticsearch's ``standard``
analyzer drop punctuation and spaces and keep Latin words whole, so a phrase of
the term's characters found more than the substrings (``项目，为王`` for
``项目为王``) and missed some (``kw`` inside ``20kw``): every candidate's text
had to be read to know. Here every character becomes exactly one token and no
character is dropped: a CJK ideograph, a lowercase ASCII letter or a digit is
its own token; any other character (punctuation, a space, the newline between
title and body, a rarer script) becomes the ASCII word ``u<hex code point>``,
which both tokenizers keep whole and fold to itself. Token positions are then
character positions, and a phrase of the term's tokens at consecutive positions
is the term at consecutive characters: a match is a substring, and every
substring is a match. A term never holds a newline (whitespace folds to one
space), so no phrase crosses from the title into the body.
"""
from __future__ import annotations

# Characters that are a token of themselves and that neither tokenizer folds or
# splits: CJK ideographs assigned by Unicode 6.1 (the tables FTS5's unicode61
# uses), ASCII lowercase letters and digits (normalized text is case-folded).
_SELF = ((0x4E00, 0x9FCC), (0x3400, 0x4DB5), (ord("a"), ord("z")), (ord("0"), ord("9")))


class _TokenTable(dict):
    """``str.translate`` table filled on first sight of each character: the
    character's token followed by a space."""

    def __missing__(self, code: int) -> str:
        own = any(low <= code <= high for low, high in _SELF)
        self[code] = (chr(code) if own else f"u{code:x}") + " "
        return self[code]


_TABLE = _TokenTable()


def exact_tokens(norm_text: str) -> str:
    """``norm_text`` with every character as one space-separated token (see above)."""
    return norm_text.translate(_TABLE)
