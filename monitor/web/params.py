"""A search as the URL carries it (``?q=&site=&region=&since=&until=&sort=&page=``),
read once for the HTML page and the JSON API, with plain errors for bad values."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from index.query import Query, QuerySyntaxError, parse_query
from index.story_search import SORTS

PAGE_SIZE = 20
MAX_LIMIT = 1000          # as `newsmon search --limit`


class BadSearch(ValueError):
    """A parameter the user can fix; the message says which and how."""


@dataclass
class SearchParams:
    q: str = ""
    sites: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    sort: str = "date"
    offset: int = 0
    limit: int = PAGE_SIZE
    query: Query | None = None

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    def url(self, **changes) -> str:
        """This search's page URL with some parameters changed (e.g. ``page=2``)."""
        values = {"q": self.q, "site": self.sites, "region": self.regions, "since": self.since,
                  "until": self.until, "sort": None if self.sort == "date" else self.sort,
                  "page": self.page if self.page > 1 else None}
        values.update(changes)
        pairs = []
        for key, value in values.items():
            for item in value if isinstance(value, list) else [value]:
                if item not in (None, ""):
                    pairs.append((key, item))
        return "/?" + urlencode(pairs) if pairs else "/"


def _day(value: str | None, name: str) -> str | None:
    if not value:
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        raise BadSearch(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None
    if len(value) != 10:
        raise BadSearch(f"{name}: {value!r} is not a date (YYYY-MM-DD)")
    return value


def _int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadSearch(f"{name}: {value!r} is not a whole number") from None
    if not low <= number <= high:
        raise BadSearch(f"{name}: {number} is outside {low}..{high}")
    return number


def read_search(params: QueryParams, *, api: bool = False) -> SearchParams:
    """Parse the URL's search; ``api`` reads ``limit``/``offset``, a page reads ``page``."""
    search = SearchParams(
        q=(params.get("q") or "").strip(),
        sites=[s for s in params.getlist("site") if s],
        regions=[r for r in params.getlist("region") if r],
        since=_day(params.get("since"), "since"),
        until=_day(params.get("until"), "until"),
        sort=params.get("sort") or "date")
    if search.sort not in SORTS:
        raise BadSearch(f"sort: {search.sort!r} is not one of {', '.join(SORTS)}")
    if search.since and search.until and search.since > search.until:
        raise BadSearch(f"since {search.since} is after until {search.until}")
    if api:
        search.limit = _int(params.get("limit"), "limit", PAGE_SIZE, 1, MAX_LIMIT)
        search.offset = _int(params.get("offset"), "offset", 0, 0, 10**9)
    else:
        search.offset = (_int(params.get("page"), "page", 1, 1, 10**6) - 1) * PAGE_SIZE
    if search.q:
        try:
            search.query = parse_query(search.q)
        except QuerySyntaxError as exc:
            raise BadSearch(f"query: {exc}") from None
    elif api:
        raise BadSearch("q: give a query (same language as `newsmon search`)")
    return search
