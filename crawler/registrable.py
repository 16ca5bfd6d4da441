"""Hosts of one organisation: the same registrable domain under the Public Suffix List.

A government site often serves its attachments from another host of its own
(``www.sc.gov.cn`` pages linking ``file.sc.gov.cn`` or ``fj.sc.gov.cn``): outside the
page's origin, inside the organisation. ``gov.cn``, ``com.cn`` and friends are public
suffixes, so ``sc.gov.cn`` and ``suqian.gov.cn`` stay apart, and a look-alike
(``sc.gov.cn.evil-cdn.com``) is another domain. tldextract with the list snapshot it
ships (never fetched during a crawl). An IP address or a bare name has no registrable
domain: only the same host matches.
"""
from __future__ import annotations

import functools
from urllib.parse import urlsplit


@functools.lru_cache(maxsize=1)
def _extractor():
    import tldextract
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)   # the shipped snapshot, offline


@functools.lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """``sc.gov.cn`` for ``file.sc.gov.cn``; '' for an IP address, ``localhost`` or a bare suffix."""
    parts = _extractor()(host.lower().rstrip("."))
    return parts.top_domain_under_public_suffix if parts.suffix and parts.domain else ""


def same_organisation(url: str, other_url: str) -> bool:
    """Whether two URLs' hosts are one host or share a registrable domain (any port, http(s))."""
    a, b = (urlsplit(u) for u in (url, other_url))
    host_a, host_b = (a.hostname or "").lower().rstrip("."), (b.hostname or "").lower().rstrip(".")
    if not host_a or not host_b or a.scheme not in ("http", "https") or b.scheme not in ("http", "https"):
        return False
    if host_a == host_b:
        return True
    domain = registrable_domain(host_a)
    return bool(domain) and domain == registrable_domain(host_b)
