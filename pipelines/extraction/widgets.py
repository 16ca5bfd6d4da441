"""Line predicates for the widgets that sit around an article, and the rules that use them.

Each predicate answers "is this one line page furniture?" for one kind of widget,
in simplified and traditional forms (marker words come from ``pipelines.extraction.vocabulary``
through ``V.pattern``, which adds the traditional spellings):

* ``is_tag_line``        – a tag widget flattened to one line: ``20190926|国贸|增长率``,
                           ``玉峰道路, 上宇老觀景台, 美樹營地``
* ``is_share_line``      – share icons only: ``微博 微信``, ``QQ空间 朋友圈``, ``转播到腾讯微博``
* ``is_banner_line``     – a dismissable banner: ``浏览器更新提醒…立即更新×``, ``打开APP阅读全文``,
                           or a QR code's caption: ``证券时报APP``, ``微信公众号``
* ``is_breadcrumb_path`` – ``科技 > 要闻 > 正文`` without a 当前位置 label
* ``is_dateline``        – a source and timestamp with no sentence: ``TNW中文站2016年10月14日07:17``
* ``is_slash_byline``    – ``石佳/中国青年报``: a name and the paper it writes for; ``图/pixabay``
* ``is_source_notice``   – ``(本文来自澎湃新闻，更多原创资讯请下载“澎湃新闻”APP)``
* ``is_related_link_line`` – ``此前报道：…``, ``相关阅读：…``: a link to another article in the text
* ``is_video_label``     – ``视频-标题``: an embedded player's title bar
* ``is_prev_next_line``  – ``上一篇：…`` / ``下一篇 :`` (its link title may follow on the next line)

``drop_prev_next_links`` and ``drop_trailing_widgets`` are cleaning rules
(see ``pipelines.extraction.clean.CLEANING_RULES``); ``unwrap_single_cell_rows`` undoes
trafilatura's ``| cell |`` rendering of a layout table whose rows hold one cell.
"""
from __future__ import annotations

import re

from pipelines.extraction import vocabulary as V

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_SENTENCE_PUNCT = re.compile(r"[。！？!?；;…“”\"]")
_TAG_SEPARATORS = re.compile(r"\s*[|｜,，;；/／]\s*")
_SHARE_TARGET = re.compile(V.pattern(V.SHARE_TARGETS), re.I)
_SHARE_LEAD = re.compile(rf"^\s*(?:{V.pattern(V.SHARE_LEAD_MARKERS)})")
_BANNER = re.compile(V.pattern(V.BANNER_MARKERS), re.I)
_APP_PROMO = re.compile(V.pattern(V.APP_PROMO_MARKERS))
_CLOSE_MARK = re.compile(rf"[{_CJK}]\s*[×✕✖╳]\s*$")
_CRUMB_SEPARATOR = re.compile(r"\s*(?:>>|»|›|＞|>|→)\s*")
_PREV_NEXT = re.compile(rf"^[\s【\[]*(?:{V.pattern(V.PREV_NEXT_MARKERS)})[\s】\]]*[:：]?\s*")
_NOTHING_THERE = re.compile(rf"^(?:{V.pattern(V.NO_MORE_MARKERS)})[!！。.]?$")
_DATE_AND_TIME = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?")
_SLASH_BYLINE = re.compile(
    rf"^[{_CJK}·]{{2,5}}\s*[/／]\s*(?!.*[的了和与與在是])[{_CJK}A-Za-z·]{{1,12}}(?:{V.pattern(V.MEDIA_SUFFIXES)})$")
