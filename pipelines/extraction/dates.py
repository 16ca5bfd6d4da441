"""The publication date of an article page.

``find_published`` asks, in order, and the first plausible answer wins:

1. publication meta tags (PubDate, firstpublishedtime, article:published_time, …)
2. a labelled line near the title (发布时间：/ 發布日期: / 日期：), then any
   date on the lines right under the title (the meta line "2021-07-12 来源:…"), then a
   short date line just above it (blogs: "Dec 28 Sat 2013 00:28")
3. a labelled date anywhere in the visible text (scripts are not visible text)
4. the URL (t20210712_, /2021/7/12/art_, /2020-06/28/content_, /202107/)
5. a publish-time script variable (``var ct = "1581418070"``, ``pubtime = '2021-07-12'``),
   read by ``date_from_scripts`` before the scripts leave the tree: pages that show only
   "前天" or nothing keep the real date there
6. htmldate (original date, no extensive search) as a last helper

Plausible = parses, not in the future, not before 1995. Copyright years and
"today" widgets are never asked: they are not labelled publication dates and
sit far from the title.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from lxml import etree

from pipelines.extraction import vocabulary as V
from pipelines.extraction.htmltext import element_paragraphs

EARLIEST_YEAR = 1995
_META_KEYS = (
    "pubdate", "publishdate", "firstpublishedtime", "article:published_time", "og:published_time",
    "publish_date", "publishtime", "published_time", "dc.date.issued", "dc.date", "date",
    "datepublished", "createdate", "maketime",
)
_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})(?!\d)\s*日?"
    r"(?:[\sT]*(\d{1,2})[:：时](\d{2})(?:[:：分](\d{2}))?)?")
# Blog templates in English: "Dec 28 Sat 2013 00:28", "March 5, 2019 10:02" (pixnet, WordPress).
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_EN_DATE = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+"
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?((?:19|20)\d{2})(?:\s+(\d{1,2}):(\d{2}))?\b")
_LABEL = re.compile(rf"(?:{V.pattern(V.DATE_LABELS)})\s*[:：]?\s*")
_URL_DATES = (
    re.compile(r"[/_]t((?:19|20)\d{2})(\d{2})(\d{2})_"),                        # TRS t20210712_123.html
    re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"),                      # Hanweb /2021/7/12/art_
    re.compile(r"/((?:19|20)\d{2})-(\d{1,2})/(\d{1,2})/"),                      # /2020-06/28/content_
    re.compile(r"/((?:19|20)\d{2})-(\d{2})-(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/"),                            # /20210712/
    re.compile(r"[/_-]((?:19|20)\d{2})(\d{2})(\d{2})[_\-./]"),
)
_URL_MONTH = re.compile(r"/((?:19|20)\d{2})(\d{2})/")                           # /202107/ (day unknown)


def _valid(y: str, m: str, d: str, hh=None, mm=None, ss=None, today: dt.date | None = None) -> str | None:
    try:
        day = dt.date(int(y), int(m), int(d))
    except ValueError:
        return None
    today = today or dt.date.today()
    if day.year < EARLIEST_YEAR or day > today + dt.timedelta(days=1):
        return None
    if hh is not None and mm is not None and int(hh) < 24 and int(mm) < 60:
        return f"{day.isoformat()}T{int(hh):02d}:{int(mm):02d}" + (f":{int(ss):02d}" if ss else "")
    return day.isoformat()


def parse_date(text: str) -> str | None:
    """First plausible date in a string, ISO, with time when the string has one."""
    for m in _DATE.finditer(text or ""):
        found = _valid(*m.groups())
        if found:
            return found
    for m in _EN_DATE.finditer(text or ""):
        month, day, year, hh, mm = m.groups()
        if found := _valid(year, str(_MONTHS.index(month.lower()) + 1), day, hh, mm):
            return found
    return None


def date_from_meta(meta: Mapping[str, str] | None) -> str | None:
    if not meta:
        return None
    lowered = {k.lower(): v for k, v in meta.items() if v}
    for key in _META_KEYS:
        if key in lowered and (found := parse_date(lowered[key])):
            return found
    return None


def date_from_lines(lines: list[str], title: str = "") -> str | None:
    """2. labelled line near the title, then a bare date right under the title, 3. labelled anywhere."""
    start = 0
    if title:
        key = re.sub(r"\s+", "", title)
        for i, line in enumerate(lines):
            if key and key[:20] in re.sub(r"\s+", "", line):
                start = i
                break
    near = lines[start:start + 12]
    for line in near:
        for m in _LABEL.finditer(line):
            if found := parse_date(line[m.end():m.end() + 40]):
                return found
    for line in near[1:8] if title else []:
        if len(line) <= 120 and (found := parse_date(line)):
            return found
    # Blog templates put the post's date just above its headline ("Dec 28 Sat 2013 00:28"):
    # a short line that is little more than a date.
    for line in lines[max(0, start - 3):start] if start else []:
        if len(line) <= 40 and (found := parse_date(line)):
            return found
    for line in lines:
        for m in _LABEL.finditer(line):
            if found := parse_date(line[m.end():m.end() + 40]):
                return found
    return None


def date_from_url(url: str) -> str | None:
    for pattern in _URL_DATES:
        for m in pattern.finditer(url or ""):
            if found := _valid(*m.groups()):
                return found
    m = _URL_MONTH.search(url or "")
    if m and _valid(m.group(1), m.group(2), "1"):
        # Month-only folders give the first of the month: better than nothing, said plainly.
        return None
    return None


# A declaration or assignment (var ct = "…"; pubtime = '…'), not a key inside a JSON list,
# where every listed item carries its own date (readhub topics).
_SCRIPT_VAR = re.compile(
    rf"""(?:^|[;{{}}]|\b(?:var|let|const)\b)\s*(?:window\.)?(?:{"|".join(V.PUBLISH_TIME_SCRIPT_VARS)})\s*=\s*["']?([^"';,\n]{{8,25}})""",
    re.I | re.M)
