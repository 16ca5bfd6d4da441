"""Short pages the crawl has evidence for (issue 18): a one-sentence notice or an attachment-only
notice reached from a site's dated list block is an article, indexed with its title and the
text it has; a column page reached from the menu, with as little text, is still refused.

The pages are a VSB (博达) site's templates as they are served: a column list (``list.jsp``
style ``<ul class="list">`` of dated titles), detail pages (``info/C/N.html``, a meta line
``时间：… 点击：``, ``上一条/下一条``, the footer) and a single-page column reached from the menu.
The crawl's path is followed as the spider follows it: ``SiteDiscovery.read`` of the list,
then of the page, ``SiteDiscovery.evidence`` for it, and ``extract_article`` with that evidence.
"""
from __future__ import annotations

import pytest

from crawler.discovery import SiteDiscovery
from crawler.scope import Scope
from crawler.sites import SiteConfig
from pipelines.article import CrawlEvidence, ExtractionError, ExtractOptions
from pipelines.extract import extract_article

SITE = "http://www.tzdx.example.cn"
MENU = """<div class="nav"><ul>
<li><a href="/index.html">首页</a></li><li><a href="/xxgk/xxjj.html">学校概况</a></li>
<li><a href="/xwzx.html">新闻中心</a></li><li><a href="/tzgg.html">通知公告</a></li>
<li><a href="/bsfw.html">办事服务</a></li></ul></div>"""
FOOTER = """<div class="foot"><p>地址：泰州市海陵区东进东路18号&nbsp; 邮编：225300</p>
<p>版权所有：泰州广播电视大学&nbsp;&nbsp;技术支持：信息技术中心</p></div>"""

NOTICES = [  # (column, id, title, date)
    ("1011", "1059", "参赛作品上传进度10.11", "2014-10-11"),
    ("1011", "1058", "参赛作品上传进度10.09", "2014-10-09"),
    ("1011", "1057", "关于公布第二届微课比赛初赛结果的通知", "2014-09-28"),
    ("1011", "1056", "2014年秋季学期开学工作安排", "2014-09-01"),
    ("1011", "1055", "关于做好2014年暑期安全工作的通知", "2014-07-08"),
]


def _page(title: str, main: str) -> bytes:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<title>{title}-泰州广播电视大学</title>
<link type="text/css" href="/style/vsb.css" rel="stylesheet" />
<script type="text/javascript" src="/system/resource/js/counter.js"></script>
</head><body>
<div class="top"><img src="/images/logo.png" alt="泰州广播电视大学" /></div>
{MENU}
<div class="main">{main}</div>
{FOOTER}
</body></html>""".encode("utf-8")


def column_list() -> bytes:
    items = "\n".join(f'<li><a href="/info/{c}/{n}.html" target="_blank" title="{t}">{t}</a>'
                      f'<span>{d}</span></li>' for c, n, t, d in NOTICES)
    return _page("赛事通知", f"""<div class="position">当前位置：<a href="/index.html">首页</a> &gt;&gt;
<a href="/tzgg.html">赛事通知</a></div>
<div class="list"><ul>
{items}
</ul></div>
<div class="pb_sys_common">共5条&nbsp;&nbsp;1/1</div>""")


def detail(title: str, date: str, body: str) -> bytes:
    return _page(title, f"""<div class="position">当前位置： <a href="/index.html">首页</a> &gt;&gt;
