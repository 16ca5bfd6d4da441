"""Run history, incremental re-crawls and template-change detection, with real crawls of the
fixture sites (crawler/fixtures/server.py, which sends ETag/Last-Modified and answers 304)."""
from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from conftest import FIXTURES, crawl_into, run_newsmon


def state_of(index_url):
    from index import open_index
    return open_index(index_url)


def runs_by_site(index_url) -> dict[str, list[dict]]:
    index = state_of(index_url)
    try:
        out: dict[str, list[dict]] = {}
        for _key, doc in index.state.scan("run"):
            out.setdefault(doc["site"], []).append(doc)
        return out
    finally:
        index.close()


def test_a_crawl_records_one_run_per_site_with_its_counts(crawl):
    runs = runs_by_site(crawl.index_url)
    assert set(runs) == set(crawl.urls)
    for site, [run] in runs.items():
        counts = crawl.summary["sites"][site]
        assert run["status"] == "ok" and run["trigger"] == "manual"
        assert run["started"] < run["ended"]
        for key in ("pages_fetched", "articles_new", "stories_new", "duplicates"):
            assert run[key] == counts.get(key, 0), (site, key)
        assert run["spam_quarantined"] == counts.get("spam_quarantined", 0)
        assert run["errors"] == {k.split("/", 1)[1]: v for k, v in counts.items() if k.startswith("errors/")}
        assert run["quality"]["articles"] >= run["articles_new"] > 0
    assert runs["pingqiao-gov"][0]["spam_quarantined"] == 1
    assert runs["sucheng-gov"][0]["quality"]["empty_body"] == 1       # the empty page in the fixture


def test_status_prints_the_history_as_a_table_and_as_json(crawl):
    table = run_newsmon("status", "--index", crawl.index_url)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:2] == ["site", "runs"]
    for site in crawl.urls:
        [row] = [line for line in lines if f"（{site}）" in line.split("  ")[0]]   # by the name it gives itself
        assert row.split()[1] == "1" and row.rstrip().endswith("ok"), row

    as_json = run_newsmon("status", "--json", "--index", crawl.index_url)
    assert as_json.returncode == 0, as_json.stderr
    sites = {entry["name"]: entry for entry in json.loads(as_json.stdout)["sites"]}
    assert set(sites) == set(crawl.urls)
    for site, entry in sites.items():
        assert set(entry) == {"name", "runs", "last_run", "last_new_article", "failure_streak", "health",
                              "article_shapes", "fetch_rung", "fetch_rung_memory", "title"}   # (issues 18, 20, 21)
        assert entry["runs"] == 1 and entry["failure_streak"] == 0 and entry["health"] == []
        assert entry["last_run"]["status"] == "ok"
        assert entry["last_new_article"] == entry["last_run"]["ended"]


def test_second_crawl_of_unchanged_sites_fetches_list_pages_only(crawl, fixture_sites, gold, tmp_path):
    db = Path(crawl.index_url[len("sqlite:///"):])
    shutil.copy(db, tmp_path / "newsmon.db")
    again = crawl_into(fixture_sites, tmp_path)
    articles = {(a["site"], a["path"]) for a in gold["articles"]} | {
        (q["site"], q["path"]) for q in gold["quarantined"]} | {(b["site"], b["path"]) for b in gold["bad"]}
    dead = {(b["site"], b["path"]) for b in gold["bad"] if b["kind"] == "404"}
    served = []
    statuses = Counter()
    log = fixture_sites.requests()
    for site, _method, path, status in log[len(log) - len(again.requests):]:
        served.append((site, path, status))
        statuses[("article" if (site, path) in articles else "other", status)] += 1
    bodies = [(site, path) for site, path, status in served if status == 200 and (site, path) in articles]
    assert not bodies, f"article pages downloaded again: {bodies}"
    article_requests = [(site, path, status) for site, path, status in served if (site, path) in articles]
    assert article_requests, "no article was even asked about"
    for site, path, status in article_requests:
        assert status == 304 or (status == 404 and (site, path) in dead), (site, path, status)
    # Lists are always fetched, but paging stops at a page of known articles.
    for site, path in (("sucheng-gov", "/xwdt/index.html"), ("mianyang-news", "/news/node_12.htm")):
        assert (site, path, 200) in served
    second_pages = {("sucheng-gov", "/xwdt/index_1.html"), ("sucheng-gov", "/xwdt/index_2.html"),
                    ("laser-industry", "/news/list_2.html"), ("mianyang-news", "/news/node_12_2.htm"),
                    ("pingqiao-gov", "/col/col1229/index.html?uid=4321&pageNum=2")}
    assert not second_pages & {(site, path) for site, path, _ in served}
    assert again.summary["totals"].get("articles_new", 0) == 0
    runs = runs_by_site(again.index_url)
    for site in again.urls:
        last = max(runs[site], key=lambda r: r["started"])
        assert last["status"] == "ok" and last["not_modified"] > 0 and last["articles_new"] == 0
    first_total = len(crawl.requests)
    print(f"\nrequests: first crawl {first_total}, second crawl {len(served)} "
          f"({dict(sorted((f'{k}:{s}', n) for (k, s), n in statuses.items()))})")
    assert len(served) < first_total * 0.75


