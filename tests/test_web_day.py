"""A monitoring team's whole day in the browser, in Chinese (issue 21): a real ``python
scheduler.py`` and a real ``newsmon serve`` on one index and one sites file; in headless
Chromium (zh-CN) the team adds a site on the Sources page, sees the running scheduler crawl
it with no restart (and show it by the name it gives itself), makes a watch, searches with parentheses, exports Excel, reads the
watch's Atom feed, sees the charts and snoozes the watch. Each step is a screenshot in
tests/artifacts/ and a check of the words on screen (``document.body.innerText``) for English
outside tests/test_web_chinese.py's allow-list, with its ``english_words``."""
from __future__ import annotations

import re
import shutil
from datetime import timedelta

import pytest
from lxml import etree
from openpyxl import load_workbook

from browser import ARTIFACTS
from crawler.fixtures.server import DEFAULT_ROOT, start_fixture_sites
from monitor.clock import local_day
from team_start import scheduler_and_web
from test_scheduler import read_runs, wait_until
from test_web_chinese import HIDDEN, english_words

SITE, WATCH = "sucheng-gov", "laser-park"
OWN_NAME = "宿迁市宿城区人民政府"      # no title: given: the name its start page gives (SiteName meta)
QUERY = "(激光 OR 传感) 宿城"
FRESH = "xwdt/201611/t20161108_3012345.html"     # the article dated today, so the charts have a bar
# What test_web_chinese.py leaves out of its reading (code, the query box's echo), as CSS.
_HIDDEN_CSS = ", ".join(tag.replace("[@class='query']", ".query") for tag in HIDDEN)
_ON_SCREEN = """hidden => {
    const shown = document.body.innerText + " " + document.title;
    let prose = shown;
    for (const element of document.body.querySelectorAll(hidden)) {
        if (element.innerText) prose = prose.split(element.innerText).join(" ");
    }
    return [shown, prose];
}"""


@pytest.fixture
def site_today(tmp_path):
    """The district site of the fixture mini-internet, one article of it published today."""
    root = tmp_path / "sites"
    shutil.copytree(DEFAULT_ROOT / SITE, root / SITE)
    article = root / SITE / FRESH
    today = local_day().isoformat()
    article.write_text(article.read_text(encoding="utf-8").replace("2016-11-08 16:42", f"{today} 09:00"),
                       encoding="utf-8")
    with start_fixture_sites(root=root) as sites:
        yield sites.urls[SITE]


@pytest.fixture
def running(tmp_path):
    """The scheduler and the web server, on a new team's empty index and sites file."""
    with scheduler_and_web(tmp_path) as started:
        yield started


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True,
                                           viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def step(page, name: str) -> str:
    """Screenshot the page and return what it shows, after checking it has no English prose."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"day-{name}.png"), full_page=True)
    shown, prose = page.evaluate(_ON_SCREEN, _HIDDEN_CSS)
    words = english_words(prose, {SITE, WATCH})
    assert words == [], f"{name} ({page.url}): English on screen: {words}"
    return shown


def test_a_whole_day_in_chinese(page, running, site_today, tmp_path):
    base, index_url, scheduler, log = running

    # 1. Add the district's site on the Sources page (no display name: the site's own is learned).
    page.goto(base + "/sources")
    page.fill("#site-name", SITE)
    page.fill("#site-start-urls", site_today)
    page.fill("#site-region", "江苏省宿迁市宿城区")
    page.click("#add-site")
    assert f"已添加站点「{SITE}」" in step(page, "1-site-added")

    # 2. The running scheduler crawls it: the Sources page shows the run and its articles.
    wait_until("the added site's first run",
               lambda: any(r["site"] == SITE and r["status"] == "ok" for r in read_runs(index_url)), 120, scheduler, log)
    page.goto(base + "/sources")
    row = page.locator(f'tr[data-site="{SITE}"]').inner_text()
    assert OWN_NAME in row and "成功" in row, row
    assert row.count(local_day().isoformat()) == 2, row               # its run, and its newest article, today
    step(page, "2-site-crawled")

    # 3. A watch, made on the Watches page.
    page.goto(base + "/watches")
    page.fill("#watch-name", WATCH)
    page.fill("#watch-query", QUERY)
    page.fill("#watch-emails", "team@example.com")
    page.click("#create-watch")
    assert f"已创建监测「{WATCH}」" in step(page, "3-watch-created")

    # 4. Search with parentheses.
    page.goto(base + "/")
    page.fill("#q", QUERY)
    page.click("#search-button")
    page.wait_for_selector("#total")
    titles = page.locator("li.story h2").all_inner_texts()
    assert titles and all("宿城" in t or "激光" in t or "传感" in t for t in titles), titles
    assert "宿城区召开激光产业园建设第九次会办会" in titles
    step(page, "4-search")

    # 5. Export it as Excel and open the file.
    with page.expect_download() as download:
        page.click("#export-xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = load_workbook(saved, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(cell) for cell in rows[0] if cell]
    assert saved.suffix == ".xlsx" and all(re.search(r"[\u4e00-\u9fff]", cell) for cell in header), header
    assert len(rows) - 1 >= len(titles) and any("第九次会办会" in str(cell) for row in rows for cell in row)

    # 6. The watch's page: its chart has today's bar, and its Atom feed parses.
    page.goto(f"{base}/watches/{WATCH}")
    bars = page.locator("#watch-chart svg rect.bar")
    assert bars.count() >= 1 and bars.last.get_attribute("data-day") == local_day().isoformat()
    step(page, "6-watch-page")
    feed_url = page.input_value("#feed-url")
    feed = page.context.request.get(feed_url)
    assert feed.ok and "atom" in feed.headers["content-type"]
    atom = etree.fromstring(feed.body())
    entries = atom.findall("{http://www.w3.org/2005/Atom}entry")
    assert entries and "宿城区召开激光产业园建设第九次会办会" in [e.findtext("{http://www.w3.org/2005/Atom}title")
                                                              for e in entries]

    # 7. The source's page and its chart.
    page.goto(f"{base}/sources/{SITE}")
    assert page.locator("svg.volume-chart rect.bar").count() >= 1
    assert OWN_NAME in step(page, "7-source-chart")

    # 8. Snooze the watch until the day after tomorrow.
    until = local_day() + timedelta(days=2)
    page.goto(base + "/watches")
    row = page.locator(f'tr.watch[data-name="{WATCH}"]')
    row.locator("input.snooze-until").fill(until.isoformat())
    row.locator("button.snooze-watch").click()
    shown = step(page, "8-snoozed")
    assert f"已暂停提醒：监测「{WATCH}」" in shown
    assert f"暂停提醒至 {until.isoformat()} 00:00" in page.locator(f'tr.watch[data-name="{WATCH}"]').inner_text()
