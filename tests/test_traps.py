"""Spider-trap rules (``crawler.traps``): one URL per page, endless URL spaces refused."""
import pytest

from crawler.traps import TrapGuard, strip_session_ids, trap_reason

ART = "http://www.sucheng.gov.cn/xwdt/202107/t20210712_4123456.html"


@pytest.mark.parametrize("alias", [
    ART + "?page=1", ART + ";jsessionid=8F2A9C1B7D3E4F5A", ART + "?PHPSESSID=0c1f7e9d2b3a",
    ART + "?utm_source=weixin&from=timeline", ART + "#comments", ART + "?print=1",
    "https://www.sucheng.gov.cn/xwdt/202107/t20210712_4123456.html",
])
def test_one_article_under_many_urls_is_scheduled_once(alias):
    guard = TrapGuard()
    assert guard.admit("sucheng", ART) == (ART, None)
    assert guard.admit("sucheng", alias) == (None, "duplicate")
    assert guard.admit("other-site", alias)[1] is None, "each site keeps its own memory"


def test_session_ids_leave_the_requested_url():
    assert strip_session_ids("http://a.gov.cn/col/col1229/index.html;jsessionid=ABC?uid=4321&pageNum=2") == \
        "http://a.gov.cn/col/col1229/index.html?uid=4321&pageNum=2"


@pytest.mark.parametrize("url, reason", [
    ("http://a.gov.cn/calendar/?date=2031-01-01", "calendar"),
    ("http://a.gov.cn/hdrl/list.jsp?day=20210712", "calendar"),
    ("http://a.gov.cn/list.jsp?year=2999", "calendar"),
    ("http://a.gov.cn/search?q=%E6%BF%80%E5%85%89", "search"),
    ("http://a.gov.cn/jsearch/result.jsp?keyword=x", "search"),
    ("http://a.gov.cn/xwdt/index_250.html", "pagination_cap"),
    ("http://a.gov.cn/col/col1229/index.html?uid=1&pageNum=999", "pagination_cap"),
    ("http://a.gov.cn/a/b/a/b/a/b/index.html", "repeating_path"),
    ("http://a.gov.cn/x?" + "a=1&" * 400, "url_too_long"),
])
def test_trap_urls_are_refused_with_a_reason(url, reason):
    assert trap_reason(url) == reason


@pytest.mark.parametrize("url", [
    ART, "http://a.gov.cn/xwdt/index_37.html", "http://a.gov.cn/col/col1229/index.html?uid=1&pageNum=12",
    "http://a.gov.cn/zwgk/list.jsp?year=2021", "http://a.gov.cn/art/2021/7/12/art_1229_3456789.html",
    "http://a.gov.cn/2021/0712/12345.html", "http://a.gov.cn/index.php?p=4567",
])
def test_ordinary_pages_are_not_traps(url):
    assert trap_reason(url) is None


def test_query_variants_of_one_path_are_capped():
    guard = TrapGuard(max_query_variants=5)
    got = [guard.admit("s", f"http://a.gov.cn/list.jsp?sort=date&filter={i}")[1] for i in range(8)]
    assert got == [None] * 5 + ["query_variants"] * 3
