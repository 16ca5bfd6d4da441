"""Scrapy log formatting: a dropped page is logged once, by the pipeline that
dropped it (with URL and reason), so Scrapy's own "Dropped:" line — which dumps
the whole item, raw bytes included — goes to DEBUG."""
from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter


class NewsmonLogFormatter(LogFormatter):
    def dropped(self, item, exception, response, spider=None):
        return {"level": logging.DEBUG, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}
