"""Logging for every newsmon process (the CLI, the scheduler daemon, crawl children):
newsmon's own progress lines at INFO, stamped in the users' time zone; Scrapy's
internals only when asked for (``-v``)."""
from __future__ import annotations

import logging
import sys

from crawler.logformatter import fold_scrapy_record

_THIRD_PARTY = ("scrapy", "twisted", "py.warnings", "asyncio", "protego", "filelock")


def configure_logging(verbose: bool = False, quiet: bool = False, datefmt: str = "%H:%M:%S") -> None:
    """newsmon's own progress lines at INFO; Scrapy's internals only when -v."""
    from monitor.clock import LocalTimeFormatter
    level = logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    # Stamped in NEWSMON_TZ, the users' time zone, whatever zone the server runs in.
    handler.setFormatter(LocalTimeFormatter("%(asctime)s %(levelname)-7s %(message)s", datefmt))
    if not verbose:
        handler.addFilter(_quiet_third_party)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("newsmon").setLevel(level)
    for noisy in ("trafilatura", "htmldate", "charset_normalizer", "readability", "elastic_transport"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _quiet_third_party(record: logging.LogRecord) -> bool:
    """Scrapy raises its own loggers to DEBUG when a crawl starts: keep its chatter
    out, and show its warnings and errors as one line (tracebacks only with -v);
    newsmon's own lines already say which URL failed and why."""
    if not record.name.startswith(_THIRD_PARTY):
        return True
    if record.levelno < logging.WARNING:
        return False
    record.exc_info, record.exc_text = None, None
    return fold_scrapy_record(record) if record.name.startswith("scrapy") else True
