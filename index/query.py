"""The one query language for search, watches and digests.

Grammar (design.md, "Query language")::

    query   := clause (" " clause)*          clauses are ANDed
    clause  := "-" atom | atom ("OR" atom)*  OR binds tighter than the implicit AND
    atom    := word | '"' phrase '"'

So ``a b OR c -d`` means ``a AND (b OR c) AND NOT d``. Every term is folded with
``normalize_text`` and matches as a plain substring of the normalized title+body
(``ArticleRecord.match_text``). Backends translate the AST (``Term``/``Or``/
``Not``/``And``) into their own query for candidates and then verify with
``Query.matches``, so both backends and the alerts agree on what matches.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pipelines.normalize import normalize_text, to_simplified

_SPACE_OR_WORD = re.compile(r"\s+|\S+")
OR_KEYWORD = "OR"   # uppercase only: a lowercase "or" is an ordinary word
# Bounds, the same for search, watches and digests on both backends. Each term is a
# clause of the backend query (FTS5 refuses a tree deeper than 256, Elasticsearch
# 1,024 clauses) and is tested against every candidate's text; a monitoring query
# is a handful of terms. The length check comes first so a megabyte is not scanned.
MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 64
# Control characters (NUL breaks FTS5's query parser) and lone surrogates (not
# encodable, e.g. undecodable CLI bytes) are refused; tab, CR and LF from a pasted
# query are spaces like any other.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class QuerySyntaxError(ValueError):
    """The query cannot be parsed; ``position`` is the 0-based offset where it breaks."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} (at position {position})")
        self.message = message
        self.position = position


class QueryLimitError(QuerySyntaxError):
    """The query is too long, has too many terms or a character no text contains:
    a whole-query problem, so the message (Chinese, one line) is the whole story --
    no ``(at position N)`` suffix and no caret under an echo of the query."""

    def __init__(self, message: str, position: int = 0):
        super().__init__(message, position)
        self.args = (message,)

    def __str__(self) -> str:
        return self.message


def _too_many_terms(position: int) -> QueryLimitError:
    return QueryLimitError(f"查询词太多：最多 {MAX_QUERY_TERMS} 个（OR 两边的词和排除的词都算）；"
                           "请拆成几个查询", position)


def check_query_bounds(text: str) -> None:
    """``QueryLimitError`` for a query over the length limit or with a control character."""
    if len(text) > MAX_QUERY_CHARS:
        # Say "too many terms" when that is why it is long (split stops early: bounded work).
        words = text.split(None, 4 * MAX_QUERY_TERMS)
        if sum(word != OR_KEYWORD for word in words) > MAX_QUERY_TERMS:
            raise _too_many_terms(MAX_QUERY_CHARS)
        raise QueryLimitError(f"查询太长：{len(text)} 个字符，最多 {MAX_QUERY_CHARS} 个；请删掉一些词",
                              MAX_QUERY_CHARS)
    bad = _FORBIDDEN.search(text)
    if bad:
        kind = "无法识别的字节（输入不是有效的 UTF-8）" if bad.group() >= "\ud800" else "控制字符"
        raise QueryLimitError(f"查询的第 {bad.start() + 1} 个字符 U+{ord(bad.group()):04X} 是{kind}，"
                              "不能用于搜索：请删掉它", bad.start())


@dataclass(frozen=True)
class Term:
    text: str               # normalized; may contain single spaces (quoted phrase)

    def matches(self, norm_text: str) -> bool:
        return self.text in norm_text


@dataclass(frozen=True)
class Or:
    alternatives: tuple[Term, ...]

    def matches(self, norm_text: str) -> bool:
        return any(term.text in norm_text for term in self.alternatives)


@dataclass(frozen=True)
class Not:
    term: Term

    def matches(self, norm_text: str) -> bool:
        return self.term.text not in norm_text


