"""A list's pager walked page by page, so it ends at its first missing page.

A TRS column's ``createPageHTML(10, 0, "index", "html")`` (and its 尾页 link) may claim
more pages than exist: the count includes deleted and unpublished documents, or was
never updated. Requested all at once, ``index_3.html`` … ``index_9.html`` are all
fetched and all answer 404. Walked in order, the pager ends at ``index_3.html``.

Plain code, no Scrapy: the spider builds and admits each numbered next page of a list as
before, then hands the request to ``PagerWalks.hold`` instead of the scheduler, and sends
what ``next`` gives: one page of a pager out at a time, the lowest page number first.
When that page has ended it says how (``ended``). A page is missing only on positive
evidence: 404/410, a redirect to an error page, or a 200 page that says 页面不存在
(``reads_as_missing``). A timeout, a 5xx (after its retries) or a refusal is not, and
the walk goes on. A page that exists but brings no new article keeps the existing rule
(the spider's barren-pages count, carried by each held request as before); and since
each page is sent from the page before it, an incremental run's stop at a list page of
known articles (crawler.incremental) now holds for a script pager's later pages too.
"""
from __future__ import annotations

import heapq
import itertools
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# A CMS's own error page: its title or heading says the page does not exist.
_MISSING_WORDS = re.compile(r"页面不存在|页面未找到|找不到(?:该|此|您要的)?页面|页面已(?:被)?删除|不存在或已被?删除"
                            r"|(?<!\d)404(?!\d)|not\s+found", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_HEADING = re.compile(r"<h[1-3][^>]*>(.*?)</h[1-3]>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_ERROR_PATH = re.compile(r"(?:^|/)(?:404|40x|error|notfound|not_found|404page)(?:\.\w+)?/?$", re.I)


def reads_as_missing(html: str, lists_articles: bool) -> bool:
    """A page answered 200 but says it does not exist (a soft 404): its title or a
    heading says so (页面不存在, 404) and it lists no article. A list page with a
    title that merely mentions 404 still lists its articles."""
    if lists_articles:
        return False
    head = html[:20000]
    texts = _TITLE.findall(head)[:1] + _HEADING.findall(head)[:3]
    return any(_MISSING_WORDS.search(_TAG.sub("", t)) for t in texts)


def redirected_to_error_page(url: str, redirected: bool) -> bool:
    """A missing page redirected to the site's error page (``/404.html``, ``/error/``)."""
    return redirected and bool(_ERROR_PATH.search(urlsplit(url).path))


@dataclass
class _Pager:
    waiting: list = field(default_factory=list)    # heap of (page number, order, request)
    out: bool = False                              # one of its pages is being fetched
    end: int | None = None                         # its first missing page


class PagerWalks:
    """The crawl's pagers, each keyed by its site and the list page it started on."""

    def __init__(self) -> None:
        self._pagers: dict[tuple[str, str], _Pager] = {}
        self._order = itertools.count()

    def hold(self, site: str, pager: str, number: int, request) -> bool:
        """Queue a page of ``pager`` (sent by ``next``, lowest number first); False if it
        comes after the pager's first missing page (not to be sent)."""
        walk = self._pagers.setdefault((site, pager), _Pager())
        if walk.end is not None and number > walk.end:
            return False
        heapq.heappush(walk.waiting, (number, next(self._order), request))
        return True

    def next(self, site: str, pager: str) -> list:
        """The pager's next request to send, if none of its pages is out."""
        walk = self._pagers.get((site, pager))
        if walk is None or walk.out or not walk.waiting:
            return []
        walk.out = True
        return [heapq.heappop(walk.waiting)[2]]

    def ended(self, site: str, pager: str, number: int, missing: bool) -> list:
        """A page of ``pager`` was answered (or failed); ``missing``: it does not exist.
        Returns the requests given up: the pager's waiting pages past a missing one."""
        walk = self._pagers.setdefault((site, pager), _Pager())
        walk.out = False
        if not missing:
            return []
        walk.end = number if walk.end is None else min(walk.end, number)
        dropped = [entry[2] for entry in walk.waiting if entry[0] > walk.end]
        walk.waiting = [entry for entry in walk.waiting if entry[0] <= walk.end]
        heapq.heapify(walk.waiting)
        return dropped
