"""Tree-level cleaning: what must leave the HTML tree before any extractor reads it.

Line-level rules live in ``pipelines/clean.py``; these work on the lxml tree
because the markup is the only signal (``<rt>`` pinyin, a related-box heading).
"""
from __future__ import annotations

import re

from lxml import etree

from pipelines import vocabulary as V
from pipelines.clean import comparison_key

_RELATED_HEADING = re.compile(rf"^[\d【\[|｜]*(?:{V.pattern(V.TAIL_WIDGET_MARKERS)})[:：>》\]】|｜]*$")


def strip_ruby_annotations(tree: etree._Element) -> int:
    """Tree-level form: ``<ruby>開<rt>kāi</rt></ruby>`` -> ``開``. Returns how many were removed."""
    removed = 0
    for el in list(tree.iter("rt", "rp")):
        remove_keeping_tail(el)
        removed += 1
    return removed


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


def drop_related_boxes(tree: etree._Element) -> int:
    """Tree-level: a heading that names a recommendation/related box (``<h2>为你推荐</h2>``,
    ``<h3>相关推荐</h3>``) goes with what follows it in its parent, up to the next heading (the box's list).
    Extractors drop such headings but keep the lists under them as if they were text
    (toutiao galleries, stcn, people.cn). Returns how many boxes were removed."""
    removed = 0
    for heading in list(tree.iter(*_HEADINGS)):
        if heading.getparent() is None or not _RELATED_HEADING.match(comparison_key(heading.text_content())):
            continue
        box = [heading]
        for el in heading.itersiblings():
            if el.tag in _HEADINGS:     # the next section of a flat page is not the box
                break
            box.append(el)
        for el in box:
            el.getparent().remove(el)   # tails too: they are the box's text
        removed += 1
    return removed
