"""Every bad input gives a clear result or a clear ExtractionError: never a crash, never a hang.

Each case runs under a short timeout; the batch test checks that ``newsmon extract
--jsonl`` reports each bad page on its own line and goes on with the next one.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crawler.cli import main
from pipelines.article import ExtractionError
from pipelines.extract import extract_article

URL = "http://www.example.gov.cn/xwdt/202107/t20210712_1.html"
ARTICLE = "<h1>宿城区召开激光产业园建设会办会</h1><p>" + "宿迁市宿城区召开激光产业园建设会办会，区长出席会议并讲话。" * 5 + "</p>"
SPAM_WORDS = ["在线观看", "国产精品", "久久精品", "一区二区", "亚洲第一", "无码", "毛片", "百家乐", "娱乐城", "时时彩"]


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


BAD = {
    "empty": (b"", "empty"),
    "whitespace": (b"  \r\n\t ", "empty"),
    "binary_random": (bytes(range(256)) * 200, None),
    "binary_png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 4096, "binary"),
    "binary_pdf": (b"%PDF-1.7\n" + bytes(range(256)) * 10, "binary"),
    "nul_bytes": (b"<html>" + b"\x00" * 10000 + b"</html>", "binary"),
    "fifty_mb": (page(("<p>" + "正文内容。" * 20 + "</p>") * 170_000).encode(), "too_large"),
    "nested_100k": (page("<div>" * 100_000 + ARTICLE + "</div>" * 100_000).encode(), "too_deep"),
    "nested_unclosed": (page("<div><span>" * 100_000 + ARTICLE).encode(), "too_deep"),
    "keyword_cloud_links": (page(" ".join(f'<a href="/{i}">{w}</a>' for i, w in enumerate(SPAM_WORDS * 30)),
                                 "<title>在线观看|国产精品|久久精品|一区二区</title>").encode(), "spam_cloud"),
    "keyword_cloud_text": (page("<p>" + "，".join(SPAM_WORDS * 20) + "。</p>", "<title>新闻</title>").encode(), "spam_cloud"),
    "only_markup": (page("<div><span></span></div>" * 1000).encode(), "no_body"),
    "not_html": ("这不是网页，只是一句话。".encode(), "no_body"),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_gives_a_clear_error(name):
    body, reason = BAD[name]
    with pytest.raises(ExtractionError) as info:
        extract_article(body, URL, {"Content-Type": "text/html"})
    assert info.value.message, "an error says what is wrong"
    if reason:
        assert info.value.reason == reason, info.value.message
    else:   # random bytes: refused one way or another, with a named reason
        assert info.value.reason in {"binary", "undecodable", "no_body"}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("declared, encoding", [("gb2312", "utf-8"), ("utf-8", "gbk"), ("big5", "utf-8"), (None, "gbk")])
def test_wrong_or_missing_charset_still_decodes(declared, encoding):
    head = f'<meta charset="{declared}">' if declared else ""
    art = extract_article(page(ARTICLE, head).encode(encoding), URL)
    assert art.text.startswith("宿迁市宿城区召开激光产业园建设会办会")
    assert "\ufffd" not in art.text


@pytest.mark.timeout(30)
def test_spam_title_over_a_real_article_is_a_result_not_an_error():
    art = extract_article(page(ARTICLE, "<title>在线观看|国产精品|久久精品</title>").encode(), URL)
    assert "激光产业园" in art.text and "在线观看" not in art.text


@pytest.mark.timeout(60)
def test_batch_reports_bad_pages_in_order_and_goes_on(tmp_path):
    names = ["empty", "binary_png", "nested_100k", "keyword_cloud_links"]
    paths = []
    for name in names:
        path = tmp_path / f"{name}.html"
        path.write_bytes(BAD[name][0])
        paths.append(path)
    good = tmp_path / "good.html"
    good.write_bytes(page(ARTICLE).encode())
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"{p}\t{URL}\n" for p in [*paths, good]) + f"{tmp_path / 'missing.html'}\n")
    result = CliRunner().invoke(main, ["extract", "--jsonl", "--from-list", str(listing)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["path"] for line in lines] == [str(p) for p in [*paths, good, tmp_path / "missing.html"]]
    for line, name in zip(lines, names):
        assert line["error"].startswith(BAD[name][1] + ":"), line
    assert lines[4]["text"].startswith("宿迁市宿城区") and lines[4]["published"] == "2021-07-12"
    assert lines[5]["error"].startswith("read:")
