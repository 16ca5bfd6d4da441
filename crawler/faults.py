"""Why a fetch failed, as a short stable reason (a per-site stats key).

One mapping for the spider's errback and the retry middleware's counts, so a
fault reads the same in the crawl summary whether it was retried or final.
Scrapy >= 2.14 wraps Twisted's errors in its own; both spellings map to one reason.
"""
from __future__ import annotations

import re

from scrapy import exceptions
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (ConnectionDone, ConnectionLost, ConnectionRefusedError, DNSLookupError,
                                    TCPTimedOutError, TimeoutError)
from twisted.python.failure import Failure

_BY_TYPE = (
    ((exceptions.CannotResolveHostError, DNSLookupError), "dns"),
    ((exceptions.DownloadTimeoutError, TimeoutError, TCPTimedOutError), "timeout"),
    ((exceptions.DownloadConnectionRefusedError, ConnectionRefusedError), "connection_refused"),
    ((exceptions.ResponseDataLossError,), "truncated"),
)
# IgnoreRequest says why only in its message.
_BY_MESSAGE = (
    ("during decompression", "too_large_decompressed"),   # HttpCompressionMiddleware: a bomb
    ("max redirections", "redirect_limit"),               # RedirectMiddleware: a loop
    ("robots", "robots_txt"),
)


def _causes(exc: BaseException) -> list:
    """The exception, its causes, and the failures Twisted bundles in ResponseFailed."""
    out, todo, seen = [], [exc], set()
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        out.append(e)
        todo.append(e.__cause__)
        for reason in getattr(e, "reasons", None) or ():
            todo.append(reason.value if isinstance(reason, Failure) else reason)
    return out


def fault_reason(exc: BaseException) -> str:
    """``dns``, ``timeout``, ``tls``, ``connection_lost``, ``too_large``, ``http_503``..."""
    from crawler.middlewares import UnsafeRequest   # (middlewares import nothing from here)

    if isinstance(exc, HttpError):
        response = exc.response
        location = (response.headers.get(b"Location") or b"").decode("latin-1").lower()
        if 300 <= response.status < 400 and location and not location.startswith(("http:", "https:", "/")):
            return "unsafe_url"   # a redirect to ftp:, file:, gopher: ... is not followed
        return f"http_{response.status}"
    if isinstance(exc, UnsafeRequest):
        return "unsafe_url"
    for types, reason in _BY_TYPE:
        if isinstance(exc, types):
            return reason
    if isinstance(exc, exceptions.DownloadCancelledError):
        # The HTTP handler cancels a body over DOWNLOAD_MAXSIZE (declared or received).
        return "too_large"
    if isinstance(exc, exceptions.IgnoreRequest):
        text = str(exc).lower()
        return next((reason for words, reason in _BY_MESSAGE if words in text), "ignored")
    causes = _causes(exc)
    if any(type(c).__module__.startswith("OpenSSL") or "ssl" in type(c).__name__.lower() for c in causes):
        return "tls"
    if any(isinstance(c, (ConnectionLost, ConnectionDone, ConnectionResetError)) for c in causes):
        return "connection_lost"
    if isinstance(exc, exceptions.DownloadFailedError):
        return "download_failed"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def fetch_error_reason(failure: Failure) -> str:
    """``fault_reason`` of an errback's failure."""
    return fault_reason(failure.value)
