"""How good an extraction is, against gold: the one F1 of the project and the leak check.

Library code, not benchmark code: the extraction benchmarks (benchmarks/extraction), the
fixture eval (``make bench``) and the tests all import it from here, as the story stage's
``pipelines.stories.quality`` scores a clustering.

The F1: Both texts are NFKC-normalized (full-width folded) and
stripped of whitespace, so line wrapping and ``，`` vs ``,`` do not count; then:

* ``char_scores``: precision/recall/F1 from difflib's matching blocks, i.e. the
  characters the two texts share *in order*. A bag-of-characters F1 would give
  credit for the right characters in the wrong places (a related-article list
  made of the same common characters); matching blocks do not.
* ``bigram_f1``: F1 over character-bigram multisets: order-aware locally, blind to
  paragraph order, cheap. Reported next to the char F1 as a second opinion.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float


def squeeze(text: str) -> str:
    """The compared form: NFKC, no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _f1(common: int, got: int, want: int) -> Scores:
    if not got and not want:
        return Scores(1.0, 1.0, 1.0)
    if not common:
        return Scores(0.0, 0.0, 0.0)
    p, r = common / got, common / want
    return Scores(p, r, 2 * p * r / (p + r))


def char_scores(got: str, want: str) -> Scores:
    """Character P/R/F1 over difflib matching blocks (autojunk off: in Chinese the
    frequent characters 的/，/。 are content, not junk)."""
    g, w = squeeze(got), squeeze(want)
    if not g or not w:
        return _f1(0, len(g), len(w))
    matcher = difflib.SequenceMatcher(None, g, w, autojunk=False)
    common = sum(block.size for block in matcher.get_matching_blocks())
    return _f1(common, len(g), len(w))


def char_f1(got: str, want: str) -> float:
    """F1 of ``char_scores``; 1.0 for two empty texts."""
    return char_scores(got, want).f1


def bigram_f1(got: str, want: str) -> float:
    g, w = squeeze(got), squeeze(want)
    gb = Counter(g[i:i + 2] for i in range(len(g) - 1))
    wb = Counter(w[i:i + 2] for i in range(len(w) - 1))
    return _f1(sum((gb & wb).values()), sum(gb.values()), sum(wb.values())).f1


# -- leaks: what must never reach a clean article -----------------------------------------
# Global markers (pinyin, disclaimers, widgets, footers, spam words, junk tags) plus each
# page's own gold ``without`` snippets. Snippets of one or two characters ("简", "EN") only
# count as whole lines, since they occur inside real words. Written out here, apart from
# pipelines.extraction.vocabulary: the check must not share the extractor's own word lists.
NOISE_MARKERS = (
    # flattened pinyin
    "(kāi)", "(chǎn)", "(yè)",
    # disclaimers
    "免责声明", "免責聲明", "转载请注明出处", "轉載請注明出處",
    # widgets
    "网友点评", "網友點評", "+关注", "+關注", "分享到", "打印本页", "打印本頁", "关闭窗口", "關閉窗口",
    # footers
    "主办：", "主辦：", "承办：", "承辦：", "ICP备", "ICP備", "公网安备", "网站标识码",
    # spam
    "在线观看", "一区二区", "久久精品", "百家乐", "<delect", "znobx",
)
# A CJK character followed by a bracketed, tone-marked pinyin syllable: 開(kāi).
PINYIN_LEAK = re.compile(r"[\u3400-\u9fff][(（]\s*[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\s*[)）]")


def leaks_in(result: dict, gold: dict) -> list[str]:
    """Leaks in one extraction result ({"title","text"} or {"error"}); a quarantined page has none."""
    if "error" in result or result.get("spam"):
        return []
    text, title = result.get("text") or "", result.get("title") or ""
    hits = [m for m in NOISE_MARKERS if m in text or m in title]
    hits += [f"pinyin {m.group(0)}" for m in PINYIN_LEAK.finditer(text + "\n" + title)]
    lines = set(text.split("\n"))
    flat = squeeze(text)
    for snippet in gold.get("without", []):
        if (snippet in lines) if len(snippet) <= 2 else (squeeze(snippet) in flat):
            hits.append(f"without {snippet!r}")
    return hits
