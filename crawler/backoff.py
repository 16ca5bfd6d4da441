"""Retries that wait: Scrapy's RetryMiddleware re-queues a failed request at once,
which against a 429 or a 5xx burst only asks again while the server is still down.

This one waits before each retry -- what the server's ``Retry-After`` says (seconds
or an HTTP date, capped at ``NEWSMON_RETRY_MAX_DELAY``), otherwise exponential
backoff from ``NEWSMON_RETRY_BACKOFF`` seconds with +-50% jitter -- and counts
every retry per site as ``retries/<reason>``. A ``Retry-After`` on a 429/503 also
raises the site's delay between requests for the rest of the run (``throttled_by_server``). Which failures are retried and how
often stay Scrapy's settings (``RETRY_TIMES``, ``RETRY_HTTP_CODES``,
``RETRY_EXCEPTIONS``).
"""
from __future__ import annotations

import logging
import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import task

from crawler.faults import fault_reason
from netsafety.counters import count

logger = logging.getLogger("newsmon.crawl")


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """``Retry-After: 120`` or ``Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`` -> seconds."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.backoff = settings.getfloat("NEWSMON_RETRY_BACKOFF", 1.0)
        self.max_delay = settings.getfloat("NEWSMON_RETRY_MAX_DELAY", 60.0)

    def delay_for(self, retry_times: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return min(self.backoff * 2 ** (retry_times - 1) * random.uniform(0.5, 1.5), self.max_delay)

    async def process_response(self, request, response):
        result = super().process_response(request, response)
        after = retry_after_seconds(response.headers.get(b"Retry-After"))
        if after is not None and response.status in (429, 503):
            self._slow_down_site(request, after)
        if isinstance(result, Request):
            await self._wait(request, result, f"http_{response.status}", after)
        return result

    def _slow_down_site(self, request, seconds: float) -> None:
        """The server asked for a pause: every later request to the site waits that
        long too (its download slot's delay), not only the one retried."""
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        seconds = min(seconds, self.max_delay)
        if slot is None or seconds <= slot.delay:
            return
        slot.delay = seconds
        site = request.meta.get("site")
        count(self.crawler.stats, "throttled_by_server", site)
        logger.warning("[%s] server asked to wait (Retry-After %.0fs): now %.0fs between requests to this site",
                       site or "-", seconds, seconds)

    async def process_exception(self, request, exception):
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(request, result, fault_reason(exception), None)
        return result

    async def _wait(self, request, retry: Request, reason: str, retry_after: float | None) -> None:
        site = request.meta.get("site")
        count(self.crawler.stats, f"retries/{reason}", site)
        delay = self.delay_for(retry.meta.get("retry_times", 1), retry_after)
        logger.info("[%s] %s: %s, retry %d in %.1fs", site or "-", request.url, reason,
                    retry.meta.get("retry_times", 1), delay)
        if delay > 0:
            from twisted.internet import reactor
            await maybe_deferred_to_future(task.deferLater(reactor, delay))
