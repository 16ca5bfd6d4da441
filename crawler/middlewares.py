"""Downloader middlewares: adapt requests, nothing else."""
from __future__ import annotations

import logging

from scrapy.exceptions import IgnoreRequest

from crawler.netsafety import AllowList, UnsafeURLError, check_url
from crawler.stats import count

logger = logging.getLogger("newsmon.crawl")


class NetworkSafetyMiddleware:
    """Refuses requests to private/loopback/link-local/metadata addresses.

    Runs on every request, including each redirect hop, since Scrapy re-schedules
    redirects as new requests through this middleware."""

    def __init__(self, allow: AllowList, stats=None):
        self.allow = allow
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        allow = AllowList.parse(crawler.settings.get("NEWSMON_ALLOW_HOSTS"))
        return cls(allow, crawler.stats)

    def process_request(self, request):
        try:
            check_url(request.url, self.allow, bool(request.meta.get("allow_private")))
        except UnsafeURLError as exc:
            site = request.meta.get("site")
            logger.warning("[%s] %s", site or "-", exc)
            if self.stats is not None:
                count(self.stats, "errors/unsafe_url", site)
            raise IgnoreRequest(str(exc)) from None
        return None
