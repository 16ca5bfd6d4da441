"""Incremental crawling: fetch what changed, page a list only until it is known.

Three small components, wired in ``crawler/settings.py`` (``NEWSMON_INCREMENTAL_ENABLED``
switches all three off):

* ``SeenPagesRecorder`` (extension): once an article page went through the
  pipelines (indexed, or dropped with a reason), remember its URL and its
  ``ETag``/``Last-Modified`` in ``backend.state`` (kind ``crawl_page``).
* ``ConditionalRequestMiddleware`` (downloader middleware): asks for a known
  article page with ``If-None-Match``/``If-Modified-Since``; a 304 ends the
  request as ``NotModified`` (the spider counts it, nothing is re-extracted).
  A known page whose site sent no validator is not asked for again at all.
  List pages are never conditional: they are where new articles appear.
* ``StopAtSeenListMiddleware`` (spider middleware): a list page whose article
  links are all known -- and were already known when the site's last complete
  run ended (``crawler/coverage.py``) -- does not lead to its next page; lists
  run newest first, so the older pages hold nothing new. "All", not "any",
  because pinned items (置顶) sit on top of a column forever. Articles first
  seen by a run that did not reach the end (killed, budget, time limit, errors)
  do not stop paging: below them may be articles no run has fetched yet.

Scrapy's own HttpCacheMiddleware (RFC2616 policy) was not used: it keeps whole
responses on disk, serves pages from that cache without asking while
``Cache-Control: max-age`` lasts (lists too), and replays a 304 as the cached
page, which would run it through extraction again.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.coverage import Coverage
from netsafety.counters import count
from crawler.traps import PAGE_PARAMS

logger = logging.getLogger("newsmon.crawl")

PAGE_KIND = "crawl_page"


class NotModified(IgnoreRequest):
    """A known article page the site says has not changed (or cannot say, and was seen)."""


class SeenPages:
    """Known article pages per site, read from the state store once per site per crawl.

    Written in batches (one ``crawl_page`` document per ``FLUSH_EVERY`` pages, key
    ``"<site>/<UTC ISO>-<n>"``), not one document per page: a state write is
    durable at once (a commit in SQLite, a refresh wait in Elasticsearch), and a
    crawl sees hundreds of pages. A site's batches merge in key order (newest
    wins) and are compacted into one when they pile up. Pages not yet written
    when a crawl dies are simply fetched again next time.

    Each page keeps ``seen``: the start of the run that first recorded it (the
    coverage frontier compares it with the last complete run's start)."""

    FLUSH_EVERY = 200
    COMPACT_OVER = 32

    def __init__(self, state_getter, settle=None):
        self._state_getter = state_getter
        # () -> bool: store the crawl's articles so far; True once the index holds them (not
        # a buffer, not a local spool). A page is remembered only then: a mark outliving its
        # article (a crawl killed before its bulk went) would make the next run skip the page.
        self._settle = settle
        self._flush_at = self.FLUSH_EVERY         # pending pages that trigger the next try
        self._state = None
        self._by_site: dict[str, dict[str, dict]] = {}
        self._batches: dict[str, list[str]] = {}
        self._pending: dict[str, dict[str, dict]] = {}
        self._seq = 0
        self.run_started = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        self.unsaved: set[str] = set()    # sites with a batch this run could not write

    @property
    def state(self):
        if self._state is None:
            self._state = self._state_getter()
        return self._state

    def site(self, site: str) -> dict[str, dict]:
        pages = self._by_site.get(site)
        if pages is None:
            pages, keys = {}, []
            try:
                for key, doc in self.state.scan(PAGE_KIND, f"{site}/"):
                    pages.update(doc.get("pages") or {})
                    keys.append(key)
            except Exception as exc:  # noqa: BLE001 - an unreadable store means a full crawl, not none
                logger.warning("[%s] known pages unreadable (%s): fetching every page this run", site, exc)
                pages, keys = {}, []
            self._by_site[site], self._batches[site] = pages, keys
        return pages

    def get(self, site: str, url: str) -> dict | None:
        return self.site(site).get(url)

    def remember(self, site: str, url: str, headers: dict[str, str], outcome: str) -> None:
        before = self.site(site).get(url)
        entry = {"etag": headers.get("etag"), "last_modified": headers.get("last-modified"), "outcome": outcome,
                 "seen": before.get("seen", "") if before else self.run_started}
        self.site(site)[url] = entry
        self._pending.setdefault(site, {})[url] = entry
        if sum(map(len, self._pending.values())) >= self._flush_at:
            self.flush()

    def flush(self) -> None:
        if self._settle is not None and any(self._pending.values()):
            try:
                settled = self._settle()
            except Exception as exc:  # noqa: BLE001 - the storage error is the crawl's to report
                logger.warning("fetched pages not remembered yet: their articles are not stored (%s)", exc)
                settled = False
            if not settled:     # kept for a later try; still unsettled at the end: fetched again
                self._flush_at = sum(map(len, self._pending.values())) + self.FLUSH_EVERY
                return
        self._flush_at = self.FLUSH_EVERY
        pending, self._pending = self._pending, {}
        for site, pages in pending.items():
            if not pages:
                continue
            self._seq += 1
            key = f"{site}/{datetime.now(timezone.utc).isoformat(timespec='milliseconds')}-{self._seq:04d}"
            try:
                self.state.put(PAGE_KIND, key, {"pages": pages})
            except Exception as exc:  # noqa: BLE001 - losing this only means fetching those pages again
                logger.warning("[%s] could not remember %d fetched pages (%s); the next run fetches them again",
                               site, len(pages), exc)
                self.unsaved.add(site)
                continue
            self._batches.setdefault(site, []).append(key)

    def compact(self) -> None:
        """One document per site again once its batches pile up (written before the old go)."""
        for site, keys in self._batches.items():
            if len(keys) <= self.COMPACT_OVER or self._pending.get(site):
                continue        # (a page not remembered yet must not be written by the merge)
            key = f"{site}/{datetime.now(timezone.utc).isoformat(timespec='milliseconds')}-merged"
            try:
                self.state.put(PAGE_KIND, key, {"pages": self._by_site[site]})
                for old in keys:
                    self.state.delete(PAGE_KIND, old)
            except Exception as exc:  # noqa: BLE001 - batches merge at read time anyway
                logger.warning("[%s] could not compact known pages (%s)", site, exc)
                continue
            self._batches[site] = [key]


def _seen_pages(crawler) -> SeenPages:
    """One ``SeenPages`` per crawl, on the crawl's shared index connection (opened on
    first use, so the recorder's spider_closed runs before the index closes)."""
    if not crawler.settings.getbool("NEWSMON_INCREMENTAL_ENABLED", True):
        raise NotConfigured("NEWSMON_INCREMENTAL_ENABLED is off")
    pages = getattr(crawler, "_newsmon_seen_pages", None)
    if pages is None:
        from pipelines.stages import shared_index
        pages = crawler._newsmon_seen_pages = SeenPages(lambda: shared_index(crawler).state,
                                                        lambda: _settle(shared_index(crawler)))
        crawler._newsmon_coverage = Coverage(pages, crawler.stats)
    return pages


def _settle(index) -> bool:
    """Send what the crawl wrote; True once the index holds it, not the machine's spool
    (whose replay no other worker would do)."""
    index.flush()
    spool = getattr(index, "spool", None)      # (Elasticsearch's, for a server that was down)
    return spool is None or not spool.has_entries()


def _coverage(crawler) -> Coverage:
    _seen_pages(crawler)
    return crawler._newsmon_coverage


class SeenPagesRecorder:
    def __init__(self, pages: SeenPages, coverage: Coverage | None = None):
        self.pages = pages
        self.coverage = coverage

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(_seen_pages(crawler), _coverage(crawler))
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider=None, **_kw):
        if self.coverage is not None and spider is not None:
            self.coverage.start(list(getattr(spider, "sites", {})))

    def item_scraped(self, item, **_kw):
        self.pages.remember(item.site, item.url, item.headers, "indexed")

    def item_dropped(self, item, exception=None, **_kw):
        reason = str(exception or "dropped").split(":", 1)[0]
        self.pages.remember(item.site, item.url, item.headers, f"dropped:{reason}")

    def item_error(self, item, **_kw):
        if self.coverage is not None:     # a page that broke a pipeline is not known: not covered
            self.coverage.item_failed(getattr(item, "site", None))

    def spider_closed(self, spider=None, reason="finished", **_kw):
        if self.pages._state is None:     # nothing was read or written: no index to open
            return
        # (coverage.start read the state: a crawl's sites always reach here)
        self.pages.flush()
        self.pages.compact()
        if self.coverage is not None and spider is not None:
            self.coverage.finish(list(getattr(spider, "sites", {})), reason)


