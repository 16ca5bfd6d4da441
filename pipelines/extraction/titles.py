"""The article's headline: government meta, a site selector, or the heading the page shows.

``find_title`` asks, in order:

1. the ``ArticleTitle`` meta tag (government CMS), then the site's ``title_selector``;
2. the <title> segment the page itself shows as a line of text (``headline_shown_in_title``):
   "标题 @ 博客名 :: 平台" shows "标题" in its post heading, "栏目--标题" shows "标题"
   under the column bar, so column prefixes and site suffixes fall away by themselves;
3. the heading (h1, title classes, h2–h5) that best matches <title>; headings that are
   breadcrumbs ("首页 - 新闻动态") or the site's name are not headlines;
4. <title> minus its site suffix, unless the breadcrumb shows <title> is the column's
   name ("新闻动态--学会官网" on every article): then the longest heading.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from lxml import etree

from pipelines.extraction import spam, vocabulary as V
from pipelines.article import ExtractOptions
from pipelines.extraction.htmltext import TextMap, element_paragraphs, link_text_length
from pipelines.extraction.pagemeta import SelectorIndex, meta_value, select, select_text


def page_title(tree: etree._Element) -> str:
    el = tree.find(".//title")
    if el is None:
        return ""
    # An ideographic space between a number and a character is typesetting padding ("2007　年末").
    text = re.sub(r"(?<=\d)\u3000+(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])\u3000+(?=\d)", "", el.text_content())
    return re.sub(r"\s+", " ", text).strip()


_SITE_LIKE = re.compile(r"(政府|网|網|网站|網站|门户|門戶|区|區|县|縣|市|省|局|委|办|辦|厅|廳|中心|频道|頻道|"
                        r"新闻|新聞|首页|首頁|平台|官网|公报|公報|报|報|在线|在線|论坛|論壇|社区|社區|BBS|bbs)$")
# Where a <title> splits into headline, column and site: the separators, "@" (blog name) and spaces.
_SEGMENT_BOUNDARY = re.compile(
    r"\s*(?:--+|::|@|" + "|".join(re.escape(s) for s in V.TITLE_SEPARATORS) + r")\s*|\s+")
_BREADCRUMB_HEADING = re.compile(r"^\s*(?:首页|首頁|主页|主頁|网站首页|網站首頁|Home)\s*(?:[-—>»›/|｜]|&gt;)", re.I)
_MIN_SHOWN = 6
_FORUM_SITE = re.compile(r"(?:论坛|論壇|社区|社區|BBS|bbs)$")


_SPACES = re.compile(r"\s+")


def _squeeze(text: str) -> str:
    return _SPACES.sub("", text)


def strip_site_suffix(title: str, site_name: str | None = None) -> str:
    """"标题_宿迁市人民政府" -> "标题", "标题-平桥区" -> "标题"; "1-10月…" keeps its dash."""
    seps = "|".join(re.escape(s) for s in V.TITLE_SEPARATORS)
    parts = re.split(rf"(\s*(?:{seps})\s*)", title.strip())   # [text, sep, text, sep, text]
    while len(parts) >= 3:
        last = parts[-1].strip()
        if not last or (site_name and last in site_name) or (_SITE_LIKE.search(last) and len(last) <= 20):
            del parts[-2:]
        else:
            break
    return "".join(parts).strip()


def _is_site_part(text: str, site_name: str | None) -> bool:
    return bool((site_name and text in site_name) or (_SITE_LIKE.search(text) and len(text) <= 20))


def headline_shown_in_title(tree: etree._Element, title: str, site_name: str | None = None) -> str:
    """The longest head or tail segment of <title> (cut at a separator or a space) that some
    element of the page shows as its whole text; "" when none does. A head segment beats a
    tail one, and a tail segment that names the site is not a headline."""
    heads, tails = {}, {}
    for m in _SEGMENT_BOUNDARY.finditer(title):
        head, tail = title[:m.start()].strip(), title[m.end():].strip(" :|_-")
        if len(_squeeze(head)) >= _MIN_SHOWN and not (_FORUM_SITE.search(head) and len(head) <= 20):
            heads[_squeeze(head)] = head    # "某某论坛 -- 帖子标题": the forum's name comes first
        if len(_squeeze(tail)) >= _MIN_SHOWN and not _is_site_part(tail, site_name):
            tails[_squeeze(tail)] = tail
    if not heads and not tails:
        return ""
    body = tree.find(".//body")
    shown: set[str] = set()
    # One pass over text nodes (not text_content() per element, which is quadratic on deep pages).
    for el in (body if body is not None else tree).iter():
        for text in (el.text, el.tail):
            if text and len(text) <= 300:
                key = _squeeze(text)
                if key in heads or key in tails:
                    shown.add(key)
    for candidates in (heads, tails):
        found = [key for key in candidates if key in shown]
        if found:
            return candidates[max(found, key=len)]
    return ""


def _overlap(a: str, b: str) -> float:
    a, b = _squeeze(a), _squeeze(b)
    if not a or not b:
        return 0.0
    if a in b or b in a:
        return min(len(a), len(b)) / max(len(a), len(b)) + 0.5
    common = sum(1 for ch in set(a) if ch in b)
    return common / max(len(set(a)), 1)


def find_title(tree: etree._Element, meta: Mapping[str, str], options: ExtractOptions,
               title: str, index: SelectorIndex | None = None, tmap: TextMap | None = None) -> str:
    """ArticleTitle meta -> site selector -> <title> segment shown in the page / best heading
    -> <title> minus site name (see the module docstring). ``index`` and ``tmap``: the
    page's selector index and text map, when the caller has them (the same answers, faster)."""
    if (value := meta_value(meta, "ArticleTitle")) and not spam.is_spam_line(value):
        return value.strip()
    if options.title_selector:
        for text in select_text(tree, options.title_selector):
            if text.strip():
                return text.strip()
    site_name = meta_value(meta, "SiteName", "og:site_name")
    page_spam = spam.is_spam_line(title)
    stripped = strip_site_suffix(title, site_name) if not page_spam else ""
    site_part = _squeeze(title[len(stripped):]) if stripped and title.startswith(stripped) else ""
    best, best_score, longest, title_is_column = "", 0.0, "", False
    for rank, selector in enumerate(("h1", *V.TITLE_SELECTORS, "h2", "h3", "h4", "h5")):
        for el in select(tree, selector, index)[:5]:
            lines = tmap.paragraphs(el) if tmap is not None else element_paragraphs(el)
            text = re.sub(r"\s+", " ", " ".join(lines)).strip()
            if _BREADCRUMB_HEADING.match(text):
                title_is_column |= bool(stripped) and _squeeze(text).endswith(_squeeze(stripped))
                continue
            if not (4 <= len(text) <= 120) or spam.is_spam_line(text):
                continue
            if (site_name and text in site_name or (site_part and _squeeze(text) in site_part)
                    or (tmap.link_text_length(el) if tmap is not None else link_text_length(el)) > 0.8 * len(text)):
                continue
            if len(text) > len(longest):
                longest = text
            score = _overlap(text, title) if title and not page_spam else 0.6
            score -= rank * 0.01
            if score > best_score + 0.05:
                best, best_score = text, score
    shown = headline_shown_in_title(tree, title, site_name) if title and not page_spam else ""
    confident = best if best_score >= 0.55 else ""
    if shown and not (confident and _squeeze(shown) in _squeeze(confident)) and len(shown) >= len(confident):
        return shown
    if confident or (best and not stripped):
        return best
    if title_is_column and longest:
        return longest
    if not best and tmap is not None and stripped and _is_site_part(stripped, site_name):
        # <title> names only the site ("某某县人民政府", old portals): the headline is the
        # page's emphasised line (<b>, <font size=4>, a centred cell) right above the prose
        if found := emphasised_headline(tree, tmap, site_name):
            return found
    return stripped or best or title


