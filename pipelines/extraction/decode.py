"""The one decoder: bytes -> str with one explicit precedence chain.

Like web-poet's ``HttpResponse.encoding``, each source is asked in turn and the
first that answers wins:

1. override (the site's ``encoding`` option)
2. byte-order mark
3. strict UTF-8 (most pages; a page that decodes cleanly as UTF-8 *is* UTF-8,
   whatever it declares); then *nearly* clean UTF-8: a UTF-8 page with a few broken
   sequences (a title cut mid-character by the CMS, one GBK byte pasted in) is still
   UTF-8 when its bytes say so -- many valid multi-byte sequences, invalid ones rare --
   and no declaration says otherwise that reads as text. Without this a declared-UTF-8
   page with one stray byte was "undecodable", or read as gb18030 mojibake
4. HTTP ``Content-Type`` charset
5. ``<meta charset>`` / ``http-equiv`` in the first 4 KB
6. detection (charset-normalizer), then gb18030 with replacement as last resort

A page is decoded once per crawl: the spider decodes it to read its links and hands the
``DecodedPage`` on with the raw bytes (``crawler.items.RawPage.decoded``), and extraction
reads that instead of decoding again. Given the crawl's stats, the decoder counts every
page it decoded under ``decoded/<codec>``, so the crawl's summary shows the charsets seen.

Our rules on top: gb2312/gbk/x-gbk mean gb18030 (pages written in GBK routinely
use characters outside gb2312), big5 means big5hkscs, and a declared codec is
only trusted when its decoding looks like text (few U+FFFD, CJK where the bytes
are non-ASCII); otherwise the chain moves on.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass

from charset_normalizer import from_bytes

from netsafety.counters import count
from pipelines.article import ExtractionError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

# Declared names that are narrower than what the pages really contain.
_WIDEN = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
    "gb_2312-80": "gb18030", "euc-cn": "gb18030", "hz-gb-2312": "gb18030", "csgb2312": "gb18030",
    "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "cp950": "big5hkscs", "x-x-big5": "big5hkscs",
    "iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252",
    "utf8": "utf-8", "unicode": "utf-8",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),  # before UTF-16: longer prefix
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEADER_CHARSET = re.compile(rb"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
_META_CHARSET = re.compile(
    rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
# Binary signatures served as text/html by misconfigured CMSs.
_BINARY_MAGIC = (b"%PDF-", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0", b"Rar!", b"\x1f\x8b")


@dataclass(frozen=True)
class DecodedPage:
    text: str
    encoding: str   # Python codec name actually used
    method: str     # which link of the chain decided: override/bom/utf-8/utf-8-repaired/header/meta/detected


def normalize_codec(name: str | None) -> str | None:
    """Codec name -> the Python codec we really decode with (gb2312 -> gb18030), or None."""
    if not name:
        return None
    key = name.strip().strip("\"'").lower()
    key = _WIDEN.get(key, key)
    try:
        codec = codecs.lookup(key).name
    except LookupError:
        return None
    return _WIDEN.get(codec, codec)


def header_value(headers: Mapping | None, name: str) -> str | None:
    """Case-insensitive lookup in any mapping (str or bytes keys and values; list values)."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if k.lower() != wanted:
            continue
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        return value
    return None


def _check_body(body: bytes, max_bytes: int) -> None:
    if not body or not body.strip():
        raise ExtractionError("empty", "empty body")
    if len(body) > max_bytes:
        raise ExtractionError("too_large", f"body is {len(body)} bytes, limit {max_bytes}")
    head = body[:1024].lstrip()
    if head.startswith(_BINARY_MAGIC):
        raise ExtractionError("binary", "binary file signature (PDF/image/archive) served as a page")
    sample = body[:8192]
    if not sample.startswith(tuple(b for b, _ in _BOMS)) and sample.count(b"\x00") > len(sample) // 100:
        raise ExtractionError("binary", "NUL bytes: binary content served as a page")


_HIGH_BYTES = bytes(range(128, 256))
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def looks_like_text(text: str, raw_nonascii: int) -> bool:
    """A decoding is believable when U+FFFD is rare and non-ASCII bytes became CJK, not mojibake."""
    if not text:
        return False
    bad = text.count("\ufffd")
    if bad > 10 and bad > len(text) / 1000:
        return False
    if raw_nonascii < 20:
        return True
    cjk = len(_CJK.findall(text))
    nonascii_chars = len(_NON_ASCII.findall(text))
    # Chinese pages: most non-ASCII characters are CJK (punctuation aside).
    # A wrong single-byte decoding turns them into Latin-1 letters instead.
    return cjk >= 0.5 * nonascii_chars or nonascii_chars < 10


