"""URL knowledge of government CMSs, offline: which links are articles or lists."""
import pytest

from crawler.links import classify_url, discover_links

@pytest.mark.parametrize("url, kind", [
    ("http://www.sucheng.gov.cn/xwdt/202107/t20210712_4123456.html", "article"),
    ("http://www.sucheng.gov.cn/xwdt/index_1.html", "list"),
    ("http://www.pingqiao.gov.cn/art/2021/7/12/art_1229_3456789.html", "article"),
    ("http://www.pingqiao.gov.cn/col/col1229/index.html?uid=4321&pageNum=2", "list"),
    ("http://www.my.gov.cn/news/2020-06/28/content_88123.htm", "article"),
    ("http://www.my.gov.cn/news/node_12_2.htm", "list"),
    ("http://www.xx.edu.cn/info/1012/12345.htm", "article"),
    ("http://www.laser.com/news/202011/14/show-52371.html", "article"),
    ("http://www.sucheng.gov.cn/about.html", "skip"),
    ("http://www.sucheng.gov.cn/contact.html", "skip"),
    ("http://www.sucheng.gov.cn/uploads/2021/附件.pdf", "skip"),
    ("http://www.sucheng.gov.cn/images/banner.jpg", "skip"),
    ("http://www.sucheng.gov.cn/search/index.html?q=1", "skip"),
])
def test_classify_common_cms_shapes(url, kind):
    assert classify_url(url) == kind


def test_discover_links_sees_hanweb_datastore_and_trs_pager():
    html = """<!DOCTYPE html><html><head><meta charset="gb2312"></head><body>
    <div id="4321"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1"></a>]]></nextgroup>
    <recordset><record><![CDATA[<li><a href="/art/2021/7/12/art_1229_3456789.html" target="_blank">平桥区重点项目集中开工</a><span>2021-07-12</span></li>]]></record>
    </recordset></datastore></script></div>
    <script>createPageHTML(3, 0, "index", "html");</script>
    <a href="javascript:void(0)">打印</a><a href="#top">顶部</a>
    <a href="../../xwdt/202107/t20210712_4123456.html?utm_source=wx#comments">新闻</a></body></html>"""
    links = dict(discover_links(html, "http://www.x.gov.cn/col/col1229/index.html"))
    assert "http://www.x.gov.cn/art/2021/7/12/art_1229_3456789.html" in links
    assert "http://www.x.gov.cn/col/col1229/index_1.html" in links
    assert "http://www.x.gov.cn/col/col1229/index_2.html" in links
    assert "http://www.x.gov.cn/xwdt/202107/t20210712_4123456.html" in links   # tracking + fragment gone
    assert not any(u.startswith("javascript") or "#" in u for u in links)
