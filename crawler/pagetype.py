"""What kind of page is this: article, list or other -- read from the page, not its URL.

Public API (plain functions, no Scrapy; the spider, ``newsmon sites probe`` and the
discovery benchmark call these)::

    verdict = classify_page(html, url)          # -> PageVerdict
    verdict.kind        # "article" | "list" | "other"
    verdict.reason      # one short phrase: why ("prose 1234 chars, link density 0.05, dated")
    verdict.signals     # PageSignals: title, prose_chars, link_chars, link_density,
                        #   paragraphs, links, dated, meta_lines, item_prose
    verdict.blocks      # list blocks (LinkBlock: urls, anchors, dated, shape) found on the page

    signals = page_signals(tree, items)         # PageSignals of a parsed lxml tree
    blocks = list_blocks(tree, url)             # repeated link blocks of a parsed tree
    tree = parse_html(html, url)                # the lxml tree the others take (None if unparsable)
    tree = visible_tree(parse_tree(html, url))  # the same in two steps (read links in between)

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
   often beside dates (three dated items are a list too). A page whose blocks
   outweigh its prose is a list, and so is one whose prose sits in the blocks'
   items (teasers under each title).
4. Marks of an article (``crawler.discovery`` weighs them): ``dated`` (a date
   outside the list items: a list's dates belong to its items) and
   ``meta_lines`` (short lines with a label and a date: 发布时间：2021-07-12).
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
MIN_DATED_BLOCK_LINKS = 3  # a short column: three titles, each beside its date
MIN_TITLE_ANCHOR = 6       # mean anchor length of a block of article titles (menus: 2-4)

_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z0-9]+")
DATE = re.compile(r"(?<!\d)(19|20)\d{2}\s*(?:[-/.]|年)\s*\d{1,2}\s*(?:[-/.]|月)\s*\d{1,2}(?!\d)")
# An article's meta line: "时间：2013-07-22 来源：中国建设报", "发布日期：2021-07-12 浏览次数：132"
# -- a label word opening the line or a part of it, then a colon, beside a date.
_META_LABEL = re.compile(r"(?:^|[^\u3400-\u9fff])(?:发布|发文|更新|成文|文章|信息|新闻|责任)?"
                         r"(?:时间|日期|来源|作者|浏览|点击|阅读|编辑|出处|撰稿|供稿|责编|访问)[\u3400-\u9fff]{0,2}\s*[：:]")
MAX_META_LINE = 60          # a meta line is short: date, source, author, hits
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
    meta_lines: int = 0         # short dated lines with a meta word (来源/发布时间/作者...): an
                                # article has one or two, a list none or one per item
    item_prose: int = 0         # of prose_chars, the text inside the items of a title list
                                # block (a list with teasers under each title)


@dataclass(frozen=True)
class LinkBlock:
    urls: tuple[str, ...]
    anchors: tuple[str, ...]
    dated: bool                 # most items carry a date beside the link
    shape: str                  # the URL shape the links share (crawler.shapes.url_shape)
    items: tuple = field(default=(), compare=False, repr=False)   # the list's item elements

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
    return visible_tree(parse_tree(html, url))


def parse_tree(html: str, url: str):
    """The page's whole lxml tree (hidden parts too: links are read from it first), or None."""
    from lxml import html as lxml_html
    try:
        return lxml_html.fromstring(html, base_url=url)
    except Exception:   # noqa: BLE001 - empty, binary or broken markup: no signals
        return None


def visible_tree(tree):
    """``tree`` trimmed in place to what a reader sees (no scripts, styles, hidden blocks)."""
    if tree is None:
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
    blocks = tuple(list_blocks(tree, url))
    signals = page_signals(tree, [item for b in blocks if b.titles for item in b.items])
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
    teasers = s.item_prose * 2 >= s.prose_chars      # the prose is the list's own summaries
    if prose_ok and s.prose_chars >= MIN_PROSE and s.prose_chars >= block_chars * 0.6 and not teasers:
        return ARTICLE, why
    if titled and (teasers or block_chars >= max(30, s.prose_chars * 0.5)):
        links = sum(len(b.urls) for b in titled)
        return LIST, f"{len(titled)} list block(s), {links} title links" + (
            ", dated" if any(b.dated for b in titled) else "")
    return OTHER, why


