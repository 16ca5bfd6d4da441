"""URL knowledge of Chinese government CMSs: which links are articles, lists, or noise.

Plain functions, no Scrapy: the spider asks these and parses nothing itself.
Shapes covered with no per-site code: TRS WCM (``t20210712_4123456.html``,
``index_1.html``), Hanweb JCMS (``art_1229_3456789.html``, ``col/col1229/index.html
?pageNum=2``), ``content_88123.htm`` portals, 博达 ``info/1012/12345.htm``,
``show-123.html`` / ``detail`` / date-path industry portals.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

ARTICLE_PATTERNS = tuple(re.compile(p, re.I) for p in (
    r"/t\d{8}_\d+\.s?html?$",                        # TRS WCM
    r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.s?html?$",  # Hanweb JCMS
    r"/art_\d+_\d+\.s?html?$",
    r"/content_\d+\.s?html?$",                       # city portals
    r"/info/\d+/\d+\.s?html?$",                      # 博达 (VSB)
    r"/(show|detail|article|news|view)[-_]\d+\.s?html?$",
    r"/\d{4}[-/]?\d{2}[-/]?\d{2}/[a-z_]*\d{3,}\.s?html?$",   # /2021/0712/12345.html, /20210712/abc123.html
    r"/\d{6}/\d{1,2}/[a-z_-]*\d{3,}\.s?html?$",      # /202011/14/show-52371.html
    r"/\d{6}/[a-z_-]*\d{4,}\.s?html?$",              # /202107/4123456.html
))
LIST_PATTERNS = tuple(re.compile(p, re.I) for p in (
    r"/(index|default|list)(_\d+)?\.s?html?$",
    r"/col/col\d+/",
    r"/node_\d+(_\d+)?\.s?html?$",
    r"/list[-_]?\d*(_\d+)?\.s?html?$",
    r"/$",
))
# What a monitoring crawl never needs: files, media, and site furniture.
SKIP_EXTENSIONS = frozenset(
    "pdf doc docx xls xlsx ppt pptx wps zip rar 7z gz tar jpg jpeg png gif bmp webp svg ico "
    "mp3 mp4 avi flv wmv mov css js json xml txt apk exe".split())
SKIP_PATH_WORDS = re.compile(
    r"(^|[/_.-])(about|aboutus|contact|contactus|gywm|lxwm|wzdt|sitemap|login|register|"
    r"search|print|rss|english|en|wap|m|mobile|jact|guestbook|mailbox)([/_.-]|$)", re.I)
SKIP_ANCHOR_WORDS = ("关于我们", "联系我们", "網站地圖", "网站地图", "登录", "注册", "English", "无障碍")
PAGING_ANCHOR_WORDS = ("下一页", "下页", "尾页", "末页", "下一頁", "尾頁", "更多", ">>", "»")
_TRACKING = re.compile(r"^(utm_\w+|spm|from|share|isappinstalled|timestamp|_)$", re.I)
_TRS_PAGER = re.compile(r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"](\w+)['\"]\s*,\s*['\"](\w+)['\"]")
_HREF_IN_TEXT = re.compile(r"""href\s*=\s*["']([^"'<>\s]+)["']""", re.I)
_DATASTORE = re.compile(r"<datastore>(.*?)</datastore>", re.S | re.I)


def same_origin(url: str, origins: set[tuple[str, str, int | None]]) -> bool:
    return origin_of(url) in origins


def origin_of(url: str) -> tuple[str, str, int | None]:
    p = urlsplit(url)
    port = p.port or {"http": 80, "https": 443}.get(p.scheme)
    return p.scheme, (p.hostname or "").lower(), port


def clean_link(url: str) -> str:
    """Drop fragments and tracking parameters so one page has one URL."""
    p = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(p.query, keep_blank_values=True)
                       if not _TRACKING.match(k)])
    return urlunsplit((p.scheme, p.netloc, p.path or "/", query, ""))


def classify_url(url: str, article_pattern: re.Pattern | None = None,
                 list_pattern: re.Pattern | None = None) -> str:
    """``"article"``, ``"list"``, ``"skip"`` or ``"other"`` (an unknown in-site page)."""
    path = urlsplit(url).path or "/"
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if ext in SKIP_EXTENSIONS:
        return "skip"
    if article_pattern is not None and article_pattern.search(url):
        return "article"
    if list_pattern is not None and list_pattern.search(url):
        return "list"
    if SKIP_PATH_WORDS.search(path):
        return "skip"
    if article_pattern is None and any(p.search(path) for p in ARTICLE_PATTERNS):
        return "article"
    if any(p.search(path) for p in LIST_PATTERNS) or "pagenum=" in url.lower() or "page=" in url.lower():
        return "list"
    return "other"


def discover_links(html: str, base_url: str, tree=None) -> list[tuple[str, str]]:
    """``(absolute_url, anchor_text)`` for every link on a page, including links that
    CMSs hide from plain ``<a>`` parsing: Hanweb's ``<datastore>`` XML records and
    TRS's ``createPageHTML(pages, current, "index", "html")`` pager script. ``tree``:
    the page's lxml tree if the caller parsed it already (whole, hidden parts too)."""
    from lxml import html as lxml_html

    found: list[tuple[str, str]] = []
    if tree is None:
        try:
            tree = lxml_html.fromstring(html, base_url=base_url)
        except Exception:   # noqa: BLE001 - an unparsable list page still yields regex links
            tree = None
    if tree is not None:
        for a in tree.iter("a"):
            href = a.get("href")
            if href:
                found.append((href, (a.text_content() or "").strip()))
    for block in _DATASTORE.findall(html):
        found.extend((href, "") for href in _HREF_IN_TEXT.findall(block))
    for total, current, stem, ext in _TRS_PAGER.findall(html):
        found.append((f"{stem}.{ext}", "下一页"))
        found.extend((f"{stem}_{n}.{ext}", "下一页") for n in range(1, int(total)))
    out, seen = [], set()
    for href, text in found:
        href = href.strip()
        if href.lower().startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
            continue
        url = clean_link(urljoin(base_url, href))
        if url not in seen:
            seen.add(url)
            out.append((url, text))
    return out


def is_paging_anchor(text: str) -> bool:
    return any(w in text for w in PAGING_ANCHOR_WORDS)


def is_skip_anchor(text: str) -> bool:
    return any(w in text for w in SKIP_ANCHOR_WORDS)
