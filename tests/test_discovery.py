"""Discovery from the page (issue 18): page type, list blocks, URL shapes, pagers, scope on
every hop and the dead-link budget -- as plain functions on realistic government HTML.
End to end on the generated CMS families: tests/test_discovery_families.py."""
from __future__ import annotations

import pytest

from crawler.budget import SiteBudget, article_priority, list_priority
from crawler.discovery import PAGE, SiteDiscovery
from crawler.pagers import is_paging_link, script_pages
from crawler.pagetype import ARTICLE, LIST, OTHER, classify_page
from crawler.scope import Scope, ScopeMiddleware, script_hops
from crawler.shapes import ShapeBook, shape_regex, url_shape
from crawler.sites import SiteConfig

CHROME_TOP = """<div class="top">您好，欢迎访问西乡县人民政府网站！<a href="/">首页</a> <a href="/wza/">无障碍</a></div>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/xwzx/">新闻中心</a></li>
<li><a href="/zwgk/">政务公开</a></li><li><a href="/bsfw/">办事服务</a></li><li><a href="/hdjl/">互动交流</a></li>
<li><a href="/xqgk/">县情概况</a></li></ul></div>"""
FOOTER = """<div class="footer"><p>主办：西乡县人民政府办公室 承办：西乡县大数据中心</p>
<p>地址：西乡县城关镇人民路1号 联系电话：0916-6212345 <a href="http://beian.miit.gov.cn/">陕ICP备05001234号</a></p></div>"""
PARAGRAPHS = [
    "6月24日上午，西乡县召开2018年上半年经济运行分析会，县委副书记、县长主持会议并讲话。",
    "会议听取了县发改局关于全县上半年经济运行情况的汇报，各镇、各部门负责同志逐一汇报了工作进展、存在问题及下半年打算。",
    "会议指出，今年以来，全县上下紧紧围绕年初确定的目标任务，稳增长、促改革、调结构、惠民生，经济运行总体平稳、稳中有进。",
    "会议要求，各镇各部门要正视差距，抢抓机遇，聚焦重点项目建设、招商引资、财税增收和民生保障，确保完成全年目标任务。",
]


def article_page(paragraphs=PARAGRAPHS, related=8) -> str:
    items = "".join(f'<li><a href="/zwyw/2018-06-{10 + i}/{i + 1}.html">西乡县召开第{i + 1}次常务会议研究部署近期重点工作</a></li>'
                    for i in range(related))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<html><head><title>西乡县召开上半年经济运行分析会_西乡县人民政府</title></head><body>{CHROME_TOP}
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwyw/">政务要闻</a> &gt; 正文</div>
<div class="main"><h1>西乡县召开上半年经济运行分析会</h1><div class="info">发布时间：2018-06-24 来源：县政府办 浏览次数：132</div>
<div class="content">{body}</div>
<div class="prevnext">上一篇：<a href="/zwyw/2018-06-23/3.html">县委理论学习中心组举行专题学习</a>
下一篇：<a href="/zwyw/2018-06-25/5.html">全县安全生产工作会议召开</a></div>
<div class="related"><h3>相关文章</h3><ul>{items}</ul></div></div>{FOOTER}</body></html>"""


def list_page(n=20, pager="") -> str:
    items = "".join(f'<li><a href="/zwyw/2018-06-{1 + i % 28:02d}/{i + 1}.html" title="t">西乡县第{i + 1}次'
                    f'推进乡村振兴重点工作调度会召开</a><span>2018-06-{1 + i % 28:02d}</span></li>'
                    for i in range(n))
    return f"""<html><head><title>政务要闻_西乡县人民政府</title></head><body>{CHROME_TOP}
