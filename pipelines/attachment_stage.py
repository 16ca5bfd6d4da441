"""Scrapy adapter: the text of a page's attachments, read before the page is extracted.

``AttachmentPipeline`` (wired before ``ExtractPipeline``) turns the files the spider
fetched (``RawPage.attachments``: ``AttachmentFile``) into ``Attachment`` records with
text or a reason, in ``pipelines.attachments.runner.AttachmentWorkers`` (worker
processes with a time and memory limit per file), off the reactor thread. The extract
stage then joins them to the page (``pipelines.attachments.notice.extract_page``).
Counts ``attachments/<status>`` per file read (``ok``, ``truncated``, ``encrypted``,
``zip_bomb``, ``type_mismatch``, ``broken``, ``unsupported``, ``timeout`` ...).
"""
from __future__ import annotations

import logging

from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from netsafety.counters import count
from pipelines.attachments import AttachmentLimits
from pipelines.attachments.limits import limits_from_settings
from pipelines.attachments.runner import AttachmentWorkers

logger = logging.getLogger("newsmon.crawl")


class AttachmentPipeline:
    def __init__(self, stats, workers: AttachmentWorkers):
        self.stats = stats
        self.workers = workers

    @classmethod
    def from_crawler(cls, crawler):
        limits: AttachmentLimits = limits_from_settings(crawler.settings)
        stage = cls(crawler.stats, AttachmentWorkers(limits, crawler.settings.getint(
            "NEWSMON_ATTACHMENT_PROCESSES", 1)))
        crawler.signals.connect(stage.close, signal=signals.spider_closed)
        return stage

    async def process_item(self, item):
        files = getattr(item, "attachments", None)
        if not files:
            return item
        read = []
        for file in files:
            attachment, measured = await maybe_deferred_to_future(deferToThread(self.workers.extract, file))
            if file.body is not None:   # (a file not fetched was counted by the fetcher)
                count(self.stats, f"attachments/{attachment.status}", item.site)
                logger.info("[%s] attachment %s (%s, %d bytes): %s, %d chars in %.2f s", item.site,
                            attachment.url, attachment.type, attachment.size, attachment.status,
                            len(attachment.text), measured.get("seconds", 0.0))
            read.append(attachment)
        item.attachments = read
        return item

    def close(self, *_args, **_kw) -> None:
        self.workers.close()
