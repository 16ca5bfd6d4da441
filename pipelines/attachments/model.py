"""What the crawl fetched (``AttachmentFile``) and what is stored with the article
(``Attachment``). Plain dataclasses: the spider side fills the first, extraction
makes the second."""
from __future__ import annotations

from dataclasses import asdict, dataclass

OK = "ok"
TRUNCATED = "truncated"        # text kept, but a page or character limit was reached
EXPORT_KEYS = ("name", "url", "type", "size", "sha256", "status")


@dataclass
class AttachmentFile:
    """One attachment link of an article page, as fetched (``body`` None when it was not)."""

    url: str
    name: str                       # anchor text, else the file name in the URL
    body: bytes | None = None
    content_type: str = ""
    disposition: str = ""           # Content-Disposition (its filename names the type)
    reason: str | None = None       # why there is no body: too_large, http_404, offsite, ...


@dataclass
class Attachment:
    name: str
    url: str
    type: str                       # pdf, docx, doc, wps, xls, xlsx, ofd, or what the bytes are
    size: int                       # bytes fetched
    sha256: str
    status: str = OK                # ok, truncated, or the reason there is no text
    text: str = ""

    @property
    def has_text(self) -> bool:
        return bool(self.text.strip())

    def export_dict(self) -> dict:
        return {k: getattr(self, k) for k in EXPORT_KEYS}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Attachment":
        return cls(**{k: data.get(k, "" if k != "size" else 0) for k in
                      ("name", "url", "type", "size", "sha256", "status", "text")})
