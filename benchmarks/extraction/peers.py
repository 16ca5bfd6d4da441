"""Public extractors, called the way their own READMEs call them: bytes (or text) in, body text out.

Each peer is ``name -> (version, extract(body, url) -> str)``. A peer that is not
installed is listed in ``missing()`` with the reason and scores nothing; a peer
that raises on a page gets 0 for that page (the benchmark records the error).

* trafilatura: bare ``trafilatura.extract(body_bytes, url=url)`` (its own decoding, defaults)
* gne: ``GeneralNewsExtractor().extract(html_text)``; GNE takes text, so it gets
  newsmon's decoding (the most favourable input we can give it)
* readability-lxml: ``Document(body_bytes, url=url).summary()``, its own decoding,
  the summary HTML turned into lines by the same HTML-to-lines helper newsmon uses
  (before 0.9, which cannot read bytes on Python 3, newsmon's decoding, as gne gets)
* magic-html: ``GeneralExtractor().extract(html_text, base_url=url)`` when installable
  (its only release needs Python >= 3.12)
"""
from __future__ import annotations

import importlib.metadata
import warnings
from collections.abc import Callable

import lxml.html

from pipelines.extraction.decode import decode_html
from pipelines.extraction.htmltext import element_paragraphs

Extractor = Callable[[bytes, str], str]


def _html_to_text(html: str) -> str:
    if not html or not html.strip():
        return ""
    return "\n".join(element_paragraphs(lxml.html.fromstring(html)))


def _trafilatura() -> Extractor:
    import trafilatura

    def run(body: bytes, url: str) -> str:
        return trafilatura.extract(body, url=url) or ""
    return run


def _gne() -> Extractor:
    from gne import GeneralNewsExtractor
    extractor = GeneralNewsExtractor()

    def run(body: bytes, url: str) -> str:
        return extractor.extract(decode_html(body).text).get("content") or ""
    return run


def _readability() -> Extractor:
    from readability import Document
    # Before 0.9 readability-lxml cannot read bytes on Python 3 (str regexes in its charset
    # sniffing: TypeError on every page); it then gets newsmon's decoding, as gne does.
    own_decoding = tuple(int(n) for n in importlib.metadata.version("readability-lxml").split(".")[:2]) >= (0, 9)

    def run(body: bytes, url: str) -> str:
        page = body if own_decoding else decode_html(body).text
        return _html_to_text(Document(page, url=url).summary(html_partial=True))
    return run


def _magic_html() -> Extractor:
    from magic_html import GeneralExtractor
    extractor = GeneralExtractor()

    def run(body: bytes, url: str) -> str:
        return _html_to_text(extractor.extract(decode_html(body).text, base_url=url).get("html", ""))
    return run


_PEERS: dict[str, tuple[str, Callable[[], Extractor]]] = {
    "trafilatura": ("trafilatura", _trafilatura),
    "gne": ("gne", _gne),
    "readability-lxml": ("readability-lxml", _readability),
    "magic-html": ("magic-html", _magic_html),
}


def load_peers() -> tuple[dict[str, tuple[str, Extractor]], dict[str, str]]:
    """(name -> (version, extractor)) for the installed peers, (name -> reason) for the others."""
    loaded, missing = {}, {}
    warnings.filterwarnings("ignore", module="readability")
    for name, (dist, factory) in _PEERS.items():
        try:
            extractor = factory()
            loaded[name] = (importlib.metadata.version(dist), extractor)
        except Exception as exc:  # noqa: BLE001 - an absent peer is a line in the report, not a crash
            missing[name] = f"not installed ({type(exc).__name__}: {exc})"
    return loaded, missing
