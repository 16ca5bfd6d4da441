"""lxml tree -> text lines, the way a reader sees them.

Block elements and ``<br>`` start new lines, table cells of one row share a
line, and what a browser never shows (scripts, styles, comments, form
controls, hidden elements) is skipped. Shared by extraction and date finding.
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


def element_paragraphs(el: etree._Element) -> list[str]:
    """Visible text of ``el`` as lines (paragraphs), whitespace collapsed, empties dropped."""
    parts: list[str] = []
    _walk(el, parts, top=True)
    text = "".join(parts)
    return [line.strip() for line in text.split("\n") if line.strip()]


def _walk(el: etree._Element, parts: list[str], top: bool = False) -> None:
    tag = el.tag if isinstance(el.tag, str) else None
    if tag is None or tag in SKIP_TAGS or (not top and is_hidden(el)):
        if not top and el.tail:
            parts.append(_WS.sub(" ", el.tail))
        return
    tag = tag.lower()
    block = tag in BLOCK_TAGS
    if block or tag == "br":
        parts.append("\n")
    elif tag in ("td", "th"):
        parts.append(" ")
    if el.text and tag != "br":
        parts.append(_WS.sub(" ", el.text))
    for child in el:
        _walk(child, parts)
    if block:
        parts.append("\n")
    if not top and el.tail:
        parts.append(_WS.sub(" ", el.tail))


def text_length(el: etree._Element) -> int:
    return sum(len(t.strip()) for t in el.itertext())


def link_text_length(el: etree._Element) -> int:
    return sum(sum(len(t.strip()) for t in a.itertext()) for a in el.iter("a"))