<a href="/tzgg.html">新闻通知</a> &gt;&gt; <a href="/tzgg.html">赛事通知</a> &gt;&gt; 正文</div>
<form name="_newscontent_fromname"><div class="content">
<h1>{title}</h1>
<div class="info">{date.replace("-", "年", 1).replace("-", "月")}日 17:30&nbsp;&nbsp;点击：[<script>_showDynClicks("wbnews", 1190, 1059)</script>]</div>
<div id="vsb_content"><div class="v_news_content">{body}</div></div>
<div class="next"><p>上一条：<a href="/info/1011/1060.html">参赛作品上传进度10.13</a></p>
<p>下一条：<a href="/info/1011/1058.html">参赛作品上传进度10.09</a></p></div>
<div class="close">【<a href="javascript:window.close()">关闭</a>】</div>
</div></form>""")


def short_notice() -> bytes:
    return detail("参赛作品上传进度10.11", "2014-10-11",
                  "<p>截止10月11日，工商和土木类的参赛作品已经全部上传完毕！</p>")


def attachment_notice() -> bytes:
    return detail("关于公布第二届微课比赛初赛结果的通知", "2014-09-28",
                  '<p>附件：<a href="/system/_content/download.jsp?urltype=news.DownloadAttachUrl&amp;'
                  'owner=1190&amp;wbfileid=2301">第二届微课比赛初赛结果.xls</a></p>')


def column_page() -> bytes:
    """A single-page column from the menu, with about as little text as the notice."""
    return _page("学校概况", """<div class="position">当前位置： <a href="/index.html">首页</a> &gt;&gt; 学校概况</div>
