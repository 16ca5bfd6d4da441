"""Keeps each site's learned article URL shapes between runs (extension).

At ``spider_opened`` the spider's ``ShapeBook`` per site is filled from the
site's ``crawl_shapes`` document (``index/site_shapes.py``), so URLs of a family
learned last run are articles from the first list page on (and are asked for
conditionally by ``crawler.incremental``); at ``spider_closed`` what this run
confirmed is written back, with the earlier shapes it did not refute.
``NEWSMON_SHAPE_MEMORY_ENABLED=False`` turns it off.
"""
from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.shapes import ShapeBook
from index.site_shapes import read_shapes, write_shapes

logger = logging.getLogger("newsmon.crawl")


class ShapeMemory:
    def __init__(self, state_of):
        self.state_of = state_of          # () -> StateStore, opened on first use
        self._loaded: dict[str, dict] = {}

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("NEWSMON_SHAPE_MEMORY_ENABLED", True):
            raise NotConfigured("NEWSMON_SHAPE_MEMORY_ENABLED is off")

        def state():
            from pipelines.stages import shared_index
            return shared_index(crawler).state
        ext = cls(state)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider=None, **_kw):
        for name, discovery in (getattr(spider, "discovery", None) or {}).items():
            try:
                doc = self._loaded[name] = read_shapes(self.state_of(), name)
            except Exception as exc:  # noqa: BLE001 - without them the run learns the shapes again
                logger.warning("[%s] learned URL shapes unreadable (%s): learning them again", name, exc)
                continue
            discovery.shapes = ShapeBook.from_doc(doc)

    def spider_closed(self, spider=None, **_kw):
        for name, discovery in (getattr(spider, "discovery", None) or {}).items():
            book = discovery.shapes
            learned = book.to_doc()["article_shapes"]
            before = self._loaded.get(name, {}).get("article_shapes", [])
            keep = [item for item in before if not book.shapes.get(item.get("shape", "")) or
                    not book.shapes[item["shape"]].refuted]
            if not learned and not before:
                continue
            try:
                write_shapes(self.state_of(), name, learned, keep)
            except Exception as exc:  # noqa: BLE001 - the next run learns them again
                logger.warning("[%s] learned URL shapes not saved (%s)", name, exc)
