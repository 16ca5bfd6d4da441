"""Spam injections: removed from good pages, flagged when they are the page.

Hacked government sites and SEO farms inject three kinds of things:

* junk tags browsers ignore (``<delect id="znobx">``, empty ``<tbody id=..>``
  outside tables, empty ``<i id=..>``) — ``remove_junk_tags``;
* hidden blocks full of keywords or links (``display:none``) — ``remove_hidden_blocks``;
* porn/gambling keyword titles and lines (``亚洲第一网址在线观看|在线看的国产网站|…``)
  — ``is_spam_line`` / ``drop_spam_lines`` on text, ``article_spam_reasons`` for
  the verdict on the article itself.

Tree functions mutate the tree and return the reasons, so ``Article.spam_reasons``
lists what was removed from a page that is kept.
"""
from __future__ import annotations

import re

from lxml import etree

from pipelines.extraction import vocabulary as V
from pipelines.extraction.clean_tree import remove_keeping_tail

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_RANDOM_ID = re.compile(r"^[a-z]{3,8}$")
_SPAM_WORD = re.compile(V.pattern(V.SPAM_KEYWORDS), re.I)
_SPAM_STRONG = re.compile(V.pattern(V.SPAM_STRONG_KEYWORDS), re.I)
_PIPES = re.compile(r"[|｜]")
_SENTENCE_END = re.compile(r"[。！？!?]")


# The junk tags, and every childless element whose only attribute is an id.
_JUNK_CANDIDATES = etree.XPath("|".join([f"//{t}" for t in V.SPAM_JUNK_TAGS] + ["//*[@id and count(@*) = 1 and not(*)]"]))


def remove_junk_tags(tree: etree._Element) -> list[str]:
    """Drop tags that only spam kits use, and empty random-id tags outside their context."""
    reasons: list[str] = []
    junk = set(V.SPAM_JUNK_TAGS)
    id_tags = set(V.SPAM_JUNK_ID_TAGS)
    count = 0
    for el in _JUNK_CANDIDATES(tree):   # filtered by XPath: no Python object per other element
        tag = el.tag
        if tag in junk:
            remove_keeping_tail(el)
            count += 1
        elif tag in id_tags and _RANDOM_ID.match(el.get("id") or "") and len(el) == 0 \
                and not (el.text or "").strip() and len(el.attrib) == 1:
            if tag in ("tbody", "tr", "td", "th") and _inside_table(el):
                continue
            remove_keeping_tail(el)
            count += 1
    if count:
        reasons.append(f"junk_tags:{count}")
    return reasons


def _inside_table(el: etree._Element) -> bool:
    return any(a.tag == "table" for a in el.iterancestors())


_STYLED = etree.XPath("//*[@style or @hidden]")


def remove_hidden_blocks(tree: etree._Element) -> list[str]:
    """Hidden elements never reach readers, with one exception decided on evidence: a hidden
    block that holds the article's prose (sentences, few links, no keyword stuffing) is one
    a script reveals (WeChat's ``<div id="js_content" style="visibility: hidden">``), so it is
    un-hidden, not deleted. The evidence: a script on the page names the block's id, or the
    block waits under ``visibility: hidden`` with several paragraphs of prose. Hidden link farms and keyword dumps go and are reported."""
    spammy = 0
    scripts = " ".join(sc.text or "" for sc in tree.iter("script"))
    for el in _STYLED(tree):   # only elements with a style or hidden attribute, in document order
        if el.getparent() is None:
            continue
        style = el.get("style") or ""
        if not (_HIDDEN_STYLE.search(style) or el.get("hidden") is not None):
            continue
        text = "".join(el.itertext())
        links = el.findall(".//a")
        link_chars = sum(len("".join(a.itertext()).strip()) for a in links)
        words = len(_SPAM_WORD.findall(text))
        sentences = len(_SENTENCE_END.findall(text))
        prose = sentences >= 2 and len(text.strip()) >= 100 and link_chars < 0.3 * len(text.strip()) \
            and words * 200 < len(text)
        revealed = bool(el.get("id")) and el.get("id") in scripts            # a script names it
        waiting = "visibility" in style.lower() and sentences >= 3 and len(text.strip()) >= 200
        if prose and (revealed or waiting):
            el.set("style", _HIDDEN_STYLE.sub("", style))
            el.attrib.pop("hidden", None)
            continue
        if len(links) >= 3 or words >= 2 or len(text) > 200:
            spammy += 1
        remove_keeping_tail(el)
    return [f"hidden_spam_blocks:{spammy}"] if spammy else []


def spam_score(text: str) -> int:
    """How many spam keywords (strong ones count 2)."""
    return len(_SPAM_WORD.findall(text)) + len(_SPAM_STRONG.findall(text))


_SEGMENTS = re.compile(r"[|｜_,，\s]+")


def _keyword_coverage(line: str) -> float:
    """Share of the line's characters that are spam keywords."""
    covered = [False] * len(line)
    for m in _SPAM_WORD.finditer(line):
        for i in range(m.start(), m.end()):
            covered[i] = True
    return sum(covered) / max(len(line.replace(" ", "")), 1)


def is_sentence_line(line: str) -> bool:
    """Prose: a sentence closing on 。！？, or clauses joined by commas."""
    return bool(re.search(r"[。！？!?]\s*[”」』\"]?\s*$", line)) or line.count("，") >= 2


def is_spam_line(line: str) -> bool:
    """A keyword-stuffed title or line, told by its structure: a list of segments (| _ , or
    space separated) of which two or more carry spam keywords, or a line that is mostly
    keywords. A sentence that *mentions* 色情 or 赌博 (a report on 扫黄打非) is not one."""
    line = line.strip()
    if not line:
        return False
    strong = len(_SPAM_STRONG.findall(line))
    if not strong and len(_SPAM_WORD.findall(line)) < 3:
        return False
    segments = [seg for seg in _SEGMENTS.split(line) if seg]
    stuffed = sum(1 for seg in segments if _SPAM_WORD.search(seg))
    if len(segments) >= 3 and stuffed >= 2 and stuffed >= 0.5 * len(segments) and strong >= 1:
        return True
    return strong >= 1 and _keyword_coverage(line) >= 0.4


def drop_spam_lines(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Keyword lines injected into a good page go; the article's own sentences never do."""
    kept, reasons = [], []
    for p in paragraphs:
        if is_spam_line(p) and not (is_sentence_line(p) and _keyword_coverage(p) < 0.4):
            reasons.append(f"spam_line:{p[:30]}")
        else:
            kept.append(p)
    return kept, reasons


def article_spam_reasons(title: str, text: str) -> list[str]:
    """Reasons the article *itself* is spam (empty list: it is not)."""
    reasons = []
    if is_spam_line(title):
        reasons.append("spam_title")
    chars = max(len(text), 1)
    # Dense keyword stuffing in the body: one keyword per ~60 characters, counted in lines
    # that are not sentences (a report on pornography or gambling is written in sentences).
    score = spam_score("\n".join(line for line in text.split("\n") if not is_sentence_line(line)))
    if score >= 6 and score * 60 > chars:
        reasons.append(f"spam_body:{score}")
    return reasons