class _UsesSeenPages:
    def __init__(self, pages: SeenPages, stats, coverage: Coverage | None = None):
        self.pages = pages
        self.stats = stats
        self.coverage = coverage

    @classmethod
    def from_crawler(cls, crawler):
        return cls(_seen_pages(crawler), crawler.stats, _coverage(crawler))


class ConditionalRequestMiddleware(_UsesSeenPages):
    def process_request(self, request: Request):
        site = request.meta.get("site")
        if request.meta.get("kind") != "article" or not site:
            return None
        known = self.pages.get(site, request.url)
        if known is None or known.get("outcome", "").startswith("gone"):
            return None          # new, or a dead link that may be published later: ask plainly
        if not (known.get("etag") or known.get("last_modified")):
            count(self.stats, "unchanged_skipped", site)
            raise NotModified(f"{request.url} was seen before and its site sends no ETag/Last-Modified")
        if known.get("etag"):
            request.headers.setdefault(b"If-None-Match", known["etag"])
        if known.get("last_modified"):
            request.headers.setdefault(b"If-Modified-Since", known["last_modified"])
        request.meta["newsmon_conditional"] = True
        return None

    def process_response(self, request: Request, response):
        site = request.meta.get("site")
        if response.status == 304 and request.meta.get("newsmon_conditional"):
            count(self.stats, "not_modified", site)
            raise NotModified(f"{request.url} not modified since the last crawl")
        if response.status in (404, 410) and request.meta.get("kind") == "article" and site:
            # A dead article link is known too (so it does not keep a list paging),
            # but it is asked for again each run: CMSs link pages before publishing them.
            self.pages.remember(site, request.url, {}, f"gone:{response.status}")
        return response


