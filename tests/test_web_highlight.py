"""Hits highlighted where they are in the page's own script, and the snippet folding's
fast path (NFKC-normalized text) giving exactly what the per-character path gives."""
from __future__ import annotations

import json
import unicodedata

import pytest

from conftest import FIXTURES
from index.query import _fold_with_offsets, make_snippet, parse_query
from monitor.web.highlight import highlight, hit_spans

TRICKY = ["宿遷召開激光產業園建設會辦會", "  leading\u3000and\ttrailing  ", "ＡＩ視覺檢測 20ｋＷ", "Straße ß", "㈱平桥",
          "ﬁrst ﬂoor", "e\u0301cole", "", "\n\n", "Ⅻ号文件（２０２１）"]


def texts() -> list[str]:
    gold = json.loads((FIXTURES / "gold.json").read_text(encoding="utf-8"))
    return TRICKY + [a["text"] for a in gold["articles"]] + [a["title"] for a in gold["articles"]]


def test_fast_folding_equals_the_per_character_folding(monkeypatch):
    fast = [_fold_with_offsets(text) for text in texts()]
    monkeypatch.setattr(unicodedata, "is_normalized", lambda form, text: False)
    slow = [_fold_with_offsets(text) for text in texts()]
    assert fast == slow


@pytest.mark.parametrize("query, text, marked", [
    ("激光产业园", "宿遷召開激光產業園建設會辦會", ["激光產業園"]),
    ("激光產業園 会办会", "宿城区召开激光产业园建设会办会", ["激光产业园", "会办会"]),
    ("ai", "沭阳县ＡＩ视觉检测 AI", ["ＡＩ", "AI"]),
    ("产业 产业园", "激光产业园", ["产业园"]),                  # overlapping hits merge
])
def test_hits_are_marked_in_the_original_script(query, text, marked):
    terms = parse_query(query).positive_terms
    html = str(highlight(text, terms))
    assert [text[a:b] for a, b in hit_spans(text, terms)] == marked
    assert html.count("<mark>") == len(marked)


def test_highlight_escapes_everything_around_and_inside_hits():
    text = '<script>alert("激光")</script><img src=x onerror=alert(1)>'
    html = str(highlight(text, parse_query("激光").positive_terms))
    assert html == ('&lt;script&gt;alert(&#34;<mark>激光</mark>&#34;)&lt;/script&gt;'
                    '&lt;img src=x onerror=alert(1)&gt;')


def test_snippet_is_unchanged_by_the_fast_path(monkeypatch):
    terms = parse_query("激光产业园").positive_terms
    fast = [make_snippet(text, terms) for text in texts()]
    monkeypatch.setattr(unicodedata, "is_normalized", lambda form, text: False)
    assert fast == [make_snippet(text, terms) for text in texts()]
