"""The daily digest of a fixture day: built from a real crawl, sent through a real
SMTP server, its HTML rendered in headless Chromium (screenshot in
tests/artifacts/), its text part carrying the same stories, and article markup
staying inert."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import crawl_into, run_newsmon
from mailserver import MailServer
from monitor.text import reach_line

LASER = '"产业园" OR 激光 -招聘'
SHANGHAI_OFFSET = timedelta(hours=8)


@pytest.fixture(scope="module")
def mail():
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def day(fixture_sites, tmp_path_factory, mail):
    """Three watches, a crawl, then ``newsmon digest --date <today>``, sent."""
    directory = tmp_path_factory.mktemp("digest")
    index_url = f"sqlite:///{directory}/newsmon.db"
    env = mail.env()
    for args in (("laser", "--query", LASER, "--email", "team@example.com", "--mode", "digest"),
                 ("sucheng", "--query", "激光", "--site", "sucheng-gov", "--email", "team@example.com",
                  "--mode", "both"),
                 ("vaccine", "--query", "疫苗 接种", "--email", "ops@example.com", "--mode", "digest")):
        proc = run_newsmon("watch", "add", *args, "--index", index_url, **env)
        assert proc.returncode == 0, proc.stderr
    crawl = crawl_into(fixture_sites, directory, index_url=index_url, **env)
    today = (datetime.now(timezone.utc) + SHANGHAI_OFFSET).date().isoformat()
    before = len(mail.messages)
    sent = run_newsmon("digest", "--date", today, "--index", index_url, **env)
    assert sent.returncode == 0, sent.stderr
    digests = {m.rcpt_tos[0]: m.message for m in mail.messages[before:]}
    return crawl, env, today, digests, sent.stdout


def search(index_url: str, query: str, *args, **env) -> list[dict]:
    proc = run_newsmon("search", query, "--json", "--limit", "1000", "--index", index_url, *args, **env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def parts(message):
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_one_digest_per_recipient_with_date_and_count(day):
    crawl, env, today, digests, stdout = day
    assert set(digests) == {"team@example.com", "ops@example.com"}
    laser = {s["story_id"] for s in search(crawl.index_url, LASER, **env)}
    sucheng = {s["story_id"] for s in search(crawl.index_url, "激光", "--site", "sucheng-gov", **env)}
    assert len(laser) >= 5 and sucheng - laser      # one story only the second watch has (招聘)
    # the count is of distinct stories: one in both watches counts once
    assert digests["team@example.com"]["Subject"] == \
        f"newsmon 每日摘要 {today}：{len(laser | sucheng)} 条新报道（2 个监测）"
    assert digests["ops@example.com"]["Subject"] == f"newsmon 每日摘要 {today}：1 条新报道（1 个监测）"
    unsubscribe = digests["team@example.com"]["List-Unsubscribe"]
    assert "unsubscribe%20laser" in unsubscribe and "unsubscribe%20sucheng" in unsubscribe
    assert f"digest {today} for team@example.com: {len(laser | sucheng)} stories (laser {len(laser)}, " \
           f"sucheng {len(sucheng)})" in stdout


def test_text_part_carries_every_story_with_its_reach(day):
    crawl, env, _today, digests, _ = day
    text, _html = parts(digests["team@example.com"])
    sections = text.split("== 监测「")
    laser_section = next(s for s in sections if s.startswith("laser」"))
    stories = search(crawl.index_url, LASER, **env)
    for story in stories:
        assert story["title"] in laser_section and story["url"] in laser_section
        assert reach_line(story) in laser_section
    numbered = [line for line in laser_section.splitlines() if line[:1].isdigit() and ". " in line]
    assert len(numbered) == len(stories)          # each story once, no copies listed as stories
    dates = [line.split(" · ")[1] for line in laser_section.splitlines()
             if line.startswith("   ") and " · " in line and line.strip().split(" · ")[0] in
             {s["site"] for s in stories}]
    assert dates == sorted(dates, reverse=True)    # newest first
    assert "【激光】" in laser_section or "【产业园】" in laser_section   # hits marked
    assert "你收到这一节，是因为监测「laser」列有 team@example.com。不想再收到：请在 newsmon 网页的「监测」页暂停或删除「laser」，或请管理员处理。" in text
    assert "== 来源健康 ==" in text


def test_html_digest_renders_in_chromium(day, chromium_browser, artifacts_dir):
    crawl, env, today, digests, _ = day
    _text, html = parts(digests["team@example.com"])
    page = chromium_browser.new_page(viewport={"width": 800, "height": 1200})
    try:
        page.set_content(html)
        assert page.title() == digests["team@example.com"]["Subject"]
        watches = page.locator("section.watch")
        assert watches.count() == 2
        laser = page.locator("section.watch[data-watch='laser']")
        stories = search(crawl.index_url, LASER, **env)
        assert laser.locator("article.story").count() == len(stories)
        titles = laser.locator("a.title").all_inner_texts()
        assert sorted(titles) == sorted(s["title"] for s in stories)
        reaches = laser.locator(".reach").all_inner_texts()
        assert sorted(reaches) == sorted(reach_line(s) for s in stories)
        assert any("1 家转载" in r for r in reaches)
        assert laser.locator("mark").count() >= len(stories)   # every excerpt shows its hit
        assert page.locator("#health h2").inner_text() == "来源健康"
        page.screenshot(path=str(artifacts_dir / "digest.png"), full_page=True)
    finally:
        page.close()


def test_dry_run_writes_the_digest_and_sends_nothing(day, mail, tmp_path):
    crawl, env, today, _digests, _ = day
    before = len(mail.messages)
    for suffix in (".html", ".txt", ".eml"):
        out = tmp_path / f"digest{suffix}"
        proc = run_newsmon("digest", "--date", today, "--to", "ops@example.com", "--dry-run",
                           "--out", out, "--index", crawl.index_url, **env)
        assert proc.returncode == 0, proc.stderr
        assert f"written to {out}" in proc.stdout
        if suffix == ".eml":
            import email
            import email.policy
            message = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
            assert message["To"] == "ops@example.com"
            text, html = parts(message)
            assert "疫苗" in text and "疫苗" in html
        else:
            assert "疫苗" in out.read_text(encoding="utf-8")
    several = run_newsmon("digest", "--date", today, "--dry-run", "--out", tmp_path / "x.html",
                          "--index", crawl.index_url, **env)
    assert several.returncode == 2 and "2 recipients: pick one with --to" in several.stderr
    assert len(mail.messages) == before


def index_page(index, html: str, url: str, site: str, seen: datetime):
    """One page through the crawl's own stages (extract, normalize, dedup, index, alerts)."""
    from monitor.alerts import AlertRecorder
    from pipelines.stories.clustering import StoryClusterer
    from pipelines.extract import extract_article
    from pipelines.records import build_record

    article = extract_article(html.encode("utf-8"), url, {"Content-Type": "text/html; charset=utf-8"})
    record = build_record(article, site=site, fetched_at=seen.isoformat(timespec="seconds"))
    assignment = StoryClusterer(index).store(record)
    AlertRecorder(index).observe(record, new_story=assignment.new_story, recrawl=False)
    return article


