"""The decoding chain: override -> BOM -> strict UTF-8 -> header -> meta -> detection."""
from __future__ import annotations

import codecs

import pytest

from pipelines.article import ExtractionError
from pipelines.extraction.decode import decode_html, header_value, normalize_codec

TEXT = "<html><head><title>平桥区重点项目集中开工</title></head><body><p>" + "区委副书记、区长董立淳出席活动并致辞。" * 20 + "</p></body></html>"
TRAD = "<html><body><p>" + "宿遷召開激光產業園建設第九次會辦會，區委副書記、區長張輝出席會議並講話。" * 10 + "</p></body></html>"


def meta_page(charset: str, text: str = TEXT) -> str:
    return text.replace("<head>", f'<head><meta http-equiv="Content-Type" content="text/html; charset={charset}">')


def test_utf8_plain():
    page = decode_html(TEXT.encode("utf-8"))
    assert page.text == TEXT and page.encoding == "utf-8" and page.method == "utf-8"


def test_gb2312_declared_gbk_bytes_decodes_as_gb18030():
    # 镕 and 堃 are outside gb2312: a strict gb2312 decoder would lose them.
    text = meta_page("gb2312", TEXT.replace("董立淳", "朱镕基堃"))
    page = decode_html(text.encode("gb18030"))
    assert page.encoding == "gb18030" and page.method == "meta"
    assert "朱镕基堃" in page.text


def test_header_charset_wins_over_meta():
    body = meta_page("utf-8").encode("gb18030")   # meta lies, header is right
    page = decode_html(body, {"content-type": "text/html; charset=GBK"})
    assert page.method == "header" and page.encoding == "gb18030"
    assert "董立淳" in page.text


def test_header_lookup_is_case_insensitive_with_bytes():
    headers = {b"Content-Type": [b"text/html; charset=big5"]}
    assert header_value(headers, "content-type") == "text/html; charset=big5"
    page = decode_html(TRAD.encode("big5hkscs"), headers)
    assert page.encoding == "big5hkscs" and "宿遷召開" in page.text


def test_declared_gb2312_but_utf8_bytes():
    page = decode_html(meta_page("gb2312").encode("utf-8"), {"Content-Type": "text/html; charset=gb2312"})
    assert page.encoding == "utf-8" and "董立淳" in page.text


def test_wrong_single_byte_declaration_is_overridden():
    page = decode_html(meta_page("iso-8859-1").encode("gb18030"))
    assert "董立淳" in page.text and page.method == "detected"


def test_undeclared_gbk_is_detected():
    page = decode_html(TEXT.encode("gb18030"))
    assert "董立淳" in page.text and page.method == "detected"


def test_override_first():
    page = decode_html(TEXT.encode("gb18030"), override="gb2312")
    assert page.method == "override" and page.encoding == "gb18030" and "董立淳" in page.text


def test_bom():
    page = decode_html(codecs.BOM_UTF8 + TEXT.encode("utf-8"), {"Content-Type": "text/html; charset=gbk"})
    assert page.method == "bom" and page.text.startswith("<html>")


def test_truncated_utf8_is_still_utf8():
    body = TEXT.encode("utf-8")[:-len("</p></body></html>")] + "区".encode("utf-8")[:2]
    assert decode_html(body).encoding == "utf-8"


@pytest.mark.parametrize("name,codec", [("gb2312", "gb18030"), ("GBK", "gb18030"), ("x-gbk", "gb18030"),
                                        ("big5", "big5hkscs"), ("UTF8", "utf-8"), ("nonsense", None)])
def test_normalize_codec(name, codec):
    assert normalize_codec(name) == codec


