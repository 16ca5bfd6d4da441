"""A watch's Atom feed, read as a feed reader reads it: from the real web server (``newsmon
serve`` with a login configured) over real government pages (``output_corpus``), parsed
with feedparser and checked against Atom's structure with lxml; the token (404 when wrong,
rotated from the API), and conditional GET (304 while nothing changed)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import feedparser
import httpx
import pytest
from lxml import etree

from index import open_index
from monitor.clock import local_day
from monitor.feeds import ATOM
from output_corpus import build_corpus, page
from pipelines.extract import extract_article
from pipelines.records import build_record
from web_server import serving

TOKEN = "s3cret-team-token-for-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
WATCH = {"name": "laser-park", "query": "激光 -招聘", "emails": ["team@example.com"]}
NS = {"a": ATOM}


@pytest.fixture
def corpus(tmp_path):
    return build_corpus(f"sqlite:///{tmp_path}/newsmon.db", local_day())


@pytest.fixture
def server(corpus):
    with serving(corpus.index_url, "--cache-seconds", "0", NEWSMON_WEB_TOKEN=TOKEN) as base:
        created = httpx.post(base + "/api/watches", json=WATCH, headers=BEARER)
        assert created.status_code == 201, created.text
        yield base


def feed_url(base: str, headers: dict = BEARER) -> str:
    answer = httpx.get(base + f"/api/watches/{WATCH['name']}/feed", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["feed_url"]


def test_the_feed_lists_the_watchs_newest_stories_in_chinese_without_a_login(server, corpus):
    assert httpx.get(server + "/watches").status_code == 303          # pages still need the login
    response = httpx.get(feed_url(server))                             # the feed needs only its token
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "监测「laser-park」：激光 -招聘"
    titles = [entry.title for entry in parsed.entries]
    # The 招聘 article is excluded, the repost is the same story (once), newest first.
    assert titles == ["宿城区激光产业园新签约3个光学元件项目", "宿城区召开激光产业园建设推进会",
                      "宿城区激光产业园标准厂房开工建设"]
    laser = parsed.entries[1]
    assert laser.link == corpus.records["laser"].url
    assert "suqian-news" in laser.summary and "1 家转载" in laser.summary
    assert laser.published == f"{corpus.day('laser')}T09:30:00+08:00"      # the team's zone offset
    # Atom's structure (RFC 4287): one id, title and updated per feed and per entry, a self link.
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{ATOM}}}feed"
    for node in [root, *root.findall("a:entry", NS)]:
        for name in ("id", "title", "updated"):
            assert len(node.findall(f"a:{name}", NS)) == 1, (node.tag, name)
    assert root.find("a:link[@rel='self']", NS).get("href") == feed_url(server)


def test_a_wrong_or_missing_token_gets_404_not_the_feed(server):
    url = feed_url(server)
    base, token = url.split("?token=")
    for bad in (base + "?token=" + token[:-1] + ("A" if token[-1] != "A" else "B"), base,
                server + "/feeds/watches/no-such-watch.atom?token=" + token):
        response = httpx.get(bad)
        assert response.status_code == 404, bad
        assert "订阅源" in response.text and "<feed" not in response.text


def test_rotating_the_token_stops_the_old_url(server):
    old = feed_url(server)
    rotated = httpx.post(server + f"/api/watches/{WATCH['name']}/feed", json={}, headers=BEARER)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["feed_url"]
    assert new != old and feed_url(server) == new
    assert httpx.get(old).status_code == 404
    assert httpx.get(new).status_code == 200


def test_a_reader_polling_an_unchanged_feed_gets_304_until_a_story_arrives(server, corpus):
    url = feed_url(server)
    first = httpx.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = httpx.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert httpx.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    # A new matching article: the same validators no longer hold.
    today = corpus.today
    url_new = f"http://www.sczf.gov.cn/xwdt/{today:%Y%m}/t{today:%Y%m%d}_4129999.html"
    article = extract_article(page("sucheng-gov", "宿城区激光产业园二期项目通过竣工验收",
                                   f"{today.isoformat()} 08:00",
                                   ["宿城区激光产业园二期项目日前通过竣工验收，新增标准厂房6万平方米，已有4家激光企业签约入驻。"]),
                              url_new, {"Content-Type": "text/html; charset=utf-8"})
    # fetched after the watch was made, stored with the crawler's +08:00 offset: a feed whose
    # newest fetch was not in UTC answered 500 (an HTTP date is GMT)
    fetched = datetime.now(timezone(timedelta(hours=8))) + timedelta(minutes=1)
    record = build_record(article, site="sucheng-gov", region="江苏省宿迁市宿城区",
                          fetched_at=fetched.isoformat(timespec="seconds"))
    record.story_id, record.canonical = "s-" + record.id[:16], True
    with open_index(corpus.index_url) as index:
        index.upsert_article(record)
    changed = httpx.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.headers["last-modified"].endswith(" GMT")
    assert feedparser.parse(changed.content).entries[0].title == "宿城区激光产业园二期项目通过竣工验收"


def test_feed_times_follow_newsmon_tz(corpus):
    """A page's own time is Beijing time; the feed shows it in the team's zone, with that offset."""
    with serving(corpus.index_url, NEWSMON_TZ="America/New_York") as base:
        assert httpx.post(base + "/api/watches", json=WATCH).status_code == 201
        parsed = feedparser.parse(httpx.get(feed_url(base, {})).content)
    laser = next(e for e in parsed.entries if e.title == "宿城区召开激光产业园建设推进会")
    day = date.fromisoformat(corpus.day("laser")) - timedelta(days=1)
    assert laser.published == f"{day.isoformat()}T20:30:00-05:00"     # 09:30 in Beijing, the evening before
