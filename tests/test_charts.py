"""Volume charts: the index's articles-per-day counts on both backends (real SQLite, real
Elasticsearch), and the inline SVG on a source's page and a watch's page as the real web
server renders it, parsed for what a user sees: a bar for the day with 5 articles, a thin
grey mark for a day with none, red and orange marks on failed and blocked crawl days."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import httpx
import pytest
from lxml import html as lxml_html

from index import open_index
from index.query import parse_query
from index.runs import BLOCKED, FAILED, OK, RunInfo, iso, record_run, run_doc
from monitor.clock import local_day, zone
from monitor.watches import Watch, WatchStore
from output_corpus import build_corpus
from web_server import serving


def test_articles_per_day_on_both_backends(index_url):
    today = local_day()
    corpus = build_corpus(index_url, today)
    d3, d1, d12 = corpus.day("laser"), corpus.day("flood"), corpus.day("laser-old")
    since, until = (today - timedelta(days=29)).isoformat(), today.isoformat()
    with open_index(index_url) as index:
        assert index.count_by_day(since=since, until=until) == {d3: 6, d1: 1, d12: 1}
        assert index.count_by_day(since=since, until=until, sites=["sucheng-gov"]) == {d3: 5, d12: 1}
        assert index.count_by_day(since=since, until=until, regions=["宿城区"]) == {d3: 5, d12: 1}
        # A watch's query: 招聘 excluded, the repost counts as the article page it is.
        laser = parse_query("激光 -招聘")
        assert index.count_by_day(since=since, until=until, query=laser) == {d3: 3, d12: 1}
        assert index.count_by_day(since=since, until=until, query=laser, sites=["suqian-news"]) == {d3: 1}
        assert index.count_by_day(since=d1, until=until, query=laser) == {}


def _runs(index_url: str, site: str, days: dict[int, str]) -> None:
    """One run of ``site`` at 10:00 (NEWSMON_TZ) on each day ``days`` ago, with that status."""
    with open_index(index_url) as index:
        for ago, status in days.items():
            began = datetime.combine(local_day() - timedelta(days=ago), time(10), tzinfo=zone())
            info = RunInfo(run_id=f"r{ago}", started=iso(began), trigger="scheduled")
            counts = {"errors/dns": 3} if status == FAILED else {"blocked/ruishu": 4} if status == BLOCKED else \
                {"pages_fetched": 12, "article_pages_fetched": 5, "articles_new": 5}
            record_run(index.state, run_doc(site, info, iso(began.astimezone(timezone.utc) + timedelta(seconds=9)),
                                            counts, status))


def _chart(page: str, chart_id: str):
    tree = lxml_html.fromstring(page)
    svg = tree.get_element_by_id(chart_id)
    bars = {rect.get("data-day"): rect for rect in svg.iter("rect") if rect.get("data-count") is not None}
    marks = {rect.get("data-day"): rect.get("data-run") for rect in svg.iter("rect") if rect.get("data-run")}
    return svg, bars, marks


@pytest.fixture
def served(tmp_path):
    corpus = build_corpus(f"sqlite:///{tmp_path}/newsmon.db", local_day())
    _runs(corpus.index_url, "sucheng-gov", {3: OK, 5: FAILED, 6: BLOCKED, 7: FAILED})
    with open_index(corpus.index_url) as index:
        WatchStore(index).add(Watch(name="laser-park", query="激光 -招聘", emails=["team@example.com"]))
    with serving(corpus.index_url) as base:
        yield corpus, base


def test_a_sources_chart_shows_the_busy_day_the_gap_and_the_failed_days(served):
    corpus, base = served
    assert 'href="/sources/sucheng-gov"' in httpx.get(base + "/sources").text      # the list links the page
    response = httpx.get(base + "/sources/sucheng-gov")
    assert response.status_code == 200, response.text
    svg, bars, marks = _chart(response.text, "chart-source-sucheng-gov")
    assert svg.get("role") == "img" and svg.get("aria-labelledby")
    assert svg.find("title").text == "来源 sucheng-gov：最近 30 天每天的文章数"
    desc = svg.find("desc").text
    assert "共 6 篇" in desc and "最多一天 5 篇" in desc and "3 天采集失败或被拦截" in desc
    assert len(bars) == 30 and max(bars) == local_day().isoformat()        # 30 days ending today, NEWSMON_TZ
    busy, gap, quiet = bars[corpus.day("laser")], bars[corpus.day("flood")], bars[corpus.day("laser-old")]
    assert busy.get("class") == "bar" and busy.get("data-count") == "5"
    assert busy.find("title").text.endswith("：5 篇")
    assert gap.get("class") == "gap" and gap.get("data-count") == "0"
    assert float(busy.get("height")) == pytest.approx(5 * float(quiet.get("height")))
    assert float(gap.get("height")) < float(quiet.get("height"))
    day = lambda ago: (local_day() - timedelta(days=ago)).isoformat()     # noqa: E731
    assert marks == {day(5): FAILED, day(6): BLOCKED, day(7): FAILED}
    texts = [t.text_content() for t in svg.iter("text")]
    assert "篇数" in texts and f"日期（{zone()}）" in texts


def test_a_watchs_page_charts_its_matches_and_shows_its_feed(served):
    corpus, base = served
    response = httpx.get(base + "/watches/laser-park")
    assert response.status_code == 200, response.text
    svg, bars, marks = _chart(response.text, "chart-watch-laser-park")
    assert bars[corpus.day("laser")].get("data-count") == "3"          # 招聘 excluded, the repost counted
    assert bars[corpus.day("laser-old")].get("data-count") == "1"
    assert bars[corpus.day("flood")].get("class") == "gap" and not marks
    feed = lxml_html.fromstring(response.text).get_element_by_id("feed-url").get("value")
    assert feed.startswith(base + "/feeds/watches/laser-park.atom?token=")
    assert httpx.get(feed).status_code == 200
    assert httpx.get(base + "/watches/no-such-watch").status_code == 404
    assert httpx.get(base + "/sources/no-such-site").status_code == 404
