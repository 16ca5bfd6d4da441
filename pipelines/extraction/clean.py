"""Cleaning rules for the article body: plain functions over a list of paragraphs.

``clean_paragraphs`` applies ``CLEANING_RULES`` in this order (each rule is
tested on its own in tests/test_clean.py):

1. normalize_whitespace      – strip, fold NBSP/ideographic spaces, drop empty lines
   unwrap_single_cell_rows   – "| 正文 |" one-cell layout-table rows lose trafilatura's pipes
2. strip_pinyin_annotations  – flattened ruby ``開(kāi)`` -> ``開`` (syllable inventory check);
                               ``值(value)``, ``(a)``, ``(AI)``, ``昨(5)日`` stay
3. drop_disclaimer_block     – 免责声明 and its ①②③ clauses, 转载请注明出处, 暂无关键词
4. drop_tail_widgets         – from the first comment/related/follow/footer widget to the end
   drop_trailing_widgets     – tag lines and share icons under the last paragraph (pipelines.extraction.widgets)
   drop_contact_footer       – a site footer's 地址/邮政编码/电子信箱/电话/传真 block closing the body
   drop_prev_next_links      – 上一篇/下一篇 lines and the link title under a bare label
5. drop_head_boilerplate     – breadcrumbs, service bars, 阅读|订阅, title and meta lines, and the
                               one-line widgets of pipelines.extraction.widgets (tags, share, banners) before the text
6. drop_meta_lines           – 来源/作者/发布时间/浏览次数 lines, （责任编辑：…）, (本文来自…) notices,
                               toolbars, footers anywhere
   strip_source_notice_suffix – the (本文来自…) notice run onto the end of a paragraph
7. drop_repeated_article     – the article shown twice, teaser paragraphs repeated as prefixes
8. drop_title_lines          – the headline repeated inside the body

Rules 3–4 run before 5–6 so a disclaimer's clauses (which contain 来源) are
removed as one block, and 7 runs late so boilerplate between two copies of the
article is gone before the copies are compared. Marker words are data in
``pipelines.extraction.vocabulary``; the regexes below are built from it with traditional
spellings included. What a single line *is* (a meta line, a byline, a footer line,
boilerplate) is asked of ``pipelines.extraction.linekinds``; this module decides what to drop.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines.extraction import vocabulary as V
from pipelines.extraction.linekinds import (  # noqa: F401 - comparison_key, is_byline…: this module's API too
    CJK_CHAR, SENTENCE_END, SERVICE_BAR, comparison_key, contains, is_boilerplate_line, is_byline, is_footer_line,
    is_meta_line, is_sentence, starts,
)
from pipelines.extraction.widgets import (
    drop_prev_next_links, drop_trailing_widgets, is_banner_line, is_widget_line, strip_source_notice_suffix,
    unwrap_single_cell_rows,
)

_WS = re.compile(r"[ \t\r\f\v\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_BREADCRUMB = starts(V.BREADCRUMB_MARKERS)
_PREV_NEXT = starts(V.PREV_NEXT_MARKERS)
_DISCLAIMER = starts(V.DISCLAIMER_MARKERS)
_REPOST = contains(V.REPOST_NOTICE_MARKERS)
_EMPTY_WIDGET = starts(V.EMPTY_WIDGET_MARKERS)
# "0相关评论": comment widgets lead with their count.
_TAIL_WIDGET = re.compile(rf"^[\s\d【\[|｜]*(?:{V.pattern(V.TAIL_WIDGET_MARKERS)})")
# A heading that is only a widget name ("为你推荐", "相关新闻：", "0相关评论").
_FOLLOW = re.compile(rf"^\s*(?:{V.pattern(V.FOLLOW_WIDGET_MARKERS)})\s*$")
_NUMBERED_CLAUSE = re.compile(r"^\s*(?:[①②③④⑤⑥⑦⑧⑨⑩]|\d{1,2}[、.．]|[（(]\d{1,2}[)）])")
_CONTACT = re.compile(rf"^(?:{V.pattern(V.CONTACT_MARKERS)}):")
_CONTACT_INTRO = contains(V.CONTACT_INTRO_MARKERS)
_WIDGET_NUMBER = re.compile(rf"^[\s\-+]*\d+\s*(?:{V.pattern(V.WIDGET_COUNT_WORDS)})?[\s\-+]*$")

# 2. pinyin: a syllable in brackets right after a CJK character.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PINYIN_ANNOTATION = re.compile(rf"(?<={CJK_CHAR})\s?[(（]\s*([a-zA-Zü{_TONED}]{{1,6}})\s*[)）]")


@dataclass
class CleanContext:
    title: str = ""
    fired: list[str] = field(default_factory=list)   # names of rules that removed something


Rule = Callable[[list[str], CleanContext], list[str]]


# ---------------------------------------------------------------- 1.
def normalize_whitespace(paragraphs: list[str], ctx: CleanContext | None = None) -> list[str]:
    out = []
    for p in paragraphs:
        for line in p.split("\n"):
            line = _WS.sub(" ", line).strip()
            if line:
                out.append(line)
    return out


# ---------------------------------------------------------------- 2.
def _is_pinyin(word: str) -> bool:
    base = unicodedata.normalize("NFD", word.lower())
    base = "".join(ch for ch in base if not unicodedata.combining(ch)).replace("ü", "v")
    return base in V.PINYIN_SYLLABLES


def _toned(word: str) -> bool:
    return any(ch in _TONED for ch in word.lower())


def strip_pinyin_annotations(paragraphs: list[str], ctx: CleanContext | None = None) -> list[str]:
    """Remove ``字(pīn)`` ruby leftovers. A toneless syllable (``(a)``, ``(an)``) is only
    removed when the page has several toned annotations, i.e. is really annotated."""
    toned = sum(1 for p in paragraphs for m in _PINYIN_ANNOTATION.finditer(p)
                if _toned(m.group(1)) and _is_pinyin(m.group(1)))

    def repl(m: re.Match) -> str:
        word = m.group(1)
        if not _is_pinyin(word) or (word.isupper() and len(word) > 1):
            return m.group(0)     # 值(value); 人工智能(AI), 国内(GDP): pinyin is never upper case
        if _toned(word):
            return ""
        # Toneless: only on a page that really is annotated, and never a lone letter,
        # which is a list marker ((a)…(d)) or a symbol (碳(C)) far more often than 啊(a).
        return "" if toned >= 3 and len(word) > 1 else m.group(0)

    return [_PINYIN_ANNOTATION.sub(repl, p) for p in paragraphs]


# ---------------------------------------------------------------- 3.
_DISCLAIMER_WORDS = contains(V.DISCLAIMER_CLAUSE_WORDS)


def _is_disclaimer_clause(line: str) -> bool:
    """A numbered clause (structure) of a site's legal notice (vocabulary: 本网, 版权, 转载, 授权…),
    also when an extractor dropped the 免责声明 heading above it."""
    return bool(_NUMBERED_CLAUSE.match(line)) and len(set(_DISCLAIMER_WORDS.findall(line))) >= 3


def drop_disclaimer_block(paragraphs: list[str], ctx: CleanContext | None = None) -> list[str]:
    """免责声明 + its numbered clauses; 转载请注明出处 notices (also letter-spaced ones,
    "人 民 网 版 权 所 有 ，未 经 书 面 授 权"); 暂无关键词."""
    out: list[str] = []
    in_block = False
    for line in paragraphs:
        if _DISCLAIMER.match(line):
            in_block = True
            continue
        if (in_block and _NUMBERED_CLAUSE.match(line)) or _is_disclaimer_clause(line):
            in_block = True
            continue
        in_block = False
        if _REPOST.search(re.sub(r"\s+", "", line)) and len(line) < 80:
            continue
        if _EMPTY_WIDGET.match(line) and len(line) < 20:
            continue
        out.append(line)
    return out


# ---------------------------------------------------------------- 4.
def _is_tail_start(line: str) -> bool:
    short = len(line) <= 40
    return bool(
        (short and (_TAIL_WIDGET.match(line) or _PREV_NEXT.match(line) or _FOLLOW.match(line)))
        or is_footer_line(line)
    )


def _prose(lines: list[str]) -> int:
    return sum(len(line) for line in lines if is_sentence(line) and len(line) >= 15)


def drop_tail_widgets(paragraphs: list[str], ctx: CleanContext | None = None) -> list[str]:
    """Cut at the first widget/footer line that follows real text; tag names before a
    ``+关注`` follow button (short, unpunctuated) go with it.

    A widget with little text before it and most of the article after it ("相关新闻："
    under a one-line promo, sina) is a box inside the article, not its end: the box (the
    widget line and the short link titles under it) goes and the scan goes on."""
    paragraphs = list(paragraphs)
    seen_text = False
    i = -1
    while i + 1 < len(paragraphs):
        i += 1
        line = paragraphs[i]
        if not seen_text:
            seen_text = is_sentence(line) and len(line) >= 15
            continue
        if _is_tail_start(line):
            before, after = _prose(paragraphs[:i]), _prose(paragraphs[i + 1:])
            if before < 200 and after > 2 * before:
                j = i + 1
                while j < len(paragraphs) and not is_sentence(paragraphs[j]) and len(paragraphs[j]) <= 40:
                    j += 1
                del paragraphs[i:j]
                i -= 1
                continue
            cut = i
            if _FOLLOW.match(line) or _WIDGET_NUMBER.match(line):
                while cut > 0 and len(paragraphs[cut - 1]) <= 12 and not is_sentence(paragraphs[cut - 1]):
                    cut -= 1
            return _drop_trailing_crumbs(paragraphs[:cut])
    return _drop_trailing_crumbs(paragraphs)


def drop_contact_footer(paragraphs: list[str], ctx: CleanContext | None = None) -> list[str]:
    """A site footer's contact block closing the body: three or more short lines
    地址：/邮政编码：/电子信箱：/电话：/传真：. A notice's own contact details, introduced by
    联系人/联系方式/咨询…, stay (they are what the reader needs)."""
    start = len(paragraphs)
    while start > 0 and len(paragraphs[start - 1]) <= 60 and _CONTACT.match(comparison_key(paragraphs[start - 1])):
        start -= 1
    run = paragraphs[start:]
    if len(run) < 3 or any(_CONTACT_INTRO.search(p) for p in paragraphs[max(0, start - 2):]):
        return paragraphs
    return paragraphs[:start]


def _drop_trailing_crumbs(paragraphs: list[str]) -> list[str]:
    """Close buttons and separators left at the very end ("X", "-", ",")."""
    while paragraphs and len(paragraphs[-1]) <= 3 and not re.search(CJK_CHAR, paragraphs[-1]):
        paragraphs = paragraphs[:-1]
    return paragraphs


# ---------------------------------------------------------------- 5. / 6.
def drop_head_boilerplate(paragraphs: list[str], ctx: CleanContext | None = None) -> list[str]:
    """Before the first real paragraph: breadcrumbs, bars, the title, meta lines, short headings
    like 今日要闻 that name a column rather than the article."""
    title_key = comparison_key(ctx.title) if ctx and ctx.title else ""
    i = 0
    while i < len(paragraphs):
        line = paragraphs[i]
        if is_banner_line(line):    # an app promo above the text reads like a sentence ("…下载客户端还能获得福利哦！")
            i += 1
            continue
        if is_sentence(line) and len(line) >= 15:
            break
        k = comparison_key(line)
        if (_BREADCRUMB.match(line) or is_meta_line(line) or is_boilerplate_line(line)
                or SERVICE_BAR.search(line) or is_widget_line(line) or (title_key and k == title_key)
                # the headline and its meta line in one layout-table cell ("标题 来源于：东区办事处")
                or (title_key and line.startswith(ctx.title.strip()) and is_meta_line(line[len(ctx.title.strip()):].strip()))
                # a headline broken over several lines by <br>: each piece is part of the title
                or (title_key and len(k) >= 4 and k in title_key)
                # column names (新闻动态, 图集) and view counters (33) above the text, but not
                # the first words of the lead broken by <br> ("下周一，"), nor a label that opens
                # what follows ("划重点：")
                or (len(k) <= 6 and not re.search(r"[，,、:：]$", k)) or k.isdigit()):
            i += 1
            continue
        break
    return paragraphs[i:]


def drop_meta_lines(paragraphs: list[str], ctx: CleanContext | None = None) -> list[str]:
    return [p for p in paragraphs
            if not (is_boilerplate_line(p) or _BREADCRUMB.match(p) and len(p) < 60
                    or (is_meta_line(p) and not SENTENCE_END.search(p)))]


# ---------------------------------------------------------------- 7.
def _is_prose_paragraph(key: str) -> bool:
    """Long enough, and written in Chinese: a paragraph, not a line of a code listing."""
    return len(key) >= 40 and len(re.findall(CJK_CHAR, key)) >= 10


def drop_repeated_article(paragraphs: list[str], ctx: CleanContext | None = None) -> list[str]:
    """Each paragraph once: exact repeats go (the page that shows its article twice, seed 001),
    so does a teaser that is a prefix of a following paragraph (seed 000), and so does the
    short headline that introduces the second copy. A copy is a run of repeated paragraphs
    holding at least one long Chinese one (>= 40 characters, >= 10 of them CJK); short
    lines and code that come back are the text's own refrains (the same question put to
    each interviewee, the same statements in two code listings) and stay."""
    keys = [comparison_key(p) for p in paragraphs]
    seen: set[str] = set()
    repeated = [False] * len(paragraphs)
    for i, k in enumerate(keys):
        repeated[i] = len(k) >= 8 and k in seen
        seen.add(k)
    keep = [True] * len(paragraphs)
    second_copy_at = None
    i = 0
    while i < len(keys):
        if not repeated[i]:
            i += 1
            continue
        j = i
        while j < len(keys) and repeated[j]:
            j += 1
        if any(_is_prose_paragraph(keys[n]) for n in range(i, j)):   # a copy carries a real paragraph
            for n in range(i, j):
                keep[n] = False
            if second_copy_at is None:
                second_copy_at = i
        i = j
    # The headline of the second copy sits just before it and is not a sentence.
    if second_copy_at is not None:
        j = second_copy_at - 1
        if j > 0 and keep[j] and not is_sentence(paragraphs[j]) and len(paragraphs[j]) <= 60:
            keep[j] = False
    # Teasers: a paragraph (ellipsis stripped) that starts one of the next few paragraphs.
    for i, k in enumerate(keys):
        if not keep[i]:
            continue
        stem = re.sub(r"(?:\.\.\.|…|\.{2,})+$", "", k)
        if len(stem) < 15:
            continue
        for j in range(i + 1, min(i + 4, len(keys))):
            if keep[j] and len(keys[j]) > len(stem) and keys[j].startswith(stem):
                keep[i] = False
                break
    return [p for p, ok in zip(paragraphs, keep) if ok]


# ---------------------------------------------------------------- 8.
def drop_title_lines(paragraphs: list[str], ctx: CleanContext | None = None) -> list[str]:
    if not ctx or not ctx.title:
        return paragraphs
    title_key = comparison_key(ctx.title)
    return [p for p in paragraphs if comparison_key(p) != title_key]


CLEANING_RULES: tuple[tuple[str, Rule], ...] = (
    ("normalize_whitespace", normalize_whitespace),
    ("unwrap_single_cell_rows", unwrap_single_cell_rows),
    ("strip_pinyin_annotations", strip_pinyin_annotations),
    ("drop_disclaimer_block", drop_disclaimer_block),
    ("drop_tail_widgets", drop_tail_widgets),
    ("drop_trailing_widgets", drop_trailing_widgets),
    ("drop_contact_footer", drop_contact_footer),
    ("drop_prev_next_links", drop_prev_next_links),
    ("drop_head_boilerplate", drop_head_boilerplate),
    ("drop_meta_lines", drop_meta_lines),
    ("strip_source_notice_suffix", strip_source_notice_suffix),
    ("drop_repeated_article", drop_repeated_article),
    ("drop_title_lines", drop_title_lines),
)


def clean_paragraphs(paragraphs: list[str], title: str = "", fired: list[str] | None = None) -> list[str]:
    """Apply CLEANING_RULES in order; names of rules that changed something go to ``fired``."""
    ctx = CleanContext(title=title)
    for name, rule in CLEANING_RULES:
        before = paragraphs
        paragraphs = rule(paragraphs, ctx)
        if paragraphs != before and name != "normalize_whitespace":
            ctx.fired.append(name)
    if fired is not None:
        fired.extend(ctx.fired)
    return paragraphs


def clean_text(text: str, title: str = "") -> str:
    """String form, for callers holding plain text (e.g. seed dumps)."""
    return "\n".join(clean_paragraphs(text.split("\n"), title))
