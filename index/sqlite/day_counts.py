"""Articles per day in the SQLite index, for the volume charts (``IndexBackend.count_by_day``).

A day is the article's ``day`` column (its published date as the page gives it,
in Beijing time; else the fetch date): the same day ``--since``/``--until`` and
the search filters use, so a bar's count is what a search of that day finds.
Without a query the count is one ``GROUP BY`` over the ``articles_day`` index.
With one (a watch), the copies are the search's exact matches
(``search.matching_conditions``: FTS5 and the filters), counted per day in the
same statement; a copy counts when it matches by itself.
"""
from __future__ import annotations

import sqlite3
import threading

from index.errors import guarded
from index.query import Query
from index.sqlite.search import matching_conditions, region_condition

def count_by_day(conn: sqlite3.Connection, lock: threading.RLock, *, since: str, until: str,
                 sites: list[str] | None = None, regions: list[str] | None = None,
                 query: Query | None = None) -> dict[str, int]:
    if query is not None:
        return _matching_by_day(conn, lock, query, since=since, until=until, sites=sites, regions=regions)
    where = ["a.day >= ?", "a.day <= ?"]
    params: list = [since[:10], until[:10]]
    if sites:
        where.append(f"a.site IN ({', '.join('?' * len(sites))})")
        params += list(sites)
    if regions:
        condition, region_params = region_condition(list(regions))
        where.append(condition)
        params += region_params
    sql = f"SELECT a.day, count(*) FROM articles a WHERE {' AND '.join(where)} GROUP BY a.day"
    with lock:
        return {day: count for day, count in conn.execute(sql, params)}


def _matching_by_day(conn: sqlite3.Connection, lock: threading.RLock, query: Query, **filters) -> dict[str, int]:
    where, params = matching_conditions(query, **filters)
    with lock:
        return {day: count for day, count in conn.execute(
            f"SELECT k.day, count(*) FROM search_keys k WHERE {' AND '.join(where)} GROUP BY k.day", params)}


class DayCounts:
    """``IndexBackend.count_by_day`` for ``SQLiteIndex`` (which has ``_conn`` and ``_lock``)."""

    @guarded
    def count_by_day(self, *, since: str, until: str, sites: list[str] | None = None,
                     regions: list[str] | None = None, query: Query | None = None) -> dict[str, int]:
        return count_by_day(self._conn, self._lock, since=since, until=until, sites=sites, regions=regions,
                            query=query)
