"""A list's pager stops at its first missing page.

Three TRS WCM county sites whose news column has 3 real pages (``index.html``,
``index_1.html``, ``index_2.html``) while its ``createPageHTML`` pager, its <noscript>
page links and its 尾页 link claim 10 (a stale count: TRS counts deleted and unpublished
documents too). Past the third page one site answers 404, one answers 200 with its
"页面不存在" page (a soft 404), and the third answers 404 after a second page that
fails with 503: a 5xx is no proof the page is gone, so that pager goes on.
One real ``newsmon crawl`` of the three, served by the fixture server; the access
log says what was asked for.
"""
from __future__ import annotations

import json

import pytest

from conftest import run_newsmon
from paged_site import build_paged_site

REAL_PAGES, CLAIMED_PAGES = 3, 10
GONE, SOFT_404, FLAKY = "xinyi-gov", "suining-gov", "siyang-gov"

# The county's own error page, served with 200 for any missing path (nginx's
# error_page without "=404"): a title and a notice, a countdown back to the home page.
SOFT_404_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8" />
<title>页面不存在_睢宁县人民政府</title>
<link rel="stylesheet" href="/images/error.css" />
</head>
<body>
<div class="error-wrap">
  <img src="/images/logo.png" alt="睢宁县人民政府" />
  <div class="error-box">
    <h2>抱歉！您访问的页面不存在或已被删除</h2>
    <p>请检查您输入的网址是否正确，或 <span id="sec">5</span> 秒后自动返回 <a href="/">网站首页</a></p>
  </div>
</div>
<script type="text/javascript">
var s = 5;
setInterval(function () { s--; document.getElementById("sec").innerHTML = s;
  if (s <= 0) { window.location.href = "/"; } }, 1000);
</script>
</body>
</html>
"""


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """The three sites crawled once: ``{site: [(path, status), ...]}`` in the order served."""
    from crawler.fixtures import server as fixture_server
    root = tmp_path_factory.mktemp("pager-ends")
    for site in (GONE, SOFT_404, FLAKY):
        layout = build_paged_site(root, site, articles=REAL_PAGES * 4, per_page=4, claimed_pages=CLAIMED_PAGES)
        assert len(layout["lists"]) == REAL_PAGES
    for n in range(REAL_PAGES, CLAIMED_PAGES):
        (root / SOFT_404 / "xwdt" / f"index_{n}.html").write_text(SOFT_404_PAGE, encoding="utf-8")
    cfg_file = root / FLAKY / "_site.json"
    cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
    cfg["overrides"] = {"/xwdt/index_1.html": {"status": 503}}     # overloaded, every try
    cfg_file.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
    log = root.parent / "pager-ends-access.log"
    with fixture_server.start_fixture_sites(root=root, access_log=log) as sites:
        sites_file = sites.write_sites_file(root.parent / "sites.yaml")
        proc = run_newsmon("crawl", "--sites", sites_file, "--index", f"sqlite:///{root.parent}/newsmon.db",
                           "--json", NEWSMON_RETRY_BACKOFF="0.05")
        assert proc.returncode == 0, proc.stderr[-3000:]
        served: dict[str, list[tuple[str, int]]] = {}
        for site, _method, path, status in sites.requests():
            served.setdefault(site, []).append((path, status))
    summary = json.loads(proc.stdout)
    return served, summary


def pager_requests(served: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return [(path, status) for path, status in served if path.startswith("/xwdt/index_")]


def test_a_pager_that_answers_404_is_not_followed_past_its_first_missing_page(crawled):
    served, summary = crawled
    pager = pager_requests(served[GONE])
    print(f"\n{GONE}: list pages past the first asked for: {pager}")
    assert pager == [("/xwdt/index_1.html", 200), ("/xwdt/index_2.html", 200), ("/xwdt/index_3.html", 404)]
    # every article of the three real pages was still reached
    articles = [path for path, status in served[GONE] if path.startswith("/xwdt/20") and status == 200]
    assert len(set(articles)) == REAL_PAGES * 4
    assert summary["sites"][GONE].get("pager_pages_not_requested") == CLAIMED_PAGES - REAL_PAGES - 1


def test_a_soft_404_page_ends_its_pager_too(crawled):
    served, _summary = crawled
    pager = pager_requests(served[SOFT_404])
    print(f"\n{SOFT_404}: {pager}")
    assert [path for path, _ in pager] == ["/xwdt/index_1.html", "/xwdt/index_2.html", "/xwdt/index_3.html"]
    assert all(status == 200 for _, status in pager)


def test_a_5xx_page_does_not_end_its_pager(crawled):
    served, _summary = crawled
    pager = pager_requests(served[FLAKY])
    print(f"\n{FLAKY}: {pager}")
    # index_1 tried three times (retries as they are), then the pager goes on to its real end
    assert [p for p in pager if p[0] == "/xwdt/index_1.html"] == [("/xwdt/index_1.html", 503)] * 3
    assert [p for p in pager if p[0] != "/xwdt/index_1.html"] == [("/xwdt/index_2.html", 200),
                                                                   ("/xwdt/index_3.html", 404)]


LIST_PAGE_MENTIONING_404 = """<html><head><meta charset="utf-8"><title>第404期政务简报_睢宁县人民政府</title></head>
<body><h2>政务简报</h2><ul class="list">
<li><a href="./202301/t20230105_4100008.html">睢宁县召开2023年安全生产工作会议</a><span>2023-01-05</span></li>
</ul></body></html>"""
NGINX_404_AS_200 = """<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx</center>
</body>
</html>"""


@pytest.mark.parametrize(("html", "lists_articles", "missing"), [
    (SOFT_404_PAGE, False, True),
    (NGINX_404_AS_200, False, True),
    (LIST_PAGE_MENTIONING_404, True, False),      # its title says 404, but it lists its articles
])
def test_an_error_page_served_with_200_reads_as_missing(html, lists_articles, missing):
    from crawler.pager_walk import reads_as_missing
    assert reads_as_missing(html, lists_articles) is missing


def test_a_redirect_to_the_error_page_is_missing_and_a_redirect_elsewhere_is_not():
    from crawler.pager_walk import redirected_to_error_page
    assert redirected_to_error_page("http://www.suining.gov.cn/404.html", redirected=True)
    assert redirected_to_error_page("http://www.suining.gov.cn/error/", redirected=True)
    assert not redirected_to_error_page("https://www.suining.gov.cn/xwdt/index_3.html", redirected=True)
    assert not redirected_to_error_page("http://www.suining.gov.cn/404.html", redirected=False)