_EMPHASIS = ("b", "strong", "font", "p", "td", "div", "center", "span")
_HEADLINE_END = re.compile(r"[。，；：:,;]$")
_PROSE_LINE = re.compile(r"[。！？]")


def emphasised_headline(tree: etree._Element, tmap: TextMap, site_name: str | None) -> str:
    """The first short, unlinked, emphasised (bold, large or centred) line of Chinese text
    that prose follows within a few lines, before any prose: the headline of a page without
    headings."""
    for el in tree.iter(*_EMPHASIS):
        if not (el.tag in ("b", "strong") or el.get("align") == "center" or (el.get("size") or "0")[:1] in "4567"
                or "bold" in (el.get("style") or "")):
            continue
        if not tmap.reached(el) or tmap.link_text_length(el) > 0.3 * max(tmap.text_length(el), 1):
            continue
        lines = tmap.paragraphs(el)
        text = " ".join(lines)
        if len(lines) != 1 or not (6 <= len(text) <= 80) or _HEADLINE_END.search(text) or _is_site_part(text, site_name):
            continue
        if len(re.findall(r"[\u4e00-\u9fff]", text)) < 0.5 * len(text):
            continue
        if any(len(line) >= 40 and _PROSE_LINE.search(line) for line in tmap.text[:tmap.span(el)[0]].split("\n")):
            return ""   # prose came first: this is a subheading inside the article, not its headline
        after = tmap.text[tmap.span(el)[1]:tmap.span(el)[1] + 600].split("\n")
        if any(len(line) >= 40 and _PROSE_LINE.search(line) for line in after[:8]):
            return text
    return ""
