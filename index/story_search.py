"""Search results a page at a time: total count, offset, region filter, relevance sort.

``IndexBackend.search`` returns the first ``limit`` stories and stops reading; a
search page also needs how many stories match in all, a later page of them,
and another order. Each backend therefore lists every matching story, cheaply,
as ``StoryMatch`` (story id, the copy that matched, its relevance) in the
search order (``match_stories``); this module sorts, slices and shapes only the
page it shows, with the same ``story_dict`` as ``search``. Relevance is defined
here (``relevance_from_positions``, on a copy's title and the lead of its body)
and both backends compute exactly it, so they rank identically (Elasticsearch's
BM25 would not match SQLite's).
"""
from __future__ import annotations

from dataclasses import dataclass

from index.base import ArticleRecord, IndexBackend, StoryMatch, story_dict
from index.query import Query, make_snippet

SORTS = ("date", "relevance")
TITLE_WEIGHT = 3            # a term in the title says more about the story than one in the body
LEAD_WINDOW = 400           # the body's lead: a term named there counts more the earlier (half at 200)


@dataclass
class SearchPage:
    total: int                          # matching stories in all
    stories: list[dict]                 # this page, ``search --json`` shape
    offset: int = 0
    limit: int = 20
    sort: str = "date"

    def as_dict(self) -> dict:
        return {"total": self.total, "offset": self.offset, "limit": self.limit, "sort": self.sort,
                "stories": self.stories}


def relevance(norm_title: str, norm_text: str, terms: list[str]) -> float:
    """How strongly one copy matches the positive ``terms`` (``relevance_from_positions``)."""
    lead = norm_text[:LEAD_WINDOW]
    return relevance_from_positions([(norm_title.find(t), lead.find(t), t in norm_title or t in norm_text)
                                     for t in terms])


def relevance_from_positions(positions: list[tuple[int, int, bool]]) -> float:
    """From each positive term's first position in the title and in the body's lead
    (its first ``LEAD_WINDOW`` characters; -1 = not there) and whether the copy holds
    it at all: a point per term held, ``TITLE_WEIGHT`` more for a term in the title,
    and up to one more the earlier the lead names it (a report about the term names
    it in its lead; one that mentions it in passing, later or not at all). Only the
    title and the lead are read, so a backend scores a copy without its whole text
    (SQLite keeps the leads apart, ``sqlite/search.py``). Counted in whole
    1/``LEAD_WINDOW`` points and divided once, so every backend's float is the same."""
    points = 0
    for in_title, in_lead, held in positions:
        if held:
            points += LEAD_WINDOW * (1 + (TITLE_WEIGHT if in_title >= 0 else 0))
            points += LEAD_WINDOW - in_lead if in_lead >= 0 else 0
    return points / LEAD_WINDOW


def order_matches(matches: list[StoryMatch], sort: str) -> list[StoryMatch]:
    """``date``: the backends' order (newest story first). ``relevance``: best score
    first; equal scores keep the date order (the sort is stable)."""
    if sort == "relevance":
        return sorted(matches, key=lambda m: -m.score)
    if sort != "date":
        raise ValueError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    return list(matches)


def first_matching_copy(copies: list[ArticleRecord], query: Query, *, sites: list[str] | None = None,
                        regions: list[str] | None = None, since: str | None = None,
                        until: str | None = None) -> ArticleRecord | None:
    """The copy that represents a story in a search: the first in search order
    (the story's date -- its canonical copy's, else each copy's own -- newest
    first, then canonical first, date, id) of those that match ``query`` within the
    filters. What both backends pick; used when a backend left ``article_id`` empty."""
    def within(copy: ArticleRecord) -> bool:
        day = (copy.published or copy.fetched_at or "")[:10]
        return ((not sites or copy.site in sites) and (not since or day >= since[:10])
                and (not until or day <= until[:10])
                and (not regions or any(r in (copy.region or "") for r in regions)))
    found = [c for c in copies if within(c) and query.matches(c.norm_title + "\n" + c.norm_text)]
    canonical = next((c for c in copies if c.canonical), None)
    own_date = lambda c: c.published or c.fetched_at or ""      # noqa: E731
    found.sort(key=lambda c: (not c.canonical, own_date(c), c.id))
    if canonical is None:
        found.sort(key=own_date, reverse=True)      # stable: ties keep the order above
    return found[0] if found else None


def build_stories(index: IndexBackend, matches: list[StoryMatch], query: Query, **filters) -> list[dict]:
    """``search --json`` stories for ``matches``, in their order, each with all its copies
    (``filters``: the search's, to find a story's representing copy when the backend
    did not name it)."""
    terms = query.positive_terms
    stories = []
    for match in matches:
        copies = index.story_copies(match.story_id)
        if not copies:          # removed since it matched
            continue
        matched = (next((c for c in copies if c.id == match.article_id), None) if match.article_id
                   else first_matching_copy(copies, query, **filters))
        stories.append(story_dict(copies, make_snippet((matched or copies[0]).text, terms)))
    return stories


def search_page(index: IndexBackend, query: Query, *, sites: list[str] | None = None,
                regions: list[str] | None = None, since: str | None = None, until: str | None = None,
                sort: str = "date", offset: int = 0, limit: int = 20) -> SearchPage:
    """One page of matching stories plus the total. With ``sort="date"`` and
    ``offset=0`` the stories are exactly ``index.search(query, ..., limit=limit)``."""
    if offset < 0 or limit < 1:
        raise ValueError("offset must be >= 0 and limit >= 1")
    filters = {"sites": sites or None, "regions": regions or None, "since": since, "until": until}
    # scores only for the relevance order: a backend may then skip reading texts
    matches = index.match_stories(query, **filters, scores=sort == "relevance")
    ordered = order_matches(matches, sort)
    page = ordered[offset:offset + limit]
    return SearchPage(total=len(matches), stories=build_stories(index, page, query, **filters), offset=offset,
                      limit=limit, sort=sort)
