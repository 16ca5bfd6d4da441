"""Spam injections: junk tags and hidden link farms removed, keyword titles detected."""
from __future__ import annotations


import lxml.html
import pytest

from pipelines.extract import extract_article
from pipelines.extraction.spam import article_spam_reasons, is_spam_line, remove_hidden_blocks, remove_junk_tags
from conftest import SHARED

SPAM_TITLE = "亚洲第一网址在线观看|在线看的国产网站|欧美精品国产动漫日韩一区二区|免费一级a一片久久精品"
NJXFHN = SHARED / "realpages/gne/tests/njxfhn/1.html"
ARTICLE = "".join(f"<p>{s}</p>" for s in [
    "7月10日上午，全省重大项目建设暨“三个一批”推进会举行，发出项目建设最强动员令。",
    "区委副书记、区长董立淳出席活动并致辞。黄如福、周伸基等区领导出席。",
    "董立淳在致辞中说，此次集中开工的重点项目共9个，总投资47.13亿元。"])


@pytest.mark.parametrize("line,spam", [
    (SPAM_TITLE, True), ("国产精品久久久久 无码在线观看", True),
    ("工业开新局 项目再出彩 ——平桥区2021年第三批重点项目集中开工", False),
    ("国产光纤激光器在中低功率市场占有率已超过九成", False),
    ("宿城区召开激光产业园建设第九次会辦會 | 宿城区人民政府 | 新闻动态", False),
])
def test_is_spam_line(line, spam):
    assert is_spam_line(line) is spam


def test_junk_tags_removed_tables_kept():
    tree = lxml.html.fromstring(
        '<div><delect id="znobx"></delect><tbody id="znobx"></tbody><i id="xzbnr"></i>'
        '<p>正文</p><table><tbody id="abc"><tr><td>1</td></tr></tbody></table></div>')
    assert remove_junk_tags(tree) == ["junk_tags:3"]
    assert tree.find(".//delect") is None and tree.find(".//table/tbody") is not None


def test_hidden_link_block_removed():
    links = "".join(f'<a href="http://spam{i}.example/">百家乐{i}</a>' for i in range(5))
    tree = lxml.html.fromstring(f'<div><p>正文</p><div style="display:none">{links}</div></div>')
    assert remove_hidden_blocks(tree) == ["hidden_spam_blocks:1"]
    assert "百家乐" not in tree.text_content()


def test_good_page_with_spam_injection_keeps_article():
    html = (f"<html><head><title>{SPAM_TITLE}</title></head><body>"
            '<ul><li><delect id="znobx"></delect></li><li><tbody id="znobx"></tbody></li></ul>'
            f'<div style="display:none"><a href="#">在线观看</a><a href="#">一区二区</a><a href="#">久久</a></div>'
            "<h2>工業開新局 項目再出彩</h2>" f"{ARTICLE}</body></html>")
    art = extract_article(html.encode("utf-8"), "http://pingqiao.test/art/2021/7/12/art_1229_1.html")
    assert not art.spam
    assert art.title == "工業開新局 項目再出彩"
    assert "在线观看" not in art.text and "董立淳" in art.text
    assert any(r.startswith("junk_tags") for r in art.spam_reasons)
    assert "spam_page_title" in art.spam_reasons


def test_spam_article_is_flagged():
    body = "".join(f"<p>{SPAM_TITLE}，国产精品无码在线观看，百家乐娱乐城开户。</p>" for _ in range(3))
    html = f"<html><head><title>{SPAM_TITLE}</title></head><body><h1>{SPAM_TITLE}</h1>{body}</body></html>"
    try:
        art = extract_article(html.encode("utf-8"), "http://spam.test/1.html")
    except Exception as exc:  # an all-spam page may also have no body left at all
        assert getattr(exc, "reason", "") in ("no_body", "spam_cloud")   # spam_cloud: says why
        return
    assert art.spam and art.spam_reasons


def test_article_spam_reasons_clean_article():
    assert article_spam_reasons("平桥区重点项目集中开工", "区委副书记出席活动并致辞。" * 10) == []


@pytest.mark.skipif(not NJXFHN.exists(), reason="real page corpus not mounted")
def test_njxfhn_seo_spam_page():
    art = extract_article(NJXFHN.read_bytes(), "http://www.njxfhn.com/post/2740.html")
    assert not art.spam
    assert any(r.startswith("hidden_spam_blocks") for r in art.spam_reasons)
    for junk in ("邓朴方", "十博体育", "必威体育", "最新报导"):
        assert junk not in art.text
    assert "江门警方提示" in art.text
