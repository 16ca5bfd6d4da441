"""Feeds and sitemaps: more ways to a site's pages, beside its links (issue 18, item 5).

Plain functions, no Scrapy requests (the spider fetches; these read)::

    feed_urls(tree, base_url)     -> [url]   <link rel="alternate" type="application/rss+xml|atom+xml">
    feed_entries(body, base_url)  -> [url]   the item links of an RSS 2.0 / RSS 1.0 / Atom feed
    read_sitemap(body, url)       -> Sitemap(sitemaps=[url], pages=[url])   newest first when dated

They only add candidates: every URL still goes through the site's scope, trap guard,
budget and page reading like a link found on a page (``spiders/government.py``). A feed
lists articles, so its entries are vouched for like the links of a list block; a
sitemap lists every page (columns, 简介 pages too), so its entries are not.

Robots.txt ``Sitemap:`` lines come from Scrapy's robots.txt middleware (the
``robots_parsed`` signal; Protego parses them), so robots.txt is fetched once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from crawler.links import clean_link

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
MAX_FEED_ENTRIES = 500
MAX_SITEMAP_ENTRIES = 50_000        # the sitemap protocol's own limit per file
MAX_SITEMAP_BYTES = 50 * 1024 * 1024   # ... and its size limit, uncompressed


@dataclass
class Sitemap:
    sitemaps: list[str] = field(default_factory=list)   # a sitemap index: more sitemaps
    pages: list[str] = field(default_factory=list)      # a URL set: pages, newest first


def feed_urls(tree, base_url: str) -> list[str]:
    """Feeds a page announces in its head (``<link rel="alternate" type="application/rss+xml">``)."""
    if tree is None:
        return []
    out: list[str] = []
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            url = _absolute(href, base_url)
            if url and url not in out:
                out.append(url)
    return out


def feed_entries(body: bytes, base_url: str) -> list[str]:
    """The entry links of a feed: RSS ``<item><link>`` (or a permalink ``<guid>``), Atom
    ``<entry><link rel="alternate" href>``; in feed order (newest first, as feeds are)."""
    root = _xml(body)
    if root is None:
        return []
    out: list[str] = []
    for item in root.iter():
        name = _local(item.tag)
        if name not in ("item", "entry"):
            continue
        href = None
        for child in item:
            cname = _local(child.tag)
            if cname == "link":
                rel = child.get("rel", "alternate")
                href = child.get("href") if rel == "alternate" and child.get("href") else (child.text or "").strip()
                if href:
                    break
            elif cname == "guid" and child.get("isPermaLink", "true") != "false" and not href:
                href = (child.text or "").strip()
        url = _absolute(href or "", base_url)
        if url and url not in out:
            out.append(url)
        if len(out) >= MAX_FEED_ENTRIES:
            break
    return out


def read_sitemap(body: bytes, url: str) -> Sitemap:
    """A sitemap (``<urlset>``) or sitemap index (``<sitemapindex>``), gzipped or not.
    Pages with a ``<lastmod>`` come newest first, then the rest in file order."""
    body = _gunzip(body)
    root = _xml(body)
    out = Sitemap()
    if root is None:
        return out
    index = _local(root.tag) == "sitemapindex"
    dated: list[tuple[str, int, str]] = []
    for n, entry in enumerate(root):
        if _local(entry.tag) not in ("url", "sitemap"):
            continue
        loc = lastmod = ""
        for child in entry:
            if _local(child.tag) == "loc":
                loc = (child.text or "").strip()
            elif _local(child.tag) == "lastmod":
                lastmod = (child.text or "").strip()
        page = _absolute(loc, url)
        if page:
            dated.append((lastmod, -n, page))
        if len(dated) >= MAX_SITEMAP_ENTRIES:
            break
    dated.sort(reverse=True)       # ISO dates sort as text; undated ("") last, file order kept
    (out.sitemaps if index else out.pages).extend(page for _lastmod, _n, page in dated)
    return out


def _absolute(href: str, base_url: str) -> str | None:
    if not href or href.lower().startswith(("javascript:", "mailto:", "tel:", "data:", "#")):
        return None
    url = urljoin(base_url, href)
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return clean_link(url)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _xml(body: bytes):
    """The XML's root, parsed without entities or network (feeds and sitemaps come from
    anywhere), or None."""
    from lxml import etree
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        return etree.fromstring(body.strip(), parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return None


def _gunzip(body: bytes) -> bytes:
    if body[:2] != b"\x1f\x8b":
        return body
    from scrapy.utils.gz import gunzip
    try:
        return gunzip(body, max_size=MAX_SITEMAP_BYTES)
    except Exception:   # noqa: BLE001 - a broken or oversized archive: no pages from it
        return b""
