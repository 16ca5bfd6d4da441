"""A site with no ``title:`` is shown by the name it gives itself (issue 21): the crawl reads
it from the start page (a SiteName meta, else the <title> without 首页 and slogans) and keeps
it in the index; ``newsmon status`` shows it, and an operator's ``title:`` still wins."""
from __future__ import annotations

import pytest

from conftest import run_newsmon
from index import open_index
from monitor.sitenames import own_name, own_names, site_titles, sync_titles
from web_server import copy_of


@pytest.mark.parametrize("head, name", [
    # TRS WCM government portal: the SiteName meta wins over a <title> with 首页 in it.
    ('<meta name="SiteName" content="宿迁市宿城区人民政府" /><title>首页 - 宿迁市宿城区人民政府门户网站</title>',
     "宿迁市宿城区人民政府"),
    ('<meta name="SiteName" content="" /><title>欢迎访问沭阳县人民政府网站首页</title>', "沭阳县人民政府"),
    ("<title>平桥区人民政府_首页</title>", "平桥区人民政府"),
    ("<title>首页｜信阳市平桥区人民政府</title>", "信阳市平桥区人民政府"),
    ("<title>激光制造网 - 激光行业门户</title>", "激光制造网"),                  # a slogan after the name
    ('<meta property="og:site_name" content="澎湃新闻" /><title>澎湃新闻-专注时政与思想</title>', "澎湃新闻"),
    ("<title>Home</title>", ""),                                                # no name to show
    ("<title></title>", ""),
])
def test_the_name_a_start_page_gives_its_site(head, name):
    page = f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">{head}</head><body><p>正文</p></body></html>'
    assert own_name(page) == name


def test_a_crawl_learns_each_sites_own_name_and_a_title_still_wins(crawl, tmp_path):
    # The session's crawl had a sites file with no title: at all.
    index_url = copy_of(crawl.index_url, tmp_path)
    with open_index(index_url) as index:
        learned = own_names(index.state)
        assert learned["sucheng-gov"] == "宿迁市宿城区人民政府"          # its SiteName meta
        assert learned["laser-industry"] == "激光制造网"                  # its <title>, slogan dropped
        assert learned["mianyang-news"] == "中国绵阳新闻网"
        sync_titles(index.state, {"laser-industry": "中国激光产业网"})     # the operator's title:
        titles = site_titles(index.state)
        assert titles["laser-industry"] == "中国激光产业网" and titles["sucheng-gov"] == "宿迁市宿城区人民政府"
        sync_titles(index.state, {})                                     # the title: removed again
        assert site_titles(index.state)["laser-industry"] == "激光制造网"
    status = run_newsmon("status", "--index", index_url)
    assert status.returncode == 0, status.stderr
    assert "宿迁市宿城区人民政府（sucheng-gov）" in status.stdout
