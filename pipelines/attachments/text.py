"""Layout text to searchable lines.

PDF and OLE extractors return text broken where the page wrapped it, often with
spaces between CJK glyphs; a phrase that wraps (``激光产业`` / ``园``) would then
match nothing. Lines of one paragraph are joined (no space between two CJK
characters), runs of blanks inside CJK text are dropped, empty lines go.
"""
from __future__ import annotations

import re

_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_IN_CJK = re.compile(f"(?<=[{_CJK}])[ \t\u00a0\u3000]+(?=[{_CJK}])")
_ENDS_SENTENCE = re.compile(r"[。！？；：:;!?）)】」』]$")
_STARTS_ITEM = re.compile(r"^(第[一二三四五六七八九十百\d]+[章条节页]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．]|附件)")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def tidy_lines(raw: str, max_chars: int, wrapped: bool = True) -> tuple[str, bool]:
    """``(text, truncated)``: one paragraph per line, at most ``max_chars`` characters.
    ``wrapped=False``: every line already is a paragraph (catdoc, python-docx, openpyxl)."""
    raw = _CONTROL.sub(" ", raw.replace("\f", "\n\n").replace("\r\n", "\n").replace("\r", "\n"))
    paragraphs: list[str] = []
    current = ""
    for line in raw.split("\n"):
        line = _SPACE_IN_CJK.sub("", line.strip())
        if not line:
            if current:
                paragraphs.append(current)
                current = ""
            continue
        if current and (not wrapped or _ENDS_SENTENCE.search(current) or _STARTS_ITEM.match(line)):
            paragraphs.append(current)
            current = line
        elif current:
            joiner = "" if _is_cjk(current[-1]) or _is_cjk(line[0]) else " "
            current += joiner + line
        else:
            current = line
    if current:
        paragraphs.append(current)
    text = "\n".join(paragraphs)
    if len(text) > max_chars:
        return text[:max_chars], True
    return text, False


def _is_cjk(char: str) -> bool:
    return bool(re.match(f"[{_CJK}]", char))
