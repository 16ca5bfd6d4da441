"""Scrapy item pipelines: short adapters around the plain functions.

Order (wired in ``crawler/settings.py``): ExtractPipeline (decode -> extract ->
clean) -> QuarantinePipeline (spam) -> NormalizePipeline -> DedupPipeline ->
IndexPipeline. Each adapter's work is a plain function that ``newsmon extract``,
tests and benchmarks call too; ``from_crawler`` reads settings and ``__init__``
takes plain values. A page that cannot become an article is dropped with a
reason-keyed count and a log line naming its URL; the crawl goes on.
"""
from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import DropItem

from crawler.stats import count
from index import IndexBackend, Quarantined, open_index
from pipelines.article import ExtractionError, ExtractOptions
from pipelines.dedup import StoryClusterer
from pipelines.extract import extract_article
from pipelines.records import build_record

logger = logging.getLogger("newsmon.crawl")


def shared_index(crawler) -> IndexBackend:
    """One index connection per crawl, shared by the pipelines that need it,
    flushed and closed when the spider closes."""
    index = getattr(crawler, "_newsmon_index", None)
    if index is None:
        index = open_index(crawler.settings.get("NEWSMON_INDEX"))
        crawler._newsmon_index = index

        def close(*_args, **_kw):
            index.flush()
            index.close()
        crawler.signals.connect(close, signal=signals.spider_closed, weak=False)
    return index


class _IndexStage:
    """A stage that writes to the crawl's shared index and counts what it did."""

    def __init__(self, index: IndexBackend, stats):
        self.index = index
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(shared_index(crawler), crawler.stats)


class ExtractPipeline:
    def __init__(self, stats, options_by_site: dict[str, ExtractOptions]):
        self.stats = stats
        self.options_by_site = options_by_site

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats, crawler.settings.get("NEWSMON_EXTRACT_OPTIONS") or {})

    def process_item(self, item):
        try:
            item.article = extract_article(item.body, item.url, item.headers, self.options_by_site.get(item.site))
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


class QuarantinePipeline(_IndexStage):
    def process_item(self, item):
        article = item.article
        if article.spam_reasons and not article.spam:
            count(self.stats, "spam_removed", item.site)
        if not article.spam:
            return item
        reason = "; ".join(article.spam_reasons) or "spam"
        self.index.record_quarantine(Quarantined(
            url=item.url, site=item.site, reason=reason, title=article.title[:200], fetched_at=item.fetched_at))
        count(self.stats, "spam_quarantined", item.site)
        logger.warning("[%s] quarantined spam page %s: %s", item.site, item.url, reason)
        raise DropItem(f"spam: {item.url}")


class NormalizePipeline:
    def process_item(self, item):
        item.record = build_record(item.article, site=item.site, region=item.region, fetched_at=item.fetched_at)
        return item


class DedupPipeline:
    def __init__(self, clusterer: StoryClusterer):
        self.clusterer = clusterer

    @classmethod
    def from_crawler(cls, crawler):
        window = crawler.settings.getint("NEWSMON_DEDUP_WINDOW_DAYS", 30)
        return cls(StoryClusterer(shared_index(crawler), window_days=window))

    def process_item(self, item):
        item.assignment = self.clusterer.assign(item.record)
        return item


class IndexPipeline(_IndexStage):
    def process_item(self, item):
        record, assignment, site = item.record, item.assignment, item.site
        is_new = self.index.upsert_article(record)
        count(self.stats, "articles_indexed", site)
        count(self.stats, "articles_new" if is_new else "articles_updated", site)
        if assignment.new_story:
            count(self.stats, "stories_new", site)
            what = "new story"
        elif assignment.match in ("exact", "near"):
            count(self.stats, "duplicates", site)
            what = f"copy ({assignment.match})"
        else:
            what = "seen before"
        logger.info("[%s] %-13s %s  %s", site, what, record.published or "----------", record.title[:40])
        return item