<div class="position">当前位置：<a href="/">首页</a> &gt; 政务要闻</div>
<div class="main"><div class="left"><h3>新闻中心</h3><ul><li><a href="/zwyw/">政务要闻</a></li>
<li><a href="/bmdt/">部门动态</a></li><li><a href="/zhen/">镇办动态</a></li></ul></div>
<div class="right"><ul class="news_list">{items}</ul>{pager}</div></div>{FOOTER}</body></html>"""


# -- page type -------------------------------------------------------------------------

def test_an_article_reads_as_an_article_whatever_its_url():
    verdict = classify_page(article_page(), "http://xixiang.example/d/1466823.html")
    assert verdict.kind == ARTICLE, verdict.reason
    assert verdict.signals.dated and verdict.signals.link_density < 0.2
    assert verdict.signals.title.startswith("西乡县召开上半年经济运行分析会")


def test_a_list_page_reads_as_a_list_and_shows_its_block():
    verdict = classify_page(list_page(), "http://xixiang.example/zwyw/index.html")
    assert verdict.kind == LIST, verdict.reason
    [block] = verdict.title_blocks
    assert len(block.urls) == 20 and block.dated
    assert block.shape == "/zwyw/{yyyy}-{n}-{n}/{n}.html"


def test_a_menu_is_not_a_list_block_of_titles():
    verdict = classify_page(list_page(), "http://xixiang.example/zwyw/index.html")
    assert all("/xwzx/" not in url for block in verdict.title_blocks for url in block.urls)


def test_a_short_dated_notice_is_only_vouched_for_by_a_list_block():
    notice = article_page(paragraphs=["关于2018年度农机购置补贴资金兑付情况的公示，详见附件。"], related=0)
    verdict = classify_page(notice, "http://xixiang.example/zwyw/2018-06-24/4.html")
    assert verdict.kind == OTHER and verdict.short_notice


def test_an_empty_or_broken_page_is_other():
    assert classify_page("", "http://x/").kind == OTHER
    assert classify_page("<html><body><script>var a=1;</script></body></html>", "http://x/").kind == OTHER


def test_hidden_link_farms_are_not_read():
    farm = "".join(f'<a href="http://spam{i}.example/">澳门娱乐城官方网站在线注册{i}</a>' for i in range(40))
    html = list_page().replace("</body>", f'<div style="display:none">{farm}</div></body>')
    blocks = classify_page(html, "http://xixiang.example/zwyw/").blocks
    assert not [b for b in blocks if "spam" in b.urls[0]]


# -- URL shapes ----------------------------------------------------------------------------

@pytest.mark.parametrize("url, shape", [
    ("http://x/zwyw/2018-06-24/4.html", "/zwyw/{yyyy}-{n}-{n}/{n}.html"),
    ("http://x/xwdt/202107/t20210712_4123456.html", "/xwdt/{yyyymm}/t{yyyymmdd}_{n}.html"),
    ("http://x/d/1466823.html", "/d/{n}.html"),
    ("http://x/xwdt/2024/5/16/3f2a9c1d7e4b5a6c8d9e0f1a2b3c4d5e.shtml", "/xwdt/{yyyy}/{n}/{n}/{hex}.shtml"),
    ("http://x/show.asp?id=312", "/show.asp?id={n}"),
    ("http://x/gkmlpt/content/3/3457/post_3457123.html", "/gkmlpt/content/{n}/{n}/post_{n}.html"),
    ("http://x/info/1012/12345.htm", "/info/{n}/{n}.htm"),
    ("http://x/jyxx/002001/002001001/20210705/0b4c9dcc-39a6-4017-b7b2-1540d8e6f8b5.html",
     "/jyxx/{n}/{n}/{yyyymmdd}/{hex}.html"),          # Epoint: category numbers, a date, a uuid
    ("http://x/jyxx/002002/002002001/002002001001/20210705/12345678-9abc-4def-8123-456789abcdef.html",
     "/jyxx/{n}/{n}/{n}/{yyyymmdd}/{hex}.html"),
])
def test_url_shapes_generalise_ids_dates_and_hex(url, shape):
    assert url_shape(url) == shape
    path = url.split("://", 1)[1].split("/", 1)[1]
    assert shape_regex(shape).match("/" + path)


def test_words_stay_words_in_a_shape():
    assert url_shape("http://x/about/added.html") == "/about/added.html"


def test_a_shape_is_trusted_once_its_pages_read_as_articles_and_kept_for_the_next_run():
    book = ShapeBook()
    urls = [f"http://x/d/{n}.html" for n in range(1466800, 1466812)]
    book.vote(urls)
    assert book.is_article(urls[0]) and not book.trusted(urls[0])
    book.saw(urls[0], ARTICLE)
    book.saw(urls[1], ARTICLE)
    assert book.trusted(urls[5])
    again = ShapeBook.from_doc(book.to_doc())
    assert again.trusted("http://x/d/1.html") and again.trusted_shapes() == ["/d/{n}.html"]


def test_a_block_of_column_links_is_refuted_by_its_pages():
    book = ShapeBook()
    cols = [f"http://x/col/col{n}/" for n in range(10, 16)]
    book.vote(cols)
    book.saw(cols[0], LIST)
    book.saw(cols[1], LIST)
    assert book.is_refuted(cols[3]) and not book.is_article(cols[3])


# -- discovery: the spider's reading of a page ---------------------------------------------

def site(**kw) -> SiteConfig:
    return SiteConfig(name="xixiang", start_urls=("http://xixiang.example/",), **kw)


def discovery(**kw) -> SiteDiscovery:
    s = site(**kw)
    return SiteDiscovery(s, Scope.of(s.start_urls, s.allowed_prefixes))


def test_list_block_links_are_followed_as_vouched_pages_and_their_pages_decide():
    d = discovery()
    reading = d.read(list_page(), "http://xixiang.example/zwyw/index.html", "list")
    vouched = [l for l in reading.links if l.vouched]
    assert len(vouched) == 20 and all(l.kind == PAGE for l in vouched)
    page = d.read(article_page(), vouched[0].url, PAGE, vouched=True)
    assert page.article
    d.read(article_page(), vouched[1].url, PAGE, vouched=True)
    assert d.link_kind(vouched[5].url) == "article"      # the shape is now trusted


def single_page(meta: str = "") -> str:
    """学校简介-like: long prose, reached from the navigation, no date."""
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS * 3)
    return f"""<html><head><title>县情简介_西乡县人民政府</title></head><body>{CHROME_TOP}
