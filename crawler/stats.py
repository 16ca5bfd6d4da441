"""Crawl counters: they live on the ground floor (``netsafety.counters``) so the
pipelines below ``crawler/`` write them too; this name stays for ``crawler.stats``."""
from netsafety.counters import PREFIX, count, read_counts

__all__ = ["PREFIX", "count", "read_counts"]
