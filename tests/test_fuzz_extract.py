"""Fuzzing the decode -> extract -> clean path (bounded CI step) and the bugs it found.

The long run is ``make fuzz`` (``tests/fuzzing.py``, 100,000 inputs); this step runs
the same strategies with a fixed seed and a small budget so every CI run covers random
bytes, mutated real pages and re-encoded pages in every charset.
"""
from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings

from fuzzing import corpus, fuzz_cases, run_one
from pipelines.article import ExtractionError
from pipelines.extract import extract_article

URL = "http://www.sucheng.gov.cn/xwdt/202107/t20210712_4123456.html"


def test_the_fuzz_corpus_holds_real_pages():
    pages = corpus()
    assert len(pages) >= 40, "tests/pages and ../shared/realpages should give the fuzzer real pages"
    assert sum(b"<html" in p[:5000].lower() for p in pages) >= 0.8 * len(pages)


@pytest.mark.timeout(300)
@settings(max_examples=1500, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(case=fuzz_cases)
def test_no_input_crashes_decode_extract_clean(case):
    logging.disable(logging.WARNING)
    try:
        run_one(*case)
    finally:
        logging.disable(logging.NOTSET)


# -- regressions: inputs the fuzzer found -------------------------------------------------

def _gov_page(body_html: str) -> bytes:
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>宿城区召开激光产业园建设会办会_宿城区人民政府</title>
<meta name="ArticleTitle" content="宿城区召开激光产业园建设会办会">
<meta name="PubDate" content="2021-07-12 09:30"></head>
<body><div class="header"><ul class="nav"><li><a href="/">首页</a></li><li><a href="/xwdt/">新闻动态</a></li></ul></div>
<div class="main"><div class="article"><h1>宿城区召开激光产业园建设会办会</h1>
<div class="TRS_Editor">{body_html}</div></div></div>
<div class="footer">主办：宿城区人民政府办公室</div></body></html>""".encode("utf-8")


def test_control_characters_next_to_a_dropped_script_are_not_a_crash():
    # Fuzz find: a vertical tab / unit separator in text beside a <script> made
    # lxml's drop_tree raise ValueError ("All strings must be XML compatible").
    page = _gov_page("<p>7月12日，区长主持召开激光产业园建设会办会。\x0b</p><script>var a=1;</script>"
                     "\x1f<p>会议听取了产业园规划建设情况汇报，研究部署下一步重点工作。\x0c\x01</p>")
    article = extract_article(page, URL)
    assert article.text.splitlines() == [
        "7月12日，区长主持召开激光产业园建设会办会。",
        "会议听取了产业园规划建设情况汇报，研究部署下一步重点工作。"]


def test_a_page_of_hundreds_of_thousands_of_elements_is_refused_quickly():
    # Stress find: 8 MB of tiny <div><p> blocks (300,000 elements) kept the extractors
    # busy for minutes -- in a crawl, the whole reactor waits -- and ended in no_body.
    block = "<div class=\"item\"><p>宿城区召开会议。</p></div>"
    page = _gov_page(block * 150_000)
    with pytest.raises(ExtractionError) as info:
        extract_article(page, URL)
    assert info.value.reason == "too_many_elements" and "300" in info.value.message


def test_the_element_cap_leaves_every_real_page_alone():
    from pipelines.extraction.decode import decode_html
    from pipelines.extract import MAX_ELEMENTS, parse_html
    largest = 0
    for page in corpus():
        try:
            tree = parse_html(decode_html(page).text)
        except ExtractionError:
            continue
        largest = max(largest, sum(1 for _ in tree.iter()))
    assert 1000 < largest < MAX_ELEMENTS / 5