<div class="main"><h1>县情简介</h1>{meta}<div class="content">{body}</div></div>{FOOTER}</body></html>"""


def teaser_list(n=8) -> str:
    items = "".join(f'<li><p class="t"><a href="/info/1027/{4391 + i}.html">西乡县第{i + 1}次推进乡村振兴重点工作调度会召开</a></p>'
                    f'<p class="d"><span>2021年04月{10 + i}日</span>{PARAGRAPHS[i % 4]}...</p></li>' for i in range(n))
    return f"""<html><head><title>通知公告_西乡县人民政府</title></head><body>{CHROME_TOP}
<div class="main"><ul>{items}</ul></div>{FOOTER}</body></html>"""


def test_prose_alone_is_not_an_article_a_meta_line_or_a_vouching_list_is():
    d = discovery()
    assert classify_page(single_page(), "http://xixiang.example/xqgk/xqjj.html").kind == ARTICLE
    assert not d.read(single_page(), "http://xixiang.example/xqgk/xqjj.html", PAGE).article
    dated = single_page('<div class="info">发布时间：2021-07-12 来源：县政府办</div>')
    assert classify_page(dated, "http://x/").signals.meta_lines == 1
    assert d.read(dated, "http://xixiang.example/xqgk/xqjj.html", PAGE).article


def test_a_list_with_teasers_is_a_list_and_its_dates_are_its_items():
    verdict = classify_page(teaser_list(), "http://xixiang.example/xwgg/tzgg.html")
    assert verdict.kind == LIST and not verdict.signals.dated, verdict.reason
    assert verdict.signals.item_prose * 2 >= verdict.signals.prose_chars


def test_a_link_a_list_block_held_earlier_is_vouched_when_its_page_comes():
    d = discovery()
    notice = article_page(paragraphs=["关于2018年度农机购置补贴资金兑付情况的公示，详见附件。"], related=0)
    url = "http://xixiang.example/zwyw/2018-06-05/5.html"
    assert not d.read(notice, url, PAGE).article            # no list has held it yet
    d.read(list_page(), "http://xixiang.example/zwyw/index.html", "list")     # holds /5.html
    assert d.read(notice, url, PAGE).article                 # queued unvouched, read vouched


def test_an_articles_own_next_page_is_followed_as_vouched():
    html = article_page().replace("</body>", '<div class="page"><a href="12308_2.html">2</a></div></body>')
    reading = discovery().read(html, "http://xixiang.example/zcfg/12308.html", "article")
    [nxt] = [l for l in reading.links if l.url.endswith("12308_2.html")]
    assert nxt.kind == PAGE and nxt.vouched


def test_a_site_pattern_keeps_content_from_deciding():
    d = discovery(article_url_pattern=r"/zwyw/2018-06-2\d/")
    assert not d.read(article_page(), "http://xixiang.example/zwyw/2018-05-01/9.html", PAGE).article


def test_offsite_script_hops_are_reported_not_followed():
    html = list_page().replace("</body>", """<script>document.write('<meta http-equiv="refresh" content="0;url=http://other.example/gk/">');
