"""Fetch one page outside a crawl (``newsmon extract URL``), with the crawl's safety rules."""
from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

from crawler.netsafety import AllowList, check_url, vetted_addresses

USER_AGENT = "newsmon/0.1 (+news monitoring)"
MAX_BYTES = 10 * 1024 * 1024


class FetchError(Exception):
    pass


@dataclass
class FetchedPage:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 5

    def __init__(self, allow: AllowList):
        self.allow = allow

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_url(newurl, self.allow)     # every hop, not just the first URL
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _vetted_connect(allow: AllowList):
    """``socket.create_connection`` that connects only to an address the safety rule
    accepted, from the same lookup (no second lookup an attacker's DNS could answer
    differently)."""
    def create_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, *_args):
        host, port = address
        error: OSError | None = None
        for family, type_, proto, _name, sockaddr in vetted_addresses(f"//{host}:{port}", host, port, allow):
            sock = socket.socket(family, type_, proto)
            try:
                if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                    sock.settimeout(timeout)
                if source_address:
                    sock.bind(source_address)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
        raise error or OSError(f"cannot connect to {host}:{port}")
    return create_connection


def _vetted_handlers(allow: AllowList) -> list:
    connect = staticmethod(_vetted_connect(allow))
    http_conn = type("VettedHTTPConnection", (http.client.HTTPConnection,), {"_create_connection": connect})
    https_conn = type("VettedHTTPSConnection", (http.client.HTTPSConnection,), {"_create_connection": connect})

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(http_conn, req)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(https_conn, req, context=self._context)

    return [Http(), Https()]


def fetch_url(url: str, allow: AllowList | None = None, timeout: float = 30) -> FetchedPage:
    allow = allow or AllowList.from_env()
    check_url(url, allow)
    opener = urllib.request.build_opener(_CheckedRedirects(allow), *_vetted_handlers(allow))
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with opener.open(request, timeout=timeout) as resp:
            body = resp.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise FetchError(f"{url}: larger than {MAX_BYTES} bytes")
            return FetchedPage(resp.geturl(), resp.status,
                               {k.lower(): v for k, v in resp.headers.items()}, body)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"{url}: {getattr(exc, 'reason', exc)}") from None
