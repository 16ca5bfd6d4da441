"""What the page's structure says about a body, for the selector and for refusal (design.md:
a page is refused only on positive evidence that it is not an article).

* ``footer_lines``     – the lines of the site footer: an element the page names as a footer
  (``<footer>``, ``id/class`` foot, copyright, bottom, banquan…) that is short and speaks
  footer vocabulary (主办, ICP备, 版权所有, 地址：/邮编：/电话：…). Such lines are never a body.
* ``table_body_chars`` – how much of a body is rows of a data table: three or more rows of
  two or more filled cells, mostly unlinked text (a timetable, a list of registrations). A
  table of text is an article's body even with no sentence in it.
* ``container_text_chars`` – the unlinked lines of Chinese text of a body from a CMS article
  container: 40 characters of it make an article without a sentence (a list of names).
* ``looks_like_list_page`` – most of the body's lines are link texts of the page and what
  remains is little prose: a list of links, refused.
* ``media_player``     – a video or Flash player on the page (``<video>``, ``<embed>``, a
  player script with a media file): why a page has no text, said in the refusal.
* ``vouched_short_article`` – why a page with little text of its own is an article anyway:
  the crawl's evidence for its URL (``pipelines.article.CrawlEvidence``: an article shape)
  confirmed by the page (a date). A short notice, an attachment, image
  or video page is then indexed with its title and the text it has; a list stays refused.
"""
from __future__ import annotations

import re

from lxml import etree

from pipelines.extraction import vocabulary as V
from pipelines.article import CrawlEvidence
from pipelines.attachments.sniff import declared_kind
from pipelines.extraction.clean import comparison_key
from pipelines.extraction.linekinds import is_footer_line
from pipelines.extraction.htmltext import TextMap
from pipelines.extraction.pagemeta import SelectorIndex

_SENTENCE_PUNCT = re.compile(r"[。，；！？、,;!?]")
_SENTENCE_END = re.compile(r"[。！？!?]")
_FOOTER_NAME = re.compile(rf"(?:{'|'.join(V.FOOTER_BLOCK_NAMES)})", re.I)
_FOOTER_WORDS = re.compile(rf"{V.pattern(V.FOOTER_MARKERS)}|ICP\s*[备證证]|©", re.I)
_CONTACT_FIELD = re.compile(rf"(?:{V.pattern(V.CONTACT_MARKERS)}|E-?mail)\s*[:：]", re.I)
_CJK = re.compile(r"[\u3400-\u9fff]")
FOOTER_MAX_CHARS = 800      # a footer is a few lines; a block this long is a page section
TABLE_MIN_ROWS = 3
_MEDIA_FILE = re.compile(r"\.(?:mp4|flv|m3u8|swf|wmv|f4v|webm)\b", re.I)


def prose_chars(paragraphs: list[str]) -> int:
    """Characters in lines that read as prose (punctuated), so link lists and menus count 0."""
    return sum(len(p) for p in paragraphs if _SENTENCE_PUNCT.search(p) and len(p) >= 10)


# ------------------------------------------------------------------ footers
def _footer_elements(tree: etree._Element, index: SelectorIndex) -> list[etree._Element]:
    found = list(index.get("footer", []))
    for key, els in index.items():
        if key[:1] in "#." and _FOOTER_NAME.search(key[1:]):
            found.extend(els)
    return found


def footer_lines(tree: etree._Element, tmap: TextMap, index: SelectorIndex) -> set[str]:
    """Comparison keys of the lines of the page's footer blocks (structure *and* vocabulary:
    a block named a footer, short, without sentences, with footer words or contact fields)."""
    keys: set[str] = set()
    for el in _footer_elements(tree, index):
        if not tmap.reached(el) or tmap.text_length(el) > FOOTER_MAX_CHARS:
            continue
        lines = tmap.paragraphs(el)
        if any(_SENTENCE_END.search(ln) and len(ln) >= 40 for ln in lines):
            continue
        if any(_FOOTER_WORDS.search(ln) or len(_CONTACT_FIELD.findall(ln)) >= 2 for ln in lines):
            keys.update(comparison_key(ln) for ln in lines)
    return keys


def without_footer(paragraphs: list[str], footer: set[str]) -> list[str]:
    return [p for p in paragraphs if comparison_key(p) not in footer] if footer else paragraphs


# ------------------------------------------------------------------ tables
def _data_rows(table: etree._Element, tmap: TextMap) -> list[etree._Element] | None:
    """The rows of a data table (no table inside it, mostly unlinked text in filled cells),
    or None when ``table`` is a layout or link table."""
    if table.find(".//table") is not None:
        return None
    total = tmap.text_length(table)
    if not total or tmap.link_text_length(table) > 0.3 * total:
        return None
    rows = [tr for tr in table.iter("tr")
            if sum(1 for cell in tr if cell.tag in ("td", "th") and tmap.text_length(cell)) >= 2]
    return rows if len(rows) >= TABLE_MIN_ROWS else None


