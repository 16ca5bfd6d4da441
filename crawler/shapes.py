"""URL shapes: a path generalised to its family, and the article shapes a site teaches.

Public API (plain code, no Scrapy)::

    url_shape("http://x/news/2018-06-24/4.html")  -> "/news/{yyyy}-{n}-{n}/{n}.html"
    shape_regex(shape)                           -> compiled regex matching the family
    book = ShapeBook.from_doc(doc)                # a site's shapes (doc as kept in state)
    book.vote(block)                              # a list block of title links (crawler.pagetype)
    book.saw(url, kind)                           # a fetched page's verdict: article/list/other
    book.is_article(url)                          # a confirmed article shape, or a block vote
    book.to_doc()                                 # what index/site_shapes.py keeps for next run

Generalising: digit runs become ``{n}``, or date tokens (``{yyyy}``, ``{yyyymm}``,
``{yyyymmdd}``) when they read as dates; hex runs (``ae1f9e...``, uuids) become
``{hex}``; query values become ``{n}``/``{hex}``/``{v}`` under their literal key
(``show.asp?id={n}``). Words stay literal: ``/xwdt/`` and ``/tzgg/`` are two
columns, each learned from its own list block, and ``topic/{n}.html`` is not
``news/{n}.html``.

A shape becomes an article shape in two steps: a list block of title links votes
for it (a candidate: its links are fetched as likely articles), and the pages
fetched with that shape read as articles (``crawler.pagetype``): confirmed, kept
in the site's state, and used as a URL pattern on the next run. A shape whose
pages read as lists is refuted, so a block of column links does not turn columns
into "articles".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

_RUN = re.compile(r"[0-9a-fA-F]{6,}(?:-[0-9a-fA-F]{4,})*|\d+")
_TOKEN_RE = {
    "{n}": r"\d+", "{yyyy}": r"(?:19|20)\d\d", "{yyyymm}": r"(?:19|20)\d{4}",
    "{yyyymmdd}": r"(?:19|20)\d{6}", "{hex}": r"[0-9a-fA-F]+(?:-[0-9a-fA-F]+)*", "{v}": r"[^&]*",
}
_TOKEN = re.compile(r"\{(?:n|yyyy|yyyymm|yyyymmdd|hex|v)\}")

CONFIRM_PAGES = 2        # pages of a shape read as articles before it is trusted next run
REFUTE_SHARE = 0.5       # more than this share of a shape's pages read as lists: not articles


def _digits(run: str) -> str:
    n = len(run)
    if n == 4 and run[:2] in ("19", "20"):
        return "{yyyy}"
    if n == 6 and run[:2] in ("19", "20") and 1 <= int(run[4:6]) <= 12:
        return "{yyyymm}"
    if n == 8 and run[:2] in ("19", "20") and 1 <= int(run[4:6]) <= 12 and 1 <= int(run[6:8]) <= 31:
        return "{yyyymmdd}"
    return "{n}"


def _generalise(text: str) -> str:
    def token(m: re.Match) -> str:
        run = m.group(0)
        if run.isdigit():
            return _digits(run)
        # hex needs a digit and a letter, so words like "deface" or "added" stay words
        if re.search(r"\d", run) and re.search(r"[a-fA-F]", run):
            return "{hex}"
        return run
    return _RUN.sub(token, text)


def url_shape(url: str) -> str:
    """The URL's family: path (and query keys) with ids and dates generalised."""
    parts = urlsplit(url)
    path = _generalise(parts.path or "/")
    if not parts.query:
        return path
    keys = []
    for key, value in sorted(parse_qsl(parts.query, keep_blank_values=True)):
        if value.isdigit():
            keys.append(f"{key}={{n}}")
        elif value and _generalise(value) == "{hex}":
            keys.append(f"{key}={{hex}}")
        else:
            keys.append(f"{key}={{v}}")
    return path + "?" + "&".join(keys)


