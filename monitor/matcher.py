"""Many watches against one story, linear in the text: an Aho–Corasick pre-filter.

Every term of every watch (positive and excluded) goes into one automaton
(pyahocorasick, C). One pass over a story's normalized text yields the set of
terms it contains; a watch's query is then decided from that set alone, since
``Query.matches`` is nothing but substring presence of its terms: a ``Term``
holds if found, an ``Or`` if one alternative holds, a ``Not`` if its term is
not (an ``Or`` may hold a ``Not`` when parentheses were expanded). Only watches
whose anchor clause -- one that needs a term present -- was found are looked at, so the
cost per story is one scan of its text plus the hits, not one scan per watch
(``benchmarks/alerts`` measures it against the naive loop).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import ahocorasick

from index.base import ArticleRecord
from index.query import Not, Or, Query, Term, clause_terms
from monitor.watches import Watch, in_scope, parsable


class _Compiled:
    """One watch's query as term ids: clauses of alternatives that must be found,
    excluded ids, and mixed clauses of ``(id, must_be_found)`` literals."""
    __slots__ = ("watch", "order", "clauses", "excluded", "mixed")

    def __init__(self, watch: Watch, order: int, clauses: list[tuple[int, ...]], excluded: list[int],
                 mixed: list[tuple[tuple[int, bool], ...]]):
        self.watch, self.order, self.clauses, self.excluded = watch, order, clauses, excluded
        self.mixed = mixed

    def holds(self, found: set[int]) -> bool:
        return (all(any(t in found for t in clause) for clause in self.clauses)
                and not any(t in found for t in self.excluded)
                and all(any((t in found) == present for t, present in clause) for clause in self.mixed))


class WatchMatcher:
    """Match stories against a fixed set of watches (rebuild it when watches change)."""

    def __init__(self, watches: Iterable[Watch]):
        self.watches = parsable(watches)
        self._term_ids: dict[str, int] = {}
        # Each watch is filed under the terms of ONE clause, its anchor: every
        # clause that needs a term present must hold for a match, so a story that
        # contains none of the anchor's terms cannot match and the watch is never
        # looked at. The anchor is the clause whose shortest term is longest (longer
        # = rarer). The parser refuses a query without such a clause.
        self._by_anchor_term: dict[int, list[_Compiled]] = defaultdict(list)
        self._automaton = ahocorasick.Automaton()
        for order, watch in enumerate(self.watches):
            compiled = self._compile(watch, order, watch.parsed)
            anchor = max(range(len(compiled.clauses)),
                         key=lambda n: min(len(t.text) for t in watch.parsed.positive_clauses[n]))
            for term_id in compiled.clauses[anchor]:
                self._by_anchor_term[term_id].append(compiled)
        for text, term_id in self._term_ids.items():
            self._automaton.add_word(text, term_id)
        if self._term_ids:
            self._automaton.make_automaton()

    def _term(self, term: Term) -> int:
        return self._term_ids.setdefault(term.text, len(self._term_ids))

    def _compile(self, watch: Watch, order: int, query: Query) -> _Compiled:
        clauses: list[tuple[int, ...]] = []
        excluded: list[int] = []
        mixed: list[tuple[tuple[int, bool], ...]] = []
        for clause in query.root.clauses:
            terms = clause_terms(clause)
            if terms is not None:
                clauses.append(tuple(self._term(t) for t in terms))
            elif isinstance(clause, Not):
                excluded.append(self._term(clause.term))
            else:
                assert isinstance(clause, Or)
                mixed.append(tuple((self._term(alt), True) if isinstance(alt, Term) else (self._term(alt.term), False)
                                   for alt in clause.alternatives))
        return _Compiled(watch, order, clauses, excluded, mixed)

    def found_terms(self, norm_text: str) -> set[int]:
        if not self._term_ids:
            return set()
        return {term_id for _end, term_id in self._automaton.iter(norm_text)}

    def match_text(self, norm_text: str) -> list[Watch]:
        """Watches whose query the normalized text satisfies (scope not checked), in
        the order the watches were given."""
        found = self.found_terms(norm_text)
        hits: dict[int, _Compiled] = {}
        for term_id in found:
            for compiled in self._by_anchor_term.get(term_id, ()):
                if compiled.order not in hits and compiled.holds(found):
                    hits[compiled.order] = compiled
        return [hits[order].watch for order in sorted(hits)]

    def match_record(self, record: ArticleRecord) -> list[Watch]:
        """Watches this copy matches, within each watch's site/region scope."""
        return [w for w in self.match_text(record.match_text) if in_scope(w, record)]
