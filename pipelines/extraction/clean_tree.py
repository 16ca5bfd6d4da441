"""Tree-level cleaning: what must leave the HTML tree before any extractor reads it.

Line-level rules live in ``pipelines/extraction/clean.py``; these work on the lxml tree
because the markup is the only signal (``<rt>`` pinyin, a related-box heading).
"""
from __future__ import annotations

import re

from lxml import etree

from pipelines.extraction import vocabulary as V
from pipelines.extraction.clean import comparison_key
from pipelines.extraction.htmltext import link_text_length, text_length

_RELATED_HEADING = re.compile(rf"^[\d【\[|｜]*(?:{V.pattern(V.TAIL_WIDGET_MARKERS)})[:：>》\]】|｜]*$")


def strip_ruby_annotations(tree: etree._Element) -> int:
    """Tree-level form: ``<ruby>開<rt>kāi</rt></ruby>`` -> ``開``. Returns how many were removed."""
    removed = 0
    for el in list(tree.iter("rt", "rp")):
        remove_keeping_tail(el)
        removed += 1
    return removed


def short_text(el: etree._Element, limit: int, stripped: bool = False) -> str | None:
    """``el.text_content()`` when it is at most ``limit`` characters (``stripped``: counting
    each text piece without its surrounding whitespace), else None, without building the
    text of a large element (every div of a page is asked)."""
    pieces, size = [], 0
    for piece in el.itertext():
        size += len(piece.strip()) if stripped else len(piece)
        if size > limit:
            return None
        pieces.append(piece)
    return "".join(pieces)


def remove_keeping_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Elements that serve as a box title when their whole text is a widget name (<div class="ttl">).
_TITLE_BLOCKS = ("div", "p", "span", "strong", "b", "dt", "em")
_LIST_OR_DIV = ("ul", "ol", "dl", "div")
_SMALL_BOX = 400   # a titled box with more text than this is a section of the page, not a widget


def drop_related_boxes(tree: etree._Element) -> int:
    """Tree-level: a heading that names a recommendation/related box (``<h2>为你推荐</h2>``,
    ``<h3>相关推荐</h3>``) goes with what follows it in its parent, up to the next heading
    (the box's list). Extractors drop such headings but keep the lists under them as if they
    were text (toutiao galleries, stcn, people.cn). A box titled by a plain element
    (``<div class="ttl">延伸 · 推荐</div>`` opening a small box) loses its links and teasers
    but keeps the title, which the line rules then use as the place to cut the tail (163).
    Returns how many boxes were removed."""
    removed = 0
    for heading in list(tree.iter(*_HEADINGS, *_TITLE_BLOCKS)):
        parent = heading.getparent()
        if parent is None or len(heading) > 2:
            continue
        text = short_text(heading, 30)
        if text is None or not _RELATED_HEADING.match(comparison_key(text)):
            continue
        if heading.tag in _HEADINGS:
            box = [heading]
            for el in heading.itersiblings():
                if el.tag in _HEADINGS:     # the next section of a flat page is not the box
                    break
                box.append(el)
        elif heading is _first_child(parent) and text_length(parent) <= _SMALL_BOX:
            box = [el for el in heading.itersiblings() if isinstance(el.tag, str)]
            if not box:
                continue
            if _prose_follows(parent):
                # The box sits inside the article (推荐阅读 between two paragraphs): its title
                # goes too, or the line rules would cut the article's next paragraphs as tail.
                box.append(heading)
        else:
            continue
        for el in box:
            el.getparent().remove(el)   # tails too: they are the box's text
        removed += 1
    return removed


_SENTENCE = re.compile(r"[。！？]")


def _prose_follows(el: etree._Element) -> bool:
    """The element's next siblings carry a paragraph of prose (a sentence of 30+ characters)."""
    for sib in el.itersiblings():
        if not isinstance(sib.tag, str):
            continue
        text = sib.text_content().strip()
        if len(text) >= 30 and _SENTENCE.search(text) and link_text_length(sib) < 0.3 * len(text):
            return True
    return False


def _first_child(el: etree._Element) -> etree._Element | None:
    return next((child for child in el if isinstance(child.tag, str)), None)


_LIST_TAGS = ("ul", "ol", "dl")


def _is_link_list(el: etree._Element) -> bool:
    """A list (or a div holding one) of three or more links that is mostly link text."""
    if el.tag not in _LIST_TAGS and not (el.tag == "div" and el.find(".//ul") is not None):
        return False
    links = sum(1 for a in el.iter("a") if (a.text_content() or "").strip())
    total = text_length(el)
    return links >= 3 and total > 0 and link_text_length(el) >= 0.7 * total


def drop_link_list_boxes(tree: etree._Element) -> int:
    """Tree-level: a short, unlinked box title directly followed by a list of links
    (``<div class="title">时报观察</div><ul><li><a>…</a></li>…</ul>``, 点击排行, 热门文章):
    a sidebar or column box whatever its title says. Extractors drop the links but keep
    the title as a line of text. Returns how many boxes were removed."""
    removed = 0
    for title in list(tree.iter(*_HEADINGS, *_TITLE_BLOCKS)):
        nxt = title.getnext()
        if title.getparent() is None or nxt is None or nxt.tag not in _LIST_OR_DIV:   # cheap tests first
            continue
        text = short_text(title, 12, stripped=True)   # a page-sized div stops early
        if text is None or title.find(".//a") is not None:
            continue
        text = text.strip()
        if not (2 <= len(text) <= 12) or re.search(r"[。，,；;！？!?]", text):
            continue
        nxt = title.getnext()
        if nxt is None or not _is_link_list(nxt):
            continue
        for el in (title, nxt):
            el.getparent().remove(el)
        removed += 1
    return removed


