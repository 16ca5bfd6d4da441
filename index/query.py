"""The one query language for search, watches and digests.

Grammar (design.md, "Query language"), loosest binding first::

    query   := and ("AND"? and)*        terms side by side (or with AND) are ANDed
    and     := unary ("OR" unary)*      OR binds tighter than AND: a b OR c = a AND (b OR c)
    unary   := "-" unary | "NOT" unary | atom
    atom    := word | '"' phrase '"' | "(" query ")"

``AND``, ``OR`` and ``NOT`` are operators in any case (``or``, ``Or``, full-width
``ＯＲ``); ``|`` is OR too (Baidu's habit). To search for one of these words
itself, quote it: ``"or"``. Full-width parentheses ``（）`` and curly quotes ``“”``
work as their ASCII forms, so a query typed with a Chinese input method means
what it looks like. An exclusion cannot be an OR alternative by itself
(``激光 OR -拆迁`` is refused: say ``激光 -拆迁``), and a query must need at least one
word to be present (``-招聘`` alone, or ``(-a -b) OR c``, is refused).

Every term is folded with ``normalize_text`` and matches as a plain substring of
the normalized title+body (``ArticleRecord.match_text``). The parsed query is
kept in conjunctive normal form, the one shape every consumer walks: ``And`` of
clauses, each a ``Term``, a ``Not`` or an ``Or`` of those (an ``Or`` holds a
``Not`` only when a parenthesized exclusion was distributed, e.g.
``(激光 -宿迁) OR 传感`` = ``(激光 OR 传感) AND (NOT 宿迁 OR 传感)``). Backends
narrow candidates with the clauses whose alternatives are all ``Term``
(``positive_clauses``) and verify with ``Query.matches``; the alert matcher
decides from the set of terms found. Expanding parentheses can multiply
clauses, so the expanded form is bounded (``MAX_EXPANDED_TERMS``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from index.snippets import _fold_with_offsets, _simplified_with_offsets, hit_spans, make_snippet  # noqa: F401
from index.normalize import normalize_text

OPERATORS = {"or": "or", "and": "and", "not": "not"}   # folded word -> operator
_QUOTES = '"“”＂'
_OPEN, _CLOSE, _BARS = "(（", ")）", "|｜"
_MINUS = "-－"
_WORD_END = frozenset(_QUOTES + _OPEN + _CLOSE + _BARS)
# Bounds, the same for search, watches and digests on both backends. Each term is a
# clause of the backend query (FTS5 refuses a tree deeper than 256, Elasticsearch
# 1,024 clauses) and is tested against every candidate's text; a monitoring query
# is a handful of terms. The length check comes first so a megabyte is not scanned.
MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 64
# Parentheses expanded into clauses can multiply terms ((a b) OR (c d) = 4 clauses of
# 2): the expanded form holds at most this many term occurrences.
MAX_EXPANDED_TERMS = 256
# Control characters (NUL breaks FTS5's query parser) and lone surrogates (not
# encodable, e.g. undecodable CLI bytes) are refused; tab, CR and LF from a pasted
# query are spaces like any other.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class QuerySyntaxError(ValueError):
    """The query cannot be parsed; ``position`` is the 0-based offset where it breaks;
    ``message`` says what is wrong (Chinese, one line)."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message}（第 {position + 1} 个字符处）")
        self.message = message
        self.position = position

    def pointer(self, query: str) -> str:
        """Two lines: the query, and a caret under where it breaks (CJK characters
        count double width, as a terminal shows them)."""
        width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in query[:self.position])
        return f"  {query}\n  {' ' * width}^"


class QueryLimitError(QuerySyntaxError):
    """The query is too long, has too many terms or a character no text contains:
    a whole-query problem, so the message (Chinese, one line) is the whole story --
    no position suffix and no caret under an echo of the query."""

    def __init__(self, message: str, position: int = 0):
        super().__init__(message, position)
        self.args = (message,)

    def __str__(self) -> str:
        return self.message


