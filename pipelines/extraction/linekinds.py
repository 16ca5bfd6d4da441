"""What kind of line is this? Predicates over one line of text, shared by the cleaning rules
(``pipelines.extraction.clean``), the tree rules (``pipelines.extraction.clean_tree``) and the body selector.

* ``comparison_key``      – the line without whitespace, NFKC (full-width folded): how lines are compared
* ``is_sentence``         – closes on sentence punctuation, or is long
* ``is_meta_line``        – 来源：… / 2021-07-12 来源：… 作者：… / 发布时间：…, a bare date line
* ``is_byline``           – 采写：… / 执笔/… / 摄影/… 编辑/… / XX记者 张三
* ``is_footer_line``      – 主办：/承办：/技术支持：…, ICP备, 版权所有, ©2021, Powered by
* ``is_boilerplate_line`` – page furniture wherever it appears: the above credits and footers,
  editor credits, attachment names, toolbars, service bars, and the one-line widgets of
  ``pipelines.extraction.widgets`` (slash bylines, source notices, related links, video labels)

Marker words are data in ``pipelines.extraction.vocabulary`` (traditional spellings added by ``V.pattern``).
"""
from __future__ import annotations

import re
import unicodedata

from pipelines.extraction import vocabulary as V
from pipelines.extraction.widgets import is_related_link_line, is_slash_byline, is_source_notice, is_video_label

CJK_CHAR = r"[\u3400-\u9fff\uf900-\ufaff]"
SENTENCE_END = re.compile(r"[。！？!?；;…”」』\"]\s*$")
_COLON = r"\s*[:：]"


def starts(markers: tuple[str, ...], colon: bool = False) -> re.Pattern:
    """A line opening on one of ``markers`` (after brackets or bars), optionally then a colon."""
    tail = _COLON if colon else ""
    return re.compile(rf"^(?:[-•·*]\s)?[\s【\[\(（<《|｜]*(?:{V.pattern(markers)}){tail}")   # "- ": a list item, as trafilatura prints <li>


def contains(markers: tuple[str, ...]) -> re.Pattern:
    return re.compile(V.pattern(markers))


_META_START = starts(V.META_LINE_MARKERS, colon=True)
_META_ANY = re.compile(rf"(?:{V.pattern(V.META_LINE_MARKERS)}){_COLON}")
_TOOLBAR = contains(V.TOOLBAR_MARKERS)
_TOOLBAR_LEFTOVER = re.compile(rf"{V.pattern(V.TOOLBAR_MARKERS)}|[\W_\d]+")
_TOOLBAR_START = starts(V.TOOLBAR_START_MARKERS)
SERVICE_BAR = contains(V.SERVICE_BAR_MARKERS)
_FOOTER_START = starts(V.FOOTER_LINE_STARTS, colon=True)
_FOOTER_ANY = re.compile(rf"ICP[备證证]|Powered\s+by\s|©\s*(?:19|20)\d{{2}}|Copyright\s*©"
                         rf"|(?:{V.pattern(V.FOOTER_RIGHTS_MARKERS)})\s*[©:：]|{V.pattern(V.FOOTER_LINE_WORDS)}", re.I)
_EDITOR_CREDIT = re.compile(rf"^[（(]\s*(?:{V.pattern(V.EDITOR_CREDIT_MARKERS)}){_COLON}[^）)]*[）)]$")
_ATTACHMENT = re.compile(
    rf"^(?:(?:{V.pattern(V.ATTACHMENT_MARKERS)})\s*[:：]?\s*)?[^。；;]{{0,80}}\.(?:{'|'.join(V.ATTACHMENT_EXTENSIONS)})$", re.I)
# "2020-06-05 20:35 叨叨姐 胡一刀": a timestamp and a few names, no sentence.
_DATE_TIME_NAMES = re.compile(r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s+\d{1,2}:\d{2}(?::\d{2})?\s+[^。，,；;！？!?：:]{1,30}$")
_DATE_ONLY = re.compile(r"^[\s\[【(（]*\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?[\s\]】)）]*$")
# Credit lines: "采写：南都记者 余毅菁", "执笔/叨叨姐", "摄影/张艳 编辑/苏芳", "扬子晚报记者 张楠".
_BYLINE = re.compile(rf"(?:^|[\s，、])(?:{V.pattern(V.BYLINE_MARKERS)})\s*[:：/︱丨|]")
# "扬子晚报记者 张楠", "《棱镜》作者 周纯", "本報記者 陳明": a role and names, closing a short line.
_REPORTER = re.compile(rf"(?:{V.pattern(('记者', '作者', '通讯员'))})(?:\s*[\u4e00-\u9fff]{{2,4}})+$")
_SPACES = re.compile(r"\s+")


def comparison_key(text: str) -> str:
    """Comparison key: no whitespace, NFKC (full-width punctuation folded)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def is_sentence(line: str) -> bool:
    return bool(SENTENCE_END.search(line)) or len(line) >= 60


def is_footer_line(line: str) -> bool:
    """A site footer's line: 主办：/承办：/技术支持：…, ICP备, 版权所有, ©2021, Powered by."""
    return len(line) <= 200 and bool(_FOOTER_START.match(line) or _FOOTER_ANY.search(line))


def is_meta_line(line: str) -> bool:
    """来源：… / 2021-07-12 来源：… 作者：… / 发布时间：… (short, not a sentence)."""
    if len(line) > 90 or line.endswith("。"):
        return False
    if _DATE_ONLY.match(line) or _DATE_TIME_NAMES.match(line):
        return True
    hits = len(_META_ANY.findall(line))
    if hits >= 2:
        return True
    if _META_START.match(line):
        return len(line) <= 60
    # "来源:宿迁经信网2016-11-14 我要评论(0 )"
    return hits == 1 and bool(re.search(r"\d{4}[-/年.]\d{1,2}", line)) and len(line) <= 60


def is_byline(line: str) -> bool:
    """A short credit line (not a sentence): 采写：… / 执笔/… / 摄影/… 编辑/… / XX记者 张三."""
    return (len(line) <= 50 and not SENTENCE_END.search(line)
            and bool(_BYLINE.search(line) or _REPORTER.search(line)))


def is_boilerplate_line(line: str) -> bool:
    """A line that is page furniture wherever it appears."""
    if (_EDITOR_CREDIT.match(line) or _ATTACHMENT.match(line) or is_byline(line) or is_slash_byline(line)
            or is_source_notice(line) or is_related_link_line(line) or is_video_label(line)):
        return True
    if len(line) <= 50 and (_TOOLBAR_START.match(line) or (SERVICE_BAR.search(line) and not is_sentence(line))):
        return True
    if len(line) <= 50 and _TOOLBAR.search(line):
        leftover = _TOOLBAR_LEFTOVER.sub("", line)
        return len(leftover) <= 4
    return is_footer_line(line)
