"""Publication dates: meta, labelled lines near the title, URL, publish-time script variables; never widgets."""
from __future__ import annotations

import datetime as dt

import lxml.html
import pytest

from pipelines.extraction.dates import date_from_url, find_published, parse_date


@pytest.mark.parametrize("text,iso", [
    ("2021年7月12日", "2021-07-12"), ("2021-07-12", "2021-07-12"), ("2021/07/12", "2021-07-12"),
    ("2021.7.12", "2021-07-12"), ("2021-07-12 08:30", "2021-07-12T08:30"), ("2021年07月12日 08:30:15", "2021-07-12T08:30:15"),
    ("1990-01-01", None), ("2021-13-40", None), (f"{dt.date.today().year + 2}-01-01", None),
])
def test_parse_date(text, iso):
    assert parse_date(text) == iso


@pytest.mark.parametrize("url,iso", [
    ("http://www.sucheng.gov.cn/xwdt/202107/t20210712_4123456.html", "2021-07-12"),
    ("http://www.pingqiao.gov.cn/art/2021/7/12/art_1229_3456789.html", "2021-07-12"),
    ("http://news.example.cn/news/2020-06/28/content_88123.htm", "2020-06-28"),
    ("http://example.cn/a/20190910/123.html", "2019-09-10"),
    ("http://example.cn/xwdt/index.html", None),
])
def test_date_from_url(url, iso):
    assert date_from_url(url) == iso


def page(body: str, head: str = "") -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


def test_meta_pubdate_first():
    tree = page("<p>发布时间：2020-01-01</p>")
    assert find_published(tree, "http://x/", {"PubDate": "2021-07-12 08:30"}) == "2021-07-12T08:30"


def test_labelled_line_near_title_beats_today_widget_and_copyright():
    tree = page("""<div>今天是：2022年03月15日 星期二</div><h1>宿城区召开会议</h1>
        <div>發布日期: 2016-11-08</div><p>正文。</p><div>Copyright 2005-2022</div>""")
    assert find_published(tree, "http://x/", {}, title="宿城区召开会议") == "2016-11-08"


def test_meta_line_under_title_without_label():
    tree = page("<h2>工业开新局</h2><p>2021-07-12 来源:平桥区融媒体中心 作者:韩涛</p><p>正文。</p>")
    assert find_published(tree, "http://x/", {}, title="工业开新局") == "2021-07-12"


def test_script_dates_are_ignored():
    tree = page("<script>var d='2023-01-01';</script><h1>标题</h1><p>日期：2019-05-06</p>")
    assert find_published(tree, "http://x/", {}, title="标题") == "2019-05-06"


def test_url_when_page_has_no_date():
    tree = page("<h1>标题</h1><p>正文没有日期。</p>")
    assert find_published(tree, "http://x/art/2021/7/12/art_1_2.html", {}, title="标题") == "2021-07-12"


def test_plain_text_input():
    assert find_published("标题\n发布时间：2021年3月20日\n正文", "http://x/", None, title="标题") == "2021-03-20"


def test_clock_widget_is_not_a_date():
    from pipelines.extraction.dates import remove_clock_widgets
    tree = page('<span id="head_date">2022-03-15</span><script>var d=new Date();'
                "document.getElementById('head_date').innerHTML=d.getFullYear();</script><p>关于我们。</p>")
    assert remove_clock_widgets(tree) == 1
    assert "2022" not in tree.text_content().replace("getFullYear", "")


@pytest.mark.parametrize("script,iso", [
    ('var nickname = "未闻Code";\n    var ct = "1581418070";', "2020-02-11T18:47"),    # Unix time, read in China time
    ("var pubtime = '2021-07-12 08:30';", "2021-07-12T08:30"),
    ('if (x) {\n  publish_time = "2019年9月26日";\n}', "2019-09-26"),
    ('var items = [{"publishDate": "2019-09-07T05:51:23.000Z"}];', None),             # a listed item's own date
    ('document.write("<img src=/a.gif?ct=1581418070&r=1>");', None),                 # a cache buster, not a date
    ("var d = '2023-01-01'; var svr_time = \"1581605093\" * 1;", None),               # not a publish-time variable
])
def test_date_from_scripts(script, iso):
    from pipelines.extraction.dates import date_from_scripts
    tree = page(f"<script>{script}</script><h1>标题</h1><p>前天</p>")
    assert date_from_scripts(tree) == iso


def test_script_date_only_when_the_page_and_url_say_nothing():
    tree = page("<h1>标题</h1><p>日期：2019-05-06</p>")
    assert find_published(tree, "http://x/", {}, title="标题", script_date="2020-02-11") == "2019-05-06"
    bare = page("<h1>标题</h1><p>正文没有日期。</p>")
    assert find_published(bare, "http://x/a.html", {}, title="标题", script_date="2020-02-11") == "2020-02-11"
