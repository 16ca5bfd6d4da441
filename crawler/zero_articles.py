"""A site whose crawl found no article ends with a warning that says what to do.

Scrapy extension (``EXTENSIONS`` in ``crawler/settings.py``). While a crawl runs it
tallies, per site, the in-scope link shapes on the first ``NEWSMON_NO_ARTICLES_SAMPLE``
pages (``crawler.linkshapes``). When the spider closes, every site that fetched pages
but indexed nothing (and had nothing unchanged since an earlier run) gets one Chinese
warning with its most common link shapes and a suggested ``article_url_pattern``, and
the count ``no_articles_found``. Before this, such a site "succeeded" with 0 articles.
"""
from __future__ import annotations

import logging
from collections import defaultdict

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import TextResponse

from crawler.links import classify_url, discover_links, is_skip_anchor, origin_of
from crawler.linkshapes import ShapeTally, is_article_pattern_valid
from netsafety.counters import count, read_counts

logger = logging.getLogger("newsmon.crawl")

# Any of these means the crawl met an article (indexed, quarantined, or known and unchanged).
FOUND_KEYS = ("articles_indexed", "spam_quarantined", "not_modified", "unchanged_skipped",
              "backfill_known_passed", "duplicates")
SAMPLE_PAGES = 300


class NoArticlesWarning:
    def __init__(self, stats, sample_pages: int = SAMPLE_PAGES):
        self.stats = stats
        self.sample_pages = sample_pages
        self.tallies: dict[str, ShapeTally] = defaultdict(ShapeTally)
        self.sampled: dict[str, int] = defaultdict(int)
        self.sites: dict = {}

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("NEWSMON_NO_ARTICLES_WARNING_ENABLED", True):
            raise NotConfigured("NEWSMON_NO_ARTICLES_WARNING_ENABLED is off")
        ext = cls(crawler.stats, crawler.settings.getint("NEWSMON_NO_ARTICLES_SAMPLE", SAMPLE_PAGES))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        self.sites = dict(getattr(spider, "sites", {}) or {})

    def response_received(self, response, request, **_kw):
        site = self.sites.get(request.meta.get("site"))
        if site is None or response.status >= 400 or not isinstance(response, TextResponse):
            return
        if self.sampled[site.name] >= self.sample_pages:
            return
        self.sampled[site.name] += 1
        self.observe(site, response.body, self._headers(response), response.url)

    def observe(self, site, body: bytes, headers: dict, url: str) -> None:
        """Tally the in-scope, non-furniture links of one fetched page."""
        from pipelines.article import ExtractionError
        from pipelines.extraction.decode import decode_html
        try:
            html = decode_html(body, headers).text
        except ExtractionError:
            return
        origins = {origin_of(u) for u in site.start_urls}
        tally = self.tallies[site.name]
        for link, anchor in discover_links(html, url):
            in_scope = link.startswith(tuple(site.allowed_prefixes)) if site.allowed_prefixes else (
                origin_of(link) in origins)
            if in_scope and classify_url(link) != "skip" and not is_skip_anchor(anchor):
                tally.add(link, anchor)

    def spider_closed(self, spider, **_kw):
        _totals, per_site = read_counts(self.stats.get_stats())
        for name, site in self.sites.items():
            counts = per_site.get(name, {})
            if counts.get("pages_fetched", 0) and not any(counts.get(k) for k in FOUND_KEYS):
                count(self.stats, "no_articles_found", name)
                logger.warning("%s", no_articles_message(site, counts.get("pages_fetched", 0),
                                                         self.tallies.get(name, ShapeTally())))

    @staticmethod
    def _headers(response) -> dict[str, str]:
        return {k.decode("latin-1").lower(): b",".join(v).decode("latin-1") for k, v in response.headers.items()}


def no_articles_message(site, pages: int, tally: ShapeTally, shapes: int = 5) -> str:
    start = site.start_urls[0] if site.start_urls else ""
    lines = [f"[{site.name}] 本次抓取没有找到文章：抓取了 {pages} 个页面，入库 0 篇。"
             "newsmon 认不出这个网站的文章链接，抓取虽然完成，但这个网站实际上没有被监测。"]
    top = tally.top(shapes)
    if top:
        lines.append("站内最常见的链接形状：")
        for entry in top:
            anchor = f"「{entry.example_anchor}」" if entry.example_anchor else ""
            lines.append(f"  {entry.shape}  {entry.links} 个链接，例：{entry.example} {anchor}".rstrip())
    pattern = tally.suggest_article_pattern()
    candidates = tally.article_candidates()
    if pattern and candidates and is_article_pattern_valid(pattern, candidates[0].example):
        lines.append(f"建议在站点配置中为 {site.name} 加入（文章链接像 {candidates[0].example}）：")
        lines.append(f"    article_url_pattern: '{pattern}'")
    else:
        lines.append("没有找到像文章标题列表的链接形状，请检查起始网址是否是新闻栏目或首页。")
    lines.append(f"可先运行 newsmon sites probe {start} 查看每个链接被如何分类。")
    return "\n".join(lines)