def table_body_chars(tree: etree._Element, tmap: TextMap, paragraphs: list[str]) -> int:
    """Characters of ``paragraphs`` that are rows of a data table of Chinese text on the page."""
    # Matched by text, not by line: a candidate prints a row as "| a | b |", as one line or
    # a line per cell, so a body line is in the table when its cells' text is a row's text.
    rows: list[str] = []
    for table in tree.iter("table"):
        found = _data_rows(table, tmap)
        if found:
            rows.extend(_cells_key(ln) for tr in found for ln in tmap.paragraphs(tr))
    if not rows:
        return 0
    joined = "\x00".join(rows)
    in_rows = [p for p in paragraphs if len(key := _cells_key(p)) >= 2 and key in joined]
    text = "".join(in_rows)
    return len(text) if len(_CJK.findall(text)) >= 0.4 * len(text.replace(" ", "")) else 0


def _cells_key(line: str) -> str:
    return comparison_key(line.replace("|", ""))


# ------------------------------------------------------------------ list pages
def page_link_texts(tree: etree._Element, pages_only: bool = False) -> set[str]:
    """Texts (6+ characters) of the page's links; ``pages_only``: of links that lead to a page,
    not to a document (``.pdf``, ``.doc``…) nor nowhere (``javascript:``, ``#``)."""
    out = set()
    for a in tree.iter("a"):
        t = "".join((a.text_content() or "").split())
        if len(t) >= 6 and not (pages_only and _not_a_page(a.get("href") or "", t)):
            out.add(t)
    return out


def _not_a_page(href: str, text: str) -> bool:
    href = href.strip()
    return (not href or href.startswith(("javascript:", "#", "mailto:"))
            or declared_kind(href, text) is not None)


def container_text_chars(tree: etree._Element, paragraphs: list[str]) -> int:
    """Characters of the body's unlinked lines of Chinese text. Read for a body from the page's CMS
    article container (the page's own word for where the article is): a list of names or a
    short notice there is the article's text even without a sentence in it."""
    links = page_link_texts(tree)
    return sum(len(key) for p in paragraphs if (key := "".join(p.split())) not in links and _CJK.search(p))


def looks_like_list_page(tree: etree._Element, paragraphs: list[str], pages_only: bool = False) -> bool:
    """Positive evidence that a page is a list of links, not an article: most of the body's
    lines are link texts of the page and what remains is little prose. ``pages_only`` (a page
    the crawl's link named by its title): only links to pages count -- an article listing its
    documents (a 公告 of standards, each a file) is not a list page."""
    links = page_link_texts(tree, pages_only)
    linked = sum(len(p) for p in paragraphs if "".join(p.split()) in links)
    total = sum(len(p) for p in paragraphs)
    unlinked_prose = sum(len(p) for p in paragraphs
                         if "".join(p.split()) not in links and _SENTENCE_PUNCT.search(p) and len(p) >= 10)
    return total > 0 and linked >= 0.5 * total and unlinked_prose < 200


# ------------------------------------------------------------------ media
def media_player(tree: etree._Element) -> bool:
    """A video/Flash player: ``<video>``, ``<embed>``/``<object>`` of a media file, or a player
    script naming one (VSB's ``showVsbVideo("/….mp4")``). Read before scripts are dropped."""
    if next(tree.iter("video"), None) is not None:
        return True
    for el in tree.iter("embed", "object", "source", "param", "script", "iframe"):
        attrs = " ".join(el.attrib.values())
        if _MEDIA_FILE.search(attrs) or (el.tag == "script" and _MEDIA_FILE.search(el.text or "")):
            return True
    return False


# ------------------------------------------------------------------ short articles
MIN_TITLE_KEY = 4          # characters of a link text that can name a page's title
_ELLIPSIS = re.compile(r"(?:\.{2,}|…+|\s)+$")


def anchor_names_title(anchor: str, title: str) -> bool:
    """The link's text is the page's title: the same words, or the title cut short by the
    list (``参赛作品上传进度…``), or the title inside a longer link text (a date beside it)."""
    key, name = comparison_key(_ELLIPSIS.sub("", anchor or "")), comparison_key(title or "")
    if len(key) < MIN_TITLE_KEY or len(name) < MIN_TITLE_KEY:
        return False
    return key in name or name in key


def vouched_short_article(evidence: CrawlEvidence | None, title: str, dated: bool) -> str | None:
    """Why a page with little text of its own is an article, or None (the refusal stands).

    Two pieces of evidence, one from the crawl and one from the page: the URL has an article
    shape -- the operator's pattern, a shape the site's list blocks taught (voted for by dated
    blocks, or confirmed by pages that read as articles), a known CMS article shape -- and
    the page has a date. A link in a block of titles alone is not enough (a block of a
    site's sub-sites or journals has title-length names too), nor a link text that names
    the page's title (a sub-site's front page is titled with its own name)."""
    if not evidence or not evidence.shape or not title.strip() or not dated:
        return None
    return f"{evidence.shape}, dated" + (", list_block" if evidence.list_block else "")


_WORDLESS = re.compile(r"^[\W_]*$")


def own_lines(tree: etree._Element, paragraphs: list[str]) -> list[str]:
    """The body's lines that are not the text of a link on the page, however short (a menu, a
    breadcrumb's 首页, 上一条/下一条), nor only separators (``>>``), nor a footer's line (版权所有,
    技术支持：): a short page's own text."""
    links = {"".join((a.text_content() or "").split()) for a in tree.iter("a")}
    return [p for p in paragraphs
            if "".join(p.split()) not in links and not _WORDLESS.match(p) and not is_footer_line(p)]
