"""Reading a fetched page for navigation: is it an article, and which links lead on.

The spider's one question per page, as a plain function of the page (no Scrapy):

    reading = SiteDiscovery(site, scope, shapes).read(html, url, fetched_as, vouched)
    reading.article     # hand the page to the pipelines (which may still refuse it)
    reading.kind        # what the page reads as (crawler.pagetype)
    reading.links       # [Link(url, kind, anchor, paging, vouched, hop, position)]
    reading.offsite     # [(url, how)] script hops that would leave the site
    reading.feeds       # RSS/Atom feeds a start or list page announces (crawler.feeds)

1. The page: a URL the site's patterns call an article is one (as before); a
   page fetched on a guess (``"page"``) is an article when it shows an article's
   marks (``reads_as_article``): its prose with a meta line (发布时间/来源 beside a
   date), or dated under a list (its URL held by a list block of titles on any
   page read so far, or its shape voted for by dated list blocks); or a short
   dated text such a list vouches for. Prose alone is not enough (学校简介, a
   column's landing page, a list with teasers). A site with
   ``article_url_pattern`` keeps to its pattern: the operator said what articles are.
2. Its list blocks vote for their URL shape (``crawler.shapes.ShapeBook``).
3. Its links: ``crawler.links`` (``<a>``, Hanweb datastore, TRS pager), script
   pagers (``crawler.pagers``), script hops (``crawler.scope``). Each link's kind:
   ``article`` (site pattern, built-in CMS patterns, a shape confirmed this run or
   an earlier one), ``list`` (list patterns), or ``page`` (decided when fetched;
   ``vouched`` when a title list block held it). From an article, only its
   articles, columns and its own next pages (``12308_2.html``) are followed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from crawler.incremental import is_next_page
from crawler.links import SKIP_EXTENSIONS, classify_url, discover_links, is_skip_anchor
from crawler.pagers import is_paging_link, script_pages
from crawler.feeds import feed_urls
from crawler.pagetype import (ARTICLE, LIST, MAX_PROSE_LINK_DENSITY, MIN_DATED_PROSE, OTHER, PageVerdict,
                              classify_page, parse_tree, visible_tree)
from crawler.scope import Scope, script_hops
from crawler.shapes import ShapeBook, has_id, url_shape
from pipelines.article import CrawlEvidence

PAGE = "page"      # a link whose kind its content decides
# A link whose text is a file name (招标文件.pdf) downloads the file, whatever its URL
# (Epoint's downloadztbattach.jspx?attachGuid=…): an attachment, not a page to read.
_FILE_ANCHOR = re.compile(r"\.(" + "|".join(sorted(SKIP_EXTENSIONS)) + r")\s*[)）]?\s*$", re.I)
MAX_META_LINES = 3  # an article has a meta line or two (a list has one per item)


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
    feeds: list[str] = field(default_factory=list)     # RSS/Atom feeds the page announces (crawler.feeds)


def reads_as_article(verdict: PageVerdict, vouched: bool, voted: bool) -> bool:
    """A page fetched on a guess is an article when it shows an article's marks:

    * an article's prose (``crawler.pagetype``) with a meta line (发布时间/来源 beside a
      date), or dated and under a list: its URL in a list block of titles (``vouched``), or
      its URL shape voted for by dated blocks (``voted``). Prose alone is not enough: a
      学校简介 page, a column's landing page or a list with teasers has prose too, but
      navigation links it, not a list block, and no meta line dates it;
    * a short dated text (an attachment notice), or a text with a meta line, that a list
      vouches for (``vouched`` or ``voted``).
    """
    s = verdict.signals
    meta = 1 <= s.meta_lines <= MAX_META_LINES
    if verdict.kind == ARTICLE:
        return meta or (s.dated and (vouched or voted))
    notice = (s.dated and s.prose_chars >= MIN_DATED_PROSE and s.link_density <= MAX_PROSE_LINK_DENSITY)
    return (vouched or voted) and (verdict.short_notice or (meta and notice))


def names_a_file(anchor: str) -> bool:
    return bool(_FILE_ANCHOR.search(anchor))


class SiteDiscovery:
    def __init__(self, site, scope: Scope, shapes: ShapeBook | None = None):
        self.site = site
        self.scope = scope
        self.shapes = shapes if shapes is not None else ShapeBook()
        self.article_pattern = re.compile(site.article_url_pattern) if site.article_url_pattern else None
        self.list_pattern = re.compile(site.list_url_pattern) if site.list_url_pattern else None
        self.vouched: set[str] = set()     # URLs a list block of titles held, on any page so far

    def link_kind(self, url: str) -> str:
        """``article``, ``list``, ``skip`` or ``page``: what the URL alone says."""
        kind = classify_url(url, self.article_pattern, self.list_pattern)
        if kind in ("article", "list", "skip"):
            return kind
        if self.article_pattern is None and self.shapes.trusted(url):
            return "article"
        return PAGE

    def evidence(self, url: str, vouched: bool = False, anchor: str = "") -> CrawlEvidence:
        """Why a page handed to the pipelines is an article, by what the crawl saw of its URL:
        the operator's pattern, a shape the site's list blocks taught (voted for by blocks of
        titles -- a picture column's undated ones too -- and not refuted by its pages reading as
        lists), a known CMS article shape; a title block that held it; the
        link's text (extraction compares it with the page's title)."""
        if self.article_pattern is not None and self.article_pattern.search(url):
            shape = "site_pattern"
        elif self.shapes.is_article(url):    # voted for by title blocks, not refuted by its pages
            shape = "learned_shape"
        elif not self.shapes.is_refuted(url) and classify_url(url) == "article":
            shape = "cms_pattern"
        else:
            shape = None
        return CrawlEvidence(shape, vouched or url in self.vouched, " ".join(anchor.split())[:200])

    def read(self, html: str, url: str, fetched_as: str, vouched: bool = False) -> Reading:
        # 0. one parse: links (and feeds) from the whole tree, then the visible page's signals
        tree = parse_tree(html, url)
        found = discover_links(html, url, tree) if tree is not None else discover_links(html, url)
        feeds = feed_urls(tree, url)
        verdict = classify_page(html, url, visible_tree(tree)) if tree is not None else classify_page("", url)
        # 1. the page
        if fetched_as == "article":
            article = True
        elif fetched_as == PAGE and self.article_pattern is None:
            vouched = vouched or url in self.vouched or self.shapes.trusted(url)
            article = reads_as_article(verdict, vouched, self.shapes.dated_listed(url))
        else:
            article = False
        if has_id(url_shape(url)):
            self.shapes.saw(url, ARTICLE if article and verdict.kind != LIST else verdict.kind)
        # 2. list blocks vote (an article's related-article block too: same site, same shapes)
        block_urls: set[str] = set()
        for block in verdict.title_blocks:
            in_scope = [u for u in block.urls if self.scope.allows(u)]
            if len(in_scope) * 2 >= len(block.urls):
                self.shapes.vote(in_scope, block.shape, block.dated)
                block_urls.update(in_scope)
        self.vouched.update(block_urls)
        reading = Reading(article, verdict.kind, verdict)
        # 3. the links; a page read as a list is followed as one, whatever its URL said
        as_list = not article or verdict.kind == LIST
        pager_urls = set(script_pages(html, url, numbered=as_list))
        found += [(u, "") for u in sorted(pager_urls)]
        if as_list:   # a start or list page's feeds: more of its articles
            reading.feeds = [u for u in feeds if self.scope.allows(u)]
        for u, how in script_hops(html, url):
            if self.scope.allows(u):
                found.append((u, ""))
            else:
                reading.offsite.append((u, how))
        for position, (link, anchor) in enumerate(found):
            if not self.scope.allows(link):
                continue
            kind = self.link_kind(link)
            if kind == "skip" or (kind == PAGE and (is_skip_anchor(anchor) or names_a_file(anchor))):
                reading.skipped += 1
                continue
            in_block = link in block_urls and not self.shapes.is_refuted(link)
            if kind == PAGE and in_block and self.article_pattern is None and self.shapes.trusted(link):
                kind = "article"
            paging = link in pager_urls or (kind != "article" and is_paging_link(url, link, anchor))
            if not as_list and kind == PAGE and is_next_page(url, link):
                in_block = True      # the article's own next page (12308.html -> 12308_2.html)
            elif not as_list and kind != "article" and kind != "list":
                continue     # from an article: its articles and columns, not every unknown page
            reading.links.append(Link(link, kind, anchor, paging, in_block, "pager" if link in pager_urls
                                      else "link", position))
        return reading


__all__ = ["Link", "Reading", "SiteDiscovery", "PAGE", "ARTICLE", "LIST", "OTHER"]