window.location.href = "http://other.example/bs/";</script></body>""")
    reading = discovery().read(html, "http://xixiang.example/zwyw/index.html", "list")
    assert sorted(reading.offsite) == [("http://other.example/bs/", "script_location"),
                                      ("http://other.example/gk/", "script_meta_refresh")]
    assert not [l for l in reading.links if "other.example" in l.url]


# -- pagers --------------------------------------------------------------------------------

@pytest.mark.parametrize("script, expected", [
    ('createPageHTML(4, 0, "index", "html");', ["index.html", "index_1.html", "index_2.html", "index_3.html"]),
    ("createPageHTML('page_div',3,1,'index','html',20);", ["index.html", "index_1.html", "index_2.html"]),
    ("var p = new Pager({size:3,current:0,prefix:'index',suffix:'shtml'});",
     ["index.shtml", "index_1.shtml", "index_2.shtml"]),
    ("Pager({size:16,count:45,current:1,prefix:'index'})", ["index.html", "index_1.html", "index_2.html"]),
    ('var currentPage = 0;//所在页从0开始\nvar countPage = 2//共多少页\ncreatePageHTML(countPage, currentPage, "index", "shtml");',
     ["index.shtml", "index_1.shtml"]),
    ("setTimeout(function(){ show(3, 'abc', 'html'); }, 100); Math.max(3, 4);", []),
])
def test_script_pagers_whatever_the_function_is_called(script, expected):
    got = script_pages(f"<div class=page><script>{script}</script></div>", "http://x/xwdt/index.html")
    assert got == ["http://x/xwdt/" + p for p in expected]


LAYPAGE = """layui.use('laypage', function () { var laypage = layui.laypage;
  laypage.render({ elem: 'page', count: %d, limit: 12, curr: %d, layout: ['count', 'prev', 'page', 'next'],
    jump: function (obj, first) { if (!first) { window.location.href = obj.curr == 1 ? 'moreinfo.html' : obj.curr + '.html'; } } });
});"""
ZERO_BASED = """$('#page').pagination({ pageIndex: %d, pageSize: 10, total: 40, showInfo: true, infoFormat: '共{total}条' });
$('#page').on('pageClicked', function (event, data) {
    location.href = '?categoryNum=004001002&pageIndex=' + (data.pageIndex + 1); });"""
VARIABLES = """var pageIndex = 1;   // 当前页
var pageSize = 10;
var total = 58;
pageing('pagination', total, pageSize, pageIndex, function (p) { location.href = p == 1 ? 'moreinfo.html' : p + '.html'; });"""


@pytest.mark.parametrize("script, url, expected", [
    (LAYPAGE % (98, 1), "http://x/jyxx/002001/002001001/moreinfo.html",       # 98 records, 12 a page: 9 pages
     [f"http://x/jyxx/002001/002001001/{n}.html" for n in range(2, 10)]),
    (LAYPAGE % (98, 5), "http://x/jyxx/002001/002001001/5.html",
     [f"http://x/jyxx/002001/002001001/{n}.html" for n in range(6, 10)]),
    (ZERO_BASED % 0, "http://x/xxgk/showinfo/moreinfo.aspx?categoryNum=004001002",
     [f"http://x/xxgk/showinfo/moreinfo.aspx?categoryNum=004001002&pageIndex={n}" for n in (2, 3, 4)]),
    (ZERO_BASED % 2, "http://x/xxgk/showinfo/moreinfo.aspx?categoryNum=004001002&pageIndex=3",
     ["http://x/xxgk/showinfo/moreinfo.aspx?categoryNum=004001002&pageIndex=4"]),
    (VARIABLES, "http://x/jyxx/002002/002002001/moreinfo.html",
     [f"http://x/jyxx/002002/002002001/{n}.html" for n in range(2, 7)]),
    # not pagers: a counter joined to a picture, a slideshow's index, a total printed as text
    ("var total = 30, size = 10; for (var i = 0; i < 3; i++) { img.src = '/images/banner' + i + '.png'; }",
     "http://x/index.html", []),
    ("var count = 5, limit = 1; $('#info').text('共' + count + '条');", "http://x/index.html", []),
    # DedeCMS's picture-set slides: the previous one, and the next one with a fragment
    ("var totalpage = 5; function pre() { location.href = 'view.php?aid=51499&pageno=' + (npage - 1) + '#pictu'; }"
     "function next() { location.href = 'view.php?aid=51499&pageno=' + (npage + 1) + '#pictu'; }",
     "http://x/2019/1129/51499.html", []),
    # SiteServer's search box: a query piece appended to a longer string
    ("var pageCount = 10; function go(page) { var parameters = ''; parameters += 'page=' + page;"
     " location.href = location.pathname + '?' + parameters; }", "http://x/utils/search.html", []),
    # a list loaded as JSON pages: the suffix is a piece of a file name, not a page
    ("var pagecount = 4375; function next() { current = current + 1; ext = '_' + current; load(ext); }",
     "http://x/jxzyk/yy/index.html", []),
])
def test_script_pagers_that_build_each_url_from_the_page_number(script, url, expected):
    assert script_pages(f"<div class=ewb-page id=page></div><script>{script}</script>", url) == expected


def test_an_articles_scripts_name_no_numbered_pages():
    """A picture set builds its slides' URLs as a list pager builds its pages: only a page
    read as a list is asked for them."""
    html = f"<div class=ewb-page id=page></div><script>{VARIABLES}</script>"
    assert script_pages(html, "http://x/jyxx/002002/002002001/moreinfo.html", numbered=False) == []


def test_a_link_named_by_a_file_is_an_attachment_not_a_page():
    attach = ('<div class="ewb-article-attach"><a href="/EpointWebBuilder/pages/webbuildermis/attach/'
              'downloadztbattach.jspx?attachGuid=0b4c9dcc-39a6-4017-b7b2-1540d8e6f8b5&amp;appUrlFlag=ztb001">'
              '道路提质改造工程招标文件.pdf</a> <a href="/attach/view.jsp?id=12">附件2：报名表.docx</a></div>')
    reading = discovery().read(list_page().replace("</ul>", "</ul>" + attach), "http://xixiang.example/zwyw/", "list")
    assert not [l for l in reading.links if "attach" in l.url]
    assert reading.skipped >= 2


def test_paging_links_by_anchor_and_by_url():
    assert is_paging_link("http://x/list.asp?classid=3", "http://x/list.asp?classid=3&page=2")
    assert is_paging_link("http://x/zwyw/index.html", "http://x/zwyw/list_9.html", "尾页")
    assert not is_paging_link("http://x/news/node_12.htm", "http://x/news/node_13.htm")


# -- scope on every hop --------------------------------------------------------------------

class _Stats:
    def __init__(self):
        self.values = {}

    def inc_value(self, key, n=1):
        self.values[key] = self.values.get(key, 0) + n


def _middleware():
    from netsafety.addresses import AllowList
    mw = ScopeMiddleware(_Stats(), AllowList.parse("127.0.0.1"))
    mw.scopes = {"xixiang": Scope.of(["http://xixiang.example/"])}
    return mw


@pytest.mark.parametrize("reasons, how", [([302], "redirect"), (["meta refresh"], "meta_refresh")])
def test_a_hop_off_the_site_is_dropped_before_robots_or_dns_and_counted(reasons, how):
    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest
    mw = _middleware()
    hop = Request("http://other.example/zt/", meta={"site": "xixiang", "redirect_reasons": reasons,
                                                     "redirect_urls": ["http://xixiang.example/zt/"]})
    with pytest.raises(IgnoreRequest):
        mw.process_request(hop)
    assert mw.stats.values == {f"newsmon/offsite/{how}": 1, f"newsmon/site/xixiang/offsite/{how}": 1}
    # same host, other port or scheme: another origin
    for url in ("http://xixiang.example:8080/a.html", "https://xixiang.example/a.html"):
        with pytest.raises(IgnoreRequest):
            mw.process_request(Request(url, meta={"site": "xixiang", "redirect_reasons": [301]}))
    assert mw.process_request(Request("http://xixiang.example/zwyw/", meta={"site": "xixiang"})) is None


def test_an_unsafe_target_is_left_to_network_safety():
    from scrapy import Request
    mw = _middleware()
    for url in ("http://169.254.169.254/latest/", "http://localhost/", "ftp://xixiang.example/"):
        assert mw.process_request(Request(url, meta={"site": "xixiang", "redirect_reasons": [302]})) is None


def test_script_hops_are_found_in_scripts_only():
    html = """<p>location.href = "http://text.example/" is only text</p>
