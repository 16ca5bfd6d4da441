"""The decoding chain: override -> BOM -> strict UTF-8 -> header -> meta -> detection."""
from __future__ import annotations

import codecs

import pytest

from pipelines.article import ExtractionError
from pipelines.decode import decode_html, header_value, normalize_codec

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