_FORUM_MESSAGE_ID = re.compile(
    rf"^(?:(?:{'|'.join(re.escape(p) for p in V.FORUM_MESSAGE_ID_PREFIXES)})\d+|{'|'.join(V.FORUM_FIRST_POST_IDS)})$")


def drop_forum_replies(tree: etree._Element) -> int:
    """Tree-level: a forum thread's replies. Posts are found by structure, the id forum
    software gives each post's message (``postmessage_1001``, ``read_tpc``…); with two or
    more, the first is the thread's post (the article) and every later one a comment: the
    unit holding it (the child of the posts' common ancestor: author, date, message,
    signature) goes. Returns how many replies were removed."""
    messages = [el for el in _IDS(tree) if _FORUM_MESSAGE_ID.match(el.get("id", ""))]
    if len(messages) < 2:
        messages = _post_headers(tree)   # no known software: posts by their header lines
        if len(messages) < 3:
            return 0
    common = set(messages[0].iterancestors())
    for el in messages[1:]:
        common &= set(el.iterancestors())
    top = next((a for a in messages[0].iterancestors() if a in common), None)
    if top is None or top.tag in ("body", "html"):   # posts share a list, never the whole page
        return 0
    first = next(a for a in [messages[0], *messages[0].iterancestors()] if a.getparent() is top)
    units = []
    for el in messages[1:]:
        unit = next((a for a in [el, *el.iterancestors()] if a.getparent() is top), None)
        if unit is not None and unit is not first and unit not in units:
            units.append(unit)
    if any(unit.tag != first.tag for unit in units):   # posts are units of one kind
        return 0
    for unit in units:
        top.remove(unit)    # with its tail: the unit's own text
    return len(units)


_IDS = etree.XPath("//*[@id]")
# A post's header: a date and time, and forum words (发表于, 楼主, 沙发, 2楼, #3, 回复, 作者).
_TIMED_TEXT = etree.XPath("//body//text()[contains(., ':') or contains(., '：')]")
_POST_TIME = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*\d{1,2}[:：]\d{2}")
_POST_WORDS = re.compile(rf"{V.pattern(V.FORUM_POST_MARKERS)}|\d+\s*[楼樓]|#\d+")


def _post_headers(tree: etree._Element) -> list[etree._Element]:
    """The elements holding each post's header line (date and time with forum words in the
    element's own text), in document order, one per post; [] when fewer than three."""
    found: list[etree._Element] = []
    for text in _TIMED_TEXT(tree):
        el = text.getparent()
        if el is None or not _POST_TIME.search(text):
            continue
        own = " ".join(t for t in (el.text, *(c.tail for c in el)) if t)
        parent = el.getparent()
        context = own + " " + (short_text(parent, 200) or "") if parent is not None else own
        if _POST_WORDS.search(context) and (not found or found[-1] is not el):
            found.append(el)
    return found if len(found) >= 3 else []


_COMMENT_NAME = re.compile("|".join(V.COMMENT_BLOCK_NAMES))
_NAME_HINTS = ("omm", "pinglun", "revert")   # substrings every comment name has: a cheap test first


def _comment_named(tree: etree._Element) -> list[etree._Element]:
    found = []
    for el in tree.iter():
        names = f"{el.get('id', '')} {el.get('class', '')}" if isinstance(el.tag, str) else ""
        if any(h in names for h in _NAME_HINTS) and _COMMENT_NAME.search(names):
            found.append(el)
    return found
_MIN_COMMENT_CHARS = 10


def _comment_units(el: etree._Element) -> int:
    """The most siblings of one kind (tag and class) inside ``el`` that each hold text: the
    comments of a list."""
    best = 0
    for parent in el.iter():
        kinds: dict[tuple, int] = {}
        for child in parent:
            if isinstance(child.tag, str) and text_length(child) >= _MIN_COMMENT_CHARS:
                key = (child.tag, child.get("class"))
                kinds[key] = kinds.get(key, 0) + 1
        best = max(best, *kinds.values(), 0)
    return best


def drop_comment_sections(tree: etree._Element) -> int:
    """Tree-level: readers' comments under a post (blogs, news). Structure and naming must
    agree: an element named a comment section (``id/class`` comment, pinglun, Sina's revert)
    that holds two or more comments (siblings of one kind with text) and no headline
    (``<h1>``) of the page. Returns how many sections were removed."""
    removed = 0
    root = tree.getroottree().getroot()
    for el in _comment_named(tree):
        if el.tag in ("body", "html"):
            continue
        if not any(a is root for a in el.iterancestors()):   # inside a section removed already
            continue
        if el.find(".//h1") is not None or _comment_units(el) < 2:
            continue
        remove_keeping_tail(el)
        removed += 1
    return removed