<script>if (mobile) { window.location.replace('/m/index.html'); }</script>"""
    assert script_hops(html, "http://xixiang.example/") == [("http://xixiang.example/m/index.html",
                                                             "script_location")]


# -- the budget ----------------------------------------------------------------------------

def test_dead_links_give_their_place_back_and_a_dead_family_is_given_up():
    budget = SiteBudget(max_pages=10)
    for n in range(10):
        budget.take()
    assert budget.exhausted()
    given_up = [budget.failed(f"http://x/gd/{n}.html", "http_404") for n in range(20)]
    assert not budget.exhausted()                       # errors do not spend the page budget
    assert given_up[-1] == "/gd/{n}.html" and not any(given_up[:-1])
    assert budget.family_dead("http://x/gd/999.html") and not budget.family_dead("http://x/d/1.html")


def test_a_family_with_live_pages_between_its_dead_ones_is_kept():
    budget = SiteBudget()
    for n in range(100):
        if n % 10 == 0:
            budget.answered(f"http://x/d/{n}.html")
        else:
            budget.failed(f"http://x/d/{n}.html", "http_404")
    assert not budget.family_dead("http://x/d/1.html")


def test_errors_have_a_budget_of_their_own():
    budget = SiteBudget(max_pages=5, max_errors=2)
    for n in range(5):
        budget.take()
    for n in range(4):
        budget.failed(f"http://x/{n}.html", "timeout")
    assert budget.spent == 3


def test_lists_and_the_newest_articles_come_first():
    assert list_priority(1, None) > list_priority(1, 5) > article_priority(None, 0)
    assert article_priority(None, 0) > article_priority(None, 30) > article_priority(3, 0)


# -- learned shapes are kept for the next run and shown in status ---------------------------

def test_learned_shapes_are_kept_and_shown_by_status(tmp_path):
    from crawler.commands.status import format_status
    from crawler.shape_memory import ShapeMemory
    from index import open_index
    from monitor.health import source_status

    index = open_index(f"sqlite:///{tmp_path}/newsmon.db")
    try:
        class Spider:
            discovery = {"xixiang": discovery()}
        memory = ShapeMemory(lambda: index.state)
        memory.spider_opened(Spider)
        d = Spider.discovery["xixiang"]
        for n in (1466823, 1466824):
            d.read(article_page(), f"http://xixiang.example/d/{n}.html", PAGE)
        memory.spider_closed(Spider)

        nextrun = type("Spider", (), {"discovery": {"xixiang": discovery()}})
        ShapeMemory(lambda: index.state).spider_opened(nextrun)
        assert nextrun.discovery["xixiang"].link_kind("http://xixiang.example/d/1.html") == "article"
        [status] = source_status(index, ["xixiang"])
        assert status.to_dict()["article_shapes"] == ["/d/{n}.html"]
        assert "xixiang: 文章网址形态 article URL shapes: /d/{n}.html" in format_status([status])
    finally:
        index.close()
