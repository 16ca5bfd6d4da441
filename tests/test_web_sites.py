"""Sites managed from the Sources page and /api/sites (issue 21): the sites file is edited
in place -- comments, anchors, the watches: section and the other sites stay as written --
refused changes leave it untouched, and a running scheduler crawls an added site and
stops crawling a paused one without a restart."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from crawler.commands.status import format_status
from crawler.site_registry import SitesFileRegistry
from index import open_index
from crawler.sites import load_sites
from monitor.digest import build_digests, render_text
from monitor.health import source_status
from monitor.watches import Watch, WatchStore
from monitor.web.app import create_app
from monitor.web.auth import Credentials
from monitor.web.registry import SiteEntry, SiteRegistryError
from team_start import scheduler_and_web
from test_scheduler import read_runs, wait_until
from web_server import LOOPBACK, copy_of

# A team's sites file as people write it: comments, an anchor shared by two TRS sites,
# a block list, a flow list, a watches: section after the sites.
SITES = """\
# 宿迁市各区县政府网站（运维：信息科）
x-trs: &trs
  body: "div.TRS_Editor"

sites:
  # 宿城区：TRS WCM
  - name: sucheng-gov            # 区政府门户
    start_urls: [https://www.suchengqu.gov.cn/]
    region: 江苏省宿迁市宿城区
    selectors: *trs
    schedule: every 30m

  # 沭阳县：同样是 TRS
  - name: shuyang-gov
    start_urls:
      - https://www.shuyang.gov.cn/
      - https://www.shuyang.gov.cn/syx/xwzx/
    selectors: *trs

watches:
  - name: laser
    query: 激光 OR 传感
    email: team@example.com
"""


@pytest.fixture
def sites_file(tmp_path) -> Path:
    path = tmp_path / "sites.yaml"
    path.write_text(SITES, encoding="utf-8")
    return path


def test_each_change_edits_only_its_own_lines(sites_file):
    registry = SitesFileRegistry(sites_file)
    registry.add(SiteEntry(name="pingqiao-gov", title="平桥区人民政府", region="河南省信阳市平桥区",
                           start_urls=["https://www.pingqiao.gov.cn/"], schedule="every 2h"))
    registry.update("sucheng-gov", {"title": "宿城区人民政府", "schedule": "every 15m"})
    registry.set_paused("shuyang-gov", True)
    text = sites_file.read_text(encoding="utf-8")
    # Every line that was there is still there, but the one changed.
    for line in SITES.splitlines():
        if "every 30m" not in line:
            assert line in text.splitlines(), line
    assert "    title: 宿城区人民政府\n" in text and "    paused: true\n" in text
    assert "  - name: pingqiao-gov\n    title: 平桥区人民政府\n" in text
    assert text.index("pingqiao-gov") < text.index("\nwatches:")    # appended to the list, not the file
    parsed = load_sites(sites_file)             # the crawler reads the same file
    by_name = {site.name: site for site in parsed.sites}
    assert by_name["sucheng-gov"].title == "宿城区人民政府" and by_name["sucheng-gov"].selectors == {"body": "div.TRS_Editor"}
    assert by_name["sucheng-gov"].schedule == "every 15m" and by_name["shuyang-gov"].paused
    assert by_name["shuyang-gov"].start_urls == ("https://www.shuyang.gov.cn/", "https://www.shuyang.gov.cn/syx/xwzx/")
    assert [w["name"] for w in parsed.watches] == ["laser"]

    registry.set_paused("shuyang-gov", False)
    registry.update("sucheng-gov", {"title": "", "schedule": "every 30m"})
    assert registry.remove("pingqiao-gov")
    assert sites_file.read_text(encoding="utf-8") == SITES        # every change undone: the very same bytes
    assert [p.name for p in sites_file.parent.iterdir()] == ["sites.yaml"]   # no temporary file left behind


@pytest.mark.parametrize("entry, field, message", [
    (SiteEntry(name="sucheng-gov", start_urls=["https://www.example.gov.cn/"]), "name", "已有名为「sucheng-gov」的站点"),
    (SiteEntry(name="Su Cheng", start_urls=["https://www.example.gov.cn/"]), "name", "只能用小写字母"),
    (SiteEntry(name="new-site", start_urls=["www.example.gov.cn"]), "start_urls", "不是 http(s) 网址"),
    (SiteEntry(name="new-site", start_urls=[]), "start_urls", "请填写起始网址"),
    (SiteEntry(name="new-site", start_urls=["https://a.example/"], schedule="every 30x"), "schedule", "不是有效的采集周期"),
    (SiteEntry(name="new-site", start_urls=["https://a.example/"], title="宿城\n区"), "title", "控制字符"),
])
def test_a_refused_site_names_the_field_in_chinese_and_leaves_the_file_alone(sites_file, entry, field, message):
    with pytest.raises(SiteRegistryError) as refused:
        SitesFileRegistry(sites_file).add(entry)
    assert refused.value.field == field and message in refused.value.message
    assert sites_file.read_text(encoding="utf-8") == SITES


def test_a_file_broken_by_hand_is_reported_not_overwritten(sites_file):
    broken = SITES.replace("schedule: every 30m", "schedule: every 30x")
    sites_file.write_text(broken, encoding="utf-8")
    registry = SitesFileRegistry(sites_file)
    with pytest.raises(SiteRegistryError, match="站点文件有误"):
        registry.add(SiteEntry(name="new-site", start_urls=["https://www.example.gov.cn/"]))
    assert sites_file.read_text(encoding="utf-8") == broken


def test_the_first_site_creates_the_file_and_the_last_one_leaves_an_empty_list(tmp_path):
    path = tmp_path / "sites.yaml"
    registry = SitesFileRegistry(path)
    assert registry.list() == []
    registry.add(SiteEntry(name="sucheng-gov", start_urls=["https://www.suchengqu.gov.cn/"]))
    assert [s.name for s in load_sites(path).sites] == ["sucheng-gov"]
    registry.remove("sucheng-gov")
    assert load_sites(path).sites == []


# -- the Sources page and the API, in-process ---------------------------------------------------

@pytest.fixture
def client(crawl, tmp_path, sites_file):
    app = create_app(copy_of(crawl.index_url, tmp_path), credentials=Credentials(),
                     sites=SitesFileRegistry(sites_file))
    with TestClient(app, base_url=LOOPBACK, follow_redirects=False) as client:
        yield client


def csrf(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/sources").text).group(1)


def row(html: str, site: str) -> str:
    return html.split(f'data-site="{site}"', 1)[1].split("</tr>", 1)[0]


def test_add_edit_pause_and_remove_a_site_on_the_sources_page(client, sites_file):
    form = {"csrf": csrf(client), "name": "pingqiao-gov", "title": "平桥区人民政府",
            "start_urls": "https://www.pingqiao.gov.cn/\nhttps://www.pingqiao.gov.cn/xwzx/", "region": "", "schedule": ""}
    added = client.post("/sources", data=form)
    assert added.status_code == 303
    page = client.get(added.headers["location"]).text
    assert "已添加站点「pingqiao-gov」" in page
    assert "平桥区人民政府" in row(page, "pingqiao-gov") and "pingqiao-gov" in row(page, "pingqiao-gov")
    assert load_sites(sites_file).select(["pingqiao-gov"])[0].start_urls[1] == "https://www.pingqiao.gov.cn/xwzx/"

    edit = client.get("/sources/pingqiao-gov/edit")
    assert edit.status_code == 200 and "https://www.pingqiao.gov.cn/xwzx/" in edit.text
    saved = client.post("/sources/pingqiao-gov/edit", data={**form, "csrf": csrf(client), "schedule": "every 6h"})
    assert saved.status_code == 303 and load_sites(sites_file).select(["pingqiao-gov"])[0].schedule == "every 6h"

    assert client.post("/sources/pingqiao-gov/pause", data={"csrf": csrf(client)}).status_code == 303
    page = client.get("/sources").text
    assert "已暂停采集" in row(page, "pingqiao-gov") and "恢复采集" in row(page, "pingqiao-gov")
    assert client.post("/sources/pingqiao-gov/resume", data={"csrf": csrf(client)}).status_code == 303
    assert not load_sites(sites_file).select(["pingqiao-gov"])[0].paused

    assert client.post("/sources/pingqiao-gov/delete", data={"csrf": csrf(client)}).status_code == 303
    assert sites_file.read_text(encoding="utf-8") == SITES
    assert client.post("/sources/pingqiao-gov/delete", data={"csrf": csrf(client)}).status_code == 404


def test_a_bad_url_is_explained_beside_its_field_and_the_form_keeps_what_was_typed(client, sites_file):
    form = {"csrf": csrf(client), "name": "pingqiao-gov", "title": "平桥区人民政府",
            "start_urls": "www.pingqiao.gov.cn", "region": "河南省信阳市平桥区", "schedule": ""}
    refused = client.post("/sources", data=form)
    assert refused.status_code == 400
    error = re.search(r'id="error-start_urls">([^<]+)<', refused.text).group(1)
    assert "不是 http(s) 网址" in error
    assert 'value="平桥区人民政府"' in refused.text and "www.pingqiao.gov.cn</textarea>" in refused.text
    duplicate = client.post("/sources", data={**form, "name": "sucheng-gov", "start_urls": "https://x.example/"})
    assert "已有名为「sucheng-gov」的站点" in re.search(r'id="error-name">([^<]+)<', duplicate.text).group(1)
    expired = client.post("/sources", data={**form, "csrf": "stale", "start_urls": "https://x.example/"})
    assert expired.status_code == 400 and "表单已过期" in expired.text
    assert sites_file.read_text(encoding="utf-8") == SITES


def test_the_api_manages_sites_with_the_same_checks(client, sites_file):
    created = client.post("/api/sites", json={"name": "pingqiao-gov", "start_urls": ["https://www.pingqiao.gov.cn/"],
                                              "title": "平桥区人民政府"})
    assert created.status_code == 201, created.text
    assert created.json()["title"] == "平桥区人民政府" and created.json()["paused"] is False
    listed = {s["name"]: s for s in client.get("/api/sites").json()["sites"]}
    assert listed["pingqiao-gov"]["title"] == "平桥区人民政府" and listed["sucheng-gov"]["region"] == "江苏省宿迁市宿城区"
    assert "laser-industry" in listed           # sites the index knows stay listed, as before
    patched = client.patch("/api/sites/pingqiao-gov", json={"region": "河南省信阳市平桥区"})
    assert patched.json()["region"] == "河南省信阳市平桥区" and patched.json()["title"] == "平桥区人民政府"
    assert client.post("/api/sites/pingqiao-gov/pause").json()["paused"] is True
    assert client.delete("/api/sites/pingqiao-gov/pause").json()["paused"] is False
    bad = client.patch("/api/sites/pingqiao-gov", json={"start_urls": ["javascript:alert(1)"]})
    assert bad.status_code == 400 and bad.json()["field"] == "start_urls" and "http(s)" in bad.json()["error"]
    assert client.post("/api/sites", json={"name": "sucheng-gov", "start_urls": ["https://x.example/"]}).status_code == 400
    form_post = client.post("/api/sites", data={"name": "x"})
    assert form_post.status_code == 415 and "application/json" in form_post.json()["error"]
    assert client.delete("/api/sites/pingqiao-gov").json() == {"removed": "pingqiao-gov"}
    assert client.get("/api/sites/pingqiao-gov").status_code == 404
    assert sites_file.read_text(encoding="utf-8") == SITES


def test_titles_replace_slugs_in_search_results_and_watch_pages(client, sites_file, crawl):
    SitesFileRegistry(sites_file).add(SiteEntry(name="laser-industry", title="中国激光产业网",
                                                start_urls=[crawl.urls["laser-industry"]]))
    results = client.get("/", params={"q": "激光"}).text
    assert '<span class="site" title="laser-industry">中国激光产业网</span>' in results
    assert re.search(r'<option value="laser-industry" >中国激光产业网[ ·<]', client.get("/").text)
    client.post("/api/watches", json={"name": "laser", "query": "激光", "emails": ["t@example.com"],
                                      "sites": ["laser-industry"]})
    assert '<span title="laser-industry">中国激光产业网</span>' in client.get("/watches").text


def test_titles_reach_newsmon_status_and_the_digest_through_the_index(crawl, tmp_path, sites_file):
    index_url = copy_of(crawl.index_url, tmp_path)
    registry = SitesFileRegistry(sites_file)
    registry.add(SiteEntry(name="laser-industry", title="中国激光产业网", start_urls=[crawl.urls["laser-industry"]]))
    create_app(index_url, credentials=Credentials(), sites=registry)   # stores the titles in the index
    with open_index(index_url) as index:
        statuses = source_status(index)
        WatchStore(index).add(Watch(name="laser", query="激光", emails=["team@example.com"]))
        now = datetime.now(timezone.utc)
        (digest,) = build_digests(index, now - timedelta(days=3650), now + timedelta(seconds=1), label="today")
    table = format_status(statuses)
    assert "中国激光产业网（laser-industry）" in table and "\n  laser-industry: " not in table.split("health")[0]
    text = render_text(digest)
    assert "   中国激光产业网 · " in text and "   laser-industry · " not in text
    assert {s.name: s.display_name for s in statuses}["laser-industry"] == "中国激光产业网"


# -- for real: newsmon serve --sites and the scheduler, both running ------------------------------

def test_a_site_added_in_the_ui_is_crawled_by_the_running_scheduler(fixture_sites, tmp_path):
    with scheduler_and_web(tmp_path) as (base, index_url, scheduler, log):
        with httpx.Client(base_url=base) as web:
            added = web.post("/api/sites", json={"name": "sucheng-gov", "title": "宿城区人民政府",
                                                 "start_urls": [fixture_sites.urls["sucheng-gov"]],
                                                 "schedule": "every 1h"})
            assert added.status_code == 201, added.text
            wait_until("the added site's first run",
                       lambda: any(r["site"] == "sucheng-gov" and r["status"] == "ok" for r in read_runs(index_url)),
                       120, scheduler, log)
            sources = web.get("/sources").text
            assert "宿城区人民政府" in row(sources, "sucheng-gov") and "成功" in row(sources, "sucheng-gov")
            assert web.post("/api/sites/sucheng-gov/pause").json()["paused"] is True
            wait_until("the scheduler to drop the paused site",
                       lambda: "reloaded: 0 sites" in log.read_text(encoding="utf-8"), 60, scheduler, log)
