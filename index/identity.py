"""Article identity: which URLs are one page, and the id a page is stored under.

The index keys every article by ``article_id(canonical_url(url))`` (``ArticleRecord.id``),
so the crawler (trap detection, resume), the story stage and the index agree on what
"the same page" is. Plain functions of the URL, no I/O.
"""
from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

# Query parameters that say how a reader arrived, not which page it is.
TRACKING_PARAMS = frozenset({
    "spm", "from", "source", "share", "isappinstalled", "scene", "clicktime", "enterid",
    "share_token", "sharer_shareinfo", "sharer_shareinfo_first", "wxshare_count",
    "fbclid", "gclid", "yclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "ref", "ref_src",
})
TRACKING_PREFIXES = ("utm_",)
DIRECTORY_INDEX_PAGES = ("index.html", "index.htm", "index.shtml", "default.html",
                         "default.htm", "index.jsp", "index.php")
_DEFAULT_PORTS = {"80", "443"}
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def canonical_url(url: str) -> str:
    """Scheme-less key for "the same page": ``host[:port]/path?sorted-params``.

    http and https copies of a page are one page, so the key has no scheme."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")   # 政府.cn and its punycode are one host
    except UnicodeError:
        pass
    netloc = host.lower()
    if parts.port is not None and str(parts.port) not in _DEFAULT_PORTS:
        netloc += f":{parts.port}"
    # Re-quote after unquoting so %E5%AE%BF and 宿 give the same key.
    path = quote(unquote(parts.path or "/"), safe=_PATH_SAFE)
    for page in DIRECTORY_INDEX_PAGES:
        if path.lower().endswith("/" + page):
            path = path[: -len(page)]
            break
    path = path.rstrip("/")
    params = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES))
    query = urlencode(params)
    return netloc + path + (f"?{query}" if query else "")


def article_id(canonical: str) -> str:
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()