def test_scheduled_digest_goes_once_a_day_and_covers_what_is_new_since(day, mail):
    """``run_daily_digest``: a recipient's digest covers what was first seen since
    their previous one (here: the one ``newsmon digest`` sent), once per local day."""
    from index import open_index
    from monitor.delivery import SMTPSettings
    from monitor.digest import run_daily_digest

    crawl, env, _today, _digests, _ = day
    smtp = SMTPSettings.from_env(env)
    index = open_index(crawl.index_url)
    try:
        tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
        before = len(mail.messages)
        assert sorted(run_daily_digest(index, tomorrow, smtp=smtp)) == ["ops@example.com", "team@example.com"]
        first = {m.rcpt_tos[0]: m.message for m in mail.messages[before:]}
        assert "：0 条新报道" in first["team@example.com"]["Subject"]   # all sent yesterday already
        assert run_daily_digest(index, tomorrow + timedelta(minutes=5), smtp=smtp) == []   # once a day

        index_page(index, MALICIOUS_PAGE.replace("&lt;", "").replace("&gt;", ""),
                   "http://www.sqsc.gov.cn/xwdt/202107/t20210720_4100001.html", "sucheng-gov",
                   tomorrow + timedelta(hours=2))
        before = len(mail.messages)
        assert sorted(run_daily_digest(index, tomorrow + timedelta(days=1), smtp=smtp)) == [
            "ops@example.com", "team@example.com"]
        second = {m.rcpt_tos[0]: m.message for m in mail.messages[before:]}
        assert "：1 条新报道" in second["team@example.com"]["Subject"]
        assert "：0 条新报道" in second["ops@example.com"]["Subject"]
        text, _html = parts(second["team@example.com"])
        assert "激光产业园招商" in text and "项目集中签约" in text
    finally:
        index.close()