# -- a template change -----------------------------------------------------------------------

JS_SHELL = """<div class="w1200 main">
<div id="app" v-cloak>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/xwdt/index.html">新闻动态</a> &gt; 正文</div>
<article-detail :doc-id="{doc_id}" channel="xwdt"></article-detail>
</div>
<noscript>您的浏览器未开启JavaScript，请开启后浏览本站内容。</noscript>
<script type="text/javascript" src="/js/chunk-vendors.3f2a9c1d.js"></script>
<script type="text/javascript" src="/js/app.9c1d7e4b.js"></script>
</div>
"""


def swap_to_js_template(site_root: Path) -> int:
    """The CMS moved to a JavaScript front end: every article page is republished as
    an app shell that loads the text by XHR; the date meta tags are gone too."""
    swapped = 0
    for page in site_root.glob("xwdt/*/t*.html"):
        html = page.read_text(encoding="utf-8")
        main = re.search(r'<div class="w1200 main">.*?(?=<div class="links">)', html, re.S)
        if not main:
            continue
        doc_id = page.stem.rsplit("_", 1)[-1]
        html = html.replace(main.group(0), JS_SHELL.replace("{doc_id}", doc_id))
        html = re.sub(r'<meta name="(PubDate|Description|ContentSource)"[^>]*>\n', "", html)
        page.write_text(html, encoding="utf-8")
        swapped += 1
    return swapped


@pytest.fixture
def own_sites(tmp_path):
    """Two fixture sites on a server of their own, served from a copy the test may change."""
    from crawler.fixtures import server as fixture_server
    root = tmp_path / "sites"
    for name in ("sucheng-gov", "mianyang-news"):
        shutil.copytree(FIXTURES / "sites" / name, root / name)
    with fixture_server.start_fixture_sites(root=root, access_log=tmp_path / "access.log") as sites:
        yield sites


def test_a_site_whose_template_changes_is_flagged_within_two_runs(own_sites, tmp_path):
    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    own_sites.write_sites_file(tmp_path / "sites.yaml")

    def crawl_and_status():
        proc = run_newsmon("crawl", "--sites", tmp_path / "sites.yaml", "--index", index_url)
        assert proc.returncode == 0, proc.stderr[-3000:]
        status = run_newsmon("status", "--json", "--index", index_url)
        assert status.returncode == 0, status.stderr
        return {entry["name"]: entry for entry in json.loads(status.stdout)["sites"]}

    before = crawl_and_status()
    assert before["sucheng-gov"]["health"] == [] and before["mianyang-news"]["health"] == []

    assert swap_to_js_template(own_sites.root / "sucheng-gov") >= 8
    flagged_after = None
    for run in (1, 2):
        after = crawl_and_status()
        if after["sucheng-gov"]["health"]:
            flagged_after = run
            break
    assert flagged_after is not None, f"not flagged within two runs: {after['sucheng-gov']}"
    flags = {flag["kind"]: flag for flag in after["sucheng-gov"]["health"]}
    assert "degraded" in flags, flags
    assert "正文为空或过短" in flags["degraded"]["message"]
    assert flags["degraded"]["since"] > before["sucheng-gov"]["last_run"]["started"]
    assert after["mianyang-news"]["health"] == [], "the unchanged site is flagged too"
    print(f"\ntemplate change flagged after {flagged_after} run(s): {flags['degraded']['message']}")
