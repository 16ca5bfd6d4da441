"""lxml tree -> text lines, the way a reader sees them.

Block elements and ``<br>`` start new lines, table cells of one row share a
line, and what a browser never shows (scripts, styles, comments, form
controls, hidden elements) is skipped. Shared by extraction and date finding.

``TextMap`` reads a whole tree once: its visible text as one string with each
element's span in it, and each element's text and link-text lengths. The body
candidates ask it for many blocks of one tree (lines, lines without some link
blocks, lengths) instead of walking each block again.
"""
from __future__ import annotations

import re

from lxml import etree

BLOCK_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "center", "dd", "details", "dialog", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "thead", "tfoot", "tr", "ul", "caption", "body", "html", "marquee",
))
SKIP_TAGS = frozenset((
    "script", "style", "noscript", "template", "iframe", "object", "embed", "select", "option",
    "button", "input", "textarea", "svg", "canvas", "head", "title", "meta", "link", "map", "audio",
    "video", "rt", "rp",
))
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_WS = re.compile(r"[ \t\r\n\f\v]+")


def is_hidden(el: etree._Element) -> bool:
    return bool(_HIDDEN.search(el.get("style") or "")) or el.get("hidden") is not None


# A data table's cell holds a value, not a paragraph: at most this many characters, mostly
# not link text, in a row of two or more cells, and no table inside it. Its <p>/<br> breaks read as spaces, so the
# row stays one line ("星 期 四 二（5）班 田径场 周雯 谭覃"); a layout table's cell, which
# holds a whole article or a menu, keeps its lines.
DATA_CELL_CHARS = 50


def is_data_cell(el: etree._Element) -> bool:
    row = el.getparent()
    if el.tag not in ("td", "th") or row is None or el.find(".//table") is not None:
        return False
    if sum(1 for cell in row if cell.tag in ("td", "th")) < 2:
        return False
    size = 0
    for piece in el.itertext():
        size += len(piece.strip())
        if size > DATA_CELL_CHARS:
            return False
    # a cell of links is a menu, whose items stay lines of their own (link lines are noise);
    # one linked value (a standard's number, a name) is still a value
    links = [a for a in el.iter("a")]
    return len(links) < 2 or sum(len(t.strip()) for a in links for t in a.itertext()) < 0.5 * size


def _in_data_cell(el: etree._Element) -> bool:
    for anc in el.iterancestors():
        if anc.tag in ("td", "th"):
            return is_data_cell(anc)
        if anc.tag in ("table", "tr", "body"):
            return False
    return False


def element_paragraphs(el: etree._Element) -> list[str]:
    """Visible text of ``el`` as lines (paragraphs), whitespace collapsed, empties dropped."""
    parts: list[str] = []
    _walk(el, parts, top=True, inline=_in_data_cell(el))
    text = "".join(parts)
    return [line.strip() for line in text.split("\n") if line.strip()]


def _walk(el: etree._Element, parts: list[str], top: bool = False, inline: bool = False) -> None:
    tag = el.tag if isinstance(el.tag, str) else None
    if tag is None or tag in SKIP_TAGS or (not top and is_hidden(el)):
        if not top and el.tail:
            parts.append(_WS.sub(" ", el.tail))
        return
    tag = tag.lower()
    block = tag in BLOCK_TAGS
    if tag in ("td", "th"):
        parts.append(" ")
        inline = inline or is_data_cell(el)
    elif block or tag == "br":
        parts.append(" " if inline else "\n")
    if el.text and tag != "br":
        parts.append(_WS.sub(" ", el.text))
    for child in el:
        _walk(child, parts, inline=inline)
    if block:
        parts.append(" " if inline else "\n")
    if not top and el.tail:
        parts.append(_WS.sub(" ", el.tail))


def text_length(el: etree._Element) -> int:
    return sum(len(t.strip()) for t in el.itertext())


def link_text_length(el: etree._Element) -> int:
    return sum(sum(len(t.strip()) for t in a.itertext()) for a in el.iter("a"))


