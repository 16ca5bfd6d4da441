"""Fetch one page outside a crawl (``newsmon extract URL``), with the crawl's safety rules."""
from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from crawler.netsafety import AllowList, check_url

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


def fetch_url(url: str, allow: AllowList | None = None, timeout: float = 30) -> FetchedPage:
    allow = allow or AllowList.from_env()
    check_url(url, allow)
    opener = urllib.request.build_opener(_CheckedRedirects(allow))
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