<div class="left"><ul><li><a href="/xxgk/xxjj.html">学校简介</a></li><li><a href="/xxgk/ldbz.html">领导班子</a></li>
<li><a href="/xxgk/jgsz.html">机构设置</a></li></ul></div>
<div class="content"><h1>学校概况</h1><p>本栏目正在建设中，敬请关注！</p></div>""")


@pytest.fixture
def discovery() -> SiteDiscovery:
    site = SiteConfig(name="tzdx", start_urls=[SITE + "/index.html"])
    found = SiteDiscovery(site, Scope.of(site.start_urls, site.allowed_prefixes))
    listing = found.read(column_list().decode(), SITE + "/tzgg.html", "list")
    assert {link.url for link in listing.links if link.vouched} >= {SITE + f"/info/{c}/{n}.html"
                                                                     for c, n, _t, _d in NOTICES}
    return found


def _evidence(discovery: SiteDiscovery, url: str, body: bytes, fetched_as: str, anchor: str) -> CrawlEvidence:
    discovery.read(body.decode(), url, fetched_as, url in discovery.vouched)
    return discovery.evidence(url, url in discovery.vouched, anchor)


def test_a_short_notice_reached_from_a_list_block_is_indexed(discovery):
    url = SITE + "/info/1011/1059.html"
    evidence = _evidence(discovery, url, short_notice(), "page", "参赛作品上传进度10.11")
    assert evidence.list_block and evidence
    with pytest.raises(ExtractionError) as refused:    # on its own text alone: too short
        extract_article(short_notice(), url)
    assert refused.value.reason == "no_body"
    art = extract_article(short_notice(), url, options=ExtractOptions(evidence=evidence))
    assert art.title == "参赛作品上传进度10.11"
    assert art.published and art.published.startswith("2014-10-11")
    assert art.text == "截止10月11日，工商和土木类的参赛作品已经全部上传完毕！"   # no menu, 上一条 or footer


def test_an_attachment_only_notice_is_indexed_with_its_title(discovery):
    url = SITE + "/info/1011/1057.html"
    evidence = _evidence(discovery, url, attachment_notice(), "page", "关于公布第二届微课比赛初赛结果的通知")
    art = extract_article(attachment_notice(), url, options=ExtractOptions(evidence=evidence))
    assert art.title == "关于公布第二届微课比赛初赛结果的通知"
    assert art.published and art.published.startswith("2014-09-28")
    assert "上一条" not in art.text and "版权所有" not in art.text


def test_a_column_page_with_as_little_text_is_still_refused(discovery):
    url = SITE + "/xxgk/xxjj.html"
    evidence = _evidence(discovery, url, column_page(), "page", "学校概况")
    assert not evidence                           # a menu link: no list block, no article shape
    with pytest.raises(ExtractionError) as refused:
        extract_article(column_page(), url, options=ExtractOptions(evidence=evidence))
    assert refused.value.reason == "no_body"


def test_a_list_page_the_crawl_vouched_for_stays_a_list(discovery):
    """Evidence for the URL does not make a list of links an article."""
    url = SITE + "/info/1011/1054.html"
    evidence = CrawlEvidence("learned_shape", True, "赛事通知")
    with pytest.raises(ExtractionError) as refused:
        extract_article(column_list(), url, options=ExtractOptions(evidence=evidence))
    assert refused.value.reason == "no_body"


@pytest.mark.parametrize("anchor, title, names", [
    ("参赛作品上传进度10.11", "参赛作品上传进度10.11", True),
    ("关于公布第二届微课比赛初赛结果…", "关于公布第二届微课比赛初赛结果的通知", True),
    ("2014-10-11 参赛作品上传进度10.11", "参赛作品上传进度10.11", True),
    ("通知公告", "参赛作品上传进度10.11", False),
])
def test_a_link_text_names_a_title_whole_or_cut_short(anchor, title, names):
    from pipelines.extraction.evidence import anchor_names_title
    assert anchor_names_title(anchor, title) is names


def test_probe_says_why_a_short_page_is_indexed_or_refused():
    """``newsmon sites probe URL`` on a detail page: indexed as a short page and on what
    evidence (its URL's known CMS shape, its date), or refused and why."""
    from crawler.probe import page_as_article
    said = page_as_article(short_notice(), SITE + "/info/1011/1059.html")
    assert said.startswith("短文章：《参赛作品上传进度10.11》") and "已知 CMS 文章形状" in said and "页面有日期" in said
    said = page_as_article(column_page(), SITE + "/xxgk/xxjj.html")
    assert said.startswith("不作为文章：") and "(no_body)" not in said and "（no_body）" in said


def standards_notice() -> bytes:
    """A 公告 whose body is the list of the standards it publishes, each a PDF."""
    items = "\n".join(
        f'<p><a href="/uploadfiles/2017/01/GB23200.{i}-2016.pdf">GB 23200.{i}-2016食品安全国家标准 '
        f'除草剂残留量检测方法 第{i}部分：{what}</a></p>'
        for i, what in enumerate(["气相色谱-质谱法测定 粮谷及油籽中酰胺类除草剂残留量",
                                  "气相色谱-质谱法测定 粮谷及油籽中二苯醚类除草剂残留量",
                                  "液相色谱-质谱/质谱法测定 食品中环己酮类除草剂残留量",
                                  "气相色谱-质谱/质谱法测定 食品中芳氧苯氧丙酸酯类除草剂残留量",
                                  "液相色谱-质谱/质谱法测定 食品中硫代氨基甲酸酯类除草剂残留量",
                                  "液相色谱-质谱/质谱法测定 食品中杀草强残留量"], 1))
    return detail("食品中农药最大残留限量（GB 2763-2016）（公告 2016年第16号）", "2017-01-19",
                  "<p>国家卫生和计划生育委员会 中华人民共和国农业部</p><p>公告 2016年第16号</p>"
                  "<p>根据《中华人民共和国食品安全法》规定，经食品安全国家标准审评委员会审查通过，现发布"
                  "《食品安全国家标准食品中农药最大残留限量》等107项食品安全国家标准。其编号和名称如下：</p>" + items)


def test_a_notice_listing_its_documents_is_an_article_when_its_link_names_it():
    url = SITE + "/info/1011/7082.html"
    title = "食品中农药最大残留限量（GB 2763-2016）（公告 2016年第16号）"
    with pytest.raises(ExtractionError):      # on the page alone: mostly link lines, a list
        extract_article(standards_notice(), url)
    art = extract_article(standards_notice(), url,
                          options=ExtractOptions(evidence=CrawlEvidence("learned_shape", True, title)))
    assert art.title == title and art.published and art.published.startswith("2017-01-19")
    assert "GB 23200.6-2016食品安全国家标准" in art.text


def test_a_page_named_in_a_block_of_titles_without_an_article_shape_is_still_refused():
    """A block of a site's sub-sites or journals has title-length names too, and a sub-site's
    front page is titled with its name: the link text naming the title is not enough."""
    url = SITE + "/xxgk/xxjj.html"
    with pytest.raises(ExtractionError) as refused:
        extract_article(column_page(), url, options=ExtractOptions(evidence=CrawlEvidence(None, True, "学校概况")))
    assert refused.value.reason == "no_body"
