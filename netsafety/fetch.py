"""One HTTP exchange outside a crawl (``newsmon extract URL``, webhooks), under the
crawl's network-safety rules.

``request_url`` is the one connector for these: the name is resolved once, every
answer is checked (``netsafety.vet_addresses``), and the socket connects to exactly
a checked address while TLS SNI, certificate checks and the Host header keep the
name. Each redirect hop is a new exchange, checked the same way. A total
``deadline`` bounds the whole exchange: a receiver that trickles one byte every
few seconds never trips a socket timeout, so a watchdog shuts the socket when the
deadline passes.

Plain ``http.client`` rather than urllib: urllib resolves the name again inside
``HTTPConnection`` (on Python 3.11 ``__init__`` sets ``_create_connection`` on the
instance, so a class-level override never runs), which is the DNS-rebinding gap.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from netsafety.addresses import AllowList, UnsafeURLError, check_target, vetted_addresses

USER_AGENT = "newsmon/0.1 (+news monitoring)"
MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(Exception):
    pass


@dataclass
class FetchedPage:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


class _Watchdog:
    """Shuts the exchange's socket when the total deadline passes (unblocks a recv
    that a trickling peer keeps alive)."""

    def __init__(self, seconds: float | None):
        self.expires = None if seconds is None else time.monotonic() + seconds
        self.fired = False
        self._sock: socket.socket | None = None
        self._timer: threading.Timer | None = None
        if seconds is not None:
            self._timer = threading.Timer(max(seconds, 0.0), self._fire)
            self._timer.daemon = True
            self._timer.start()

    def remaining(self) -> float | None:
        return None if self.expires is None else self.expires - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        self._sock = sock
        if self.fired:
            self._fire()

    def _fire(self) -> None:
        self.fired = True
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _vetted_connection(url: str, allow: AllowList, allow_private: bool, timeout: float,
                       watchdog: _Watchdog) -> http.client.HTTPConnection:
    """An ``HTTP(S)Connection`` for ``url`` whose socket goes to a checked address."""
    parts = urlsplit(url)
    host = check_target(url, allow, allow_private)
    port = parts.port or (443 if parts.scheme == "https" else 80)

    def connect(_address, _timeout=None, _source=None):
        if allow_private or allow.allows(host):
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        else:
            infos = vetted_addresses(url, host, port, allow)
        error: OSError | None = None
        for family, type_, proto, _name, sockaddr in infos:
            sock = socket.socket(family, type_, proto)
            try:
                sock.settimeout(_bounded(timeout, watchdog))
                watchdog.watch(sock)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
        raise error or OSError(f"cannot connect to {host}:{port}")

    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    conn._create_connection = connect   # after __init__, which sets the default on the instance
    return conn


def _bounded(timeout: float, watchdog: _Watchdog) -> float:
    remaining = watchdog.remaining()
    if remaining is not None and remaining <= 0:
        raise TimeoutError("deadline passed")
    return timeout if remaining is None else max(min(timeout, remaining), 0.001)


def _exchange(url: str, method: str, data: bytes | None, headers: dict[str, str], timeout: float,
              allow: AllowList, allow_private: bool, max_bytes: int, watchdog: _Watchdog) -> FetchedPage:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = _vetted_connection(url, allow, allow_private, timeout, watchdog)
    try:
        conn.request(method, target, body=data, headers={"User-Agent": USER_AGENT, **headers})
        resp = conn.getresponse()
        chunks, size = [], 0
        while size <= max_bytes:
            _bounded(timeout, watchdog)
            chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{url}: larger than {max_bytes} bytes")
        return FetchedPage(url, resp.status, {k.lower(): v for k, v in resp.getheaders()}, b"".join(chunks))
    finally:
        conn.close()


def request_url(url: str, *, method: str = "GET", data: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 30,
                deadline: float | None = None, allow: AllowList | None = None,
                allow_private: bool = False, follow_redirects: bool = True,
                max_bytes: int = MAX_BYTES) -> FetchedPage:
    """One request, answered whatever its HTTP status; ``deadline`` (seconds) bounds the
    whole exchange, redirects included. Raises ``UnsafeURLError`` for a refused target
    (any hop) and ``FetchError`` for network failures, a passed deadline or a too-large
    body."""
    allow = AllowList.from_env() if allow is None else allow
    watchdog = _Watchdog(deadline)
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                page = _exchange(url, method, data, headers or {}, timeout, allow, allow_private,
                                 max_bytes, watchdog)
            except UnsafeURLError:
                raise
            except (OSError, http.client.HTTPException) as exc:
                if watchdog.fired:
                    raise FetchError(f"{url}: no complete answer within {deadline:g} s") from None
                raise FetchError(f"{url}: {exc or type(exc).__name__}") from None
            location = page.headers.get("location")
            if not (follow_redirects and page.status in _REDIRECTS and location):
                return page
            url = urljoin(url, location)   # the next hop is checked like the first
            if page.status == 303:
                method, data = "GET", None
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")
    finally:
        watchdog.cancel()


def fetch_url(url: str, allow: AllowList | None = None, timeout: float = 30,
              deadline: float | None = 120) -> FetchedPage:
    """GET a page for extraction; an HTTP error status is a ``FetchError``."""
    page = request_url(url, allow=allow, timeout=timeout, deadline=deadline)
    if page.status >= 400:
        raise FetchError(f"{url}: HTTP {page.status}")
    return page
