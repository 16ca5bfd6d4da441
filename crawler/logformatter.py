"""Scrapy log formatting: a dropped page is logged once, by the pipeline that
dropped it (with URL and reason), so Scrapy's own "Dropped:" line — which dumps
the whole item, raw bytes included — goes to DEBUG; so does its "Error
processing" line for a page a storage failure or a missing extractor kept out of the index."""
from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter


class NewsmonLogFormatter(LogFormatter):
    def dropped(self, item, exception, response, spider=None):
        return {"level": logging.DEBUG, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}

    def item_error(self, item, exception, response, spider=None):
        # A storage failure was logged once, in Chinese, by the stage that met it
        # (pipelines/stages.py): not again per page, with the item dumped.
        from index import StorageError
        from pipelines.requirements import MissingExtractor
        if isinstance(exception, (StorageError, MissingExtractor)):
            return {"level": logging.DEBUG, "msg": "Not stored: %(exception)s", "args": {"exception": exception}}
        return super().item_error(item, exception, response, spider)
