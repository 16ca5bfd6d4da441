"""What a file is, from its first bytes, and what it claims to be, from its name.

Government sites serve attachments with any Content-Type (``application/octet-stream``,
``text/html`` for a PDF) and sometimes with the wrong extension (an "XLS" that is an
HTML table, a "PDF" that is a scanned JPEG). The magic bytes decide the parser; the
name (URL path, ``Content-Disposition`` filename, anchor text) only says what was
promised, so a document whose bytes are no document is recorded as ``type_mismatch``.
"""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from pipelines.attachments.limits import AttachmentRefused, zip_members

# Document kinds newsmon reads.
DOCUMENT_KINDS = ("pdf", "doc", "docx", "wps", "xls", "xlsx", "ofd")
EXTENSIONS = {"pdf": "pdf", "doc": "doc", "docx": "docx", "wps": "wps", "xls": "xls",
              "xlsx": "xlsx", "ofd": "ofd", "et": "xls", "dot": "doc", "docm": "docx", "xlsm": "xlsx"}
_CONTENT_TYPES = {
    "application/pdf": "pdf", "application/msword": "doc", "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/ofd": "ofd", "application/vnd.ms-works": "wps", "application/kswps": "wps",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_BOOK_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<table|<meta|<\?xml[^>]*>\s*<html)", re.I)
_IMAGES = ((b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"),
           (b"BM", "bmp"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"))
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?["']?([^"';]+)""", re.I)


def sniff(body: bytes) -> str:
    """``pdf``, ``docx``, ``xlsx``, ``ofd``, ``doc`` (OLE Word, also WPS), ``xls`` (OLE
    Excel), ``ole``, ``zip``, ``html``, ``jpeg``/``png``/…, ``empty`` or ``unknown``."""
    if not body:
        return "empty"
    head = body[:1024]
    if b"%PDF-" in head:        # a few producers put junk before the header; readers allow it
        return "pdf"
    if body.startswith(b"PK\x03\x04"):
        return _zip_kind(body)
    if body.startswith(_OLE):
        if _WORD_STREAM in body:
            return "doc"
        if any(name in body for name in _BOOK_STREAMS):
            return "xls"
        return "ole"
    for magic, kind in _IMAGES:
        if body.startswith(magic):
            return kind
    if _HTML_START.match(head.lstrip(b"\xef\xbb\xbf")):
        return "html"
    return "unknown"


def _zip_kind(body: bytes) -> str:
    try:
        names = {m.filename for m in zip_members(body)}
    except AttachmentRefused:
        return "zip"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "OFD.xml" in names or "ofd.xml" in {n.lower() for n in names}:
        return "ofd"
    return "zip"


def declared_kind(url: str, name: str = "", content_type: str = "", disposition: str = "") -> str | None:
    """The document kind a link promises: ``Content-Disposition`` filename, URL path,
    anchor text, then Content-Type; None when nothing names one."""
    found = _FILENAME.search(disposition or "")
    candidates = [unquote(found.group(1)) if found else "", unquote(urlsplit(url).path), name]
    for text in candidates:
        ext = extension(text)
        if ext in EXTENSIONS:
            return EXTENSIONS[ext]
    return _CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower())


def extension(text: str) -> str:
    last = (text or "").strip().rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower().strip() if "." in last else ""


def parser_kind(declared: str | None, sniffed: str) -> str:
    """The parser to run: the bytes' own kind when they are a document newsmon reads
    (a ``.doc`` that is really DOCX is read as DOCX; WPS is OLE Word); a promised
    document whose bytes are something else is ``type_mismatch``."""
    if sniffed == "doc" and declared == "wps":
        return "wps"
    if sniffed in DOCUMENT_KINDS:
        return sniffed
    if sniffed in ("empty",):
        raise AttachmentRefused("empty", "no bytes")
    if declared is not None:
        raise AttachmentRefused("type_mismatch", f"named {declared}, bytes are {sniffed}")
    raise AttachmentRefused("unsupported", f"bytes are {sniffed}")
