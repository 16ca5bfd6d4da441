"""The clean article: what extraction produces and everything downstream consumes.

No Scrapy import here: extraction is ``bytes + url + headers + options -> Article``
(web-poet's habit), so it runs the same in the crawl, in ``newsmon extract`` and in
the benchmarks.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class CrawlEvidence:
    """Why the crawl handed a page over as an article (``crawler.discovery``). Extraction
    reads it for a page whose own text is short: a notice, an attachment, image or video
    page the crawl has evidence for is indexed with its title and the text it has
    (``pipelines.extraction.evidence.vouched_short_article``), not refused as ``no_body``."""

    shape: str | None = None     # "site_pattern" (the operator's), "learned_shape" (the site's
                                 # list blocks taught it, its pages read as articles), "cms_pattern"
    list_block: bool = False     # a list block of title links on the site held its URL
    anchor: str = ""             # the text of the link that led to it

    def __bool__(self) -> bool:
        return bool(self.shape or self.list_block)


@dataclass(frozen=True)
class ExtractOptions:
    """Per-site overrides from the sites file (all optional), and what the crawl knows of
    the page (``evidence``; ``newsmon extract`` has none)."""

    encoding: str | None = None          # force a charset, e.g. "gb18030"
    title_selector: str | None = None    # CSS selector
    body_selector: str | None = None     # CSS selector
    date_selector: str | None = None     # CSS selector
    max_bytes: int = 10 * 1024 * 1024    # larger pages are refused, not parsed
    evidence: CrawlEvidence | None = None  # why the crawl calls this page an article


@dataclass
class Article:
    url: str
    title: str
    text: str                      # clean body, original script, one paragraph per line
    published: str | None = None   # ISO "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]"
    source: str | None = None      # 来源 / ContentSource (the origin named by the page)
    author: str | None = None      # 作者
    site_name: str | None = None   # SiteName meta
    column: str | None = None      # ColumnName meta / breadcrumb column
    encoding: str = "utf-8"        # codec the page was decoded with
    spam: bool = False             # the page's article itself is spam: quarantine it
    spam_reasons: list[str] = field(default_factory=list)  # also spam removed from a good page
    removed: list[str] = field(default_factory=list)       # names of cleaning rules that fired
    attachments: list = field(default_factory=list)        # pipelines.attachments.Attachment, text joined to ``text``

    def to_dict(self) -> dict:
        return asdict(self)


class ExtractionError(Exception):
    """A page that cannot yield an article. ``reason`` is a short stats key."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason      # e.g. "binary", "empty", "too_large", "no_body", "undecodable"
        self.message = message