def _too_many_terms(position: int) -> QueryLimitError:
    return QueryLimitError(f"查询词太多：最多 {MAX_QUERY_TERMS} 个（OR 两边的词和排除的词都算）；"
                           "请拆成几个查询", position)


def _is_operator_word(word: str) -> bool:
    bare = word.strip("()（）|｜-－")
    return not bare or normalize_text(bare) in OPERATORS


def check_query_bounds(text: str) -> None:
    """``QueryLimitError`` for a query over the length limit or with a control character."""
    if len(text) > MAX_QUERY_CHARS:
        # Say "too many terms" when that is why it is long (split stops early: bounded work).
        words = text.split(None, 4 * MAX_QUERY_TERMS)
        if sum(not _is_operator_word(word) for word in words) > MAX_QUERY_TERMS:
            raise _too_many_terms(MAX_QUERY_CHARS)
        raise QueryLimitError(f"查询太长：{len(text)} 个字符，最多 {MAX_QUERY_CHARS} 个；请删掉一些词",
                              MAX_QUERY_CHARS)
    bad = _FORBIDDEN.search(text)
    if bad:
        kind = "无法识别的字节（输入不是有效的 UTF-8）" if bad.group() >= "\ud800" else "控制字符"
        raise QueryLimitError(f"查询的第 {bad.start() + 1} 个字符 U+{ord(bad.group()):04X} 是{kind}，"
                              "不能用于搜索：请删掉它", bad.start())


# -- the parsed form: And of clauses (conjunctive normal form) ------------------------------

@dataclass(frozen=True)
class Term:
    text: str               # normalized; may contain single spaces (quoted phrase)

    def matches(self, norm_text: str) -> bool:
        return self.text in norm_text


@dataclass(frozen=True)
class Not:
    term: Term

    def matches(self, norm_text: str) -> bool:
        return self.term.text not in norm_text


@dataclass(frozen=True)
class Or:
    alternatives: tuple[Term | Not, ...]     # a Not only from a distributed parenthesized exclusion

    def matches(self, norm_text: str) -> bool:
        return any(alt.matches(norm_text) for alt in self.alternatives)

    @property
    def positive(self) -> bool:
        """Every alternative is a term to find (so the clause can narrow candidates)."""
        return all(isinstance(alt, Term) for alt in self.alternatives)


@dataclass(frozen=True)
class And:
    clauses: tuple[Term | Or | Not, ...]

    def matches(self, norm_text: str) -> bool:
        return all(clause.matches(norm_text) for clause in self.clauses)


def clause_terms(clause: Term | Or | Not) -> tuple[Term, ...] | None:
    """The terms of a clause that needs one of them present, or None for a clause a
    document can satisfy by lacking a term (a ``Not``, or an ``Or`` holding one)."""
    if isinstance(clause, Term):
        return (clause,)
    if isinstance(clause, Or) and clause.positive:
        return clause.alternatives        # type: ignore[return-value]
    return None


@dataclass(frozen=True)
class Query:
    text: str        # what the user typed
    root: And        # always an And, even for one term, so backends have one shape to walk

    def matches(self, norm_text: str) -> bool:
        """True if the normalized title+body satisfies the query (plain substring tests)."""
        return self.root.matches(norm_text)

    @property
    def positive_clauses(self) -> list[tuple[Term, ...]]:
        """The clauses that need one of their terms present: what narrows candidates.
        A query that parsed has at least one."""
        return [terms for terms in map(clause_terms, self.root.clauses) if terms is not None]

    @property
    def positive_terms(self) -> list[str]:
        """Normalized terms that can make a document match, in query order (for snippets)."""
        return list(dict.fromkeys(lit.text for lit in self._literals() if isinstance(lit, Term)))

    @property
    def needed_terms(self) -> set[str]:
        """The positive terms every match holds: those standing alone (not an ``OR``'s)."""
        return {clause.text for clause in self.root.clauses if isinstance(clause, Term)}

    @property
    def negative_terms(self) -> list[str]:
        return list(dict.fromkeys(lit.term.text for lit in self._literals() if isinstance(lit, Not)))

    def _literals(self):
        for clause in self.root.clauses:
            yield from clause.alternatives if isinstance(clause, Or) else (clause,)

    def __str__(self) -> str:
        return self.text