def page_signals(tree, items=()) -> PageSignals:
    """The page's signals; ``items``: the item elements of its title list blocks."""
    title = " ".join((tree.findtext(".//title") or "").split())
    own: dict = defaultdict(int)    # block element -> its paragraph text outside links
    texts: dict = defaultdict(list)  # block element -> its text fragments (meta lines)
    links_in: dict = defaultdict(int)
    page_link_chars, n_links, dated = 0, 0, False
    in_items = frozenset(items)
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
        if not dated and DATE.search(text) and not _in_items(el, in_items):
            dated = True       # (a list's dates belong to its items, not to the page)
        own[block] += size
        texts[block].append(text)
    # 2. the container: the element whose whole subtree holds the most prose net of
    #    twice its link text (a list's container is all links; the body adds menus).
    prose_in: dict = defaultdict(int)
    for el, size in own.items():
        prose_in[el] += size
        for anc in el.iterancestors():
            prose_in[anc] += size
    meta_lines = sum(1 for block, parts in texts.items() if own[block] <= MAX_META_LINE
                     and _is_meta_line("".join(parts))) if dated else 0
    if not prose_in:
        return PageSignals(title=title, links=n_links, page_link_chars=page_link_chars, dated=dated,
                           meta_lines=meta_lines)
    best = max(prose_in, key=lambda el: prose_in[el] - 2 * links_in.get(el, 0))
    prose = prose_in[best]
    paragraphs = sum(1 for el, size in own.items() if size >= 20 and (el is best or _within(el, best)))
    link_chars = links_in.get(best, 0)
    item_prose = _prose_in_items(own, best, in_items) if items else 0
    density = link_chars / (prose + link_chars) if prose + link_chars else 1.0
    return PageSignals(title=title, prose_chars=prose, link_chars=link_chars, link_density=round(density, 3),
                       paragraphs=paragraphs, links=n_links, page_link_chars=page_link_chars, dated=dated,
                       meta_lines=meta_lines, item_prose=item_prose)


def _in_items(el, items: frozenset) -> bool:
    return bool(items) and any(anc in items for anc in (el, *el.iterancestors()))


def _prose_in_items(own: dict, container, items: frozenset) -> int:
    """Prose of ``container`` that sits inside list items (teasers under list titles)."""
    total = 0
    for el, size in own.items():
        for anc in (el, *el.iterancestors()):
            if anc is container:
                break
            if anc in items:
                if _within(el, container):
                    total += size
                break
    return total


def _is_meta_line(text: str) -> bool:
    return bool(DATE.search(text)) and bool(_META_LABEL.search(text.strip()))


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
        first: dict = {}            # url -> its first link; its anchor: the longest of its links
        anchor: dict = {}
        for absolute, a in members:
            first.setdefault(absolute, a)
            text = _anchor(a)
            if len(text) > len(anchor.get(absolute, "")):
                anchor[absolute] = text
        urls = list(first)
        dated = sum(bool(_item_date(a)) for a in first.values()) * 2 >= len(urls)
        if len(urls) >= min_links or (dated and len(urls) >= MIN_DATED_BLOCK_LINKS):
            blocks.append(LinkBlock(tuple(urls), tuple(anchor.get(u, "") for u in urls), dated, shape,
                                    _items(list(first.values()))))
    return blocks


def _anchor(a) -> str:
    """A link's words: its text, else its title, else its image's alt text."""
    text = " ".join((a.text_content() or "").split())
    if not text:
        text = a.get("title") or next((img.get("alt") or "" for img in a.iter("img")), "")
    return " ".join(text.split())


def _items(links: list) -> tuple:
    """The list item holding each link: the child of the links' common ancestor on its path."""
    paths = [[*reversed(list(a.iterancestors())), a] for a in links]
    k = 0
    while all(len(p) > k + 1 for p in paths) and all(p[k] is paths[0][k] for p in paths):
        k += 1
    found = {id(p[k]): p[k] for p in paths}
    if len(found) < 2:
        return ()
    # their siblings of the same tag are items of the list too (links of another shape there)
    kinds = {(el.tag, el.get("class")) for el in found.values()}
    parent = next(iter(found.values())).getparent()
    return tuple(child for child in parent if (child.tag, child.get("class")) in kinds)


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
