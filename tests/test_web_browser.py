"""The web UI in a real browser: headless Debian Chromium driven by Playwright, against
`newsmon serve` (its own process, loopback, port 0) over the real fixture crawl.
Screenshots go to tests/artifacts/ (git-ignored) for a person to look at."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from browser import ARTIFACTS
from test_web_api import hostile_index
from web_server import copy_of, serving


@pytest.fixture(scope="module")
def server(crawl, tmp_path_factory):
    """`newsmon serve` over a copy of the fixture crawl (the watch tests write to it)."""
    with serving(copy_of(crawl.index_url, tmp_path_factory.mktemp("web"))) as url:
        yield url


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def shot(page, name: str) -> Path:
    path = ARTIFACTS / f"web-{name}.png"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def search_for(page, base: str, text: str) -> None:
    page.goto(base + "/")
    page.fill("#q", text)
    page.click("#search-button")
    page.wait_for_selector("#total")


def story_titles(page) -> list[str]:
    return page.locator("li.story h2").all_inner_texts()


def test_search_in_simplified_and_traditional_finds_the_same_stories(page, server):
    search_for(page, server, "激光产业园")
    assert parse_qs(urlsplit(page.url).query)["q"] == ["激光产业园"]          # the search is in the URL
    simplified = story_titles(page)
    assert len(simplified) == 5 and "宿城区召开激光产业园建设第九次会办会" in simplified
    assert "共 5 条报道" in page.inner_text("#total")
    marks = page.locator("li.story mark").all_inner_texts()
    assert marks and all(m in ("激光产业园", "激光產業園") for m in marks)
    shot(page, "search-simplified")

    search_for(page, server, "激光產業園")
    assert story_titles(page) == simplified
    # The bookmarked URL gives the same page.
    page.goto(page.url)
    assert story_titles(page) == simplified
    shot(page, "search-traditional")


def test_filters_narrow_the_results_and_stay_in_the_url(page, server):
    search_for(page, server, "激光")
    everything = story_titles(page)
    page.select_option("#site", "laser-industry")
    page.click("#search-button")
    page.wait_for_selector("#total")
    assert parse_qs(urlsplit(page.url).query)["site"] == ["laser-industry"]
    on_site = story_titles(page)
    assert 0 < len(on_site) < len(everything)
    for story in page.locator("li.story").all():        # a copy on the site matched, maybe not the origin
        assert "laser-industry" in story.inner_text()

    page.select_option("#site", "")
    page.select_option("#region", "江苏省")
    page.fill("#since", "2021-01-01")
    page.fill("#until", "2021-12-31")
    page.click("#search-button")
    page.wait_for_selector("#total")
    query = parse_qs(urlsplit(page.url).query)
    assert query["region"] == ["江苏省"] and query["since"] == ["2021-01-01"] and query["until"] == ["2021-12-31"]
    dates = page.locator("li.story .meta time").all_inner_texts()
    assert dates and all("2021-01-01" <= d[:10] <= "2021-12-31" for d in dates)
    assert page.locator("#region").input_value() == "江苏省"                 # the form shows the filter in use
    shot(page, "search-filtered")


def test_a_query_that_does_not_parse_stays_in_the_box_with_the_spot_marked(page, server):
    page.goto(server + "/")
    page.fill("#q", "（激光 or 传感 宿迁")                 # as a Chinese input method types it
    page.click("#search-button")
    page.wait_for_selector("#search-error")
    assert "括号没有闭合" in page.inner_text("#search-error")
    assert page.input_value("#q") == "（激光 or 传感 宿迁"
    assert page.locator("#query-pointer mark").inner_text() == "（"
    page.fill("#q", "（激光 or 传感） 宿迁")
    page.click("#search-button")
    page.wait_for_selector("#total")
    assert story_titles(page) and page.locator("#search-error").count() == 0
    shot(page, "search-bad-query")


def test_pages_and_sort_by_relevance(page, server):
    search_for(page, server, "的")
    assert "第 1 / 2 页" in page.inner_text("#total")
    first = story_titles(page)
    assert len(first) == 20
    page.click("nav.pages a[rel=next]")
    page.wait_for_selector("#total")
    assert "第 2 / 2 页" in page.inner_text("#total")
    second = story_titles(page)
    assert second and not set(second) & set(first)
    page.select_option("#sort", "relevance")
    page.click("#search-button")
    page.wait_for_selector("#total")
    by_relevance = story_titles(page)
    assert sorted(by_relevance) != sorted(first) or by_relevance != first
    assert parse_qs(urlsplit(page.url).query)["sort"] == ["relevance"]


def test_open_a_story_and_follow_a_copy(page, server, crawl):
    search_for(page, server, "激光产业园建设第九次会办会")
    story = page.locator("li.story").first
    assert "首发 sucheng-gov，1 家转载（laser-industry）" in story.inner_text()
    copy_link = story.locator("details.copies a.copy-link")
    assert not copy_link.is_visible()                     # the copies fold away until asked for
    story.locator("details.copies summary").click()
    assert copy_link.is_visible()
    shot(page, "search-copies-open")

    story.locator("a.story-link").click()
    page.wait_for_selector("#text")
    assert page.inner_text("#title") == "宿城区召开激光产业园建设第九次会办会"
    assert "激光产业园" in page.inner_text("#text")
    assert page.locator("#text mark").count() > 0           # the query stays highlighted
    assert page.inner_text("#meta-site").startswith("宿迁市宿城区人民政府")   # the name the site gives itself
    original = page.get_attribute("#view-original", "href")
    assert original.startswith(crawl.urls["sucheng-gov"].rstrip("/"))
    assert page.locator("#copies tbody tr").count() == 2
    shot(page, "story")

    # The repost's clean text, here, in its own script ...
    page.locator("#copies a.copy-text").nth(1).click()
    page.wait_for_selector("#text")
    assert "激光制造网" in page.inner_text("#meta-site")
    assert any(word in page.inner_text("#text") for word in ("激光產業園", "激光产业园"))
    # ... and its page on its own site.
    page.locator("#copies a.copy-link").nth(1).click()
    page.wait_for_load_state()
    assert page.url.startswith(crawl.urls["laser-industry"].rstrip("/"))
    assert "會辦會" in page.content() or "会办会" in page.content()


def test_article_scripts_render_as_text_and_never_run(page, tmp_path):
    with serving(hostile_index(tmp_path)) as base:
        search_for(page, base, "恶意代码")
        assert "<script>" in page.inner_text("li.story h2")
        page.click("li.story a.story-link")
        page.wait_for_selector("#text")
        text = page.inner_text("#text")
        assert "<script>document.title='XSS-SCRIPT-RAN'</script>" in text
        assert "<img src=x onerror=\"document.title='XSS-IMG-RAN'\">" in text
        assert "<script>alert('author')</script>" in page.inner_text("#meta-author")
        assert "onerror=alert(1)" in page.inner_text("#meta-source")
        assert page.locator("main script").count() == 0 and page.locator("main img").count() == 0
        assert "XSS" not in page.title() and page.dialogs == []
        shot(page, "hostile-story")


def test_a_public_instance_asks_for_credentials(page, crawl):
    token = "browser-test-token-5b1f"
    with serving(crawl.index_url, "--host", "0.0.0.0", NEWSMON_WEB_TOKEN=token) as url:
        base = url.replace("0.0.0.0", "127.0.0.1")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/api/search?q=%E6%BF%80%E5%85%89", timeout=30)
        assert refused.value.code == 401
        request = urllib.request.Request(base + "/api/search?q=%E6%BF%80%E5%85%89",
                                         headers={"Authorization": f"Bearer {token}"})
        assert json.load(urllib.request.urlopen(request, timeout=30))["stories"]

        page.goto(base + "/?q=激光")
        assert urlsplit(page.url).path == "/login"
        page.fill("#token", "wrong")
        page.click("#login-button")
        assert "用户名、密码或令牌不对" in page.inner_text("#login-error")
        page.fill("#token", token)
        page.click("#login-button")
        page.wait_for_selector("#total")
        assert parse_qs(urlsplit(page.url).query)["q"] == ["激光"]     # back where it was going
        assert story_titles(page)
        shot(page, "logged-in")
        page.click("form.logout button")
        assert urlsplit(page.url).path == "/login"


def test_create_test_and_delete_a_watch(page, server):
    page.goto(server + "/")
    page.click("nav >> text=监测")
    assert page.locator("#no-watches").is_visible()
    page.fill("#watch-name", "laser-park")
    page.fill("#watch-query", "激光產業園 -招聘")             # traditional input works here too
    page.fill("#watch-emails", "team@example.com, lead@example.com")
    page.select_option("#watch-mode", "digest")
    page.click("#create-watch")
    assert "已创建监测「laser-park」" in page.inner_text("#flash")
    row = page.locator("tr.watch[data-name=laser-park]")
    assert "激光產業園 -招聘" in row.inner_text() and "lead@example.com" in row.inner_text()
    shot(page, "watches")

    # A mistake is explained where it is, and what was typed stays in the form.
    page.fill("#watch-name", "broken")
    page.fill("#watch-query", '"激光产业园')
    page.fill("#watch-emails", "team@example.com")
    page.click("#create-watch")
    assert "引号没有闭合" in page.inner_text("#watch-error")
    assert page.input_value("#watch-query") == '"激光产业园'
    assert page.locator("tr.watch").count() == 1

    row.locator("a.test-watch").click()
    page.fill("#days", "3650")
    page.click("button:has-text('测试')")
    page.wait_for_selector("#total")
    assert "最近 3650 天" in page.inner_text("#total")
    titles = story_titles(page)
    assert "2020中国（宿迁）激光产业高峰论坛在宿城区举行" in titles
    assert all("招聘" not in title for title in titles)
    shot(page, "watch-test")

    page.goto(server + "/watches")
    page.locator("tr.watch[data-name=laser-park] button.delete-watch").click()
    assert "已删除监测「laser-park」" in page.inner_text("#flash")
    assert page.locator("tr.watch").count() == 0


def test_add_a_site_fix_its_url_edit_and_pause_it_on_the_sources_page(page, crawl, fixture_sites, tmp_path):
    sites_file = fixture_sites.write_sites_file(tmp_path / "sites.yaml")
    before = sites_file.read_text(encoding="utf-8")
    with serving(copy_of(crawl.index_url, tmp_path), "--sites", str(sites_file)) as base:
        page.goto(base + "/sources")
        page.fill("#site-name", "pingqiao-news")
        page.fill("#site-title", "平桥区融媒体中心")
        page.fill("#site-start-urls", "www.pingqiao.gov.cn/news/")
        page.click("#add-site")
        # The mistake is said beside its field, in Chinese, and what was typed stays.
        assert "不是 http(s) 网址" in page.inner_text("#error-start_urls")
        assert page.input_value("#site-title") == "平桥区融媒体中心"
        assert sites_file.read_text(encoding="utf-8") == before
        shot(page, "sources-add-error")
        page.fill("#site-start-urls", "https://www.pingqiao.gov.cn/news/")
        page.click("#add-site")
        assert "已添加站点「pingqiao-news」" in page.inner_text("#flash")
        row = page.locator("tr.source[data-site=pingqiao-news]")
        assert "平桥区融媒体中心" in row.inner_text() and "pingqiao-news" in row.inner_text()

        row.locator("a.edit-site").click()
        page.fill("#site-schedule", "every 2h")
        page.click("#save-site")
        assert "已保存站点「pingqiao-news」" in page.inner_text("#flash")
        page.locator("tr.source[data-site=pingqiao-news] button.pause-site").click()
        assert "已暂停采集" in page.locator("tr.source[data-site=pingqiao-news]").inner_text()
        shot(page, "sources-managed")
    text = sites_file.read_text(encoding="utf-8")
    assert text.startswith(before) and "  - name: pingqiao-news\n    title: 平桥区融媒体中心\n" in text
    assert "    schedule: every 2h\n" in text and "    paused: true\n" in text
