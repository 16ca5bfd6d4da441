"""Reading a fetched page for navigation: is it an article, and which links lead on.

The spider's one question per page, as a plain function of the page (no Scrapy):

    reading = SiteDiscovery(site, scope, shapes).read(html, url, fetched_as, vouched)
    reading.article     # hand the page to the pipelines (which may still refuse it)
    reading.kind        # what the page reads as (crawler.pagetype)
    reading.links       # [Link(url, kind, anchor, paging, vouched, hop, position)]
    reading.offsite     # [(url, how)] script hops that would leave the site

1. The page: a URL the site's patterns call an article is one (as before); a
   page fetched on a guess (``"page"``) is an article when it reads as one, or
   when it is a short dated text whose link a list block vouched for. A site
   with ``article_url_pattern`` keeps to its pattern: the operator said what
   articles are.
2. Its list blocks vote for their URL shape (``crawler.shapes.ShapeBook``).
3. Its links: ``crawler.links`` (``<a>``, Hanweb datastore, TRS pager), script
   pagers (``crawler.pagers``), script hops (``crawler.scope``). Each link's kind:
   ``article`` (site pattern, built-in CMS patterns, a shape confirmed this run or
   an earlier one), ``list`` (list patterns), or ``page`` (decided when fetched;
   ``vouched`` when a title list block held it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from crawler.links import classify_url, discover_links, is_skip_anchor
from crawler.pagers import is_paging_link, script_pages
from crawler.pagetype import ARTICLE, LIST, OTHER, PageVerdict, classify_page, parse_html
from crawler.scope import Scope, script_hops
from crawler.shapes import ShapeBook, has_id, url_shape

PAGE = "page"      # a link whose kind its content decides


@dataclass
class Link:
    url: str
    kind: str                  # "article" | "list" | "page"
    anchor: str = ""
    paging: bool = False       # another page of the list being read
    vouched: bool = False      # held by a list block of titles
    hop: str = "link"          # "link" | "script_location" | "script_meta_refresh" | "pager"
    position: int = 0          # order on the page (the newest articles come first)


@dataclass
class Reading:
    article: bool
    kind: str
    verdict: PageVerdict
    links: list[Link] = field(default_factory=list)
    offsite: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0


class SiteDiscovery:
    def __init__(self, site, scope: Scope, shapes: ShapeBook | None = None):
        self.site = site
        self.scope = scope
        self.shapes = shapes if shapes is not None else ShapeBook()
        self.article_pattern = re.compile(site.article_url_pattern) if site.article_url_pattern else None
        self.list_pattern = re.compile(site.list_url_pattern) if site.list_url_pattern else None

    def link_kind(self, url: str) -> str:
        """``article``, ``list``, ``skip`` or ``page``: what the URL alone says."""
        kind = classify_url(url, self.article_pattern, self.list_pattern)
        if kind in ("article", "list", "skip"):
            return kind
        if self.article_pattern is None and self.shapes.trusted(url):
            return "article"
        return PAGE

    def read(self, html: str, url: str, fetched_as: str, vouched: bool = False) -> Reading:
        tree = parse_html(html, url)
        verdict = classify_page(html, url, tree)
        # 1. the page
        if fetched_as == "article":
            article = True
        elif fetched_as == PAGE and self.article_pattern is None:
            article = verdict.kind == ARTICLE or (vouched and verdict.short_notice)
        else:
            article = False
        if has_id(url_shape(url)):
            self.shapes.saw(url, ARTICLE if article and verdict.kind != LIST else verdict.kind)
        # 2. list blocks vote (an article's related-article block too: same site, same shapes)
        block_urls: set[str] = set()
        for block in verdict.title_blocks:
            in_scope = [u for u in block.urls if self.scope.allows(u)]
            if len(in_scope) * 2 >= len(block.urls):
                self.shapes.vote(in_scope, block.shape)
                block_urls.update(in_scope)
        reading = Reading(article, verdict.kind, verdict)
        # 3. the links; a page read as a list is followed as one, whatever its URL said
        as_list = not article or verdict.kind == LIST
        pager_urls = set(script_pages(html, url))
        found = discover_links(html, url) + [(u, "") for u in sorted(pager_urls)]
        for u, how in script_hops(html, url):
            if self.scope.allows(u):
                found.append((u, ""))
            else:
                reading.offsite.append((u, how))
        for position, (link, anchor) in enumerate(found):
            if not self.scope.allows(link):
                continue
            kind = self.link_kind(link)
            if kind == "skip" or (kind == PAGE and is_skip_anchor(anchor)):
                reading.skipped += 1
                continue
            in_block = link in block_urls and not self.shapes.is_refuted(link)
            if kind == PAGE and in_block and self.article_pattern is None and self.shapes.trusted(link):
                kind = "article"
            paging = link in pager_urls or (kind != "article" and is_paging_link(url, link, anchor))
            if not as_list and kind != "article" and kind != "list":
                continue     # from an article: its articles and columns, not every unknown page
            reading.links.append(Link(link, kind, anchor, paging, in_block, "pager" if link in pager_urls
                                      else "link", position))
        return reading


__all__ = ["Link", "Reading", "SiteDiscovery", "PAGE", "ARTICLE", "LIST", "OTHER"]