_PICTURE_CREDIT = re.compile(rf"^(?:{V.pattern(V.PICTURE_CREDIT_MARKERS)})\s*[/／]\s*[^\s/／，。]{{1,20}}$")
_SOURCE_NOTICE = re.compile(rf"^[（(]?\s*(?:{V.pattern(V.SOURCE_NOTICE_MARKERS)})")
_SOURCE_NOTICE_SUFFIX = re.compile(rf"\s*[（(]\s*(?:{V.pattern(V.SOURCE_NOTICE_MARKERS)})[^（）()]{{0,80}}[）)]\s*$")
_END_MARK = re.compile(r"^[\s\-—=~*·_]*(?:THE\s*)?END[\s\-—=~*·_]*$", re.I)
_RELATED_LINK = re.compile(rf"^[\s【\[]*(?:{V.pattern(V.RELATED_LINK_MARKERS)})[\s】\]]*[:：]")
_VIDEO_LABEL = re.compile(rf"^(?:{V.pattern(V.VIDEO_LABEL_MARKERS)})\s*[-－—:：|｜]\s*\S")
_TABLE_ROW = re.compile(r"^\|\s*(.*?)\s*\|$")


def is_tag_line(line: str) -> bool:
    """A tag widget on one line: three or more short labels between | , ; / separators,
    no sentence punctuation. Labels of a tag cloud are words, never clauses."""
    if len(line) > 120 or _SENTENCE_PUNCT.search(line) or "、" in line:
        return False
    items = [item for item in _TAG_SEPARATORS.split(line.strip(" |｜,，"))]
    return len(items) >= 3 and all(0 < len(item) <= 10 for item in items)


def is_share_line(line: str) -> bool:
    """Share buttons only: what is left after the platform names is punctuation or icons."""
    if len(line) > 60:
        return False
    stripped = _SHARE_LEAD.sub("", line)
    if stripped != line and not stripped.strip():
        return True     # "转播到腾讯微博" whole, or a bare "分享到"
    if not _SHARE_TARGET.search(stripped):
        return False
    return not re.sub(r"[\W_\d]+", "", _SHARE_TARGET.sub("", stripped))


def is_banner_line(line: str) -> bool:
    """A dismissable banner or app/browser prompt: short, not a sentence, and either a call to
    action (立即更新, 打开APP) or a close mark right after the text (…提速 5 倍×)."""
    if len(line) > 80 or line.rstrip().endswith("。"):
        return False
    if len(line) <= 20 and _APP_PROMO.search(line) and not re.search(r"[，,。；;！？!?]", line):
        return True     # a QR code's caption: "证券时报APP", "微信公众号"
    return bool(_BANNER.search(line) or _CLOSE_MARK.search(line))


def is_breadcrumb_path(line: str) -> bool:
    """首页 > 新闻 > 正文: two or more > separators between short crumbs, no sentence."""
    if len(line) > 80 or _SENTENCE_PUNCT.search(line):
        return False
    crumbs = [c for c in _CRUMB_SEPARATOR.split(line.strip()) if c]
    separators = len(_CRUMB_SEPARATOR.findall(line))
    return separators >= 2 and len(crumbs) >= 2 and all(len(c) <= 20 for c in crumbs)


def is_dateline(line: str) -> bool:
    """A source name run into a timestamp (``TNW中文站2016年10月14日07:17``, ``新华网 2019-09-26 10:09``):
    short, a full date with a time, and no clause punctuation."""
    return len(line) <= 40 and not re.search(r"[，,。；;！？!?]", line) and bool(_DATE_AND_TIME.search(line))


def is_slash_byline(line: str) -> bool:
    """``石佳/中国青年报``, ``張三／聯合報``: a writer's name, a slash and the outlet; or a
    picture credit ``图/pixabay``, ``圖片／視覺中國``."""
    return bool(_SLASH_BYLINE.match(line.strip()) or _PICTURE_CREDIT.match(line.strip()))


def is_source_notice(line: str) -> bool:
    """``(本文来自澎湃新闻，更多原创资讯请下载“澎湃新闻”APP)``, ``本文轉自微信公眾號…``: a note on
    where the text came from, bracketed as a whole or carrying an app/公众号 promo."""
    line = line.strip()
    if len(line) > 100 or not _SOURCE_NOTICE.match(line):
        return False
    bracketed = line[0] in "（(" and line[-1] in "）)"
    return bracketed or bool(_APP_PROMO.search(line) or _BANNER.search(line))


