"""Which link shapes a site shows, and which one looks like its articles.

Plain code for the operator's tools: the crawl's "no articles found" warning
(``crawler.zero_articles``) and ``newsmon sites probe``. Shapes are
``crawler.shapes.url_shape`` families (``/d/{n}.html``); a suggested
``article_url_pattern`` is the shape with the most distinct links whose anchors read
like titles, widened over columns (``/xwdt/…`` and ``/tzgg/…`` of one template), as a
regex the sites file takes (searched in the full URL).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from crawler.links import classify_url, is_paging_anchor
from crawler.pagetype import text_size
from crawler.shapes import has_id, shape_regex, url_shape

MIN_TITLE_ANCHOR = 6      # mean anchor size of article links (menus and pagers: 1-4)
MIN_DISTINCT = 3          # links of one shape before it can be suggested


@dataclass
class ShapeCount:
    shape: str
    urls: set[str] = field(default_factory=set)
    anchor_size: int = 0
    anchors: int = 0
    example_anchor: str = ""

    @property
    def links(self) -> int:
        return len(self.urls)

    @property
    def mean_anchor(self) -> float:
        return self.anchor_size / self.anchors if self.anchors else 0.0

    @property
    def example(self) -> str:
        return min(self.urls) if self.urls else ""


class ShapeTally:
    """In-scope links seen on a site, grouped by URL shape (bounded per shape)."""

    def __init__(self, max_urls_per_shape: int = 500):
        self.shapes: dict[str, ShapeCount] = {}
        self.max_urls = max_urls_per_shape

    def add(self, url: str, anchor: str = "") -> None:
        shape = url_shape(url)
        entry = self.shapes.get(shape)
        if entry is None:
            entry = self.shapes[shape] = ShapeCount(shape)
        if url in entry.urls or len(entry.urls) >= self.max_urls:
            return
        entry.urls.add(url)
        size = text_size(anchor or "")
        if size:
            entry.anchor_size += size
            entry.anchors += 1
            if size > text_size(entry.example_anchor):
                entry.example_anchor = anchor.strip()[:40]

    def top(self, n: int = 5) -> list[ShapeCount]:
        return sorted(self.shapes.values(), key=lambda s: (-s.links, s.shape))[:n]

    def article_candidates(self) -> list[ShapeCount]:
        """Shapes with an id, title-like anchors and a few distinct links, not lists."""
        out = []
        for entry in self.shapes.values():
            if (entry.links >= MIN_DISTINCT and has_id(entry.shape) and entry.mean_anchor >= MIN_TITLE_ANCHOR
                    and classify_url(entry.example) not in ("list", "skip")
                    and not is_paging_anchor(entry.example_anchor)):
                out.append(entry)
        return sorted(out, key=lambda s: (-s.links, s.shape))

    def suggest_article_pattern(self) -> str | None:
        candidates = self.article_candidates()
        if not candidates:
            return None
        return suggest_pattern(candidates[0].shape, [c.shape for c in candidates[1:]])


def suggest_pattern(shape: str, siblings: list[str] = ()) -> str:
    """A search regex for ``shape``; path segments that are plain words in it and differ
    in a sibling shape of the same template (same segments otherwise) become ``[^/]+``."""
    head, sep, query = shape.partition("?")
    segments = head.split("/")
    wild = set()
    for other in siblings:
        o_head, o_sep, o_query = other.partition("?")
        o_segments = o_head.split("/")
        if (o_sep, o_query) != (sep, query) or len(o_segments) != len(segments):
            continue
        differ = [i for i, (a, b) in enumerate(zip(segments, o_segments)) if a != b]
        if differ and all(not has_id(segments[i]) and not has_id(o_segments[i]) for i in differ):
            wild.update(differ)
    parts = []
    for i, segment in enumerate(segments):
        parts.append("[^/]+" if i in wild else shape_regex(segment).pattern[1:-1])
    pattern = "/".join(parts)
    if sep:
        pattern += re.escape("?") + shape_regex(query).pattern[1:-1]
    return pattern.replace("\\-", "-") + "$"     # (re.escape's "\-" reads badly in YAML)


def is_article_pattern_valid(pattern: str, url: str) -> bool:
    try:
        return re.search(pattern, url) is not None
    except re.error:
        return False


def group_by_kind(rows) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for row in rows:
        out[row.kind].append(row)
    return out
