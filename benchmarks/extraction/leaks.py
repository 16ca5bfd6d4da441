"""What must never reach a clean article: one list for the benchmark, the fixture eval and the tests.

Global markers (pinyin, disclaimers, widgets, footers, spam words, junk tags) plus
each page's own gold ``without`` snippets. Snippets of one or two characters
("简", "EN") only count as whole lines, since they occur inside real words.
"""
from __future__ import annotations

import re

from benchmarks.extraction.metrics import squeeze

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