@lru_cache(maxsize=4096)
def shape_regex(shape: str) -> re.Pattern:
    out, pos = [], 0
    for m in _TOKEN.finditer(shape):
        out.append(re.escape(shape[pos:m.start()]))
        out.append(_TOKEN_RE[m.group(0)])
        pos = m.end()
    out.append(re.escape(shape[pos:]))
    return re.compile("^" + "".join(out) + "$")


def has_id(shape: str) -> bool:
    """Does the shape carry an id or a date (a leaf page), not only words (a column)?"""
    return bool(_TOKEN.search(shape))


@dataclass
class ShapeStats:
    votes: int = 0           # links seen in title list blocks
    dated_votes: int = 0     # ... in blocks whose items carry dates (news lists, not link lists)
    articles: int = 0        # pages of this shape read as articles
    lists: int = 0           # ... read as lists
    others: int = 0
    confirmed: bool = False  # trusted from an earlier run

    @property
    def refuted(self) -> bool:
        seen = self.articles + self.lists + self.others
        return seen >= CONFIRM_PAGES and self.lists > REFUTE_SHARE * seen

    @property
    def trusted(self) -> bool:
        return not self.refuted and (self.confirmed or self.articles >= CONFIRM_PAGES)


@dataclass
class ShapeBook:
    """One site's URL shapes, learned during a run and kept between runs."""

    shapes: dict[str, ShapeStats] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: dict | None) -> "ShapeBook":
        book = cls()
        for item in (doc or {}).get("article_shapes", []):
            if isinstance(item, dict) and isinstance(item.get("shape"), str):
                book.shapes[item["shape"]] = ShapeStats(confirmed=True)
        return book

    def to_doc(self) -> dict:
        """Trusted article shapes, most evidence first (``index/site_shapes.py`` keeps them)."""
        items = [{"shape": shape, "pages": stats.articles, "votes": stats.votes}
                 for shape, stats in self.shapes.items() if stats.trusted]
        items.sort(key=lambda i: (-i["pages"], -i["votes"], i["shape"]))
        return {"article_shapes": items}

    def _stats(self, shape: str) -> ShapeStats:
        stats = self.shapes.get(shape)
        if stats is None:
            stats = self.shapes[shape] = ShapeStats()
        return stats

    def vote(self, urls, shape: str | None = None, dated: bool = False) -> None:
        """A list block of title links: its shape is a candidate article shape."""
        urls = list(urls)
        if not urls:
            return
        shape = shape or url_shape(urls[0])
        if has_id(shape):
            stats = self._stats(shape)
            stats.votes += len(urls)
            stats.dated_votes += len(urls) if dated else 0

    def saw(self, url: str, kind: str) -> None:
        """A fetched page read as ``kind`` (``crawler.pagetype``)."""
        stats = self._stats(url_shape(url))
        if kind == "article":
            stats.articles += 1
        elif kind == "list":
            stats.lists += 1
        else:
            stats.others += 1

    def is_article(self, url: str) -> bool:
        """Likely an article: its shape is trusted, or a list block voted for it and its
        pages have not read as lists."""
        stats = self.shapes.get(url_shape(url))
        return stats is not None and not stats.refuted and (stats.trusted or stats.votes > 0)

    def dated_listed(self, url: str) -> bool:
        """A dated list block of titles (a news list, not a list of site names) voted for
        the shape, and its pages have not read as lists."""
        stats = self.shapes.get(url_shape(url))
        return stats is not None and not stats.refuted and stats.dated_votes > 0

    def trusted(self, url: str) -> bool:
        """Confirmed: its pages read as articles (this run, or an earlier one)."""
        stats = self.shapes.get(url_shape(url))
        return stats is not None and stats.trusted

    def is_refuted(self, url: str) -> bool:
        stats = self.shapes.get(url_shape(url))
        return stats is not None and stats.refuted

    def trusted_shapes(self) -> list[str]:
        return [item["shape"] for item in self.to_doc()["article_shapes"]]
