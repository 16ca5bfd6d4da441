"""The one normalizer: the form that search, dedup and watches match on.

Display keeps the page's own script; matching uses this folded form, so a
simplified query finds traditional text and a full-width ``ＡＢＣ１２３`` finds
``abc123``. Import these functions; never re-implement the folding elsewhere.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_WS = re.compile(r"\s+")
# Everything that is not a letter, digit or CJK ideograph: dedup ignores it, so a
# repost that swaps "，" for "," or reflows lines is still the same text.
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    # OpenCC (C++) converts phrase-aware: 發佈->发布, 後來->后来, 乾隆 stays.
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text) if text else text


def normalize_text(text: str) -> str:
    """Search/watch form: traditional->simplified, NFKC (full-width folded),
    case-folded, runs of whitespace collapsed to one space."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text).casefold()
    return _WS.sub(" ", text).strip()


def dedup_form(norm_text: str) -> str:
    """Dedup form of text that is already ``normalize_text``-ed (as stored on every
    record): whitespace and punctuation removed. No second OpenCC pass."""
    return _NON_WORD.sub("", norm_text)


def normalize_for_dedup(text: str) -> str:
    """Dedup form of raw text: ``normalize_text`` with whitespace and punctuation removed."""
    return dedup_form(normalize_text(text))
