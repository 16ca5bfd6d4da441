"""The one generic government-news spider, driven by site configs.

It only navigates: it asks ``crawler.links`` which links are lists and which are
articles, and hands every article page to the pipelines as a raw ``RawPage``.
It never parses an article body.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import datetime, timezone
from urllib.parse import urlsplit

import scrapy
from scrapy.http import TextResponse

from crawler.coverage import passes_over
from crawler.faults import fetch_error_reason
from crawler.incremental import NotModified
from crawler.items import RawPage
from crawler.links import classify_url, discover_links, is_paging_anchor, is_skip_anchor, origin_of
from crawler.sites import SiteConfig, load_sites
from crawler.stats import count
from crawler.traps import TrapGuard
from pipelines.article import ExtractionError
from pipelines.decode import decode_html

logger = logging.getLogger("newsmon.crawl")


class GovNewsSpider(scrapy.Spider):
    name = "gov_news"

    def __init__(self, sites: list[SiteConfig] | None = None, max_list_depth: int = 6,
                 sites_file: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if sites is None and sites_file:   # `scrapy crawl gov_news -a sites_file=sites.yaml`
            sites = load_sites(sites_file).sites
        self.sites = {s.name: s for s in (sites or [])}
        self.max_list_depth = max_list_depth
        self._origins = {s.name: {origin_of(u) for u in s.start_urls} for s in self.sites.values()}
        self._patterns = {
            s.name: (re.compile(s.article_url_pattern) if s.article_url_pattern else None,
                     re.compile(s.list_url_pattern) if s.list_url_pattern else None)
            for s in self.sites.values()}
        self._scheduled: Counter[str] = Counter()
        self.traps = TrapGuard()

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
                yield self._request(site, url, kind="list", depth=0)

    # -- navigation ---------------------------------------------------------
    def parse_page(self, response):
        site = self.sites[response.meta["site"]]
        kind = response.meta["kind"]
        count(self.crawler.stats, "pages_fetched", site.name)
        headers = self._headers(response)
        if kind == "article":
            count(self.crawler.stats, "article_pages_fetched", site.name)
            yield RawPage(
                url=response.url, site=site.name, status=response.status,
                headers=headers,
                body=response.body, fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                region=site.region)
        if not isinstance(response, TextResponse):
            return
        try:   # the one decoder, so anchor text (下一页) reads right on mis-declared pages too
            html = decode_html(response.body, headers).text
        except ExtractionError:
            return   # binary or empty: no links to follow (the pipeline records article pages)
        depth = response.meta["depth_in_site"]
        new_articles, list_links = 0, []
        # What this page links to, for spider middlewares (incremental crawls stop paging on it).
        article_links = response.meta["article_links"] = []
        for url, anchor in discover_links(html, response.url):
            if not self._in_scope(site, url):
                continue
            link_kind = classify_url(url, *self._patterns[site.name])
            if link_kind == "skip" or (link_kind == "other" and is_skip_anchor(anchor)):
                count(self.crawler.stats, "links_skipped", site.name)
                continue
            if link_kind == "article":
                article_links.append(url)
                for request in self._maybe_request(site, url, "article", depth + 1):
                    new_articles += 1
                    if request is not None:
                        yield request
            elif kind != "article" or link_kind == "list":
                # Lists and unknown pages are followed from lists (columns, pagers);
                # from articles only real list URLs (the breadcrumb's column).
                if link_kind == "other" and depth >= 2 and not is_paging_anchor(anchor):
                    continue
                if depth < self.max_list_depth or is_paging_anchor(anchor):
                    list_links.append((url, is_paging_anchor(anchor)))
        # An endless 下一页 chain: stop after a few list pages in a row with no new article.
        barren = 0 if new_articles or kind == "article" else response.meta.get("barren_pages", 0) + 1
        for url, paging in list_links:
            if paging and not self.traps.follow_paging(barren):
                count(self.crawler.stats, "traps/barren_pagination", site.name)
                continue
            for request in self._maybe_request(site, url, "list", depth + 1):
                request.meta["barren_pages"] = barren
                yield request

    @staticmethod
    def _headers(response) -> dict[str, str]:
        return {k.decode("latin-1").lower(): b",".join(v).decode("latin-1") for k, v in response.headers.items()}

    def _in_scope(self, site: SiteConfig, url: str) -> bool:
        if site.allowed_prefixes:
            return url.startswith(site.allowed_prefixes)
        return origin_of(url) in self._origins[site.name]

    def _maybe_request(self, site: SiteConfig, url: str, kind: str, depth: int):
        url, trap = self.traps.admit(site.name, url)
        if trap:
            count(self.crawler.stats, "links_duplicate" if trap == "duplicate" else f"traps/{trap}", site.name)
            return
        if kind == "article" and passes_over(self.crawler, site.name, url):
            yield None     # known, passed over while backfilling: a real article (not barren), no budget spent
            return
        if self._scheduled[site.name] >= site.max_pages:
            if self._scheduled[site.name] == site.max_pages:
                logger.warning("[%s] page budget of %d reached; not following more links",
                               site.name, site.max_pages)
                count(self.crawler.stats, "errors/page_budget_reached", site.name)
                self._scheduled[site.name] += 1
            return
        yield self._request(site, url, kind=kind, depth=depth)

    def _request(self, site: SiteConfig, url: str, kind: str, depth: int) -> scrapy.Request:
        self._scheduled[site.name] += 1
        return scrapy.Request(
            url, callback=self.parse_page, errback=self.on_error,
            # list pages must be re-fetched every run; articles are deduped by URL
            priority=1 if kind == "list" else 0,
            meta={"site": site.name, "kind": kind, "depth_in_site": depth,
                  "download_slot": site.name, "allow_private": site.allow_private})

    def on_error(self, failure):
        request = failure.request
        site = request.meta.get("site")
        if failure.check(NotModified):   # incremental crawl: known and unchanged, already counted
            return
        reason = fetch_error_reason(failure)
        count(self.crawler.stats, f"errors/{reason}", site)
        level = logging.INFO if reason == "robots_txt" else logging.WARNING
        logger.log(level, "[%s] %s %s: %s", site, request.meta.get("kind", "page"), request.url, reason)