class StopAtSeenListMiddleware(_UsesSeenPages):
    def process_spider_output(self, response, result):
        yield from self._filter(response, list(result))

    async def process_spider_output_async(self, response, result):
        for out in self._filter(response, [o async for o in result]):
            yield out

    def _filter(self, response, outputs: list) -> list:
        """``outputs`` is the callback's whole output, so the spider has by now put the
        page's article links in ``meta["article_links"]`` (requests alone would not
        say: an article linked from two lists is requested once per run)."""
        meta = getattr(response, "meta", None) or {}
        site = meta.get("site")
        if meta.get("kind") != "list" or not site:
            return outputs
        articles = meta.get("article_links") or []
        if not articles or any(self.pages.get(site, url) is None for url in articles):
            return outputs
        if self.coverage is not None and not self.coverage.at_frontier(site, articles):
            self.coverage.paging_past_known(site, response.url)
            return outputs
        kept = []
        for out in outputs:
            if isinstance(out, Request) and out.meta.get("kind") == "list" and is_next_page(response.url, out.url):
                count(self.stats, "list_pages_not_followed", site)
                continue
            kept.append(out)
        if len(kept) < len(outputs):
            logger.info("[%s] %s 列出的文章此前均已完整抓取：不再往后翻页", site, response.url)
        return kept


_PAGE_SUFFIX = re.compile(r"^(.*?)[_-](\d+)$")
_GENERIC_LIST_NAMES = {"index", "list", "default", "page", "more"}


def is_next_page(list_url: str, link_url: str) -> bool:
    """Is ``link_url`` another page of the list at ``list_url``? (``index.html`` ->
    ``index_1.html``, ``node_12.htm`` -> ``node_12_2.htm``, ``index.html`` -> ``list_2.html``,
    ``col/col1229/index.html?pageNum=2``); ``node_12.htm`` -> ``node_13.htm`` is another column."""
    here, there = urlsplit(list_url), urlsplit(link_url)
    if (here.scheme, here.netloc) != (there.scheme, there.netloc):
        return False
    if here.path == there.path:
        rest_here = {k: v for k, v in parse_qsl(here.query) if k.lower() not in PAGE_PARAMS}
        rest_there = {k: v for k, v in parse_qsl(there.query) if k.lower() not in PAGE_PARAMS}
        return rest_here == rest_there and here.query != there.query
    dir_here, _, name_here = here.path.rpartition("/")
    dir_there, _, name_there = there.path.rpartition("/")
    if dir_here != dir_there:
        return False
    stem_here, stem_there = name_here.rsplit(".", 1)[0], name_there.rsplit(".", 1)[0]
    if re.fullmatch(re.escape(stem_here) + r"[_-]\d+", stem_there):      # first page -> page N
        return True
    family_here, family_there = _family(stem_here), _family(stem_there)
    if family_here in _GENERIC_LIST_NAMES and family_there in _GENERIC_LIST_NAMES:
        return True
    # node_12_2 -> node_12_3 (the family keeps its column number); node_12 -> node_13 is not paging
    return family_here == family_there and any(c.isdigit() for c in family_here)


def _family(stem: str) -> str:
    m = _PAGE_SUFFIX.match(stem)
    return m.group(1) if m else stem
