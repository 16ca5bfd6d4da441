"""Scrapy item pipelines: short adapters around the plain functions.

Order (wired in ``crawler/settings.py``): ExtractPipeline (decode -> extract ->
clean) -> QuarantinePipeline (spam) -> NormalizePipeline -> DedupPipeline ->
IndexPipeline. Each adapter's work is a plain function that ``newsmon extract``,
tests and benchmarks call too. A page that cannot become an article is dropped
with a reason-keyed count and a log line naming its URL; the crawl goes on.
"""
from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import DropItem

from crawler.stats import count
from index import Quarantined, open_index
from pipelines.article import ExtractionError
from pipelines.dedup import StoryClusterer
from pipelines.extract import extract_article
from pipelines.records import build_record

logger = logging.getLogger("newsmon.crawl")


def shared_index(crawler):
    """One index connection per crawl, shared by the pipelines that need it."""
    index = getattr(crawler, "_newsmon_index", None)
    if index is None:
        index = open_index(crawler.settings.get("NEWSMON_INDEX"))
        crawler._newsmon_index = index

        def close(*_args, **_kw):
            index.flush()
            index.close()
        crawler.signals.connect(close, signal=signals.spider_closed, weak=False)
    return index


class ExtractPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self._options: dict = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def options_for(self, site_name: str):
        """The site's ExtractOptions (encoding, selectors) from the sites file."""
        if site_name not in self._options:
            site = getattr(self.crawler.spider, "sites", {}).get(site_name)
            self._options[site_name] = site.extract_options() if site else None
        return self._options[site_name]

    def process_item(self, item):
        options = self.options_for(item.site)
        try:
            item.article = extract_article(item.body, item.url, item.headers, options)
        except ExtractionError as exc:
            count(self.stats, f"errors/{exc.reason}", item.site)
            logger.warning("[%s] not an article %s: %s (%s)", item.site, item.url, exc.message, exc.reason)
            raise DropItem(f"{exc.reason}: {item.url}") from None
        except Exception as exc:  # noqa: BLE001 - one broken page must never stop the crawl
            count(self.stats, "errors/extract_crash", item.site)
            logger.exception("[%s] extraction failed on %s: %s", item.site, item.url, exc)
            raise DropItem(f"extract_crash: {item.url}") from None
        item.body = b""   # the raw bytes are not needed past extraction
        return item


class QuarantinePipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        article = item.article
        if article.spam_reasons and not article.spam:
            count(self.crawler.stats, "spam_removed", item.site)
        if not article.spam:
            return item
        reason = "; ".join(article.spam_reasons) or "spam"
        shared_index(self.crawler).record_quarantine(Quarantined(
            url=item.url, site=item.site, reason=reason, title=article.title[:200],
            fetched_at=item.fetched_at))
        count(self.crawler.stats, "spam_quarantined", item.site)
        logger.warning("[%s] quarantined spam page %s: %s", item.site, item.url, reason)
        raise DropItem(f"spam: {item.url}")


class NormalizePipeline:
    def process_item(self, item):
        item.record = build_record(item.article, site=item.site, region=item.region,
                                   fetched_at=item.fetched_at)
        return item


class DedupPipeline:
    def __init__(self, crawler, window_days: int):
        self.crawler = crawler
        self.window_days = window_days
        self._clusterer = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getint("NEWSMON_DEDUP_WINDOW_DAYS", 30))

    def process_item(self, item):
        if self._clusterer is None:
            self._clusterer = StoryClusterer(shared_index(self.crawler), window_days=self.window_days)
        item.assignment = self._clusterer.assign(item.record)
        return item


class IndexPipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        index = shared_index(self.crawler)
        record, assignment = item.record, item.assignment
        is_new = index.upsert_article(record)
        stats, site = self.crawler.stats, item.site
        count(stats, "articles_indexed", site)
        count(stats, "articles_new" if is_new else "articles_updated", site)
        if assignment.new_story:
            count(stats, "stories_new", site)
            what = "new story"
        elif assignment.match in ("exact", "near"):
            count(stats, "duplicates", site)
            what = f"copy ({assignment.match})"
        else:
            what = "seen before"
        logger.info("[%s] %-13s %s  %s", site, what, record.published or "----------", record.title[:40])
        return item
