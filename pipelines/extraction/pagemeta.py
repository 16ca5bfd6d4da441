"""What a page says about itself outside the body: <meta> tags, and CSS selectors from the sites file.

Shared by the extraction cascade (pipelines.extract) and the title finder (pipelines.extraction.titles).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from lxml import etree
from lxml.cssselect import CSSSelector

from pipelines.extraction.htmltext import element_paragraphs


def read_meta(tree: etree._Element) -> dict[str, str]:
    """<meta name|property|itemprop=… content=…>: first non-empty value per name (case kept)."""
    meta: dict[str, str] = {}
    for el in tree.iter("meta"):
        name = el.get("name") or el.get("property") or el.get("itemprop") or el.get("http-equiv")
        content = (el.get("content") or "").strip()
        if name and content and name not in meta:
            meta[name.strip()] = content
    return meta


def meta_value(meta: Mapping[str, str], *names: str) -> str | None:
    lowered = {k.lower(): v for k, v in meta.items()}
    for name in names:
        if value := lowered.get(name.lower()):
            return value
    return None


@lru_cache(maxsize=512)
def _compiled(selector: str) -> CSSSelector | None:
    # Translating CSS to XPath costs ~0.5 ms per selector; do it once per process.
    try:
        return CSSSelector(selector, translator="html")
    except Exception:  # a bad selector in a sites file must not stop the crawl
        return None


SelectorIndex = dict[str, list[etree._Element]]
_SIMPLE_SELECTOR = re.compile(r"^([#.]?)([\w-]+)$")


def selector_index(tree: etree._Element) -> SelectorIndex:
    """One pass: "#id", ".class" and "tag" -> elements in document order, so the ~70 simple
    selectors of the title and body finders cost one walk, not one XPath scan each."""
    index: SelectorIndex = {}
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        index.setdefault(el.tag, []).append(el)
        if el_id := el.get("id"):
            index.setdefault("#" + el_id.strip(), []).append(el)
        for cls in (el.get("class") or "").split():
            index.setdefault("." + cls, []).append(el)
    return index


def select(tree: etree._Element, selector: str, index: SelectorIndex | None = None) -> list[etree._Element]:
    """Elements matching a CSS selector; a simple one (``#id``, ``.class``, ``tag``) is read
    off ``index`` when given (built on this tree, unchanged since)."""
    if index is not None and _SIMPLE_SELECTOR.match(selector):
        return index.get(selector, [])
    compiled = _compiled(selector)
    return compiled(tree) if compiled is not None else []


def select_text(tree: etree._Element, selector: str) -> list[str]:
    return [" ".join(element_paragraphs(el)) for el in select(tree, selector)]

