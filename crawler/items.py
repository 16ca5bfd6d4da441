"""What the spider hands to the pipelines: the raw page, nothing parsed."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawPage:
    url: str
    site: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: str                   # ISO datetime, UTC
    region: str | None = None
    # the page's attachment files (pipelines.attachments.AttachmentFile), fetched with it
    # (crawler.attachments); AttachmentPipeline replaces them with the Attachments read
    attachments: list = field(default_factory=list)
    evidence: Any = None              # pipelines.article.CrawlEvidence: why the crawl calls it an article
    # The spider's one decoding of ``body`` (pipelines.extraction.decode.DecodedPage: the text
    # and the charset decision), which extraction reads instead of decoding again; or why the
    # decoder refused the bytes (pipelines.article.ExtractionError)
    decoded: Any = None
    undecodable: Any = None
    # filled in by the pipelines, in order:
    article: Any = None               # pipelines.article.Article (extract)
    record: Any = None                # index.base.ArticleRecord (normalize)
    assignment: Any = None            # pipelines.stories.clustering.StoryAssignment (story stage)
    notes: list[str] = field(default_factory=list)