@dataclass(frozen=True)
class And:
    clauses: tuple[Term | Or | Not, ...]

    def matches(self, norm_text: str) -> bool:
        return all(clause.matches(norm_text) for clause in self.clauses)


@dataclass(frozen=True)
class Query:
    text: str        # what the user typed
    root: And        # always an And, even for one term, so backends have one shape to walk

    def matches(self, norm_text: str) -> bool:
        """True if the normalized title+body satisfies the query (plain substring tests)."""
        return self.root.matches(norm_text)

    @property
    def positive_terms(self) -> list[str]:
        """Normalized terms that can make a document match, in query order (for snippets)."""
        terms: list[str] = []
        for clause in self.root.clauses:
            if isinstance(clause, Term):
                terms.append(clause.text)
            elif isinstance(clause, Or):
                terms.extend(t.text for t in clause.alternatives)
        return list(dict.fromkeys(terms))

    @property
    def negative_terms(self) -> list[str]:
        return [c.term.text for c in self.root.clauses if isinstance(c, Not)]

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class _Token:
    kind: str        # "word", "phrase" or "or"
    text: str        # raw text (phrase without its quotes)
    position: int    # where the token starts in the query string
    negated: bool = False


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        negated = text[i] == "-"
        if negated:
            i += 1
            if i >= n or text[i].isspace():
                raise QuerySyntaxError("'-' must be followed by a term to exclude", start)
        if text[i] == '"':
            close = text.find('"', i + 1)
            if close < 0:
                raise QuerySyntaxError("unterminated quote: add the closing '\"'", i)
            tokens.append(_Token("phrase", text[i + 1:close], start, negated))
            i = close + 1
            continue
        while i < n and not text[i].isspace() and text[i] != '"':
            i += 1
        word = text[start + negated:i]
        if word == OR_KEYWORD and not negated:
            tokens.append(_Token("or", word, start))
        else:
            tokens.append(_Token("word", word, start, negated))
    return tokens


def _term(token: _Token) -> Term:
    norm = normalize_text(token.text)
    if not norm:
        raise QuerySyntaxError("empty phrase: put words between the quotes", token.position)
    return Term(norm)


def parse_query(text: str) -> Query:
    """Parse ``text`` into a ``Query``; raise ``QuerySyntaxError`` saying where it breaks
    (``QueryLimitError`` past the bounds above)."""
    check_query_bounds(text or "")
    tokens = _tokenize(text or "")
    terms = [t for t in tokens if t.kind != "or"]
    if len(terms) > MAX_QUERY_TERMS:
        raise _too_many_terms(terms[MAX_QUERY_TERMS].position)
    if not tokens:
        raise QuerySyntaxError("empty query: type at least one word to search for", 0)

    # Group "a OR b OR c" runs; every other token is its own clause.
    clauses: list[Term | Or | Not] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "or":
            raise QuerySyntaxError("'OR' needs a term on its left", token.position)
        if token.negated:
            if i + 1 < len(tokens) and tokens[i + 1].kind == "or":
                raise QuerySyntaxError("an excluded term ('-') cannot be an OR alternative",
                                       token.position)
            clauses.append(Not(_term(token)))
            i += 1
            continue
        group = [_term(token)]
        i += 1
        while i < len(tokens) and tokens[i].kind == "or":
            or_token = tokens[i]
            if i + 1 >= len(tokens) or tokens[i + 1].kind == "or":
                raise QuerySyntaxError("'OR' needs a term on its right", or_token.position)
            right = tokens[i + 1]
            if right.negated:
                raise QuerySyntaxError("an excluded term ('-') cannot be an OR alternative",
                                       right.position)
            group.append(_term(right))
            i += 2
        clauses.append(group[0] if len(group) == 1 else Or(tuple(group)))

    if all(isinstance(c, Not) for c in clauses):
        raise QuerySyntaxError(
            "a query of only exclusions matches everything: add a term to search for", 0)
    return Query(text, And(tuple(clauses)))


# -- snippets ------------------------------------------------------------------

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
