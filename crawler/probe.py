"""``newsmon sites probe URL``: fetch one page and say how discovery reads each link.

Plain code: ``probe_url`` fetches through the SSRF-safe connector
(``netsafety.fetch.fetch_url``), ``probe_html`` classifies; nothing is indexed. Each
link gets a kind the crawl would give it -- ``article`` (fetched and sent to the
pipeline), ``list`` (fetched for more links), ``skipped`` (never fetched) or
``other`` (an unknown in-site page) -- and the reason, in the order the crawl decides:

1. scope: another origin (or outside ``allowed_prefixes``) is never fetched;
2. files and site furniture (``crawler.links.classify_url`` "skip", 关于我们-style anchors);
3. the site's ``article_url_pattern`` / ``list_url_pattern``, then the known CMS shapes;
4. a block of title links on this page votes for its URL shape (``crawler.pagetype``
   list blocks into a ``crawler.shapes.ShapeBook``): those links are likely articles;
5. list shapes and paging anchors (下一页, 尾页) are lists; the rest is "other".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler.links import (SKIP_EXTENSIONS, SKIP_PATH_WORDS, classify_url, discover_links, is_paging_anchor,
                           is_skip_anchor, origin_of)
from crawler.linkshapes import ShapeTally
from crawler.shapes import ShapeBook, url_shape

KINDS = ("article", "list", "skipped", "other")


@dataclass
class LinkVerdict:
    url: str
    anchor: str
    kind: str          # one of KINDS
    reason: str


@dataclass
class ProbeReport:
    url: str
    status: int
    page_kind: str
    page_reason: str
    links: list[LinkVerdict] = field(default_factory=list)
    top_shapes: list[tuple[str, int, str]] = field(default_factory=list)   # (shape, links, example)
    suggested_article_pattern: str | None = None
    as_article: str = ""     # what the pipelines would make of this page handed over as an article

    def count(self, kind: str) -> int:
        return sum(1 for link in self.links if link.kind == kind)

    def to_dict(self) -> dict:
        return {"url": self.url, "status": self.status, "page": {"kind": self.page_kind, "reason": self.page_reason},
                "counts": {k: self.count(k) for k in KINDS},
                "links": [vars(link) for link in self.links],
                "top_shapes": [{"shape": s, "links": n, "example": e} for s, n, e in self.top_shapes],
                "suggested_article_pattern": self.suggested_article_pattern, "as_article": self.as_article}


def _skip_reason(url: str) -> str:
    path = urlsplit(url).path or "/"
    last = path.rsplit("/", 1)[-1]
    ext = last.rsplit(".", 1)[-1].lower() if "." in last else ""
    if ext in SKIP_EXTENSIONS:
        return f"文件（.{ext}）"
    m = SKIP_PATH_WORDS.search(path)
    return f"站点栏目词（{m.group(2)}）" if m else "不需抓取"


def classify_link(url: str, anchor: str, origins: set, book: ShapeBook, article_pattern=None,
                  list_pattern=None, allowed_prefixes: tuple[str, ...] = ()) -> LinkVerdict:
    """One link's kind and why (the numbered order of the module docstring)."""
    def verdict(kind, reason):
        return LinkVerdict(url, anchor, kind, reason)

    in_scope = url.startswith(allowed_prefixes) if allowed_prefixes else origin_of(url) in origins
    if not in_scope:                                                          # 1
        return verdict("skipped", f"站外（{urlsplit(url).netloc or url[:30]}）")
    kind = classify_url(url, article_pattern, list_pattern)
    if kind == "skip":                                                        # 2
        return verdict("skipped", _skip_reason(url))
    if kind == "other" and is_skip_anchor(anchor):
        return verdict("skipped", f"站点栏目链接（{anchor[:12]}）")
    if kind == "article":                                                     # 3
        own = article_pattern is not None and article_pattern.search(url)
        return verdict("article", "符合 article_url_pattern" if own else f"已知 CMS 文章形状 {url_shape(url)}")
    if list_pattern is not None and list_pattern.search(url):
        return verdict("list", "符合 list_url_pattern")
    if book.is_article(url) and not is_paging_anchor(anchor):                 # 4
        return verdict("article", f"本页标题列表块中的链接，形状 {url_shape(url)}")
    if kind == "list":                                                        # 5
        return verdict("list", f"列表形状 {url_shape(url)}")
    if is_paging_anchor(anchor):
        return verdict("list", f"翻页链接（{anchor[:8]}）")
    return verdict("other", f"未知形状 {url_shape(url)}，不在标题列表块中")


