"""Feeds and sitemaps as extra sources (issue 18, item 5): crawler.feeds reads them, the
spider admits their entries like links (end to end: test_discovery_families, EmpireCMS);
and the page budget the spider and BudgetMiddleware share through the crawler."""
from __future__ import annotations

import gzip

from crawler.budget import Budgets, BudgetMiddleware, DeadFamily, SiteBudget, budgets_of
from crawler.feeds import feed_entries, feed_urls, read_sitemap
from crawler.pagetype import parse_tree

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>
<item><title>一</title><link>http://x.gov.cn/a/1.html?utm_source=rss</link></item>
<item><title>二</title><guid>http://x.gov.cn/a/2.html</guid></item>
<item><title>三</title><link>/a/3.html</link></item></channel></rss>""".encode()
ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry>
<link rel="alternate" href="http://x.gov.cn/b/1.html"/><link rel="enclosure" href="http://x.gov.cn/b/1.mp3"/></entry>
<entry><link href="http://x.gov.cn/b/2.html"/></entry></feed>"""
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def test_a_page_announces_its_feeds_in_its_head():
    tree = parse_tree('<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
                      '<link rel="stylesheet" href="/s.css"><link rel="alternate" hreflang="en" href="/en/">'
                      '</head><body></body></html>', "http://x.gov.cn/zwyw/")
    assert feed_urls(tree, "http://x.gov.cn/zwyw/") == ["http://x.gov.cn/rss.xml"]


def test_rss_and_atom_entries_in_feed_order():
    assert feed_entries(RSS, "http://x.gov.cn/rss.xml") == [
        "http://x.gov.cn/a/1.html", "http://x.gov.cn/a/2.html", "http://x.gov.cn/a/3.html"]
    assert feed_entries(ATOM, "http://x.gov.cn/atom.xml") == ["http://x.gov.cn/b/1.html", "http://x.gov.cn/b/2.html"]
    assert feed_entries(b"<html>not a feed", "http://x/") == []


def test_a_sitemap_newest_first_an_index_names_sitemaps_gzip_too():
    urlset = (f'<?xml version="1.0"?><urlset {NS}><url><loc>http://x.gov.cn/old.html</loc><lastmod>2019-01-02'
              '</lastmod></url><url><loc>http://x.gov.cn/undated.html</loc></url><url><loc>http://x.gov.cn/new.html'
              '</loc><lastmod>2024-06-01T08:00:00+08:00</lastmod></url></urlset>').encode()
    assert read_sitemap(urlset, "http://x.gov.cn/sitemap.xml").pages == [
        "http://x.gov.cn/new.html", "http://x.gov.cn/old.html", "http://x.gov.cn/undated.html"]
    index = f'<sitemapindex {NS}><sitemap><loc>http://x.gov.cn/s1.xml.gz</loc></sitemap></sitemapindex>'.encode()
    found = read_sitemap(gzip.compress(index), "http://x.gov.cn/sitemap.xml.gz")
    assert found.sitemaps == ["http://x.gov.cn/s1.xml.gz"] and found.pages == []


def test_an_entity_bomb_is_not_expanded():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b'<urlset><url><loc>http://x/&b;</loc></url></urlset>')
    assert all(len(u) < 100 for u in read_sitemap(bomb, "http://x/s.xml").pages)


class _Crawler:
    class stats:
        values: dict = {}

        @classmethod
        def inc_value(cls, key, count=1, start=0):
            cls.values[key] = cls.values.get(key, start) + count


class _Request:
    def __init__(self, url, kind="article"):
        self.url, self.meta = url, {"site": "s", "kind": kind}


def test_the_budget_middleware_reads_the_crawls_budgets_not_the_spider():
    crawler = _Crawler()
    budgets = budgets_of(crawler)
    assert budgets_of(crawler) is budgets and isinstance(budgets, Budgets)
    budgets["s"] = SiteBudget(dead_run=2)
    for n in range(2):
        budgets["s"].failed(f"http://x/d/{n}.html", "http_404")
    middleware = BudgetMiddleware.from_crawler(crawler)
    try:
        middleware.process_request(_Request("http://x/d/9.html"))
        raise AssertionError("a dead family's request went out")
    except DeadFamily:
        pass
    assert middleware.process_request(_Request("http://x/d/index_9.html", kind="list")) is None
