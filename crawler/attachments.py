"""Attachment links of an article page, and fetching them before the page goes on.

Notices (tenders, 公示, policy files, 通知) are often a short page whose real text is
a linked PDF, DOC/DOCX, WPS, XLS/XLSX or OFD file. ``attachment_links`` finds those
links (plain function, no Scrapy). ``AttachmentMiddleware`` is a spider middleware:
when the spider yields an article page (``RawPage``), it fetches the page's
attachments through the crawl's own downloader (``engine.download_async``: the same
scope check on every hop, SSRF-safe connector, robots.txt, politeness slot and
retries as any page; a file on another host of the same registrable domain, such as
``file.sc.gov.cn`` for ``www.sc.gov.cn``, is in scope, an unrelated host is ``offsite``), at most ``NEWSMON_ATTACHMENT_MAX_FILES`` of them, each under
``download_maxsize``, and hands the page on with their bytes. The pipelines read the
text (``pipelines.attachments``); a page therefore reaches them with its attachments,
so a "见附件" page is judged with its attachment text.

Counts: ``attachments/fetched``, ``attachments/over_cap`` and, per file the crawl
could not fetch, ``attachments/<reason>`` (``offsite``, ``too_large``, ``http_404`` ...).
``NEWSMON_ATTACHMENTS_ENABLED=False`` switches it off.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urljoin, urlsplit

from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import TextResponse

from crawler.budget import DeadFamily
from crawler.faults import fault_reason
from crawler.items import RawPage
from crawler.links import clean_link
from crawler.scope import OffsiteHop
from netsafety.counters import count
from pipelines.attachments import AttachmentFile, AttachmentLimits
from pipelines.attachments.limits import limits_from_settings
from pipelines.attachments.sniff import EXTENSIONS, extension

logger = logging.getLogger("newsmon.crawl")

# A cheap test before parsing: most article pages link no attachment at all.
_MAYBE = re.compile(r"\.(?:pdf|docx?|wps|xlsx?|et|ofd)\b", re.I)
_ANCHORS = re.compile(r"""<a\b[^>]*?href\s*=\s*["']?([^"'\s>]+)[^>]*>(.*?)</a\s*>""", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")


def attachment_links(html: str, base_url: str) -> list[tuple[str, str]]:
    """``(absolute_url, name)`` of each document link, in page order, once each. A link
    is a document when its path, or its anchor text (``download.jsp?id=7`` named
    ``实施方案.docx``), ends in a document extension. ``name`` is the anchor text,
    else the file name in the URL."""
    if not _MAYBE.search(html):
        return []
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for href, inner in _ANCHORS.findall(html):
        href = _unescape(href.strip())
        if href.lower().startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
            continue
        text = " ".join(_unescape(_TAGS.sub("", inner)).split())
        url = clean_link(urljoin(base_url, href))
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        file_name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        if extension(file_name) not in EXTENSIONS and extension(text) not in EXTENSIONS:
            continue
        if url not in seen:
            seen.add(url)
            out.append((url, text or file_name))
    return out


def _unescape(text: str) -> str:
    import html
    return html.unescape(text)


class AttachmentMiddleware:
    """Spider middleware (see the module docstring). Registered last in output order
    (a low number), so the requests the spider yields pass through the others first."""

    def __init__(self, crawler, limits: AttachmentLimits):
        self.crawler = crawler
        self.limits = limits

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSMON_ATTACHMENTS_ENABLED", True):
            raise NotConfigured("NEWSMON_ATTACHMENTS_ENABLED is off")
        return cls(crawler, limits_from_settings(settings))

    async def process_spider_output(self, response, result):
        async for out in result:
            if isinstance(out, RawPage) and not out.attachments and out.url == response.url:
                out.attachments = await self.fetch_attachments(out, response)
            yield out

    async def fetch_attachments(self, page: RawPage, response) -> list[AttachmentFile]:
        if not isinstance(response, TextResponse) or response.status != 200:
            return []
        if page.decoded is None:
            return []   # binary or empty: the pipeline refuses the page itself
        links = attachment_links(page.decoded.text, response.url)   # the spider's one decoding
        if len(links) > self.limits.max_files:
            count(self.crawler.stats, "attachments/over_cap", page.site, len(links) - self.limits.max_files)
            links = links[: self.limits.max_files]
        files = []
        for url, name in links:
            files.append(await self._fetch(page, response, url, name))
        return files

    async def _fetch(self, page: RawPage, response, url: str, name: str) -> AttachmentFile:
        meta = {key: response.meta[key] for key in ("site", "download_slot", "allow_private")
                if key in response.meta}
        # attachment_of: the scope check lets the file come from another host of the page's
        # own organisation (crawler.registrable), on every hop, never from an unrelated one
        meta.update(kind="attachment", attachment_of=response.url, download_maxsize=self.limits.max_bytes,
                    download_warnsize=self.limits.max_bytes)
        request = Request(url, meta=meta, headers={"Referer": response.url}, dont_filter=True)
        file = AttachmentFile(url=url, name=name)
        try:
            fetched = await self.crawler.engine.download_async(request)
        except OffsiteHop:
            file.reason = "offsite"
        except DeadFamily:
            file.reason = "dead_family"
        except Exception as exc:  # noqa: BLE001 - any fetch failure is this file's reason, never the crawl's
            file.reason = fault_reason(exc)
        else:
            if fetched.status != 200:
                file.reason = f"http_{fetched.status}"
            else:
                file.body = fetched.body
                file.url = fetched.url
                file.content_type = (fetched.headers.get(b"Content-Type") or b"").decode("latin-1")
                file.disposition = (fetched.headers.get(b"Content-Disposition") or b"").decode("latin-1")
        if file.reason:
            count(self.crawler.stats, f"attachments/{file.reason}", page.site)
            logger.info("[%s] attachment %s of %s not fetched: %s", page.site, url, page.url, file.reason)
        else:
            count(self.crawler.stats, "attachments/fetched", page.site)
        return file
