"""Limits on one attachment, and the checks that need no parser.

A pathological file must cost the crawl a bounded amount: bytes fetched
(``max_bytes``, also the download's ``download_maxsize``), pages read
(``max_pages``), characters kept (``max_chars``), seconds and memory in the
extraction worker (``timeout``, ``memory_bytes``), and, for the zip containers
(DOCX, XLSX, OFD), bytes once unpacked (``max_unzipped``) checked from the zip's
own directory before any parser opens it.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class AttachmentLimits:
    max_files: int = 5                       # attachments fetched per article page
    max_bytes: int = 20 * 1024 * 1024        # per file, as downloaded
    max_pages: int = 50                      # PDF pages read
    max_chars: int = 200_000                 # text kept per file
    timeout: float = 20.0                    # seconds of extraction per file
    memory_bytes: int = 1024 * 1024 * 1024   # address space of the extraction worker
    max_unzipped: int = 100 * 1024 * 1024    # DOCX/XLSX/OFD: sum of member sizes once unpacked
    max_ratio: int = 200                     # ... and the compression ratio of any big member
    max_members: int = 5_000


def limits_from_settings(settings) -> AttachmentLimits:
    """``NEWSMON_ATTACHMENT_*`` Scrapy settings over the defaults (the fetcher and the
    extract stage read the same limits)."""
    base = AttachmentLimits()
    return AttachmentLimits(
        max_files=settings.getint("NEWSMON_ATTACHMENT_MAX_FILES", base.max_files),
        max_bytes=settings.getint("NEWSMON_ATTACHMENT_MAX_BYTES", base.max_bytes),
        max_pages=settings.getint("NEWSMON_ATTACHMENT_MAX_PAGES", base.max_pages),
        max_chars=settings.getint("NEWSMON_ATTACHMENT_MAX_CHARS", base.max_chars),
        timeout=settings.getfloat("NEWSMON_ATTACHMENT_TIMEOUT", base.timeout),
        memory_bytes=settings.getint("NEWSMON_ATTACHMENT_MEMORY_BYTES", base.memory_bytes),
        max_unzipped=settings.getint("NEWSMON_ATTACHMENT_MAX_UNZIPPED", base.max_unzipped),
    )


class AttachmentRefused(Exception):
    """A file that yields no text; ``reason`` is a short stats key (``attachments/<reason>``)."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


def zip_members(body: bytes) -> list[zipfile.ZipInfo]:
    """The zip's directory (names and declared sizes), or ``broken``."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise AttachmentRefused("broken", f"not a readable zip: {exc}") from exc


def check_zip(body: bytes, limits: AttachmentLimits) -> list[zipfile.ZipInfo]:
    """Refuse a zip bomb from its directory alone: too many members, too many bytes
    once unpacked, or a large member compressed past any document's ratio. (A member
    lying about its size is caught while reading: zipfile stops at the declared size
    and checks the CRC.)"""
    members = zip_members(body)
    if len(members) > limits.max_members:
        raise AttachmentRefused("zip_bomb", f"{len(members)} members in the zip")
    total = sum(m.file_size for m in members)
    if total > limits.max_unzipped:
        raise AttachmentRefused("zip_bomb", f"{total} bytes once unpacked, limit {limits.max_unzipped}")
    for m in members:
        if m.file_size > 1024 * 1024 and m.file_size > limits.max_ratio * max(m.compress_size, 1):
            raise AttachmentRefused("zip_bomb", f"{m.filename}: {m.file_size} bytes from {m.compress_size}")
    if any(m.flag_bits & 0x1 for m in members):
        raise AttachmentRefused("encrypted", "password-protected zip")
    return members
