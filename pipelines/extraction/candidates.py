"""Body candidates: the blocks or texts that may be the article, each found by one method.

* ``container_candidates`` – known CMS body containers (``.TRS_Editor``, ``#zoom``,
  ``#vsb_content``…): the best match of the first selectors that hold real text;
* ``density_candidate``    – the block whose own lines carry the most punctuated,
  unlinked text (a DOM text/link-density scorer on the shared tree);
* ``trafilatura_candidate`` and ``readability_candidate`` – the two libraries, each run
  on a copy of the one parsed tree (no second parse of the page).

No candidate is an override: ``pipelines.extraction.select`` scores them all. Element
candidates lose, on a copy, the link-list blocks inside them (``prune_link_blocks``):
structure (three or more links, mostly link text) *and* vocabulary (no sentence among
the item texts, no attachment file names) must both say "navigation".
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from pipelines.extraction import vocabulary as V
from pipelines.extraction.htmltext import TextMap, element_paragraphs
from pipelines.extraction.pagemeta import SelectorIndex, select, selector_index

MIN_OWN_CHARS = 40
_SENTENCE_PUNCT = re.compile(r"[。，；！？、,;!?]")
_SENTENCE_END = re.compile(r"[。！？!?；;]")
_FILE_NAME = re.compile(rf"\.(?:{'|'.join(V.ATTACHMENT_EXTENSIONS)})\b", re.I)
_LIST_BLOCKS = ("ul", "ol", "dl", "div", "table", "tbody", "p", "td", "section", "nav", "select")


@dataclass
class Candidate:
    name: str                                   # "container:#zoom", "density", "trafilatura", "readability"
    paragraphs: list[str]
    element: etree._Element | None = field(default=None, repr=False)

    @property
    def method(self) -> str:
        return self.name.split(":", 1)[0]


def container_candidates(tree: etree._Element, limit: int = 2, tmap: TextMap | None = None,
                         index: SelectorIndex | None = None) -> list[Candidate]:
    """The best match of each of the first ``limit`` selectors (best first) whose match holds
    real, mostly unlinked, punctuated text. Sibling matches of the same selector under one
    parent (a body built from per-paragraph ``<span class="content">``) are taken together."""
    tmap = tmap or TextMap(tree)
    index = index if index is not None else selector_index(tree)
    out: list[Candidate] = []
    seen: set = set()
    for selector in V.BODY_CONTAINER_SELECTORS:
        matches = select(tree, selector, index)
        best, best_len = None, 0
        for el in matches:
            total = tmap.text_length(el)
            own = total - tmap.link_text_length(el)
            if own > best_len and own >= MIN_OWN_CHARS and own >= 0.6 * total:
                best, best_len = el, own
        if best is None or best in seen or len(_SENTENCE_PUNCT.findall(best.text_content())) < 2:
            continue
        parent = best.getparent()
        group = [el for el in matches if el.getparent() is parent and parent is not None] or [best]
        if any(g in seen for g in group):
            continue
        seen.update(group)
        paragraphs = [p for el in group for p in pruned_paragraphs(el, tmap)]
        out.append(Candidate(f"container:{selector}", paragraphs, best))
        if len(out) >= limit:
            break
    return out


def density_candidate(tree: etree._Element, tmap: TextMap | None = None) -> Candidate | None:
    """The block whose own lines carry the most punctuated, unlinked text."""
    tmap = tmap or TextMap(tree)
    best, best_score = None, 0.0
    # Candidates: the blocks that directly hold paragraphs or line breaks (not every div,
    # which would make this quadratic on deep pages), and <body>.
    blocks = {p.getparent() for p in tree.iter("p", "br") if p.getparent() is not None}
    blocks.update(tree.iter("body"))
    for el in blocks:
        lines = tmap.paragraphs(el)
        prose = sum(len(ln) for ln in lines if _SENTENCE_PUNCT.search(ln) and len(ln) >= 10)
        score = prose - 2 * tmap.link_text_length(el) - 0.3 * sum(len(ln) for ln in lines)
        if score > best_score:
            best, best_score = el, score
    if best is None:
        return None
    return Candidate("density", pruned_paragraphs(best, tmap), best)


def _is_link_block(el: etree._Element, tmap: TextMap) -> bool:
    if tmap.links(el) < 3:
        return False
    total = tmap.text_length(el)
    if total == 0 or tmap.link_text_length(el) < 0.7 * total:
        return False
    items = [t for a in el.iter("a") if (t := a.text_content().strip())]
    # Vocabulary: navigation items are names and headlines, not sentences or file names.
    sentences = sum(1 for t in items if _SENTENCE_END.search(t) and len(t) >= 20)
    files = sum(1 for t in items if _FILE_NAME.search(t))
    return sentences == 0 and files == 0


def _link_blocks(el: etree._Element, tmap: TextMap) -> list[etree._Element]:
    return [b for b in el.iterdescendants(*_LIST_BLOCKS) if _is_link_block(b, tmap)]


def pruned_paragraphs(el: etree._Element, tmap: TextMap | None = None) -> list[str]:
    """``element_paragraphs`` of ``el`` without its link-list blocks, read off the map (no copy)."""
    tmap = tmap or TextMap(el)
    drop = _link_blocks(el, tmap)
    found = tmap.paragraphs(el, drop)
    return found if found is not None else element_paragraphs(prune_link_blocks(el, tmap))


def prune_link_blocks(el: etree._Element, tmap: TextMap | None = None) -> etree._Element:
    """A copy of ``el`` without its link-list blocks (or ``el`` itself when it has none)."""
    tmap = tmap or TextMap(el)
    originals = list(el.iter())
    drop = {i for i, b in enumerate(originals)
            if b is not el and isinstance(b.tag, str) and b.tag in _LIST_BLOCKS and _is_link_block(b, tmap)}
    if not drop:
        return el
    clone = copy.deepcopy(el)
    copies = list(clone.iter())   # same structure, same document order
    for i in sorted(drop):
        b = copies[i]
        if b.getparent() is not None and all(a.getparent() is not None or a is clone for a in b.iterancestors()):
            b.getparent().remove(b)
    return clone


def trafilatura_candidate(tree: etree._Element, url: str, scope: etree._Element | None = None) -> Candidate | None:
    """trafilatura on a copy of the tree, or of ``scope`` alone (the part of the page that holds
    the headline and the block under it: trafilatura then only says how to trim that block)."""
    import trafilatura
    if scope is not None:
        doc = lxml.html.document_fromstring("<html><body></body></html>")
        part = copy.deepcopy(scope)
        part.tail = None
        doc.find("body").append(part)
    else:
        doc = copy.deepcopy(tree)
    try:
        # fast: no fallback comparison inside trafilatura (readability-lxml is a candidate of its own)
        text = trafilatura.extract(doc, url=url, fast=True, favor_recall=True, include_comments=False,
                                   include_tables=True, include_images=False, deduplicate=False,
                                   output_format="txt", with_metadata=False)
    except Exception:  # noqa: BLE001 - one candidate fewer, the others go on
        return None
    lines = [line for line in (text or "").split("\n") if line.strip()]
    return Candidate("trafilatura", lines) if lines else None


def readability_candidate(tree: etree._Element, url: str) -> Candidate | None:
    """readability-lxml's summary of a copy of the shared tree."""
    from pipelines.requirements import import_extractor
    # Not importable: MissingExtractor (the crawl or command stops), never one candidate fewer.
    Document = import_extractor("readability").Document   # noqa: N806

    class _SharedTreeDocument(Document):
        def _parse(self, input):   # noqa: A002 - readability's signature
            # The shared tree has lost its scripts, styles and comments already, and links
            # need no rewriting for text: a copy (readability rewrites what it is given)
            # stands in for readability's own parse + cleaner copy + link pass.
            doc = copy.deepcopy(tree)
            for el in doc.xpath("//*[@hidden]"):
                el.drop_tree()
            return doc

    try:
        html = _SharedTreeDocument("").summary(html_partial=True)
        root = etree.fromstring(html, etree.HTMLParser()) if html and html.strip() else None
    except Exception:  # noqa: BLE001
        return None
    if root is None:
        return None
    lines = element_paragraphs(root)
    return Candidate("readability", lines) if lines else None
