"""Downloader middlewares: adapt requests, nothing else."""
from __future__ import annotations

import logging

from scrapy.exceptions import IgnoreRequest

from crawler.netsafety import AllowList, UnsafeURLError, check_url

logger = logging.getLogger("newsmon.crawl")


class UnsafeRequest(IgnoreRequest):
    """A request refused by network safety (the spider's errback counts it)."""


class NetworkSafetyMiddleware:
    """Refuses requests to private/loopback/link-local/metadata addresses.

    Runs on every request, including each redirect hop, since Scrapy re-schedules
    redirects as new requests through this middleware."""

    def __init__(self, allow: AllowList):
        self.allow = allow

    @classmethod
    def from_crawler(cls, crawler):
        return cls(AllowList.parse(crawler.settings.get("NEWSMON_ALLOW_HOSTS")))

    def process_request(self, request):
        try:
            check_url(request.url, self.allow, bool(request.meta.get("allow_private")))
        except UnsafeURLError as exc:
            logger.warning("[%s] %s", request.meta.get("site") or "-", exc)
            raise UnsafeRequest(str(exc)) from None
        return None
