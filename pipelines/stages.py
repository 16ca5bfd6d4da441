"""Scrapy item pipelines: short adapters around the plain functions.

Order (wired in ``crawler/settings.py``): ExtractPipeline (decode -> extract ->
clean) -> QuarantinePipeline (spam) -> NormalizePipeline -> StoryPipeline (into its
story and stored, one operation: ``pipelines/stories``). Each adapter's work is a
plain function or method that ``newsmon extract``,
tests and benchmarks call too; ``from_crawler`` reads settings and ``__init__``
takes plain values. A page that cannot become an article is dropped with a
reason-keyed count and a log line naming its URL; the crawl goes on.

Storage is different: a page counts (articles, stories, spam) only once the
index says its writes are durable (``commit_unit``), and the first storage
failure (disk full, read-only, locked too long) stops the crawl
(``StorageGuard``), which then fails with the reason. Pages committed before
it stay in the index, and the summary counts exactly those.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Callable, NoReturn, TypeVar

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from netsafety.counters import count
from index import IndexBackend, Quarantined, StorageError, open_index
from monitor.story_moves import carry_alert_marks
from pipelines.article import ExtractionError, ExtractOptions
from pipelines.attachments.notice import extract_page
from pipelines.extract import extract_article
from pipelines.extraction.decode import DecodedPage, decode_html
from pipelines.records import build_record
from pipelines.stories.clustering import StoryAssignment, StoryClusterer
from pipelines.requirements import MissingExtractor, raise_missing

logger = logging.getLogger("newsmon.crawl")
T = TypeVar("T")


STORAGE_ERROR_STAT = "newsmon_storage_error"   # the failure's message (crawler/runner.py reads it)
MISSING_EXTRACTOR_STAT = "newsmon_missing_extractor"   # the same, for an extractor that cannot be imported


class StorageGuard:
    """Stops the crawl at its first storage failure. The page that met it and every
    page still in the pipelines raise the error (Scrapy's ``item_error``, not a drop:
    such a page is not "seen", so the next crawl fetches it again)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.error: StorageError | None = None
        self._closing = None

    def run(self, item, work: Callable[[], T]) -> T:
        """``work()`` for ``item``, unless the crawl already met a storage failure."""
        try:
            if self.error is not None:
                raise self.error
            return work()
        except StorageError as exc:
            self.failed(item, exc)

    def failed(self, item, exc: StorageError) -> NoReturn:
        count(self.crawler.stats, "errors/storage", item.site)
        if self.error is None:
            self.record(exc)
            logger.error("[%s] 抓取停止：%s（%s 未写入）", item.site, exc, item.url)
            self._closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason="storage_error"))
        raise type(exc)(exc.reason, str(exc))

    def record(self, exc: StorageError) -> None:
        if self.error is None:
            self.error = exc
            self.crawler.stats.set_value(STORAGE_ERROR_STAT, str(exc))


def storage_guard(crawler) -> StorageGuard:
    guard = getattr(crawler, "_newsmon_storage_guard", None)
    if guard is None:
        guard = crawler._newsmon_storage_guard = StorageGuard(crawler)
    return guard


class SharedIndex:
    """The crawl's index, as a Scrapy extension (``crawler/settings.py`` EXTENSIONS): one
    connection per crawl, opened on first use by the pipelines and the crawl's other
    components (``shared_index``), flushed and closed when the spider closes.

    A process that runs many crawls against one index (``crawler/sitebatch.py``) lends
    it (``lend``): its crawls use that connection and leave closing it to the lender."""

    _lent: dict[str, IndexBackend] = {}      # index URL -> a connection its process keeps open

    def __init__(self, crawler):
        self.crawler = crawler
        self.url = crawler.settings.get("NEWSMON_INDEX")
        self._index: IndexBackend | None = None
        self._owned = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @classmethod
    def lend(cls, url: str | None, index: IndexBackend | None) -> None:
        """Crawls in this process against ``url`` use ``index`` (None: no longer)."""
        if index is None:
            cls._lent.pop(url, None)
        else:
            cls._lent[url] = index

    @property
    def index(self) -> IndexBackend:
        if self._index is None:
            lent = self._lent.get(self.url)
            self._owned = lent is None
            self._index = open_index(self.url) if lent is None else lent
            # Connected at first use (the pipelines', when the engine starts), so after the
            # other extensions' spider_closed handlers, which may still write to the index.
            self.crawler.signals.connect(self._close, signal=signals.spider_closed)
        return self._index

    def _close(self, *_args, **_kw) -> None:
        if self._index is None or not self._owned:
            return
        try:
            self._index.close()           # (commits what is left)
        except StorageError as exc:
            guard = storage_guard(self.crawler)
            if guard.error is None:
                logger.error("抓取结束时索引写入失败：%s", exc)
            guard.record(exc)


def shared_index(crawler) -> IndexBackend:
    """The crawl's one index connection (the ``SharedIndex`` extension's)."""
    extension = crawler.get_extension(SharedIndex)
    if extension is None:
        raise RuntimeError("pipelines.stages.SharedIndex is not in the crawl's EXTENSIONS")
    return extension.index


class _IndexStage:
    """A stage that writes to the crawl's shared index and counts what it did."""

    def __init__(self, index: IndexBackend, stats, guard: StorageGuard):
        self.index = index
        self.stats = stats
        self.guard = guard

    @classmethod
    def from_crawler(cls, crawler):
        return cls(shared_index(crawler), crawler.stats, storage_guard(crawler))

    def _write(self, item, write: Callable[[], T], stored: Callable[[T], None]) -> None:
        """``write()``, then the page's commit; ``stored(what write returned)`` once
        the index says it is durable."""
        def unit() -> None:
            result = write()
            self.index.commit_unit(lambda: stored(result))
        self.guard.run(item, unit)


