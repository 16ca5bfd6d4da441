"""A search as the URL carries it (``?q=&site=&region=&since=&until=&sort=&page=``),
read once for the HTML page and the JSON API, with plain errors for bad values.

``build_search`` checks plain values, so ``newsmon search`` checks its options
with the same code and says the same thing; ``check_scope`` says which site or
region filter names nothing the index knows, with the close matches."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from index.query import Query, QueryLimitError, QuerySyntaxError, parse_query
from index.story_search import SORTS

PAGE_SIZE = 20
MAX_LIMIT = 1000          # as `newsmon search --limit`


class BadSearch(ValueError):
    """A parameter the user can fix; the message says which and how. ``search`` is
    what was read (a page keeps the typed query in its box); ``position`` is where
    the query breaks, when that is the problem."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.position = position
        self.search: SearchParams | None = None


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


# What each parameter is called in a message (the parameter's own name follows, for API users).
_LABELS = {"since": "起始日期", "until": "截止日期", "limit": "条数", "offset": "偏移", "page": "页码", "sort": "排序"}


def _label(name: str) -> str:
    return f"{_LABELS.get(name, name)}（{name}）"


def _day(value: str | None, name: str) -> str | None:
    if not value:
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        raise BadSearch(f"{_label(name)}：{value!r} 不是日期（应写成 YYYY-MM-DD）") from None
    if len(value) != 10:
        raise BadSearch(f"{_label(name)}：{value!r} 不是日期（应写成 YYYY-MM-DD）")
    return value


def _int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadSearch(f"{_label(name)}：{value!r} 不是整数") from None
    if not low <= number <= high:
        raise BadSearch(f"{_label(name)}：{number} 超出范围，应在 {low} 到 {high} 之间")
    return number


def read_search(params: QueryParams, *, api: bool = False) -> SearchParams:
    """Parse the URL's search; ``api`` reads ``limit``/``offset``, a page reads ``page``."""
    q = (params.get("q") or "").strip()
    try:
        if api:
            limit = _int(params.get("limit"), "limit", PAGE_SIZE, 1, MAX_LIMIT)
            offset = _int(params.get("offset"), "offset", 0, 0, 10**9)
        else:
            limit = PAGE_SIZE
            offset = (_int(params.get("page"), "page", 1, 1, 10**6) - 1) * PAGE_SIZE
    except BadSearch as exc:
        exc.search = SearchParams(q=q, sites=params.getlist("site"), regions=params.getlist("region"))
        raise
    return build_search(q, sites=params.getlist("site"), regions=params.getlist("region"),
                        since=params.get("since"), until=params.get("until"), sort=params.get("sort") or "date",
                        offset=offset, limit=limit, require_query=api)


def build_search(q: str, *, sites=(), regions=(), since: str | None = None, until: str | None = None,
                 sort: str = "date", offset: int = 0, limit: int = PAGE_SIZE,
                 require_query: bool = False) -> SearchParams:
    """A search from plain values (the web's parameters, the CLI's options), checked;
    ``BadSearch`` carries what was read in ``search``."""
    search = SearchParams(q=(q or "").strip(), sites=[s for s in sites if s], regions=[r for r in regions if r],
                          sort=sort or "date", offset=offset, limit=limit)
    try:
        search.since = _day(since, "since")
        search.until = _day(until, "until")
        if search.sort not in SORTS:
            raise BadSearch(f"{_label('sort')}：{search.sort!r} 不可用，可选：{'、'.join(SORTS)}")
        if search.since and search.until and search.since > search.until:
            raise BadSearch(f"起始日期 {search.since} 晚于截止日期 {search.until}：请对调两者")
        if search.q:
            try:
                search.query = parse_query(search.q)
            except QueryLimitError as exc:       # the whole query: no position to point at
                raise BadSearch(f"查询有误：{exc}") from None
            except QuerySyntaxError as exc:
                raise BadSearch(f"查询有误：{exc}", exc.position) from None
        elif require_query:
            raise BadSearch("缺少查询 q：请给出查询词（与 newsmon search 相同的查询语言）")
    except BadSearch as exc:
        exc.search = search
        raise
    return search


# -- filters that name nothing the index knows ----------------------------------------------

_REGION_UNIT = re.compile(r"[^省市区县州盟旗]+[省市区县州盟旗]?")


def region_levels(regions) -> list[tuple[str, int]]:
    """Every region and each level above it (江苏省, 江苏省宿迁市, 江苏省宿迁市宿城区), with its
    depth, sorted; a filter on a level takes everything under it."""
    levels: set[tuple[str, int]] = set()
    for region in filter(None, regions):
        prefix = ""
        for depth, unit in enumerate(_REGION_UNIT.findall(region)):
            prefix += unit
            levels.add((prefix, depth))
    return sorted(levels)


def _close(value: str, known: list[str], what: str) -> str:
    close = difflib.get_close_matches(value, known, n=5, cutoff=0.5)
    close += [k for k in known if value.lower() in k.lower() and k not in close][:5 - len(close)]
    if close:
        return f"；相近的有：{'、'.join(close)}"
    if not known:
        return f"；索引里还没有任何{what}（先运行 newsmon crawl）"
    shown = "、".join(known[:12]) + ("…" if len(known) > 12 else "")
    return f"；已知的{what}有：{shown}"


def check_scope(sites, regions, known: dict[str, str | None]) -> None:
    """``BadSearch`` for a site the index does not know (``known``: site -> region, as
    ``IndexBackend.site_regions``) or a region no known site's region contains (a region
    filter matches any region containing it, as the search does)."""
    names = sorted(known)
    for site in sites:
        if site not in known:
            raise BadSearch(f"未知站点 {site!r}：索引里没有这个站点{_close(site, names, '站点')}")
    areas = [r for r in known.values() if r]
    for region in regions:
        if not any(region in area for area in areas):
            levels = [level for level, _depth in region_levels(areas)]
            raise BadSearch(f"未知地区 {region!r}：索引里没有哪个站点的地区包含它{_close(region, levels, '地区')}")
