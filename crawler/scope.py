"""Scope on every hop: a site's crawl stays inside its origins (or ``allowed_prefixes``).

design.md: "The spider stays inside the origin (scheme, host, port) of its start
URLs unless told otherwise". Links the spider finds are checked by the spider;
this module checks what Scrapy creates on its own -- an HTTP redirect
(``RedirectMiddleware``), a ``<meta http-equiv=refresh>`` (``MetaRefreshMiddleware``,
which also reads one that a script writes with ``document.write``) -- and the
script hops the spider reads itself (``location.href = ...``, ``location.replace(...)``).

* ``Scope``: plain value, ``Scope.of(start_urls, allowed_prefixes).allows(url)``.
* ``script_hops(html, base_url)``: the URLs a page's scripts send the browser to.
* ``ScopeMiddleware`` (downloader middleware, before robots.txt at 100): a request
  of a site that leaves its scope is dropped before DNS, robots.txt or the page is
  asked for, and counted ``offsite/redirect``, ``offsite/meta_refresh`` (per site).
  Scrapy's own ``OffsiteMiddleware`` knows only ``allowed_domains`` (a host and its
  subdomains, any scheme or port): the wrong contract here.
  A target that network safety refuses (a metadata address, ``ftp://``) is left to
  ``NetworkSafetyMiddleware``, so it is still counted as ``errors/unsafe_url``.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest

from crawler.links import origin_of
from crawler.registrable import same_organisation
from netsafety.addresses import AllowList, UnsafeURLError, check_target
from netsafety.counters import count

logger = logging.getLogger("newsmon.crawl")

_LOCATION = re.compile(
    r"""(?:window\.|top\.|self\.|document\.|parent\.)?location(?:\.href)?\s*=\s*(['"])([^'"\s]{1,500})\1"""
    r"""|location\.(?:replace|assign)\(\s*(['"])([^'"\s]{1,500})\3\s*\)""", re.I)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S | re.I)
_WRITTEN_REFRESH = re.compile(r"""http-equiv\s*=\s*\\?['"]?refresh[^>]*?url\s*=\s*([^'"\\>\s;]+)""", re.I)


@dataclass(frozen=True)
class Scope:
    origins: frozenset
    prefixes: tuple[str, ...] = ()

    @classmethod
    def of(cls, start_urls, allowed_prefixes=()) -> "Scope":
        return cls(frozenset(origin_of(u) for u in start_urls), tuple(allowed_prefixes or ()))

    def allows(self, url: str) -> bool:
        if self.prefixes:
            return url.startswith(self.prefixes)
        return origin_of(url) in self.origins


def script_hops(html: str, base_url: str) -> list[tuple[str, str]]:
    """``(absolute url, how)`` for each place a script sends the browser:
    ``script_location`` (``location.href = '...'``) or ``script_meta_refresh``
    (``document.write('<meta http-equiv="refresh" content="0;url=...">')``)."""
    hops: list[tuple[str, str]] = []
    for script in _SCRIPT.findall(html):
        for m in _LOCATION.finditer(script):
            target = m.group(2) or m.group(4)
            if target and not target.lower().startswith(("javascript:", "#")):
                hops.append((urljoin(base_url, target), "script_location"))
        if "write" in script:
            for target in _WRITTEN_REFRESH.findall(script):
                hops.append((urljoin(base_url, target), "script_meta_refresh"))
    return hops


def hop_kind(request) -> str:
    """How a request came to be: the last redirect reason Scrapy recorded."""
    reasons = request.meta.get("redirect_reasons") or []
    if not reasons:
        return request.meta.get("hop", "link")
    return "meta_refresh" if reasons[-1] == "meta refresh" else "redirect"


class OffsiteHop(IgnoreRequest):
    """A hop that would leave the site's scope (the spider's errback counts nothing more)."""


class ScopeMiddleware:
    def __init__(self, stats, allow: AllowList):
        self.stats = stats
        self.allow = allow
        self.scopes: dict[str, Scope] = {}

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.stats, AllowList.parse(crawler.settings.get("NEWSMON_ALLOW_HOSTS")))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider):
        self.scopes = dict(getattr(spider, "scopes", {}) or {})

    def process_request(self, request):
        site = request.meta.get("site")
        scope = self.scopes.get(site)
        if scope is None or scope.allows(request.url):
            return None
        if request.meta.get("kind") == "attachment" and same_organisation(request.url, request.meta.get("attachment_of", "")):
            return None          # the organisation's own file server (crawler/attachments.py)
        if _unsafe(request.url, self.allow):
            return None          # NetworkSafetyMiddleware refuses it under its own reason
        how = hop_kind(request)
        count(self.stats, f"offsite/{how}", site)
        logger.info("[%s] not following %s to %s: outside the site (%s)", site, how.replace("_", " "),
                    request.url, " -> ".join(request.meta.get("redirect_urls", [])) or "link")
        raise OffsiteHop(f"offsite {how}: {request.url}")


def _unsafe(url: str, allow: AllowList) -> bool:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):   # loopback by definition (RFC 6761)
        return not allow.allows(host)
    try:
        check_target(url, allow, False)
    except UnsafeURLError:
        return True
    return False
