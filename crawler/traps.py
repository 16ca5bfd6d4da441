"""Spider traps: one URL per page, and caps on URL spaces that never end.

Plain code, no Scrapy: the spider asks ``TrapGuard.admit`` before it schedules a
link, so the per-site page budget is spent on distinct pages only.

* one page, one URL: session ids (``;jsessionid=``, ``PHPSESSID=``...), ``?page=1``,
  print switches and tracking parameters go; what is left is keyed by
  ``index.identity.canonical_url`` (the index's own notion of "the same page",
  so there is one normalizer) and a key is scheduled once per run;
* traps refused with a reason: calendars (``?date=``/``year=``/``month=``,
  ``/calendar/``), search result pages (``?q=``, ``keyword=``...), pagination past
  ``max_page_number``, paths that repeat a segment (``/a/b/a/b/a/b/``), URLs
  over ``max_url_length``, and more than ``max_query_variants`` query strings
  on one path (faceted lists, sort orders, filters that multiply) -- but not
  one numeric id (``show.asp?id=312``: each is its own page);
* infinite "下一页" chains are cut by the spider when ``barren_pages_max`` list
  pages in a row brought no new article (``follow_paging``).
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from index.identity import canonical_url

SESSION_PARAMS = frozenset({
    "jsessionid", "phpsessid", "sessionid", "session_id", "sessid", "sid", "aspsessionid",
    "cfid", "cftoken", "zenid", "osCsid".lower(), "wt.mc_id", "ticket",
})
_SESSION_PATH_PARAM = re.compile(r";(jsessionid|phpsessid|sessionid|sid)=[^/?#]*", re.I)
PAGE_PARAMS = frozenset({"page", "pagenum", "pageno", "page_no", "pn", "pageindex", "curpage",
                         "currentpage", "cur_page"})
PRINT_PARAMS = frozenset({"print", "printable", "printview", "print_view", "isprint"})
DAY_PARAMS = frozenset({"date", "day", "ymd", "riqi", "rq"})   # one page per day: endless
YEAR_PARAMS = frozenset({"year", "ym", "month", "nian"})        # archives: fine in a sane range
SEARCH_PARAMS = frozenset({"q", "query", "keyword", "keywords", "kw", "wd", "searchword", "search",
                           "searchkey"})
_YEAR = re.compile(r"(1[0-9]{3}|2[0-9]{3}|[0-9]{5,})")
_CALENDAR_PATH = re.compile(r"(^|/)(calendar|rili|kalendar|events?-calendar)(/|$|\.)", re.I)
_SEARCH_PATH = re.compile(r"(^|/)(search|jsearch|so|sousuo|query|fulltext_search)(/|$|\.)", re.I)
_PAGED_PATH = re.compile(r"[_/-](\d+)\.s?html?$", re.I)   # index_37.html, list-37.htm


def strip_session_ids(url: str) -> str:
    """Drop session ids, ``page=1`` and print switches: what remains names the page."""
    parts = urlsplit(url)
    path = _SESSION_PATH_PARAM.sub("", parts.path)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
              if k.lower() not in SESSION_PARAMS and k.lower() not in PRINT_PARAMS
              and not (k.lower() in PAGE_PARAMS and v.strip() in ("1", ""))
              and not k.lower().startswith("aspsessionid")]
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(params), ""))


def page_number(url: str) -> int | None:
    parts = urlsplit(url)
    for k, v in parse_qsl(parts.query):
        if k.lower() in PAGE_PARAMS and v.isdigit():
            return int(v)
    m = _PAGED_PATH.search(parts.path)
    if m and re.search(r"(index|list|default|node|page)[^/]*$", parts.path, re.I):
        return int(m.group(1))
    return None


def trap_reason(url: str, max_page_number: int = 200, max_url_length: int = 1000) -> str | None:
    """Why ``url`` is a trap, or None. Looks at the URL only."""
    if len(url) > max_url_length:
        return "url_too_long"
    parts = urlsplit(url)
    params = [(k.lower(), v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    keys = {k for k, _ in params}
    if keys & DAY_PARAMS or _CALENDAR_PATH.search(parts.path) or any(
            k in YEAR_PARAMS and not _sane_year(v) for k, v in params):
        return "calendar"
    if keys & SEARCH_PARAMS or _SEARCH_PATH.search(parts.path):
        return "search"
    segments = [s for s in parts.path.split("/") if s]
    if segments and max(Counter(segments).values()) >= 3:
        return "repeating_path"
    number = page_number(url)
    if number is not None and number > max_page_number:
        return "pagination_cap"
    return None


def _one_id(query: str) -> bool:
    """``id=312``: one number names one page (``show.asp?id=``, ``?p=``), a family as large
    as the site; facets and sort orders combine keys or words."""
    params = parse_qsl(query, keep_blank_values=True)
    return len(params) == 1 and params[0][1].isdigit()


def _sane_year(value: str) -> bool:
    m = _YEAR.search(value)
    return m is None or 1949 <= int(m.group(1)) <= date.today().year + 1


class TrapGuard:
    """Per-run, per-site memory of what was scheduled (bounded by the page budget,
    since only admitted URLs are remembered)."""

    def __init__(self, max_page_number: int = 200, max_query_variants: int = 50,
                 max_url_length: int = 1000, barren_pages_max: int = 3):
        self.max_page_number = max_page_number
        self.max_query_variants = max_query_variants
        self.max_url_length = max_url_length
        self.barren_pages_max = barren_pages_max
        self._seen: dict[str, set[str]] = {}
        self._variants: dict[str, Counter[str]] = {}

    def admit(self, site: str, url: str) -> tuple[str | None, str | None]:
        """``(url to request, None)`` or ``(None, reason)``; reason ``duplicate`` for a
        page already scheduled under this or another spelling."""
        clean = strip_session_ids(url)
        reason = trap_reason(clean, self.max_page_number, self.max_url_length)
        if reason:
            return None, reason
        key = canonical_url(clean)
        seen = self._seen.setdefault(site, set())
        if key in seen:
            return None, "duplicate"
        path_key, _, query = key.partition("?")
        if query and not _one_id(query):
            variants = self._variants.setdefault(site, Counter())
            if variants[path_key] >= self.max_query_variants:
                return None, "query_variants"
            variants[path_key] += 1
        seen.add(key)
        return clean, None

    def follow_paging(self, barren_pages: int) -> bool:
        """Keep following 下一页 after ``barren_pages`` list pages in a row without a new article?"""
        return barren_pages < self.barren_pages_max
