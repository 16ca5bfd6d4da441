"""A page budget dead links cannot use up, and link families that stopped answering.

Plain code, no Scrapy: the spider asks ``SiteBudget`` before it schedules a link
and tells it how each request ended. The crawl's budgets (``Budgets``, one per site)
live with the crawler (``budgets_of(crawler)``): the spider fills and spends them,
``BudgetMiddleware`` drops queued requests of dead families from the same object.

* Pages and errors are counted apart. ``max_pages`` bounds the pages a run
  fetches (in flight + answered); a request that ends in an error gives its
  place back, up to ``max_errors`` (as many again by default), so a site with
  1,711 dead links still has its 2,000 pages for the live ones, and a site that
  only errors still stops.
* A link family (URL shape, ``crawler.shapes.url_shape``) that keeps answering
  404/410 is given up: at least ``dead_run`` gone answers in a row with nothing
  alive since, and ``dead_share`` of all its answers gone. Its other links are
  then not requested (counted ``dead_family_skipped``); a family with live pages
  in between keeps being followed, so real articles that share a shape with dead
  ones are not lost to a streak of old deleted links.
* Priorities (higher first, Scrapy's scheduler): list pages before articles,
  the first list pages (newest) before deep ones, and within a list its first
  links (the newest articles) before the last.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from scrapy.exceptions import IgnoreRequest

from crawler.shapes import url_shape
from netsafety.counters import count

GONE = frozenset({"http_404", "http_410"})


@dataclass
class FamilyHealth:
    answers: int = 0
    gone: int = 0
    gone_in_a_row: int = 0


@dataclass
class SiteBudget:
    max_pages: int = 2000
    max_errors: int | None = None      # None: as many as max_pages
    dead_run: int = 20
    dead_share: float = 0.9
    scheduled: int = 0                 # requests issued (pages and errors)
    errors: int = 0                    # requests that ended in an error
    refunded: int = 0                  # errors that gave their place back
    families: dict[str, FamilyHealth] = field(default_factory=dict)
    dead: set[str] = field(default_factory=set)

    @property
    def spent(self) -> int:
        return self.scheduled - self.refunded

    def exhausted(self) -> bool:
        return self.spent >= self.max_pages

    def take(self) -> None:
        self.scheduled += 1

    def family_dead(self, url: str) -> bool:
        return url_shape(url) in self.dead

    def answered(self, url: str) -> None:
        """A page came back (2xx, or a 304 of a known page)."""
        health = self.families.setdefault(url_shape(url), FamilyHealth())
        health.answers += 1
        health.gone_in_a_row = 0

    def failed(self, url: str, reason: str) -> str | None:
        """A request ended in an error; returns the family given up just now, if any."""
        self.errors += 1
        if self.errors <= (self.max_pages if self.max_errors is None else self.max_errors):
            self.refunded += 1
        if reason not in GONE:
            return None
        shape = url_shape(url)
        health = self.families.setdefault(shape, FamilyHealth())
        health.answers += 1
        health.gone += 1
        health.gone_in_a_row += 1
        if (shape not in self.dead and health.gone_in_a_row >= self.dead_run
                and health.gone >= self.dead_share * health.answers):
            self.dead.add(shape)
            return shape
        return None


class Budgets(dict):
    """The crawl's budgets, one ``SiteBudget`` per site name: the spider spends them,
    ``BudgetMiddleware`` reads them (``budgets_of(crawler)``, so neither reaches into the other)."""

    def refuses(self, request) -> bool:
        """A queued request (not a list page) of a link family given up since it was queued."""
        budget = self.get(request.meta.get("site"))
        return budget is not None and request.meta.get("kind") != "list" and budget.family_dead(request.url)


def budgets_of(crawler) -> Budgets:
    """The one ``Budgets`` of a crawl, kept with the crawler."""
    budgets = getattr(crawler, "_newsmon_budgets", None)
    if budgets is None:
        budgets = crawler._newsmon_budgets = Budgets()
    return budgets


# Scrapy priorities: larger runs first.
LIST_PRIORITY = 100
ARTICLE_PRIORITY = 50


def list_priority(depth: int, page_number: int | None) -> int:
    """Shallow lists first, and a list's first pages before its deep ones."""
    return LIST_PRIORITY - min(depth, 10) - min(page_number or 0, 40)


def article_priority(page_number: int | None, position: int) -> int:
    """The newest articles first: from a list's first page, from the top of the list."""
    return ARTICLE_PRIORITY - 10 * min(page_number or 0, 4) - min(position // 10, 9)


class DeadFamily(IgnoreRequest):
    """A queued request whose link family was given up after it was queued."""


class BudgetMiddleware:
    """Downloader middleware: drops queued requests of a family given up since they
    were queued (lists come first, so a site's dead links are all queued before the
    first of them answers 404)."""

    def __init__(self, budgets: Budgets, stats):
        self.budgets = budgets
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(budgets_of(crawler), crawler.stats)

    def process_request(self, request):
        if self.budgets.refuses(request):
            count(self.stats, "dead_family_skipped", request.meta.get("site"))
            raise DeadFamily(f"link family of {request.url} keeps answering 404")
        return None
