"""OFD (GB/T 33190, China's fixed-layout format) to text, with zipfile and lxml.

No maintained Python reader exists for OFD text (checked 2026-12: ``easyofd`` is a
one-person OFD<->PDF renderer that pulls in PyMuPDF, reportlab and loguru and
unpacks to disk; ``ofdparser`` 0.0.8 is stale), and the part newsmon needs is
small: an OFD is a zip of XML. ``OFD.xml`` names each document's root
(``DocBody/DocRoot``, e.g. ``Doc_0/Document.xml``), which lists its pages in
order (``Pages/Page@BaseLoc``, e.g. ``Pages/Page_0/Content.xml``); a page's text
is in ``TextObject/TextCode`` runs placed at ``Boundary`` + ``X``/``Y``.

Runs are laid out again: grouped into lines by their baseline, each line read
left to right, lines top to bottom, and lines joined into paragraphs by the layout
(indent, short line, gap) -- so a phrase a converter cut into several runs, or a
line wrap, is one string again. The zip passes
``check_zip`` (members, unpacked bytes, ratio) before anything is read; pages
past ``max_pages`` are not read; XML entities and network access are off.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile

from lxml import etree

from pipelines.attachments.limits import AttachmentLimits, AttachmentRefused, check_zip

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
_LINE_TOLERANCE = 0.5      # runs whose baselines differ by under half a glyph height share a line
_PARAGRAPH_GAP = 2.2       # baselines further apart than this many glyph heights: a new paragraph
_PAGE_NUMBER = re.compile(r"^[-—–\s第页]*\d+[-—–\s页]*$")


def ofd_text(body: bytes, limits: AttachmentLimits) -> tuple[str, bool]:
    """``(text, more_pages)``: the text of every page in reading order, at most ``max_pages`` pages."""
    members = check_zip(body, limits)
    names = {m.filename.lstrip("/").lower(): m.filename for m in members}
    pages: list[str] = []
    more = False
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            root = _xml(archive, names, "OFD.xml")
            for doc_root in (el.text or "" for el in root.iter("{*}DocRoot")):
                document = _xml(archive, names, doc_root)
                base = posixpath.dirname(doc_root.strip().lstrip("/"))
                for page in document.iter("{*}Page"):
                    if len(pages) >= limits.max_pages:
                        more = True
                        break
                    location = (page.get("BaseLoc") or "").strip()
                    path = location.lstrip("/") if location.startswith("/") else posixpath.join(base, location)
                    pages.append("\n".join(page_lines(_xml(archive, names, path))))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:   # CRC errors, lying sizes
        raise AttachmentRefused("broken", f"unreadable OFD: {type(exc).__name__}: {exc}") from exc
    if not pages:
        raise AttachmentRefused("broken", "OFD with no pages")
    return "\n\n".join(pages), more


def page_lines(content: etree._Element) -> list[str]:
    """The page's paragraphs: runs laid out as lines (top to bottom, each left to right),
    lines joined into paragraphs where the layout says so (an indented line, a short line
    before it, a wider gap); page numbers ("- 2 -") dropped."""
    runs: list[tuple[float, float, float, str]] = []     # (baseline y, x, glyph size, text)
    for obj in content.iter("{*}TextObject"):
        left, top = _origin(obj.get("Boundary"))
        size = _number(obj.get("Size"), 3.5)
        for code in obj.iter("{*}TextCode"):
            text = "".join(code.itertext())
            if text.strip():
                runs.append((top + _number(code.get("Y"), 0.0), left + _number(code.get("X"), 0.0), size, text))
    runs.sort(key=lambda r: (r[0], r[1]))
    lines: list[list[tuple[float, float, float, str]]] = []
    for run in runs:
        if not lines or run[0] - lines[-1][0][0] > _LINE_TOLERANCE * run[2]:
            lines.append([])
        lines[-1].append(run)
    laid = []    # (y, start x, end x, glyph size, text)
    for line in lines:
        line.sort(key=lambda r: r[1])
        text = "".join(r[3] for r in line).strip()
        if text and not _PAGE_NUMBER.match(text):
            laid.append((line[0][0], line[0][1], line[-1][1] + len(line[-1][3]) * line[-1][2], line[0][2], text))
    if not laid:
        return []
    margin, edge = min(l[1] for l in laid), max(l[2] for l in laid)
    paragraphs = [laid[0][4]]
    for before, (y, start, _end, size, text) in zip(laid, laid[1:]):
        if start - margin >= 1.5 * size or before[2] < edge - 2 * size or y - before[0] > _PARAGRAPH_GAP * size:
            paragraphs.append(text)
        else:
            paragraphs[-1] += text if _cjk_edge(paragraphs[-1][-1], text[0]) else " " + text
    return paragraphs


def _xml(archive: zipfile.ZipFile, names: dict[str, str], path: str) -> etree._Element:
    name = names.get(path.strip().lstrip("/").lower())
    if name is None:
        raise AttachmentRefused("broken", f"OFD part missing: {path}")
    try:
        return etree.fromstring(archive.read(name), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise AttachmentRefused("broken", f"OFD part {path} is not XML: {exc}") from exc


def _cjk_edge(last: str, first: str) -> bool:
    return not (last.isascii() and last.isalnum() and first.isascii() and first.isalnum())


def _origin(boundary: str | None) -> tuple[float, float]:
    parts = (boundary or "").split()
    return (_number(parts[0], 0.0), _number(parts[1], 0.0)) if len(parts) >= 2 else (0.0, 0.0)


def _number(text: str | None, default: float) -> float:
    try:
        return float(text) if text is not None else default
    except ValueError:
        return default