def strip_source_notice_suffix(paragraphs: list[str], ctx=None) -> list[str]:
    """The same notice run onto the end of the last paragraph: ``…（原题为《…》）(本文来自澎湃新闻…)``."""
    out = []
    for line in paragraphs:
        stripped = _SOURCE_NOTICE_SUFFIX.sub("", line)
        out.append(stripped if stripped else line)
    return out


def is_related_link_line(line: str) -> bool:
    """``此前报道：港媒曝陈同佳出狱前首受访``: a link to another article set inside the text."""
    return len(line) <= 80 and not line.rstrip().endswith("。") and bool(_RELATED_LINK.match(line))


_MEDIA_CREDIT = re.compile(r"^([^。！？!?]{6,40}?)\s*[（(]\s*(?:来源|來源)\s*[:：]\s*[^（）()]{1,12}[）)]$")


def is_video_label(line: str) -> bool:
    """``视频-陈同佳出狱 鞠躬说“对不起”``: the title bar of an embedded player, not a caption;
    ``女民警1天拨100个电话，被电信停机 （来源：梨视频）``: a player's headline with its source
    credit (a short line, no sentence end, closing on a bracketed 来源)."""
    return len(line) <= 80 and not line.rstrip().endswith("。") and bool(
        _VIDEO_LABEL.match(line) or _MEDIA_CREDIT.match(line.strip()))


def is_prev_next_line(line: str) -> bool:
    return len(line) <= 60 and bool(_PREV_NEXT.match(line))


def drop_prev_next_links(paragraphs: list[str], ctx=None) -> list[str]:
    """``上一篇：标题`` lines wherever they are; a bare ``上一篇 :`` label takes the next line
    (the linked title, or 没有了/无) with it, since the CMS puts the link in its own block."""
    out: list[str] = []
    i = 0
    while i < len(paragraphs):
        line = paragraphs[i]
        if is_prev_next_line(line):
            rest = _PREV_NEXT.sub("", line, count=1).strip()
            nxt = paragraphs[i + 1] if i + 1 < len(paragraphs) else ""
            if not rest and nxt and (_NOTHING_THERE.match(nxt) or
                                     (len(nxt) <= 60 and not _SENTENCE_PUNCT.search(nxt[-1:]))):
                i += 1
            i += 1
            continue
        out.append(line)
        i += 1
    return out


def is_widget_line(line: str) -> bool:
    """Any of the one-line widgets above."""
    return (is_tag_line(line) or is_share_line(line) or is_banner_line(line)
            or is_breadcrumb_path(line) or is_dateline(line) or is_slash_byline(line))


def drop_trailing_widgets(paragraphs: list[str], ctx=None) -> list[str]:
    """Tag lines, share icons, app/QR-code promos and "- THE END -" marks left at the very
    end of the body, under the last paragraph."""
    end = len(paragraphs)
    while end > 1 and (is_tag_line(paragraphs[end - 1]) or is_share_line(paragraphs[end - 1])
                       or is_banner_line(paragraphs[end - 1]) or _END_MARK.match(paragraphs[end - 1])):
        end -= 1
    return paragraphs[:end]


def unwrap_single_cell_rows(paragraphs: list[str], ctx=None) -> list[str]:
    """``| 正文…… |`` -> ``正文……``: trafilatura renders every table row with pipes, and old
    CMS templates lay out the whole article in one-cell table rows. Rows with several
    cells (``| 姓名 | 职务 |``) are real tables and keep their pipes."""
    out = []
    for line in paragraphs:
        m = _TABLE_ROW.match(line)
        out.append(m.group(1) if m and " | " not in m.group(1) and m.group(1) else line)
    return out