# -- tokens ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Token:
    kind: str        # "word", "phrase", "(", ")", "or", "and", "not"
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
        negated = text[i] in _MINUS
        if negated:
            i += 1
            if i >= n or text[i].isspace() or text[i] in _CLOSE or text[i] in _BARS:
                raise QuerySyntaxError("'-' 后面要紧跟要排除的词（中间不能有空格），例如 -招聘", start)
        char = text[i]
        if char in _OPEN:
            tokens.append(_Token("(", char, start, negated))
            i += 1
        elif char in _CLOSE or char in _BARS:
            tokens.append(_Token(")" if char in _CLOSE else "or", char, i))
            i += 1
        elif char in _QUOTES:
            close = next((j for j in range(i + 1, n) if text[j] in _QUOTES), -1)
            if close < 0:
                raise QuerySyntaxError(f"引号没有闭合：请在短语后面补上 {char}", i)
            tokens.append(_Token("phrase", text[i + 1:close], start, negated))
            i = close + 1
        else:
            while i < n and not text[i].isspace() and text[i] not in _WORD_END:
                i += 1
            word = text[start + negated:i]
            operator = OPERATORS.get(normalize_text(word))
            tokens.append(_Token(operator, word, start) if operator and not negated
                          else _Token("word", word, start, negated))
    return tokens


# -- syntax tree ------------------------------------------------------------------------------

@dataclass
class _Node:
    kind: str                     # "term", "not", "and", "or"
    position: int
    text: str = ""                # a term's normalized text
    children: list["_Node"] = field(default_factory=list)


def _quote_hint(token: _Token) -> str:
    return f"；要搜索单词 {token.text} 本身，请加引号：\"{token.text}\"" if token.text not in _BARS else ""


class _Parser:
    """Recursive descent over the tokens; every error names the token where it breaks."""

    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.i = 0

    def _peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self) -> _Node:
        node = self._and(None)
        extra = self._peek()
        if extra is not None:       # only a ")" stops _and before the end
            raise QuerySyntaxError(f"多余的 '{extra.text}'：前面没有与它配对的左括号", extra.position)
        return node

    def _and(self, opener: _Token | None) -> _Node:
        items = [self._or(opener, None)]
        while (token := self._peek()) is not None and token.kind != ")":
            after = None
            if token.kind == "and":
                self.i += 1
                after = token
            items.append(self._or(opener, after))
        return items[0] if len(items) == 1 else _Node("and", items[0].position, children=items)

    def _or(self, opener: _Token | None, after: _Token | None) -> _Node:
        items = [self._unary(opener, after)]
        while (token := self._peek()) is not None and token.kind == "or":
            self.i += 1
            items.append(self._unary(opener, token))
        if len(items) == 1:
            return items[0]
        for item in items:
            if item.kind == "not":
                raise QuerySyntaxError("排除的词（-）不能单独作为 OR 的一项：OR 连接的是要找的词；"
                                       "要排除请另写，例如 激光 OR 传感 -招聘", item.position)
        return _Node("or", items[0].position, children=items)

    def _unary(self, opener: _Token | None, after: _Token | None) -> _Node:
        token = self._peek()
        if after is not None and (token is None or token.kind in (")", "or", "and")):
            if after.kind == "not":
                raise QuerySyntaxError(f"'{after.text}' 后面缺少要排除的词", after.position)
            raise QuerySyntaxError(f"'{after.text}' 右边缺少查询词{_quote_hint(after)}", after.position)
        if token is None:
            if opener is not None:
                raise QuerySyntaxError(f"括号没有闭合：这个 '{opener.text}' 缺少配对的右括号", opener.position)
            raise QuerySyntaxError("查询是空的：请输入至少一个要搜索的词", 0)
        if token.kind == ")":
            if opener is not None:
                raise QuerySyntaxError("括号里是空的：请在括号中写上查询词", opener.position)
            raise QuerySyntaxError(f"多余的 '{token.text}'：前面没有与它配对的左括号", token.position)
        if token.kind in ("or", "and"):
            raise QuerySyntaxError(f"'{token.text}' 左边缺少查询词{_quote_hint(token)}", token.position)
        self.i += 1
        if token.kind == "not":
            return _Node("not", token.position, children=[self._unary(opener, token)])
        if token.kind == "(":
            inner = self._and(token)
            if self._peek() is None:
                raise QuerySyntaxError(f"括号没有闭合：这个 '{token.text}' 缺少配对的右括号", token.position)
            self.i += 1
            node = _Node(inner.kind, token.position, inner.text, inner.children)
        else:
            norm = normalize_text(token.text)
            if not norm:
                raise QuerySyntaxError("引号里是空的：请在引号中写上要搜索的词", token.position)
            node = _Node("term", token.position, norm)
        return _Node("not", token.position, children=[node]) if token.negated else node


