"""One backend interface for the embedded (SQLite FTS5) and Elasticsearch indexes.

Every backend implements ``IndexBackend`` and passes the same contract tests;
nothing outside ``index/`` checks which backend it has. ``open_index(url)`` in
``index/__init__.py`` is the one registry from URL scheme to backend class.

Additive changes: ``story_dict`` adds ``"reach"`` (distinct sites among the
copies) to each search story; ``match_stories`` and ``site_regions`` serve
search pages (total, offset, region filter, relevance: ``index/story_search.py``). Dedup state is only
``ArticleRecord.lsh_bands`` keyword strings: ``bNN:<hex>`` whole-text bands and
``lN:<hex>`` lead bands (``pipelines/stories/minhash.py``); a backend stores and matches
them as opaque terms.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Callable, Iterator, NamedTuple, Protocol, runtime_checkable

from index.query import Query
from index.state import StateStore


@dataclass
class ArticleRecord:
    """One crawled article page as stored. ``id`` = sha1 of the canonical URL."""

    id: str
    url: str
    canonical_url: str
    site: str
    title: str
    text: str                       # original script, for display
    norm_title: str                 # normalize_text(title)
    norm_text: str                  # normalize_text(text)
    text_hash: str                  # sha1 of normalize_for_dedup(text)
    published: str | None = None    # ISO date or datetime
    fetched_at: str = ""            # ISO datetime (UTC)
    region: str | None = None
    source: str | None = None
    author: str | None = None
    column: str | None = None
    story_id: str = ""
    canonical: bool = False
    lsh_bands: list[str] = field(default_factory=list)   # dedup state, stored with the article
    # files the page links to ({name,url,type,size,sha256,status}); their text is in ``text``
    attachments: list[dict] = field(default_factory=list)

    @property
    def match_text(self) -> str:
        """What queries match on (``Query.matches``): normalized title and body on
        separate lines, so a phrase never matches across the two."""
        return self.norm_title + "\n" + self.norm_text

    @property
    def date(self) -> str:
        """The day the article counts for: published date, else the fetch date."""
        return (self.published or self.fetched_at or "")[:10]

    def export_dict(self) -> dict:
        """The export-line contract of design.md."""
        return {
            "id": self.id, "url": self.url, "site": self.site, "title": self.title,
            "published": self.published, "text": self.text,
            "story_id": self.story_id, "canonical": self.canonical,
            "attachments": [dict(a) for a in self.attachments],
        }

    def to_dict(self) -> dict:
        return asdict(self)


class StoryMatch(NamedTuple):
    """One matching story (``match_stories``; search pages: ``index/story_search.py``):
    ``article_id`` is its first copy (in search order) that matches the query, whose
    text gives the snippet (empty: left to ``story_search.first_matching_copy``);
    ``score`` ranks by relevance (0 when asked without scores). A named tuple: a
    broad search at 1M makes 243k of them (0.34 s as a frozen dataclass)."""

    story_id: str
    article_id: str
    score: float


@dataclass
class Quarantined:
    url: str
    site: str
    reason: str
    title: str = ""
    fetched_at: str = ""


@runtime_checkable
class IndexBackend(Protocol):
    # Operational state (run history, watches, sent alerts) in the same database.
    state: StateStore
    # True when find_by_lsh_bands is answered from process memory (SQLite's band
    # window): dedup then asks for the best candidate alone first, since asking
    # again costs less than reading ten records; a network round trip does not.
    local_lsh_lookups: bool

    # -- articles ---------------------------------------------------------
    def upsert_article(self, record: ArticleRecord) -> bool:
        """Insert or replace by ``record.id``; True if it was new."""

    def get_article(self, article_id: str) -> ArticleRecord | None: ...

    def find_by_text_hash(self, text_hash: str) -> list[ArticleRecord]: ...

    def find_by_lsh_bands(self, bands: list[str], since: str | None = None,
                          limit: int | None = None, min_shared: int = 1,
                          full_text: bool = True) -> list[ArticleRecord]:
        """Articles sharing at least ``min_shared`` band keys, published (or fetched)
        on/after ``since``, ranked: most keys shared first, then earliest day, then
        id; the first ``limit``. ``full_text=False``: as ``story_copies``."""

    def story_copies(self, story_id: str, *, full_text: bool = True) -> list[ArticleRecord]:
        """Every copy of the story, ``order_copies`` order. ``full_text=False``: the
        backend may cut each text to its opening and leave ``norm_text`` empty
        (story clustering reads no more unless it has to compute the features)."""

    def set_story(self, article_ids: list[str], story_id: str, canonical_id: str) -> None:
        """Move articles into ``story_id`` and make ``canonical_id`` its only canonical copy."""

    # -- quarantine (spam pages: recorded, never searchable) ----------------
    def record_quarantine(self, item: Quarantined) -> None: ...

    def quarantined(self) -> list[Quarantined]: ...

    # -- reading ---------------------------------------------------------------
    def search(self, query: Query, *, sites: list[str] | None = None, since: str | None = None,
               until: str | None = None, limit: int = 20) -> list[dict]:
        """Stories newest first, each once, as ``search --json`` prints them:
        ``{"story_id","title","url","site","published","snippet","copies":[{"url","site","published"}]}``."""

    def match_stories(self, query: Query, *, sites: list[str] | None = None,
                      regions: list[str] | None = None, since: str | None = None,
                      until: str | None = None, limit: int | None = None,
                      scores: bool = True) -> list[StoryMatch]:
        """Every matching story (up to ``limit``), in ``search`` order, as ``StoryMatch``
        (``scores=False``: every score 0, and ``article_id`` may be left empty)
        (``index/story_search.py``: totals, pages, relevance). ``regions`` keeps copies
        whose region contains one of them (``江苏省宿迁市`` and ``宿城区`` both select
        ``江苏省宿迁市宿城区``)."""

    def site_regions(self) -> dict[str, str | None]:
        """Every site in the index, sorted, with its region (for the search filters)."""

    def count_by_day(self, *, since: str, until: str, sites: list[str] | None = None,
                     regions: list[str] | None = None, query: Query | None = None) -> dict[str, int]:
        """Article pages per day ``{"YYYY-MM-DD": n}`` from ``since`` to ``until`` (days with
        none left out), by the day ``since``/``until`` filter on (published, else fetched);
        ``query``: only pages that match it themselves (a watch's volume chart)."""

    def export(self) -> Iterator[dict]:
        """Every article page, as export lines, in a stable order."""

    def count_articles(self) -> int: ...

    def flush(self) -> None:
        """Make everything written so far durable and visible to search."""

    def commit_unit(self, on_durable: Callable[[], None] | None = None) -> None:
        """One unit of work (a crawled page's writes) is complete. SQLite commits it
        now, so its one write lock is never held across a crawl's network waits;
        Elasticsearch keeps batching. ``on_durable`` is called once the unit is durable
        (committed; acknowledged by Elasticsearch or in its on-disk spool), and never
        if it is lost: a crawl counts an article only then. Storage failures raise
        ``index.errors.StorageError``."""

    def close(self) -> None: ...

    def __enter__(self) -> IndexBackend: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...


class ClosesOnExit:
    """``with open_index(url) as index:`` closes the index however the block ends
    (every backend's ``close`` is safe to call twice)."""

    def __enter__(self):
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError


# -- story results: one shape for every backend ---------------------------------

def story_key(origin_id: str) -> str:
    """A story's id: its origin copy's article id, shortened (``pipelines/stories/clustering.py``)."""
    return "s-" + origin_id[:16]


def founder_prefix(story_id: str) -> str | None:
    """The article-id prefix a story id was made from, or None for another shape. A
    story renamed when a later-found copy became its origin keeps the copy its former
    id names, so ``story_copies`` finds it by a former id too (links in sent alerts,
    digest records)."""
    if story_id.startswith("s-") and len(story_id) == 18:
        return story_id[2:]
    return None


def order_copies(copies: list[ArticleRecord]) -> list[ArticleRecord]:
    """Canonical copy first, then the reposts by date (then URL, so the order is stable)."""
    return sorted(copies, key=lambda r: (not r.canonical, r.published or r.fetched_at or "", r.url))


def story_dict(copies: list[ArticleRecord], snippet: str) -> dict:
    """One ``search --json`` story from all its copies; title/url/site/published
    are the canonical copy's (the first of ``order_copies``); ``reach`` is the
    number of distinct sites that carry the story, the origin's included."""
    ordered = order_copies(copies)
    head = ordered[0]
    return {
        "story_id": head.story_id, "title": head.title, "url": head.url, "site": head.site,
        "published": head.published, "snippet": snippet,
        "copies": [{"url": c.url, "site": c.site, "published": c.published} for c in ordered],
        "reach": len({c.site for c in ordered}),
    }