class TextMap:
    """One walk of a tree that will not change while the map is used.

    ``paragraphs(el)`` equals ``element_paragraphs(el)`` for an element the walk reached
    (not inside a hidden or skipped element), ``text_length``/``link_text_length`` equal the
    functions of those names, ``links(el)`` counts the non-empty links inside ``el``."""

    def __init__(self, root: etree._Element):
        self._parts: list[str] = []
        self._pos = 0
        self._span: dict[etree._Element, tuple[int, int, int]] = {}   # start, end, end with tail
        self._chars: dict[etree._Element, int] = {}
        self._linked: dict[etree._Element, int] = {}
        self._links: dict[etree._Element, int] = {}
        self._visit(root, True, True, _in_data_cell(root))
        self.text = "".join(self._parts)

    def _add(self, text: str) -> None:
        self._parts.append(text)
        self._pos += len(text)

    def _visit(self, el: etree._Element, top: bool, visible: bool, inline: bool = False) -> None:
        """Walk ``el``; ``visible``: its text reaches the string (no hidden/skipped ancestor);
        ``inline``: inside a data cell, where line breaks read as spaces."""
        tag = el.tag if isinstance(el.tag, str) else None
        start = self._pos
        shown = visible and tag is not None and tag not in SKIP_TAGS and (top or not is_hidden(el))
        if shown and tag in ("td", "th"):
            self._add(" ")
            inline = inline or is_data_cell(el)
        elif shown and (tag in BLOCK_TAGS or tag == "br"):
            self._add(" " if inline else "\n")
        text = el.text if tag is not None else None
        chars = len(text.strip()) if text else 0
        if shown and text and tag != "br":
            self._add(_WS.sub(" ", text))
        linked = links = 0
        for child in el:
            self._visit(child, False, shown, inline)
            tail = child.tail
            if tail:
                chars += len(tail.strip())
            if isinstance(child.tag, str):
                chars += self._chars[child]
                linked += self._linked[child]
                links += self._links[child]
        if shown and tag in BLOCK_TAGS:
            self._add(" " if inline else "\n")
        end = self._pos
        if not top and el.tail and visible:
            self._add(_WS.sub(" ", el.tail))
        if tag is None:
            return
        if tag == "a":
            linked += chars
            links += chars > 0
        self._chars[el], self._linked[el], self._links[el] = chars, linked, links
        if shown:
            self._span[el] = (start, end, self._pos)

    def reached(self, el: etree._Element) -> bool:
        return el in self._span

    def span(self, el: etree._Element) -> tuple[int, int]:
        """Where ``el``'s text starts and ends in ``text`` (an element the walk reached)."""
        start, end, _ = self._span[el]
        return start, end

    def paragraphs(self, el: etree._Element, without: list[etree._Element] = ()) -> list[str] | None:
        """``element_paragraphs(el)``, minus the elements ``without`` (inside ``el``) and their
        tails; None when one of ``without`` is one the walk did not reach."""
        if el not in self._span or not all(b in self._span for b in without):
            return element_paragraphs(el) if not without else None
        start, end, _ = self._span[el]
        if not without:
            text = self.text[start:end]
        else:
            pieces, at = [], start
            for b_start, _, b_tail_end in sorted(self._span[b] for b in without):
                if b_start > at:
                    pieces.append(self.text[at:b_start])
                at = max(at, b_tail_end)
            pieces.append(self.text[at:end])
            text = "".join(pieces)
        return [line.strip() for line in text.split("\n") if line.strip()]

    def text_length(self, el: etree._Element) -> int:
        n = self._chars.get(el)
        return text_length(el) if n is None else n

    def link_text_length(self, el: etree._Element) -> int:
        n = self._linked.get(el)
        return link_text_length(el) if n is None else n

    def links(self, el: etree._Element) -> int:
        n = self._links.get(el)
        return sum(1 for a in el.iter("a") if (a.text_content() or "").strip()) if n is None else n
