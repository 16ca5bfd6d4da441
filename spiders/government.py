"""The one generic government-news spider, driven by site configs.

It only navigates: ``crawler.discovery`` reads each page (is it an article, by
its URL or its own signals; which links lead on, and as what), and the spider
hands every article page to the pipelines as a raw ``RawPage``. It never parses
an article body. ``crawler.budget`` keeps the page budget from dead links and
orders the queue (lists, then the newest articles); ``crawler.scope`` keeps
every hop inside the site.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.http import TextResponse

from crawler.budget import GONE, Budgets, DeadFamily, SiteBudget, article_priority, budgets_of, list_priority
from crawler.coverage import passes_over
from crawler.discovery import PAGE, SiteDiscovery
from crawler.faults import fetch_error_reason
from crawler.feeds import feed_entries, read_sitemap
from crawler.incremental import NotModified
from crawler.items import RawPage
from crawler.ladder import Challenged, RenderFailed
from crawler.pager_walk import PagerWalks, reads_as_missing, redirected_to_error_page
from crawler.script_lists import filled_by_script
from crawler.scope import OffsiteHop, Scope
from crawler.sites import SiteConfig, load_sites
from netsafety.counters import count
from crawler.traps import TrapGuard, page_number
from pipelines.article import ExtractionError
from pipelines.extraction.decode import decode_html

logger = logging.getLogger("newsmon.crawl")
FEED, SITEMAP = "feed", "sitemap"      # request kinds of the extra sources (crawler.feeds)
MAX_NESTED_SITEMAPS = 20               # sitemaps named by one sitemap index


class GovNewsSpider(scrapy.Spider):
    name = "gov_news"

    def __init__(self, sites: list[SiteConfig] | None = None, max_list_depth: int = 6,
                 sites_file: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if sites is None and sites_file:   # `scrapy crawl gov_news -a sites_file=sites.yaml`
            sites = load_sites(sites_file).sites
        self.sites = {s.name: s for s in (sites or [])}
        self.max_list_depth = max_list_depth
        # read by crawler.scope.ScopeMiddleware (every redirect and meta refresh)
        self.scopes = {s.name: Scope.of(s.start_urls, s.allowed_prefixes) for s in self.sites.values()}
        # crawler.shape_memory fills each site's shapes from the last run
        self.discovery = {s.name: SiteDiscovery(s, self.scopes[s.name]) for s in self.sites.values()}
        self.budgets = Budgets({s.name: SiteBudget(max_pages=s.max_pages) for s in self.sites.values()})
        self.traps = TrapGuard()
        self.pagers = PagerWalks()      # numbered next pages of a list, sent one at a time
        self.extra_links: dict[str, int] = {}    # per site: pages requested from feeds and sitemaps

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        shared = budgets_of(crawler)            # crawler.budget.BudgetMiddleware reads the same
        shared.update(spider.budgets)
        spider.budgets = shared
        crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        return spider

    @property
    def private_hosts(self) -> set[str]:
        """Hosts of sites with ``allow_private: true`` (read by the network-safety middleware)."""
        return {urlsplit(url).hostname for site in self.sites.values() if site.allow_private
                for url in site.start_urls if urlsplit(url).hostname}

    async def start(self):
        for site in self.sites.values():
            logger.info("[%s] starting at %s", site.name, ", ".join(site.start_urls))
            for url in site.start_urls:
                self.traps.admit(site.name, url)   # so its other spellings are not fetched again
                self.budgets[site.name].take()
                yield self._request(site, url, kind="list", depth=0, priority=list_priority(0, None))

    # -- navigation ---------------------------------------------------------
    def parse_page(self, response):
        site = self.sites[response.meta["site"]]
        kind = response.meta["kind"]
        self.budgets[site.name].answered(response.url)
        count(self.crawler.stats, "pages_fetched", site.name)
        headers = self._headers(response)
        discovery = self.discovery[site.name]
        vouched = response.meta.get("vouched", False)
        html = page = refused = None
        if isinstance(response, TextResponse):
            try:   # the one decoder, so anchor text (下一页) reads right on mis-declared pages too;
                # the page goes on decoded, so extraction does not decode it again
                page = decode_html(response.body, headers, override=site.encoding,
                                   stats=self.crawler.stats, site=site.name)
                html = page.text
            except ExtractionError as exc:
                refused = exc   # binary or empty: no links to follow (the pipeline records article pages)
        decoded = (page, refused)
        reading = discovery.read(html, response.url, kind, vouched) if html is not None else None
        evidence = discovery.evidence(response.url, vouched, response.meta.get("anchor", ""))
        if kind == "article":
            yield self._raw_page(site, response, headers, evidence, decoded)
        if reading is None:     # not a page to read: no proof it is missing, its pager goes on
            yield from self._pager_goes_on(site.name, response.meta)
            return
        if self._missing_pager_page(response, html, reading):
            count(self.crawler.stats, "pager_soft_404", site.name)
            yield from self._pager_goes_on(site.name, response.meta, missing=True, url=response.url)
            return
        if self._script_list(site, response, kind, html, reading):
            yield self._render_in_browser(site, response)     # its links appear only after scripts run
            return
        if kind == PAGE and reading.article:
            count(self.crawler.stats, "articles_by_content", site.name)
            yield self._raw_page(site, response, headers, evidence, decoded)
        for url, how in reading.offsite:
            count(self.crawler.stats, f"offsite/{how}", site.name)
            logger.info("[%s] not following %s to %s: outside the site", site.name, how.replace("_", " "), url)
        if reading.skipped:
            count(self.crawler.stats, "links_skipped", site.name, reading.skipped)
        depth = response.meta["depth_in_site"]
        for feed in reading.feeds if depth <= 1 else ():   # the start page's and its columns' feeds
            yield from self._maybe_request(site, feed, FEED, depth + 1, list_priority(depth + 1, None))
        here = page_number(response.url)
        new_articles, list_links = 0, []
        # What this page links to, for spider middlewares (incremental crawls stop paging on it).
        article_links = response.meta["article_links"] = []
        for link in reading.links:
            if link.kind == "article" or (link.kind == PAGE and link.vouched):
                article_links.append(link.url)
                for request in self._maybe_request(site, link.url, link.kind, depth + 1,
                                                   article_priority(here, link.position), link.vouched,
                                                   link.anchor):
                    new_articles += 1
                    if request is not None:
                        yield request
                continue
            # Lists and unknown pages are followed from lists (columns, pagers); unknown
            # pages only near the start, pagers at any depth.
            if link.kind == PAGE and depth >= 2 and not link.paging:
                continue
            if depth < self.max_list_depth or link.paging:
                list_links.append(link)
        # An endless 下一页 chain: stop after a few list pages in a row with no new article.
        barren = 0 if new_articles or reading.article else response.meta.get("barren_pages", 0) + 1
        pager = response.meta.get("pager") or response.url     # the pager this page's next pages join
        for link in list_links:
            if link.paging and not self.traps.follow_paging(barren):
                count(self.crawler.stats, "traps/barren_pagination", site.name)
                continue
            number = page_number(link.url) if link.paging else None
            priority = list_priority(depth + 1, number) - (20 if link.kind == PAGE else 0)
            for request in self._maybe_request(site, link.url, link.kind, depth + 1, priority):
                request.meta["barren_pages"] = barren
                if number is None:
                    yield request
                else:   # a numbered next page: sent when the pager's page before it has answered
                    request.meta.update(pager=pager, pager_page=number)
                    if not self.pagers.hold(site.name, pager, number, request):     # past its end
                        self._not_requested(site.name, request)
        yield from self._pager_goes_on(site.name, response.meta, key=pager)

    def _not_requested(self, site: str, request) -> None:
        self.budgets[site].failed(request.url, "not_fetched")     # gives its place back
        count(self.crawler.stats, "pager_pages_not_requested", site)

    def _missing_pager_page(self, response, html: str, reading) -> bool:
        """A page of a walked pager that exists only as an error page (a soft 404)."""
        if "pager" not in response.meta:
            return False
        lists = any(link.kind == "article" or link.vouched for link in reading.links)
        return (redirected_to_error_page(response.url, bool(response.meta.get("redirect_urls")))
                or reads_as_missing(html, lists))

    def _pager_goes_on(self, site: str, meta: dict, missing: bool = False, key: str | None = None,
                       url: str = ""):
        """A walked pager page has ended (answered, failed, or ``missing``): its pager sends its
        next page, or, the page missing, gives up the pages after it (crawler.pager_walk)."""
        if "pager" in meta:
            for request in self.pagers.ended(site, meta["pager"], meta["pager_page"], missing):
                self._not_requested(site, request)
            if missing:
                count(self.crawler.stats, "pagers_ended", site)
                logger.info("[%s] 列表页 %s 不存在：该列表不再往后翻页", site, url)
        if key or "pager" in meta:
            yield from self.pagers.next(site, key or meta["pager"])

    def _script_list(self, site: SiteConfig, response, kind: str, html: str, reading) -> bool:
        """A list page with no article link whose scripts load its list (crawler.ladder opens it in a browser)."""
        # once per page (a page the ladder read plainly, its budget spent, is not sent back), and not
        # after the site's browser budget for script lists ran out (crawler.ladder)
        return (kind != "article" and not reading.article and response.meta.get("render") != "browser"
                and response.meta.get("rendered") != "browser"
                and not self.crawler.stats.get_value(f"newsmon/site/{site.name}/browser/budget_exhausted")
                and site.render != "plain" and self.settings.getbool("NEWSMON_BROWSER_ENABLED", True)
                and not any(link.kind == "article" or link.vouched for link in reading.links)
                and filled_by_script(html))

    def _render_in_browser(self, site: SiteConfig, response) -> scrapy.Request:
        count(self.crawler.stats, "script_lists", site.name)
        logger.info("[%s] %s: the list is filled by script; opening it in the browser", site.name, response.url)
        meta = response.meta
        request = self._request(site, response.url, meta["kind"], meta["depth_in_site"], list_priority(0, None))
        request.meta["render"] = "browser"
        request.meta.update({k: meta[k] for k in ("pager", "pager_page", "barren_pages") if k in meta})
        return request.replace(dont_filter=True)

    def _raw_page(self, site: SiteConfig, response, headers: dict[str, str], evidence=None,
                  decoded=(None, None)) -> RawPage:
        count(self.crawler.stats, "article_pages_fetched", site.name)
        page, refused = decoded
        return RawPage(
            url=response.url, site=site.name, status=response.status, headers=headers,
            body=response.body, fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            region=site.region, evidence=evidence, decoded=page, undecodable=refused)

    @staticmethod
    def _headers(response) -> dict[str, str]:
        return {k.decode("latin-1").lower(): b",".join(v).decode("latin-1") for k, v in response.headers.items()}

    def _maybe_request(self, site: SiteConfig, url: str, kind: str, depth: int, priority: int = 0,
                       vouched: bool = False, anchor: str = ""):
        url, trap = self.traps.admit(site.name, url)
        if trap:
            count(self.crawler.stats, "links_duplicate" if trap == "duplicate" else f"traps/{trap}", site.name)
            return
        if kind == "article" and passes_over(self.crawler, site.name, url):
            yield None     # known, passed over while backfilling: a real article (not barren), no budget spent
            return
        budget = self.budgets[site.name]
        if budget.family_dead(url):
            count(self.crawler.stats, "dead_family_skipped", site.name)
            return
        if budget.exhausted():
            if not getattr(budget, "announced", False):
                budget.announced = True
                logger.warning("[%s] page budget of %d reached; not following more links",
                               site.name, site.max_pages)
                count(self.crawler.stats, "errors/page_budget_reached", site.name)
            return
        budget.take()
        yield self._request(site, url, kind=kind, depth=depth, priority=priority, vouched=vouched, anchor=anchor)

    def _request(self, site: SiteConfig, url: str, kind: str, depth: int, priority: int = 0,
                 vouched: bool = False, anchor: str = "") -> scrapy.Request:
        # list pages must be re-fetched every run; articles are deduped by URL
        meta = {"site": site.name, "kind": kind, "depth_in_site": depth,
                "download_slot": site.name, "allow_private": site.allow_private}
        if vouched:
            meta["vouched"] = True
        if anchor:     # the link's text: extraction compares it with the page's title
            meta["anchor"] = anchor
        callback = self.parse_source if kind in (FEED, SITEMAP) else self.parse_page
        return scrapy.Request(url, callback=callback, errback=self.on_error, priority=priority, meta=meta)

    # -- feeds and sitemaps (crawler.feeds): more candidates, checked like links ------------
    def robots_parsed(self, robotparser, request):
        """Scrapy's robots.txt middleware read a site's robots.txt: its ``Sitemap:`` lines."""
        site = self.sites.get(request.meta.get("site"))
        sitemaps = getattr(getattr(robotparser, "rp", None), "sitemaps", None)   # Protego's
        if site is None or sitemaps is None:
            return
        robots_url = request.url.split("/", 3)[:3]
        for url in sitemaps:
            url = urljoin("/".join(robots_url) + "/robots.txt", url)
            if not self.scopes[site.name].allows(url):
                count(self.crawler.stats, "offsite/sitemap", site.name)
                continue
            for req in self._maybe_request(site, url, SITEMAP, 1, list_priority(1, None)):
                if req is not None:
                    self.crawler.engine.crawl(req)

    def parse_source(self, response):
        """A feed or a sitemap: its entries join the links (in scope, admitted, budgeted)."""
        site = self.sites[response.meta["site"]]
        self.budgets[site.name].answered(response.url)
        if response.meta["kind"] == FEED:
            entries, nested, vouched = feed_entries(response.body, response.url), [], True
        else:
            found = read_sitemap(response.body, response.url)
            entries, nested, vouched = found.pages, found.sitemaps, False
        for url in nested[:MAX_NESTED_SITEMAPS]:
            if self.scopes[site.name].allows(url):
                yield from self._maybe_request(site, url, SITEMAP, 1, list_priority(1, None))
        discovery = self.discovery[site.name]
        cap = max(1, site.max_pages // 4)     # the site's own lists keep most of the budget
        for position, url in enumerate(entries):
            if not self.scopes[site.name].allows(url):
                count(self.crawler.stats, f"offsite/{response.meta['kind']}", site.name)
                continue
            kind = discovery.link_kind(url)
            if kind == "skip":
                continue
            if self.extra_links.get(site.name, 0) >= cap:
                break
            priority = (list_priority(2, None) - 20 if kind in ("list", PAGE) and not vouched
                        else article_priority(None, position))
            for request in self._maybe_request(site, url, kind, 1, priority, vouched and kind == PAGE):
                if request is not None:
                    self.extra_links[site.name] = self.extra_links.get(site.name, 0) + 1
                    count(self.crawler.stats, f"links_from_{response.meta['kind']}", site.name)
                    yield request

    def on_error(self, failure):
        request = failure.request
        site = request.meta.get("site")
        budget = self.budgets.get(site)
        if failure.check(NotModified):   # incremental crawl: known and unchanged, already counted
            if budget is not None:
                budget.answered(request.url)
            return
        if failure.check(OffsiteHop, DeadFamily, Challenged, RenderFailed):   # counted where it was refused
            if budget is not None:
                budget.failed(request.url, "not_fetched")
            yield from self._pager_goes_on(site, request.meta)
            return
        reason = fetch_error_reason(failure)
        # a 404/410 ends a walked pager there; a timeout or a 5xx (after its retries) does not
        yield from self._pager_goes_on(site, request.meta, missing=reason in GONE, url=request.url)
        count(self.crawler.stats, f"errors/{reason}", site)
        dead = budget.failed(request.url, reason) if budget is not None else None
        if dead:
            count(self.crawler.stats, "dead_families", site)
            logger.warning("[%s] links shaped %s keep answering 404: not following them any more", site, dead)
        level = logging.INFO if reason == "robots_txt" else logging.WARNING
        logger.log(level, "[%s] %s %s: %s", site, request.meta.get("kind", "page"), request.url, reason)
