"""Kinds of pages the held-out sets have: old table-layout portals, forum threads, blogs with
comments, book chapters, table bodies and video pages (built in ``tests/pageshapes.py``).

What each must give: the article's own paragraphs, once, in order; nothing refused that has
a body; comments, replies, footers never in the body.
"""
from __future__ import annotations

import pytest

import pageshapes as P
from pipelines.article import ExtractionError
from pipelines.extract import extract_article


def test_old_table_portal_gb2312_br_paragraphs():
    body = P.old_portal_page()
    assert b"charset=gb2312" in body and "防汛".encode("gb2312") in body
    art = extract_article(body, "http://www.xx.gov.cn/xwzx/gzdt/200506/t20050612_1108.htm")
    assert art.encoding == "gb18030"
    assert art.title == "我县召开2005年防汛抗旱工作会议"
    assert art.published == "2005-06-12"
    assert art.source == "县政府办公室"
    assert art.text.split("\n") == P.OLD_PORTAL_PARAS   # each <br> paragraph a line; no menu, no footer


def test_old_table_portal_without_declared_charset_or_content_class():
    """The same page as many old portals serve it: no charset anywhere, no class on the cell."""
    body = P.old_portal_page().replace(b' class="content"', b"").replace(b"; charset=gb2312", b"")
    art = extract_article(body, "http://www.xx.gov.cn/xwzx/gzdt/200506/t20050612_1108.htm")
    assert art.text.split("\n") == P.OLD_PORTAL_PARAS


def test_discuz_thread_keeps_the_first_post_and_drops_the_replies():
    art = extract_article(P.discuz_thread(), "http://bbs.example.cn/thread-51234-1-1.html")
    assert art.title == "去县政务服务中心办营业执照变更的经历"
    assert art.text.split("\n") == P.THREAD_POST
    for reply in P.REPLY_TEXTS:
        assert reply not in art.text
    assert "drop_forum_replies" in art.removed
    assert art.published and art.published.startswith("2023-05-22")   # the first post's 发表于


def test_blog_comments_are_not_the_body():
    """Sina blog, 2008: the readers' comments hold more prose than the post itself."""
    art = extract_article(P.sina_blog(), "http://blog.sina.com.cn/s/blog_4d2a2fe00100ab12.html")
    assert art.text.split("\n") == P.SINA_PARAS
    assert art.published and art.published.startswith("2008-09-01")


def test_wordpress_post_without_its_comment_list():
    art = extract_article(P.wordpress_post(), "https://blog.example.cn/2021/04/06/chayuan/")
    assert art.text.split("\n") == P.WP_PARAS
    assert not any(text in art.text for _, _, text in P.WP_COMMENTS)


def test_book_chapter_br_paragraphs():
    art = extract_article(P.chapter_page(), "http://www.example.cn/book/1234/3.html")
    assert art.title == "第三章 麦收"
    assert art.text.split("\n") == P.CHAPTER


def test_table_body_is_an_article_not_a_refusal():
    """A timetable: rows of unlinked text in the article container, no sentence among them."""
    art = extract_article(P.timetable_page(), "http://www.xx.gov.cn/tsjy/tyjy/202309/t20230904_1.html")
    lines = art.text.split("\n")
    assert lines[:len(P.timetable_lines())] == P.timetable_lines()   # a row per line, cells in order
    assert "主办单位" not in art.text and "打印本页" not in art.text


def test_video_page_with_only_a_footer_is_refused_not_the_footer():
    with pytest.raises(ExtractionError) as info:
        extract_article(P.video_page(), "http://www.xx.edu.cn/info/1021/2133.htm")
    assert info.value.reason == "no_body" and "video" in info.value.message


def test_video_page_with_a_description_keeps_it():
    description = ("本作品以诗歌朗诵的形式，讲述了改革开放以来家乡的巨大变化，" 
                   "配以作者在家乡拍摄的照片，表达了对美好生活的热爱。")
    body = P.video_page().replace("<ul><li>上一条".encode(), f"<p>{description}</p><ul><li>上一条".encode())
    art = extract_article(body, "http://www.xx.edu.cn/info/1021/2133.htm")
    assert description in art.text and "邮编" not in art.text


def test_dvbbs_thread_without_message_ids_keeps_the_first_post():
    """2005 dvbbs: a table per post, no ids; posts are found by their header lines
    (发表于 + date and time + 楼主/第N楼), the site's name comes first in <title>."""
    art = extract_article(P.dvbbs_thread(), "http://bbs.example.cn/dispbbs.asp?boardid=8&id=3388")
    assert art.encoding == "gb18030"
    assert art.title == "今年夏季化肥、种子价格和购买建议"
    assert art.published.startswith("2005-06-08")       # the post's 发表于, not its author's 注册 date
    assert art.text.split("\n") == P.DVBBS_POST           # no profile card, no reply


def test_trafilatura_reads_a_scope_of_the_page():
    """The headline's scope alone goes to trafilatura (a copy in an lxml.html document); an
    exception there would silently drop the candidate, so it is checked directly."""
    from pipelines.extraction.decode import decode_html
    from pipelines.extract import parse_html
    from pipelines.extraction.candidates import trafilatura_candidate
    tree = parse_html(decode_html(P.sina_blog()).text)
    scope = tree.find(".//div[@id='articlebody']")
    cand = trafilatura_candidate(tree, "http://blog.sina.com.cn/s/blog_4d2a2fe00100ab12.html", scope)
    assert cand is not None and P.SINA_PARAS[0] in "\n".join(cand.paragraphs)


def test_old_portal_with_site_name_title_and_bold_headline():
    art = extract_article(P.old_portal_plain_page(), "http://www.xx.gov.cn/news/2005612.htm")
    assert art.title == "我县召开2005年防汛抗旱工作会议"    # the emphasised line, not <title>
    assert art.published == "2005-06-12"
    assert art.text.split("\n") == P.OLD_PORTAL_PARAS    # the menu cell's links stay out