MALICIOUS_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>&lt;script&gt;window.__xss=1&lt;/script&gt;激光产业园招商 &lt;img src=x onerror="window.__xss=2"&gt;</title>
<script src="/js/jquery.min.js"></script></head>
<body><div class="header"><div class="nav"><a href="/">首页</a> <a href="/xwdt/">新闻动态</a></div></div>
<div class="main"><div class="article">
<h1>&lt;script&gt;window.__xss=1&lt;/script&gt;激光产业园招商 &lt;img src=x onerror="window.__xss=2"&gt;</h1>
<div class="info">发布时间：2021-07-20 10:00 来源：宿城区经济和信息化局</div>
<div class="TRS_Editor">
<p>7月19日，宿城区激光产业园举行&lt;b onmouseover="window.__xss=3"&gt;项目集中签约&lt;/b&gt;仪式，共签约激光装备、精密光学等项目12个，总投资45亿元。</p>
<p>据介绍，签约项目涵盖激光切割、激光焊接和光学元器件制造，达产后预计年产值60亿元，新增就业岗位1800个。园区将为项目落地提供全程代办服务。</p>
<p>区委主要负责人表示，要以此次集中签约为契机，持续优化营商环境，推动激光产业集群发展壮大。&lt;iframe src="javascript:window.__xss=4"&gt;&lt;/iframe&gt;</p>
</div></div></div>
<div class="footer">主办：宿迁市宿城区人民政府 苏ICP备05009222号</div>
</body></html>"""


def test_article_markup_stays_inert_in_the_html_digest(tmp_path, chromium_browser, artifacts_dir):
    """A page whose title and text carry markup (as spam-injected pages do) goes through
    the real pipeline functions; in the digest every tag is text, nothing runs."""
    from index import open_index
    from monitor.digest import DigestSettings, build_digests, render_html, render_text
    from monitor.watches import Watch, WatchStore

    index = open_index(f"sqlite:///{tmp_path}/newsmon.db")
    try:
        WatchStore(index).add(Watch("laser", "激光", emails=["team@example.com"], mode="digest"))
        now = datetime.now(timezone.utc)
        article = index_page(index, MALICIOUS_PAGE, "http://www.sqsc.gov.cn/xwdt/202107/t20210720_4100001.html",
                             "sucheng-gov", now)
        assert "<script>" in article.title and "onerror" in article.title    # the markup is the title's text
        (digest,) = build_digests(index, now - timedelta(hours=1), now + timedelta(seconds=1),
                                  label=now.date().isoformat(), settings=DigestSettings())
        html = render_html(digest)
        assert digest.count == 1
    finally:
        index.close()
    assert "<script>window.__xss" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert render_text(digest).count("<script>window.__xss=1</script>") == 1   # text part: as written
    page = chromium_browser.new_page()
    try:
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.set_content(html)
        assert page.evaluate("window.__xss") is None and dialogs == []
        assert page.locator("script, img, iframe, b[onmouseover]").count() == 0
        title = page.locator("article.story a.title").inner_text()
        assert title.startswith("<script>window.__xss=1</script>激光产业园招商")
        page.screenshot(path=str(artifacts_dir / "digest-markup.png"), full_page=True)
    finally:
        page.close()
