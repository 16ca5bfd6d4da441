"""FTS5 side of the embedded index's search: what the FTS column holds and how a
query becomes SQL conditions on it. The column holds ``exact_tokens`` of the
normalized title + body (one token per character, nothing dropped), so an FTS5
phrase is exactly a substring test and the FTS matches are the query's matches:
no text is read to check them. ``index/sqlite/search.py`` uses it.
"""
from __future__ import annotations

import sqlite3

from index.exact_tokens import exact_tokens
from index.query import Not, Or, Query, Term


def fts_text(norm_text: str) -> str:
    """Normalized text as the FTS column indexes it."""
    return exact_tokens(norm_text)


def rebuild_fts(conn: sqlite3.Connection) -> None:
    """Index every stored article again in the current FTS form (an index written
    before it: schema v5), from the normalized text the rows keep; in the
    migration's transaction, so a failure leaves the old FTS and version."""
    conn.create_function("newsmon_fts_text", 1, fts_text, deterministic=True)
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('delete-all')")
    conn.execute("INSERT INTO articles_fts(rowid, body) "
                 "SELECT rowid, newsmon_fts_text(norm_title || char(10) || norm_text) FROM articles")
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")


def phrase(text: str) -> str:
    """The FTS5 phrase that matches exactly where the normalized ``text`` occurs."""
    # exact_tokens writes '"' as the word u22: a phrase never holds a quote
    return '"' + exact_tokens(text).strip() + '"'


def _phrase(term: Term) -> str:
    return phrase(term.text)


def _any(terms: list[Term]) -> str:
    return "(" + " OR ".join(map(_phrase, terms)) + ")"


def _all(terms: list[Term]) -> str:
    return "(" + " AND ".join(map(_phrase, terms)) + ")"


def match_conditions(query: Query, rowid: str = "k.article",
                     rowids: tuple[int, int] | None = None) -> tuple[list[str], list[str]]:
    """SQL conditions on ``rowid`` (and their parameters) that hold exactly for the
    articles matching ``query``: one FTS5 MATCH for the clauses that need a term
    (``a AND (b OR c)``) less the excluded terms (``NOT (d OR e)``), plus, for an
    ``Or`` holding an exclusion (a distributed parenthesized one, rare), ``IN one
    match OR NOT IN another``. A query that parsed has a clause needing a term.
    ``rowids``: (first, last) article rowid that can match (the date filter's
    span): FTS5 then reads only that part of each term's postings."""
    positive, excluded, mixed = [], [], []
    for clause in query.root.clauses:
        if isinstance(clause, Term):
            positive.append(_phrase(clause))
        elif isinstance(clause, Not):
            excluded.append(clause.term)
        elif isinstance(clause, Or) and clause.positive:
            positive.append(_any(list(clause.alternatives)))
        else:
            mixed.append(clause)
    expression = " AND ".join(positive)
    if excluded:
        expression = f"({expression}) NOT {_any(excluded)}"
    fts = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?"
    if rowids is not None:
        fts += f" AND rowid BETWEEN {int(rowids[0])} AND {int(rowids[1])}"
    where, params = [f"{rowid} IN ({fts})"], [expression]
    for clause in mixed:
        present = [alt for alt in clause.alternatives if isinstance(alt, Term)]
        absent = [alt.term for alt in clause.alternatives if isinstance(alt, Not)]
        tests = [f"{rowid} NOT IN ({fts})"]
        params_of = [_all(absent)]          # a OR NOT b OR NOT c = a OR NOT (b AND c)
        if present:
            tests.insert(0, f"{rowid} IN ({fts})")
            params_of.insert(0, _any(present))
        where.append("(" + " OR ".join(tests) + ")")
        params += params_of
    return where, params


def positive_expression(query: Query) -> str:
    """The FTS5 MATCH of the clauses that need a term: what ``is_broad`` counts."""
    return match_conditions(query)[1][0]