@pytest.mark.parametrize("body,reason", [
    (b"", "empty"), (b"   \n ", "empty"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary"),
    (b"\x00\x01\x02\x03" * 200, "binary"),
])
def test_refusals(body, reason):
    with pytest.raises(ExtractionError) as exc:
        decode_html(body)
    assert exc.value.reason == reason


def test_too_large():
    with pytest.raises(ExtractionError) as exc:
        decode_html(b"<p>x</p>" * 100, max_bytes=100)
    assert exc.value.reason == "too_large"


# A VSB (博达) detail page as served: UTF-8, declared UTF-8 in the header and the meta tag,
# with one broken sequence in its body (a CMS cut a summary mid-character, or pasted a GBK
# full-width bracket into UTF-8 text). Before: "undecodable" or gb18030 mojibake.
VSB_PAGE = ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html><head>'
            '<meta content="text/html; charset=UTF-8" http-equiv="Content-Type" />'
            '<title>参赛作品上传进度10.11-全省学生专业技能竞赛</title></head><body>'
            '<div class="position">当前位置： 首页 &gt;&gt; 新闻通知 &gt;&gt; 赛事通知 &gt;&gt; 正文</div>'
            '<h1>参赛作品上传进度10.11</h1><div class="info">2014年10月11日 17:30&nbsp;&nbsp;点击：[]</div>'
            '<div id="vsb_content"><p>BROKEN截止10月11日，工商和土木类的参赛作品已经全部上传完毕！</p></div>'
            '<div class="foot">地址：泰州市海陵区东进东路18号 邮编：225300 版权所有：泰州广播电视大学</div>'
            '</body></html>')


@pytest.mark.parametrize("stray", [
    "进".encode("utf-8")[:2],            # a character cut in the middle
    "（".encode("gbk"),                  # a GBK full-width bracket pasted into UTF-8 text
    b"\xa0",                             # a Latin-1 no-break space
])
@pytest.mark.parametrize("declared", ["utf-8", "gb2312", None])
def test_utf8_with_a_stray_byte_is_still_utf8(stray, declared):
    parts = VSB_PAGE.split("BROKEN")
    body = parts[0].encode("utf-8") + stray + parts[1].encode("utf-8")
    headers = {"Content-Type": f"text/html; charset={declared}"} if declared else {"Content-Type": "text/html"}
    page = decode_html(body, headers)
    assert (page.encoding, page.method) == ("utf-8", "utf-8-repaired")
    assert "工商和土木类的参赛作品已经全部上传完毕" in page.text and "泰州广播电视大学" in page.text


def test_gbk_page_is_not_taken_for_broken_utf8():
    """GBK bytes break as UTF-8 at nearly every character: the declaration decides."""
    body = VSB_PAGE.replace("BROKEN", "").replace("UTF-8", "gbk").encode("gbk")
    page = decode_html(body, {"Content-Type": "text/html"})
    assert (page.encoding, page.method) == ("gb18030", "meta") and "参赛作品" in page.text


def test_extraction_reads_the_crawls_decoding_instead_of_decoding_again():
    """The spider decodes a page once and hands the DecodedPage on; extraction reads it and
    never the bytes again (given only the decoding, a GB2312 article is still extracted)."""
    from crawler.fixtures import server as fixture_server
    from pipelines.extract import extract_article
    body = fixture_server.fixture_file("pingqiao-gov", "/art/2021/7/12/art_1229_3456789.html").read_bytes()
    headers = {"content-type": "text/html; charset=gb2312"}
    decoded = decode_html(body, headers)
    assert decoded.encoding == "gb18030"
    with pytest.raises(ExtractionError):
        extract_article(b"", "http://pingqiao-gov.test/art/2021/7/12/art_1229_3456789.html", headers)
    article = extract_article(b"", "http://pingqiao-gov.test/art/2021/7/12/art_1229_3456789.html", headers,
                              decoded=decoded)
    assert article == extract_article(body, "http://pingqiao-gov.test/art/2021/7/12/art_1229_3456789.html",
                                      headers)
    assert article.encoding == "gb18030" and "平橋區2021年第三批重點項目集中開工" in article.title
