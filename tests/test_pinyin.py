"""Flattened ruby pinyin: stripped where it really is pinyin, nothing else touched.

The negative set is text that looks like ``字(latin)`` but is not an annotation:
glosses, acronyms, list markers, formulas, years. Each must come out unchanged,
on a plain page and on a page that really carries pinyin (where toneless
syllables are stripped too).
"""
from __future__ import annotations

import pytest

from pipelines.extraction.clean import strip_pinyin_annotations

# Three real annotations: the page "is annotated", the strictest context for negatives.
ANNOTATED = "宿遷召開(kāi)激光產(chǎn)業(yè)園建設會辦會。"

NEGATIVES = [
    "峰值(value)达到设计要求。",
    "方案包括：(a)资金(b)土地(c)人才(d)技术。",
    "一是场(a)地，二是场(b)馆。",
    "熊猫(panda)是国宝，区块链(blockchain)技术持续发展。",
    "人工智能(AI)和国内生产总值(GDP)同步增长。",
    "水(H2O)由氢和氧组成，化学式写作H(2)O，碳(C)含量下降。",
    "该条例(2021)第三条规定，昨(5)日召开会议。",
    "维生素(B12)和维生素(C)都要补充。",
    "采用（ISO9001）标准，项目代号（Alpha）。",
    "首都(Beijing)和上海(Shanghai)两地。",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_not_pinyin_is_kept_on_a_plain_page(text):
    assert strip_pinyin_annotations([text]) == [text]


@pytest.mark.parametrize("text", NEGATIVES)
def test_not_pinyin_is_kept_on_an_annotated_page(text):
    out = strip_pinyin_annotations([ANNOTATED, text])
    assert out[1] == text
    assert out[0] == "宿遷召開激光產業園建設會辦會。"


@pytest.mark.parametrize("text, want", [
    ("開(kāi)會", "開會"),
    ("产（chǎn）业", "产业"),
    ("發(fā) 展", "發 展"),
    ("綠(lǜ)色", "綠色"),
])
def test_toned_pinyin_after_a_cjk_character_is_stripped(text, want):
    assert strip_pinyin_annotations([text]) == [want]


def test_toneless_syllables_only_on_an_annotated_page():
    line = "我們的(de)工作"
    assert strip_pinyin_annotations([line]) == [line]
    assert strip_pinyin_annotations([ANNOTATED, line])[1] == "我們的工作"


def test_pinyin_not_after_a_cjk_character_stays():
    assert strip_pinyin_annotations(["型号ABC(kāi)见附件"]) == ["型号ABC(kāi)见附件"]


def test_inventory_rejects_non_syllables():
    # Latin that is not a Mandarin syllable is never stripped, toned or not.
    for word in ("xyz", "qa", "bv", "vál", "strā"):
        line = f"{ANNOTATED}测({word})试"
        assert f"({word})" in strip_pinyin_annotations([line])[0]
