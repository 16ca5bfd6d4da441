"""Chinese everywhere a user reads (issue 21): every page of a seeded instance -- search,
results, a query error, a story, watches, a watch's test and edit pages, sources, a site's
edit page, login, a missing page -- rendered and read as a person sees it, with no English
prose left (the outputs' pages too: a watch's page, a source's page). Allowed: URLs, e-mail
addresses, time zone names (Asia/Shanghai), code (``<code>``), the product name, the query
language's operators, units, file formats, and the instance's own data (site and watch names)."""
from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html
from starlette.testclient import TestClient

from crawler.site_registry import SitesFileRegistry
from monitor.web.app import create_app
from monitor.web.auth import Credentials
from monitor.web.registry import SiteEntry
from web_server import LOOPBACK, copy_of

ALLOWED = {
    "newsmon",                                   # the product
    "or", "and", "not",                          # the query language's operators, shown in its help
    "http", "https", "url", "api", "json", "webhook", "rss", "atom", "csv", "xlsx", "excel", "pdf", "cron",
    "yyyy", "mm", "dd", "hh",                    # date formats
    "every",                                     # the schedule syntax: every 30m
    "tz", "utc", "cst",                          # time zone names
}
_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|\b[A-Z][a-z]+/[A-Za-z_]+|/[\w./{}?=&%-]+")   # + zone ids
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
HIDDEN = ("script", "style", "code", "pre[@class='query']", "kbd", "samp")


def visible_text(page: str) -> str:
    tree = lxml_html.fromstring(page)
    for tag in HIDDEN:
        for element in tree.xpath(f"//{tag}"):
            element.drop_tree()
    return " ".join(tree.xpath("//body//text()") + tree.xpath("//title/text()"))


def english_words(text: str, data: set[str]) -> list[str]:
    text = _URL.sub(" ", text)
    for name in sorted(data, key=len, reverse=True):
        text = text.replace(name, " ")
    return [w for w in _WORD.findall(text) if w.lower() not in ALLOWED and not re.fullmatch(r"\d*[smhd]", w)]


@pytest.fixture(scope="module")
def seeded(crawl, tmp_path_factory):
    """The fixture crawl, its sites in a sites file with titles, and one watch."""
    tmp = tmp_path_factory.mktemp("chinese")
    sites = SitesFileRegistry(tmp / "sites.yaml")
    titles = {"sucheng-gov": "宿城区人民政府", "laser-industry": "中国激光产业网"}
    for name, url in crawl.urls.items():
        sites.add(SiteEntry(name=name, start_urls=[url], title=titles.get(name, "")))
    app = create_app(copy_of(crawl.index_url, tmp), credentials=Credentials(), sites=sites)
    with TestClient(app, base_url=LOOPBACK) as client:
        client.post("/api/watches", json={"name": "laser-park", "query": "激光产业园 -招聘",
                                          "emails": ["team@example.com"], "sites": ["sucheng-gov"]})
        story = client.get("/api/search", params={"q": "激光产业园"}).json()["stories"][0]["story_id"]
        yield client, story, set(crawl.urls) | {"laser-park"}


PAGES = ["/", "/?q=激光产业园", "/?q=激光&sort=relevance&page=2", "/?q=(激光 OR", "/?q=激光&since=2021-06-01&until=2021-01-01",
         "/story/{story}", "/story/no-such-story", "/watches", "/watches/laser-park/test?days=3650",
         "/watches/laser-park/edit", "/watches/laser-park", "/sources", "/sources/sucheng-gov", "/sources/sucheng-gov/edit",
         "/login", "/no-such-page"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_reads_in_chinese(seeded, path):
    client, story, data = seeded
    response = client.get(path.format(story=story))
    assert response.headers["content-type"].startswith("text/html")
    words = english_words(visible_text(response.text), data)
    assert words == [], f"{path}: English on the page: {words}"


def test_form_errors_read_in_chinese(seeded):
    client, _story, data = seeded
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/sources").text).group(1)
    site = client.post("/sources", data={"csrf": token, "name": "宿城区", "start_urls": "宿城区政府网站"})
    watch = client.post("/watches", data={"csrf": token, "name": "激光 监测", "query": "激光 OR",
                                          "emails": "not-an-address"})
    expired = client.post("/watches", data={"csrf": "stale", "name": "x", "query": "激光"})
    for response in (site, watch, expired):
        assert response.status_code == 400
        assert english_words(visible_text(response.text), data) == []
