"""Downloader middlewares: adapt requests, nothing else."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from twisted.internet.error import DNSLookupError

from netsafety.addresses import AllowList, UnsafeURLError, check_target, check_url
from crawler.resolver import SafetyPolicy, installed_policy

logger = logging.getLogger("newsmon.crawl")


class UnsafeRequest(IgnoreRequest):
    """A request refused by network safety (the spider's errback counts it)."""


class NetworkSafetyMiddleware:
    """Refuses requests to private/loopback/link-local/metadata addresses.

    Runs on every request, including each redirect hop, since Scrapy re-schedules
    redirects as new requests through this middleware. Here only what needs no DNS
    is checked (scheme, host, metadata names, IP literals), so a slow DNS server
    never blocks the reactor; the resolved address is checked at connect time by
    ``crawler.resolver.SafeResolver``, and its refusals come back through
    ``process_exception`` as ``UnsafeRequest``."""

    def __init__(self, allow: AllowList):
        self.allow = allow
        self.private_hosts: set[str] = set()   # hosts of allow_private sites
        self._policy: SafetyPolicy | None = None
        self._warned = False

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(AllowList.parse(crawler.settings.get("NEWSMON_ALLOW_HOSTS")))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider):
        # Scrapy's robots.txt request carries no site meta and is sent before the
        # site's first request reaches this middleware: the site's allowance has to
        # be known up front, or its robots.txt is refused and everything is allowed.
        for host in getattr(spider, "private_hosts", ()):
            self._allow_private_host(host)

    def _allow_private_host(self, host: str) -> None:
        self.private_hosts.add(host)
        policy = self._connect_policy()
        if policy is not None:
            policy.allow_host(host)

    def _connect_policy(self) -> SafetyPolicy | None:
        if self._policy is None:
            self._policy = installed_policy()
            if self._policy is None and not self._warned:
                self._warned = True
                logger.warning("TWISTED_DNS_RESOLVER is not crawler.resolver.SafeResolver: resolved "
                               "addresses are checked before each request only (blocking lookups)")
        return self._policy

    def process_request(self, request):
        policy = self._connect_policy()
        host = (urlsplit(request.url).hostname or "").lower()
        allow_private = bool(request.meta.get("allow_private")) or host in self.private_hosts
        if allow_private and host not in self.private_hosts:
            self._allow_private_host(host)   # the site's hosts: its redirects too
        allowed = allow_private or (policy is not None and policy.host_allowed(host))
        try:
            check_target(request.url, self.allow, allowed)
            if policy is None:
                check_url(request.url, self.allow, allowed)
        except UnsafeURLError as exc:
            self._refuse(request, str(exc))
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            policy = self._connect_policy()
            host = urlsplit(request.url).hostname or ""
            reason = policy.refusal_for(host) if policy is not None else None
            if reason:
                self._refuse(request, f"refusing to fetch {request.url}: {reason}")
        return None

    @staticmethod
    def _refuse(request, message: str):
        logger.warning("[%s] %s", request.meta.get("site") or "-", message)
        raise UnsafeRequest(message) from None
