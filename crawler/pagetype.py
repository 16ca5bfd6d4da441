"""What kind of page is this: article, list or other -- read from the page, not its URL.

Public API (plain functions, no Scrapy; the spider, ``newsmon sites probe`` and the
discovery benchmark call these)::

    verdict = classify_page(html, url)          # -> PageVerdict
    verdict.kind        # "article" | "list" | "other"
    verdict.reason      # one short phrase: why ("prose 1234 chars, link density 0.05, dated")
    verdict.signals     # PageSignals: title, prose_chars, link_chars, link_density,
                        #   paragraphs, links, dated
    verdict.blocks      # list blocks (LinkBlock: urls, anchors, dated, shape) found on the page

    signals = page_signals(tree)                # PageSignals of a parsed lxml tree
    blocks = list_blocks(tree, url)             # repeated link blocks of a parsed tree
    tree = parse_html(html, url)                # the lxml tree the others take (None if unparsable)

Only cheap page signals, never the article body: the spider navigates, the
pipeline extracts. An ``"article"`` verdict sends the page to the pipeline,
which still refuses it on positive evidence (a list of links, a gallery, ...).

1. Parse once, drop what a reader never sees (scripts, styles, ``display:none``
   blocks -- restorers hide link farms there).
2. Prose: the element whose own paragraphs carry the most text outside links
   (readability's idea: each text block scores its parent, half its grandparent).
   An article has a title, a few hundred characters of prose there, few links
   inside it; a date helps but is not required.
3. List blocks: links that share their ancestor tag/class path and their URL's
   directory shape, with title-length anchors (not a menu's 2-4 characters),
   often beside dates. A page whose blocks outweigh its prose is a list.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

ARTICLE, LIST, OTHER = "article", "list", "other"

# Thresholds, counted in "characters": one per CJK character, one per latin word.
MIN_PROSE = 180            # a notice with a paragraph or two; less needs a date or a block vote
MIN_DATED_PROSE = 30       # an attachment-only notice: title, date, one sentence
MAX_PROSE_LINK_DENSITY = 0.35
MIN_BLOCK_LINKS = 4
MIN_TITLE_ANCHOR = 6       # mean anchor length of a block of article titles (menus: 2-4)

_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z0-9]+")
DATE = re.compile(r"(?<!\d)(19|20)\d{2}\s*(?:[-/.]|年)\s*\d{1,2}\s*(?:[-/.]|月)\s*\d{1,2}(?!\d)")
_PARA_TAGS = frozenset("p div li td th pre blockquote h1 h2 h3 h4 h5 h6 tr dd dt".split())
_DROP_TAGS = ("script", "style", "noscript", "iframe", "select", "option", "textarea")


@dataclass(frozen=True)
class PageSignals:
    title: str = ""
    prose_chars: int = 0        # text outside links in the best prose container
    link_chars: int = 0         # link text inside that container
    link_density: float = 1.0   # link_chars / (prose_chars + link_chars) there
    paragraphs: int = 0         # paragraphs of >= 20 chars in that container
    links: int = 0              # <a href> on the whole page
    page_link_chars: int = 0    # link text on the whole (visible) page
    dated: bool = False         # a full date in the visible text outside links


@dataclass(frozen=True)
class LinkBlock:
    urls: tuple[str, ...]
    anchors: tuple[str, ...]
    dated: bool                 # most items carry a date beside the link
    shape: str                  # the URL shape the links share (crawler.shapes.url_shape)

    @property
    def mean_anchor(self) -> float:
        return sum(map(text_size, self.anchors)) / max(1, len(self.anchors))

    @property
    def titles(self) -> bool:
        """Article titles, not a menu: long anchors, or dated short ones."""
        return self.mean_anchor >= MIN_TITLE_ANCHOR or (self.dated and self.mean_anchor >= 4)


@dataclass(frozen=True)
class PageVerdict:
    kind: str
    reason: str
    signals: PageSignals
    blocks: tuple[LinkBlock, ...] = field(default=())

    @property
    def short_notice(self) -> bool:
        """Too little prose to say "article" alone, but a dated text with few links: an
        article when a list block or a learned shape vouches for its URL (attachment notices)."""
        s = self.signals
        return (self.kind == OTHER and s.dated and s.prose_chars >= MIN_DATED_PROSE
                and s.link_density <= MAX_PROSE_LINK_DENSITY)

    @property
    def title_blocks(self) -> tuple[LinkBlock, ...]:
        return tuple(b for b in self.blocks if b.titles)


def text_size(text: str) -> int:
    """CJK characters plus latin words: comparable across scripts."""
    return len(_CJK.findall(text)) + len(_WORD.findall(text))


def parse_html(html: str, url: str):
    """An lxml tree of the visible page, or None if it cannot be parsed."""
    from lxml import html as lxml_html
    try:
        tree = lxml_html.fromstring(html, base_url=url)
    except Exception:   # noqa: BLE001 - empty, binary or broken markup: no signals
        return None
    for el in list(tree.iter(*_DROP_TAGS)):
        _drop(el)
    for el in list(tree.iter()):
        style = el.get("style") if isinstance(el.tag, str) else None
        if style and _HIDDEN.search(style) and el.getparent() is not None:
            _drop(el)
    return tree


def _drop(el) -> None:
    """Remove ``el`` but keep its tail: the text after a dropped tag is still the page's."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    prev = el.getprevious()
    parent.remove(el)
    if tail and tail.strip():
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def classify_page(html: str, url: str, tree=None) -> PageVerdict:
    """The page's kind from its own content (see the module docstring)."""
    tree = parse_html(html, url) if tree is None else tree
    if tree is None:
        return PageVerdict(OTHER, "unparsable", PageSignals())
    signals = page_signals(tree)
    blocks = tuple(list_blocks(tree, url))
    return PageVerdict(*decide(signals, blocks), signals, blocks)