class ExtractPipeline:
    def __init__(self, stats, options_by_site: dict[str, ExtractOptions], crawler=None):
        self.stats = stats
        self.options_by_site = options_by_site
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats, crawler.settings.get("NEWSMON_EXTRACT_OPTIONS") or {}, crawler)

    def process_item(self, item):
        try:
            try:
                # (extract_article, plus the text of the page's attachments: a "见附件" notice too)
                options = self._options(item)
                item.article = extract_page(item.body, item.url, item.headers, options, item.attachments,
                                            extract=extract_article, decoded=self._decoded(item, options))
            except ImportError as exc:
                raise_missing(exc)
        except MissingExtractor as exc:
            self._stop(item, exc)
            raise   # Scrapy's item_error, not a drop: the page is fetched again once the package is back
        except ExtractionError as exc:
            count(self.stats, f"errors/{exc.reason}", item.site)
            logger.warning("[%s] not an article %s: %s (%s)", item.site, item.url, exc.message, exc.reason)
            raise DropItem(f"{exc.reason}: {item.url}") from None
        except Exception as exc:  # noqa: BLE001 - one broken page must never stop the crawl
            count(self.stats, "errors/extract_crash", item.site)
            logger.exception("[%s] extraction failed on %s: %s", item.site, item.url, exc)
            raise DropItem(f"extract_crash: {item.url}") from None
        item.body, item.decoded = b"", None   # the page is not needed past extraction
        return item

    def _decoded(self, item, options: ExtractOptions | None) -> DecodedPage:
        """The page as the spider decoded it; decoded here (and counted alike) only when the
        spider did not: each page is decoded once per crawl."""
        if item.undecodable is not None:
            raise item.undecodable
        if item.decoded is not None:
            return item.decoded
        options = options or ExtractOptions()
        return decode_html(item.body, item.headers, override=options.encoding, max_bytes=options.max_bytes,
                           stats=self.stats, site=item.site)

    def _options(self, item) -> ExtractOptions | None:
        """The site's options, with what the crawl knows of the page (why it is an article)."""
        options = self.options_by_site.get(item.site)
        evidence = getattr(item, "evidence", None)
        return replace(options or ExtractOptions(), evidence=evidence) if evidence else options

    def _stop(self, item, exc: MissingExtractor) -> None:
        """A missing extractor is no page's fault, and every page would come out worse
        (or not at all): the crawl stops, once, with the one-line reason."""
        count(self.stats, "errors/missing_extractor", item.site)
        if self.stats.get_value(MISSING_EXTRACTOR_STAT) is not None:
            return
        self.stats.set_value(MISSING_EXTRACTOR_STAT, str(exc))
        logger.error("[%s] 抓取停止：%s", item.site, exc)
        if self.crawler is not None:
            self._closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason="missing_extractor"))


class QuarantinePipeline(_IndexStage):
    def process_item(self, item):
        article = item.article
        if article.spam_reasons and not article.spam:
            count(self.stats, "spam_removed", item.site)
        if not article.spam:
            return item
        reason = "; ".join(article.spam_reasons) or "spam"
        self._write(item, lambda: self.index.record_quarantine(Quarantined(
            url=item.url, site=item.site, reason=reason, title=article.title[:200], fetched_at=item.fetched_at)),
            lambda _none: count(self.stats, "spam_quarantined", item.site))
        logger.warning("[%s] quarantined spam page %s: %s", item.site, item.url, reason)
        raise DropItem(f"spam: {item.url}")


class NormalizePipeline:
    def process_item(self, item):
        item.record = build_record(item.article, site=item.site, region=item.region, fetched_at=item.fetched_at)
        return item


class StoryPipeline(_IndexStage):
    """The story stage: each page goes into its story and is stored, one operation
    (``StoryClusterer.store``), committed as one unit."""

    def __init__(self, index: IndexBackend, stats, guard: StorageGuard, window_days: int = 30):
        super().__init__(index, stats, guard)
        self.clusterer = StoryClusterer(index, window_days=window_days)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(shared_index(crawler), crawler.stats, storage_guard(crawler),
                   crawler.settings.getint("NEWSMON_DEDUP_WINDOW_DAYS", 30))

    def process_item(self, item):
        # (the story's canonical flags that set_story moved commit with the article)
        self._write(item, lambda: self._store(item), lambda assignment: self._stored(item, assignment.stored_new))
        former = item.assignment.renamed_from
        if former:      # the story took its new origin's id: its alerts stay sent
            self.guard.run(item, lambda: self._carry_marks(item, former))
        return item

    def _store(self, item) -> StoryAssignment:
        item.assignment = self.clusterer.store(item.record)
        return item.assignment

    def _carry_marks(self, item, former: str) -> None:
        """Alert bookkeeping, not the page's storage: a state store that is not there
        (Elasticsearch down; the page itself is spooled) must not cost the page. The alert
        stage then carries the marks before it matches the page (or at its end-of-crawl
        retry). A storage failure still stops the crawl."""
        try:
            carry_alert_marks(self.index.state, former, item.assignment.story_id)
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. elasticsearch.ConnectionError
            item.assignment.marks_to_carry = former
            logger.warning("[%s] alert marks of story %s not carried to %s yet (the alert stage tries "
                           "again): %s", item.site, former, item.assignment.story_id, exc)

    def _stored(self, item, is_new: bool) -> None:
        record, assignment, site = item.record, item.assignment, item.site
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
