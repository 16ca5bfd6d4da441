"""The Scrapy side of run history: ``RunQualityStats`` (an extension wired in
settings) counts, per site, what the source-health check compares between runs:
article pages extracted, bodies empty or very short, dates missing. The history
itself (run documents, site totals) is ``index/runs.py``.
"""
from __future__ import annotations

from scrapy import signals

from netsafety.counters import count

SHORT_BODY_CHARS = 120          # a news body shorter than this is a template leftover, not an article


class RunQualityStats:
    """Counts what extraction made of each article page, per site, for source health:
    ``quality/articles`` (pages that reached extraction), ``quality/empty_body``,
    ``quality/short_body`` and ``quality/no_date``."""

    def __init__(self, stats, short_body_chars: int = SHORT_BODY_CHARS):
        self.stats = stats
        self.short_body_chars = short_body_chars

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler.stats, crawler.settings.getint("NEWSMON_SHORT_BODY_CHARS", SHORT_BODY_CHARS))
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        return ext

    def item_scraped(self, item, **_kw):
        self._article(item.site, item.article)

    def item_dropped(self, item, exception=None, **_kw):
        reason = str(exception or "").split(":", 1)[0]
        if getattr(item, "article", None) is not None:    # spam and later drops: extraction worked
            self._article(item.site, item.article)
        elif reason in ("empty", "no_body"):
            count(self.stats, "quality/articles", item.site)
            count(self.stats, "quality/empty_body", item.site)

    def _article(self, site: str, article) -> None:
        count(self.stats, "quality/articles", site)
        if len((article.text or "").strip()) < self.short_body_chars:
            count(self.stats, "quality/short_body", site)
        if not article.published:
            count(self.stats, "quality/no_date", site)