CHINA_TZ = dt.timezone(dt.timedelta(hours=8))


_LONG_VARS = tuple(v for v in V.PUBLISH_TIME_SCRIPT_VARS if len(v) > 2)
_SHORT_VARS = re.compile(rf"\b(?:{'|'.join(v for v in V.PUBLISH_TIME_SCRIPT_VARS if len(v) <= 2)})\s*=", re.I)


def _may_name_publish_time(code: str) -> bool:
    """A cheap test before the full pattern: most scripts name no publish-time variable
    (substring search in C; "ct" is in every "function", so it is looked for as "ct =")."""
    low = code.lower()
    return any(v in low for v in _LONG_VARS) or bool(_SHORT_VARS.search(code))


def date_from_scripts(tree: etree._Element) -> str | None:
    """The first plausible publish-time variable in the page's scripts: a date string, or a
    Unix time in seconds read in China time (UTC+8), as the page's own clock shows it."""
    for script in tree.iter("script"):
        code = script.text or ""
        if not _may_name_publish_time(code):
            continue
        for m in _SCRIPT_VAR.finditer(code):
            value = m.group(1).strip()
            if re.fullmatch(r"\d{10}", value):
                when = dt.datetime.fromtimestamp(int(value), CHINA_TZ)
                found = _valid(when.year, when.month, when.day, when.hour, when.minute)
            else:
                found = parse_date(value)
            if found:
                return found
    return None


_SCRIPT_TARGET = re.compile(r"""getElementById\(\s*['"]([\w-]+)['"]\s*\)""")


def remove_clock_widgets(tree: etree._Element) -> int:
    """Drop "today is …" widgets: an element whose text a script overwrites with the
    current date (``getElementById('head_date').innerHTML = new Date()…``). Their
    static text is the day the page was generated, never the publication date.
    Must run while the scripts are still in the tree. Only an element whose whole text is
    a short date line goes: a script that writes a date *into* the article container
    (``document.getElementById('article')``) is no evidence that the container is a clock."""
    removed = 0
    for script in tree.iter("script"):
        code = script.text or ""
        if "Date" not in code:
            continue
        for target_id in _SCRIPT_TARGET.findall(code):
            for el in tree.xpath("//*[@id=$i]", i=target_id):
                text = el.text_content().strip()
                if el.getparent() is not None and len(text) <= 40 and parse_date(text):
                    el.drop_tree()   # lxml.html keeps the tail text
                    removed += 1
    return removed


def visible_lines(tree: etree._Element) -> list[str]:
    """Text lines of the page without scripts, styles and comments."""
    body = tree.find(".//body")
    return element_paragraphs(body if body is not None else tree)


def find_published(html_tree_or_text, url: str, meta: Mapping[str, str] | None = None,
                   title: str = "", lines: list[str] | None = None,
                   script_date: str | None = None) -> str | None:
    """ISO date (with time when the page gives one) or None."""
    # 1. meta
    if found := date_from_meta(meta):
        return found
    # 2./3. text lines near the title, then labelled anywhere
    tree = None
    if lines is None:
        if isinstance(html_tree_or_text, str):
            lines = [ln.strip() for ln in html_tree_or_text.split("\n") if ln.strip()]
            if "<" in html_tree_or_text[:2000]:
                import lxml.html
                tree = lxml.html.fromstring(html_tree_or_text)
                lines = visible_lines(tree)
        else:
            tree = html_tree_or_text
            lines = visible_lines(tree)
    if found := date_from_lines(lines, title):
        return found
    # 4. URL
    if found := date_from_url(url):
        return found
    # 5. script variables (read earlier by the caller, while the scripts were in the tree)
    if script_date:
        return script_date
    # 6. htmldate
    if tree is not None or not isinstance(html_tree_or_text, str):
        return _htmldate(tree if tree is not None else html_tree_or_text, url)
    return None


def _htmldate(tree: etree._Element, url: str) -> str | None:
    from pipelines.requirements import import_extractor
    find_date = import_extractor("htmldate").find_date   # missing: MissingExtractor, not a quiet None
    try:
        found = find_date(tree, url=url, original_date=True, extensive_search=False,
                          min_date=f"{EARLIEST_YEAR}-01-01")
    except Exception:  # htmldate is a helper; its failures are not ours to raise
        return None
    return _valid(*found.split("-")) if found else None