def probe_html(html: str, url: str, status: int = 200, article_pattern: str | None = None,
               list_pattern: str | None = None, allowed_prefixes: tuple[str, ...] = ()) -> ProbeReport:
    """The page read as the spider reads a start page (``crawler.discovery.SiteDiscovery``,
    fetched as a list); links it drops get their reason from ``classify_link``."""
    from crawler.discovery import PAGE, SiteDiscovery
    from crawler.scope import Scope
    from crawler.sites import SiteConfig
    site = SiteConfig(name="probe", start_urls=(url,), allowed_prefixes=tuple(allowed_prefixes),
                      article_url_pattern=article_pattern, list_url_pattern=list_pattern)
    reading = SiteDiscovery(site, Scope.of(site.start_urls, allowed_prefixes)).read(html, url, "list")
    kept = {link.url: link for link in reading.links}
    book = ShapeBook()
    for block in reading.verdict.title_blocks:
        book.vote(block.urls, block.shape)
    art_re = re.compile(article_pattern) if article_pattern else None
    list_re = re.compile(list_pattern) if list_pattern else None
    report = ProbeReport(url, status, reading.kind, reading.verdict.reason)
    tally, seen = ShapeTally(), set()
    found = discover_links(html, url) + [(u, "") for u in kept if u not in {x for x, _ in discover_links(html, url)}]
    for link, anchor in found:
        if link in seen:
            continue
        seen.add(link)
        got = kept.get(link)
        if got is None:
            row = classify_link(link, anchor, {origin_of(url)}, book, art_re, list_re, allowed_prefixes)
            if row.kind != "skipped":        # in scope, but the crawl would not follow it from here
                row = LinkVerdict(link, anchor, "skipped", row.reason + "（抓取时不跟随）")
        elif got.kind == "article":
            row = LinkVerdict(link, anchor, "article", classify_link(
                link, anchor, {origin_of(url)}, book, art_re, list_re, allowed_prefixes).reason)
        elif got.kind == "list" or got.paging:
            why = "脚本分页" if got.hop == "pager" else ("翻页链接" if got.paging else f"列表形状 {url_shape(link)}")
            row = LinkVerdict(link, anchor, "list", why)
        elif got.kind == PAGE and got.vouched:
            row = LinkVerdict(link, anchor, "article",
                              f"本页标题列表块中的链接，形状 {url_shape(link)}，抓取后按页面内容确认")
        else:
            row = LinkVerdict(link, anchor, "other", f"未知形状 {url_shape(link)}，抓取后按页面内容判断")
        report.links.append(row)
        if row.kind != "skipped":
            tally.add(link, anchor)
    for target, how in reading.offsite:
        report.links.append(LinkVerdict(target, "", "skipped", f"站外（脚本跳转 {how}）"))
    shown = [s for s in tally.top(8) if s.links > 1] or tally.top(3)    # one-off menu links are noise
    report.top_shapes = [(s.shape, s.links, s.example) for s in shown]
    if not report.count("article"):
        report.suggested_article_pattern = tally.suggest_article_pattern()
    return report


def probe_url(url: str, article_pattern: str | None = None, list_pattern: str | None = None,
              allowed_prefixes: tuple[str, ...] = ()) -> ProbeReport:
    """Fetch ``url`` (network-safety rules apply; ``FetchError``/``UnsafeURLError`` on
    failure) and classify its links. Nothing is indexed."""
    from netsafety.fetch import fetch_url
    from pipelines.extraction.decode import decode_html
    page = fetch_url(url)
    html = decode_html(page.body, page.headers).text
    report = probe_html(html, page.url, page.status, article_pattern, list_pattern, allowed_prefixes)
    report.as_article = page_as_article(page.body, page.url, page.headers, article_pattern)
    return report


_EVIDENCE_WORDS = {"site_pattern": "符合 article_url_pattern", "learned_shape": "本站列表块学到的文章形状",
                   "cms_pattern": "已知 CMS 文章形状", "list_block": "标题列表块中的链接",
                   "dated": "页面有日期", ", ": "，"}


def page_as_article(body: bytes, url: str, headers=None, article_pattern: str | None = None) -> str:
    """What extraction makes of the page if the crawl hands it over as an article, with the
    evidence its URL alone gives (the site's pattern, a known CMS shape; a list block and the
    link's text are known only during a crawl): indexed, indexed as a short page and why, or
    refused and why."""
    from crawler.discovery import SiteDiscovery
    from crawler.scope import Scope
    from crawler.sites import SiteConfig
    from pipelines.article import ExtractionError, ExtractOptions
    from pipelines.extract import extract_article
    from pipelines.extraction.evidence import vouched_short_article
    site = SiteConfig(name="probe", start_urls=(url,), article_url_pattern=article_pattern)
    evidence = SiteDiscovery(site, Scope.of(site.start_urls)).evidence(url)
    try:
        art = extract_article(body, url, headers)
        return f"文章：《{art.title[:40]}》，正文 {len(art.text)} 字"
    except ExtractionError as exc:
        refused = exc
    if refused.reason == "no_body" and evidence:
        try:
            art = extract_article(body, url, headers, ExtractOptions(evidence=evidence))
            why = vouched_short_article(evidence, art.title, art.published is not None) or ""
            for word, said in _EVIDENCE_WORDS.items():
                why = why.replace(word, said)
            return f"短文章：《{art.title[:40]}》，正文 {len(art.text)} 字（正文短，按抓取证据收录：{why}）"
        except ExtractionError as exc:
            refused = exc
    return f"不作为文章：{refused.message}（{refused.reason}）"


def format_report(report: ProbeReport, limit: int = 40) -> str:
    labels = {"article": "文章 article", "list": "列表 list", "skipped": "跳过 skipped", "other": "其他 other"}
    lines = [f"{report.url}  HTTP {report.status}",
             f"本页类型：{report.page_kind}（{report.page_reason}）",
             *([f"本页作为文章：{report.as_article}"] if report.as_article else []),
             f"链接 {len(report.links)} 个：" + "，".join(f"{labels[k]} {report.count(k)}" for k in KINDS)]
    for kind in KINDS:
        rows = [r for r in report.links if r.kind == kind]
        if not rows:
            continue
        lines.append(f"\n{labels[kind]}（{len(rows)}）")
        for row in rows[:limit]:
            anchor = f"「{row.anchor[:24]}」" if row.anchor else ""
            lines.append(f"  {row.url}  {anchor}  {row.reason}")
        if len(rows) > limit:
            lines.append(f"  ……另有 {len(rows) - limit} 个")
    if report.top_shapes:
        lines.append("\n最常见的站内链接形状：")
        lines.extend(f"  {shape:<48} {n:>4} 个  例：{example}" for shape, n, example in report.top_shapes)
    if report.suggested_article_pattern:
        lines.append(f"\n本页没有认出文章链接。建议在站点配置中加入：\n  article_url_pattern: "
                     f"'{report.suggested_article_pattern}'")
    return "\n".join(lines)
