"""Reason-keyed crawl counters, kept in Scrapy's stats collector.

Every count is kept twice: ``newsmon/<key>`` for the run and
``newsmon/site/<site>/<key>`` per site; the crawl summary reads both.
"""
from __future__ import annotations

PREFIX = "newsmon/"


def count(stats, key: str, site: str | None = None, n: int = 1) -> None:
    stats.inc_value(f"{PREFIX}{key}", n)
    if site:
        stats.inc_value(f"{PREFIX}site/{site}/{key}", n)


def read_counts(all_stats: dict) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """``(totals, per_site)`` from a stats dict."""
    totals: dict[str, int] = {}
    per_site: dict[str, dict[str, int]] = {}
    for key, value in all_stats.items():
        if not key.startswith(PREFIX) or not isinstance(value, int):
            continue
        rest = key[len(PREFIX):]
        if rest.startswith("site/"):
            _, site, sub = rest.split("/", 2)
            per_site.setdefault(site, {})[sub] = value
        else:
            totals[rest] = value
    return totals, per_site
