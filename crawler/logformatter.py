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


# -- Scrapy's own log lines, in newsmon's words --------------------------------------------
# Scrapy logs some failures itself, in its words ("Gave up retrying <GET …> (failed 3
# times): DNS lookup failed: …"). newsmon already says the same per page ("[site] list
# URL: dns", crawler/faults.py reasons), so those lines go; the rest get the site in front.

def _request_in(record: logging.LogRecord):
    from scrapy import Request
    args = record.args if isinstance(record.args, dict) else {}
    return next((value for value in args.values() if isinstance(value, Request)), None)


def fold_scrapy_record(record: logging.LogRecord) -> bool:
    """A logging filter for Scrapy's records at WARNING and above: False for a line
    newsmon says itself, else the record rewritten as ``[site] …`` (True)."""
    template = str(record.msg)
    request = _request_in(record)
    if template.startswith("Gave up retrying"):
        return False      # the spider's errback logs the final failure with its reason
    site = (request.meta.get("site") if request is not None else None) or "-"
    if template.startswith("Error downloading") and record.name.endswith("robotstxt") and request is not None:
        from urllib.parse import urlsplit

        from crawler.faults import fault_reason
        args = record.args if isinstance(record.args, dict) else {}
        error = args.get("f_exception")
        reason = fault_reason(error) if isinstance(error, BaseException) else "error"
        parts = urlsplit(request.url)
        record.msg, record.args = "[%s] robots.txt %s: %s; crawled as if it allowed everything", (
            site, f"{parts.scheme}://{parts.netloc}/robots.txt", reason)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
    record.msg, record.args = "[%s] %s", (site, record.getMessage())
    return True
