"""bytes -> attachment text: sniff, check limits, run the one parser for the kind.

1. the bytes' kind from their magic numbers (``sniff``) against the kind promised by
   the name (``declared_kind``): a promised document that is HTML or an image is
   ``type_mismatch``
2. size limit
3. the parser: PDF (``pdf``), DOCX/XLSX (``office``, after the zip-bomb check), DOC/WPS/XLS
   (Debian's catdoc/antiword/xls2csv), OFD (``ofd``: zipfile and lxml, after the zip-bomb
   check; no maintained reader on PyPI as of 2026-12)
4. layout text to paragraphs (``text.tidy_lines``), capped at ``max_chars``

Every failure is ``AttachmentRefused(reason)``; ``extract_attachment`` turns it into
an ``Attachment`` whose ``status`` is the reason. Time and memory limits are the
worker's (``pipelines.attachments.worker``): this function runs inside it.
"""
from __future__ import annotations

import hashlib

from pipelines.attachments import office, ofd, pdf
from pipelines.attachments.limits import AttachmentLimits, AttachmentRefused
from pipelines.attachments.model import OK, TRUNCATED, Attachment
from pipelines.attachments.sniff import declared_kind, parser_kind, sniff
from pipelines.attachments.text import tidy_lines

_PARSERS = {"pdf": pdf.pdf_text, "docx": office.docx_text, "xlsx": office.xlsx_text,
            "doc": office.doc_text, "wps": office.doc_text, "xls": office.xls_text, "ofd": ofd.ofd_text}


def extract_attachment(body: bytes, *, url: str, name: str = "", content_type: str = "",
                       disposition: str = "", limits: AttachmentLimits | None = None) -> Attachment:
    limits = limits or AttachmentLimits()
    sniffed = sniff(body)
    declared = declared_kind(url, name, content_type, disposition)
    result = Attachment(name=name, url=url, type=declared or sniffed, size=len(body),
                        sha256=hashlib.sha256(body).hexdigest())
    try:
        result.type, result.text, truncated = attachment_text(body, declared, sniffed, limits)
        result.status = TRUNCATED if truncated else OK
        if not result.has_text:
            result.status = "no_text"      # e.g. a scanned PDF: images only, no OCR here
    except AttachmentRefused as refused:
        result.status = refused.reason
    except MemoryError:
        result.status = "memory"
    return result


def attachment_text(body: bytes, declared: str | None, sniffed: str,
                    limits: AttachmentLimits) -> tuple[str, str, bool]:
    """``(kind, text, truncated)`` or ``AttachmentRefused``."""
    # 1. what the bytes are, against what the name promised
    kind = parser_kind(declared, sniffed)
    # 2. limits
    if len(body) > limits.max_bytes:
        raise AttachmentRefused("too_large", f"{len(body)} bytes, limit {limits.max_bytes}")
    # 3. the parser
    parsed = _PARSERS[kind](body, limits)
    raw, more_pages = parsed if isinstance(parsed, tuple) else (parsed, False)
    # 4. paragraphs, capped
    text, cut = tidy_lines(raw, limits.max_chars, wrapped=kind == "pdf")
    return kind, text, more_pages or cut