def _try(body: bytes, codec: str | None) -> str | None:
    if not codec:
        return None
    try:
        return body.decode(codec, errors="replace")
    except (LookupError, UnicodeError):
        return None


def _strict_utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A page cut off mid-character (truncated download) is still UTF-8.
        if exc.start >= len(body) - 3:
            return body[:exc.start].decode("utf-8", errors="replace")
        return None


_REPLACED_RUN = re.compile("\ufffd+")
UTF8_MIN_MULTIBYTE = 20      # valid multi-byte characters before the bytes "say UTF-8"
UTF8_MAX_BROKEN_SHARE = 0.01  # broken sequences per valid multi-byte character


def _nearly_utf8(body: bytes) -> str | None:
    """``body`` as UTF-8 with its few broken sequences replaced, when its bytes are UTF-8:
    at least UTF8_MIN_MULTIBYTE valid multi-byte characters and broken sequences rare."""
    text = body.decode("utf-8", errors="replace")
    # a broken sequence: a run of replacement characters (one per bad byte) the bytes did not spell
    broken = len(_REPLACED_RUN.findall(text)) - len(_REPLACED_RUN.findall(body.decode("utf-8", "ignore")))
    multibyte = len(_NON_ASCII.findall(text)) - text.count("\ufffd")
    if multibyte >= UTF8_MIN_MULTIBYTE and broken <= max(1, UTF8_MAX_BROKEN_SHARE * multibyte):
        return text
    return None


def decode_html(body: bytes, headers: Mapping | None = None, override: str | None = None,
                max_bytes: int = DEFAULT_MAX_BYTES, stats=None, site: str | None = None) -> DecodedPage:
    """Decode a page; raises ExtractionError(empty/too_large/binary/undecodable).
    With a crawl's ``stats``, the page is counted under ``decoded/<codec>`` (for ``site``)."""
    page = _decode(body, headers, override, max_bytes)
    if stats is not None:
        count(stats, f"decoded/{page.encoding}", site)
    return page


def _decode(body: bytes, headers: Mapping | None, override: str | None, max_bytes: int) -> DecodedPage:
    _check_body(body, max_bytes)
    head = body[:65536]
    nonascii = len(head) - len(head.translate(None, _HIGH_BYTES))

    # 1. override
    codec = normalize_codec(override)
    if codec and (text := _try(body, codec)) is not None:
        return DecodedPage(text, codec, "override")

    # 2. BOM
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text = _try(body, codec)
            if text is not None:
                return DecodedPage(text.lstrip("\ufeff"), codec, "bom")

    # 3. strict UTF-8: beats any declaration (a gb2312 label on UTF-8 bytes is a lie)
    text = _strict_utf8(body)
    if text is not None:
        return DecodedPage(text, "utf-8", "utf-8")
    # 3b. nearly clean UTF-8. Its bytes outrank a declaration as in 3: GBK or Big5 text read
    # as UTF-8 breaks at nearly every character, and a GBK reading of UTF-8 bytes is CJK
    # mojibake that looks like text.
    text = _nearly_utf8(body)
    if text is not None:
        return DecodedPage(text, "utf-8", "utf-8-repaired")

    # 4. HTTP header, 5. <meta>: trusted only when the result looks like text
    ctype = header_value(headers, "content-type") or ""
    m = _HEADER_CHARSET.search(ctype.encode("latin-1", "ignore"))
    declared = [("header", m.group(1).decode("ascii", "ignore") if m else None)]
    m = _META_CHARSET.search(body[:4096])
    declared.append(("meta", m.group(1).decode("ascii", "ignore") if m else None))
    for method, name in declared:
        codec = normalize_codec(name)
        if codec in (None, "utf-8", "utf-16", "utf-32"):
            continue  # UTF-8 already failed; UTF-16 without BOM is not a page
        text = _try(body, codec)
        if text is not None and looks_like_text(text, nonascii):
            return DecodedPage(text, codec, method)

    # 6. detection
    for codec in _detected_codecs(body):
        text = _try(body, codec)
        if text is not None and looks_like_text(text, nonascii):
            return DecodedPage(text, codec, "detected")
    # Most undeclared non-UTF-8 Chinese pages are GBK; accept it if it reads as text.
    text = body.decode("gb18030", errors="replace")
    if looks_like_text(text, nonascii):
        return DecodedPage(text, "gb18030", "detected")
    raise ExtractionError("undecodable", "no charset decodes this page into text")


def _detected_codecs(body: bytes) -> list[str]:
    best = from_bytes(body[:200_000], cp_isolation=None).best()
    out = []
    if best is not None:
        codec = normalize_codec(best.encoding)
        if codec:
            out.append(codec)
    for codec in ("gb18030", "big5hkscs"):
        if codec not in out:
            out.append(codec)
    return out