# -- conjunctive normal form --------------------------------------------------------------------

_Literal = tuple[str, bool]           # (normalized term, present?)
_Clause = tuple[_Literal, ...]        # ordered, no repeats


def _too_expanded() -> QueryLimitError:
    return QueryLimitError(f"括号展开后条件太多（超过 {MAX_EXPANDED_TERMS} 个）：括号里的 OR "
                           "相互组合会成倍增加条件；请减少括号或拆成几个查询")


def _simplify(clauses) -> list[_Clause]:
    """Drop repeated clauses, clauses true whatever the text (``a OR NOT a``), and
    clauses a one-term clause already implies (``a`` makes ``a OR b`` redundant)."""
    kept: dict[frozenset, _Clause] = {}
    for clause in clauses:
        literals = frozenset(clause)
        if any((text, not present) in literals for text, present in clause):
            continue
        kept.setdefault(literals, clause)
    units = {clause[0] for clause in kept.values() if len(clause) == 1}
    return [c for c in kept.values() if len(c) == 1 or not any(lit in units for lit in c)]


def _cnf(node: _Node, negate: bool = False) -> list[_Clause]:
    if node.kind == "term":
        return [((node.text, not negate),)]
    if node.kind == "not":
        return _cnf(node.children[0], not negate)
    parts = [_cnf(child, negate) for child in node.children]
    if (node.kind == "and") != negate:      # an AND (or a negated OR, by De Morgan)
        clauses = _simplify(c for part in parts for c in part)
    else:                                   # an OR: distribute over the clauses
        clauses = [()]
        for part in parts:
            clauses = _simplify(tuple(dict.fromkeys(left + right)) for left in clauses for right in part)
            if sum(map(len, clauses)) > MAX_EXPANDED_TERMS:
                raise _too_expanded()
    if sum(map(len, clauses)) > MAX_EXPANDED_TERMS:
        raise _too_expanded()
    return clauses


def _clause_node(clause: _Clause) -> Term | Or | Not:
    literals = [Term(text) if present else Not(Term(text)) for text, present in clause]
    return literals[0] if len(literals) == 1 else Or(tuple(literals))


def parse_query(text: str) -> Query:
    """Parse ``text`` into a ``Query``; raise ``QuerySyntaxError`` saying where it breaks
    (``QueryLimitError`` past the bounds above)."""
    text = text or ""
    check_query_bounds(text)
    tokens = _tokenize(text)
    terms = [t for t in tokens if t.kind in ("word", "phrase")]
    if len(terms) > MAX_QUERY_TERMS:
        raise _too_many_terms(terms[MAX_QUERY_TERMS].position)
    clauses = _cnf(_Parser(tokens).parse())
    if all(any(not present for _text, present in clause) for clause in clauses):
        # Satisfied by a text holding none of the terms: it would match (nearly) everything.
        raise QuerySyntaxError("查询里没有必须出现的词（只有排除的词），会匹配几乎所有报道："
                               "请加上至少一个要搜索的词", 0)
    return Query(text, And(tuple(_clause_node(c) for c in clauses)))