def decide(signals: PageSignals, blocks: tuple[LinkBlock, ...]) -> tuple[str, str]:
    """``(kind, reason)`` from the signals: the rule, apart so it can be read and tested."""
    s = signals
    titled = [b for b in blocks if b.titles]
    block_chars = sum(text_size(a) for b in titled for a in b.anchors)
    prose_ok = s.link_density <= MAX_PROSE_LINK_DENSITY
    why = f"prose {s.prose_chars}, link density {s.link_density:.2f}, {s.paragraphs} paragraphs" + (
        ", dated" if s.dated else "")
    # An article's own text beats the related-article and news blocks around it.
    if prose_ok and s.prose_chars >= MIN_PROSE and s.prose_chars >= block_chars * 0.6:
        return ARTICLE, why
    if titled and block_chars >= max(30, s.prose_chars * 0.5):
        links = sum(len(b.urls) for b in titled)
        return LIST, f"{len(titled)} list block(s), {links} title links" + (
            ", dated" if any(b.dated for b in titled) else "")
    return OTHER, why


def page_signals(tree) -> PageSignals:
    title = " ".join((tree.findtext(".//title") or "").split())
    own: dict = defaultdict(int)    # block element -> its paragraph text outside links
    links_in: dict = defaultdict(int)
    page_link_chars, n_links, dated = 0, 0, False
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "a":
            size = text_size(el.text_content())
            n_links += bool(el.get("href"))
            page_link_chars += size
            for anc in el.iterancestors():
                links_in[anc] += size
            continue
        text = "".join([el.text or ""] + [child.tail or "" for child in el])
        size = text_size(text)
        if not size:
            continue
        block = _block_of(el)
        if block is None:       # inside a link, or no block around it
            continue
        if not dated and DATE.search(text):
            dated = True
        own[block] += size
    # 2. the container: the element whose whole subtree holds the most prose net of
    #    twice its link text (a list's container is all links; the body adds menus).
    prose_in: dict = defaultdict(int)
    for el, size in own.items():
        prose_in[el] += size
        for anc in el.iterancestors():
            prose_in[anc] += size
    if not prose_in:
        return PageSignals(title=title, links=n_links, page_link_chars=page_link_chars, dated=dated)
    best = max(prose_in, key=lambda el: prose_in[el] - 2 * links_in.get(el, 0))
    prose = prose_in[best]
    paragraphs = sum(1 for el, size in own.items() if size >= 20 and (el is best or _within(el, best)))
    link_chars = links_in.get(best, 0)
    density = link_chars / (prose + link_chars) if prose + link_chars else 1.0
    return PageSignals(title=title, prose_chars=prose, link_chars=link_chars, link_density=round(density, 3),
                       paragraphs=paragraphs, links=n_links, page_link_chars=page_link_chars, dated=dated)


def _block_of(el):
    """The nearest block element holding ``el``'s text (inline tags belong to their block);
    None inside a link."""
    while el is not None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in ("a", "head"):
            return None
        if tag in _PARA_TAGS or tag in ("body", "html", "table", "tbody", "ul", "ol", "section",
                                         "article", "main", "form", "center"):
            if not any(anc.tag == "a" for anc in el.iterancestors()):
                return el
            return None
        el = el.getparent()
    return None


def _within(el, container) -> bool:
    return any(anc is container for anc in el.iterancestors())


def list_blocks(tree, url: str, min_links: int = MIN_BLOCK_LINKS) -> list[LinkBlock]:
    """Repeated link blocks: links with the same ancestor tag/class path and the same
    URL directory shape (a menu shares the path too, but not title-length anchors)."""
    from crawler.shapes import url_shape

    groups: dict[tuple, list] = defaultdict(list)
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        absolute = urljoin(url, href)
        if urlsplit(absolute).scheme not in ("http", "https"):
            continue
        groups[(_tag_path(a), url_shape(absolute))].append((absolute, a))
    blocks = []
    for (_path, shape), members in groups.items():
        urls, anchors, dated_items, seen = [], [], 0, set()
        for absolute, a in members:
            if absolute in seen:
                continue
            seen.add(absolute)
            urls.append(absolute)
            anchors.append(" ".join((a.text_content() or a.get("title") or "").split()))
            dated_items += bool(_item_date(a))
        if len(urls) >= min_links:
            blocks.append(LinkBlock(tuple(urls), tuple(anchors), dated_items * 2 >= len(urls), shape))
    return blocks


def _tag_path(a, depth: int = 4) -> tuple:
    """``a`` and its ancestors as tag.class (no positions: the items of a list share it)."""
    path = []
    el = a
    for _ in range(depth):
        el = el.getparent()
        if el is None:
            break
        path.append(f"{el.tag}.{(el.get('class') or '').strip()}")
    return tuple(path)


def _item_date(a) -> str | None:
    """The date printed in the link's list item (``<li><a>..</a><span>2021-07-12</span></li>``)."""
    title = a.get("title") or ""
    text = a.text_content() or ""
    item = a.getparent()
    for _ in range(3):
        if item is None:
            break
        item_text = item.text_content() or ""
        if text_size(item_text) > text_size(text) + 40:   # left the list item
            break
        m = DATE.search(item_text) or DATE.search(title)
        if m:
            return m.group(0)
        item = item.getparent()
    return None
