"""One time zone: a server in UTC, ``NEWSMON_TZ`` unset (so Asia/Shanghai), and every
time a user sees is the Beijing time of the stored UTC moment, to the minute: 04:17:46
UTC is ``2026-12-06 12:17`` -- in ``status``, ``watch list``, ``alerts pending``,
``search``, the web Sources and Watches pages, the digest, the alert email and the
scheduler's log; never ``04:17``, ``+00:00``, seconds or microseconds."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from conftest import REPO, newsmon_env, run_newsmon

STORED = datetime(2026, 12, 6, 4, 17, 46, 693000, tzinfo=timezone.utc)   # 12:17:46.693 in Beijing
SHOWN = "2026-12-06 12:17"
NOISE = re.compile(r"\+00:00|\d\d:\d\d:\d\d|\b04:17\b|UTC|CST")
PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>宿城区激光产业园新签约项目开工</title></head>
<body><div class="main"><div class="article"><h1>宿城区激光产业园新签约项目开工</h1>
<div class="info">发布时间：2026-12-06 12:17:05 来源：宿城区融媒体中心</div>
<div class="TRS_Editor"><p>12月6日上午，宿城区激光产业园新签约的精密激光器项目正式开工，项目总投资12亿元。</p>
<p>项目建成后将形成年产激光器2万台的能力，预计新增就业岗位600个。园区将为项目建设提供全程代办服务。</p>
<p>区相关负责人表示，将持续优化营商环境，推动激光产业集群加快发展。</p></div></div></div></body></html>"""


@pytest.fixture(scope="module")
def utc_server(tmp_path_factory):
    """The index as a team's server in UTC would have it: a site's runs (one good, then
    three failed), a watch, a queued alert, an article; env for the CLI: TZ=UTC and no
    NEWSMON_TZ."""
    from index.runs import FAILED, OK, RunInfo, iso, record_run, run_doc
    from index import open_index
    from monitor.alerts import enqueue
    from monitor.watches import Watch, WatchStore
    from test_digest import index_page

    directory = tmp_path_factory.mktemp("times")
    index_url = f"sqlite:///{directory}/newsmon.db"
    with open_index(index_url) as index:
        record_run(index.state, run_doc("sucheng-gov", RunInfo(run_id="good", started=iso(STORED - timedelta(hours=3))),
                                        iso(STORED - timedelta(hours=3) + timedelta(seconds=9)),
                                        {"pages_fetched": 5, "articles_new": 2}, OK))
        for n in range(3):
            began = STORED + timedelta(minutes=30 * (n - 2))
            record_run(index.state, run_doc("sucheng-gov", RunInfo(run_id=f"fail{n}", started=iso(began)),
                                            iso(began + timedelta(seconds=4)), {"errors/dns": 3}, FAILED))
        watch = WatchStore(index).add(Watch("laser", "激光", emails=["team@example.com"], mode="both",
                                            created=STORED.isoformat(), quiet_hours="22:00-07:00"))
        WatchStore(index).snooze("laser", datetime.now(timezone.utc) + timedelta(days=400))
        index_page(index, PAGE, "http://www.sqsc.gov.cn/xwdt/202612/t20261206_4100009.html", "sucheng-gov",
                   datetime.now(timezone.utc))
        story = index.search(watch.parsed, limit=1)[0]
        enqueue(index.state, watch, story, f"laser/{story['story_id']}", due=STORED)
    env = {k: v for k, v in newsmon_env(TZ="UTC").items() if k != "NEWSMON_TZ"}
    return index_url, env


def run(env: dict, *args) -> str:
    proc = subprocess.run([sys.executable, "-m", "crawler", *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_cli_shows_beijing_time_to_the_minute(utc_server):
    index_url, env = utc_server
    status = run(env, "status", "--index", index_url)
    assert f"{SHOWN} failed" in status                                  # the last run, 12:17 Beijing time
    assert f"failing since {(STORED - timedelta(hours=1)).astimezone(timezone(timedelta(hours=8))):%Y-%m-%d %H:%M}" \
        in status
    listed = run(env, "watch", "list", "--index", index_url)
    assert f"since {SHOWN}" in listed and "quiet 22:00-07:00" in listed and "snoozed until " in listed
    pending = run(env, "alerts", "pending", "--index", index_url)
    assert pending.startswith(f"{SHOWN}  laser/s-")
    found = run(env, "search", "激光", "--index", index_url)
    assert " 1. 2026-12-06 12:17  宿城区激光产业园新签约项目开工" in found        # the page's 12:17:05, to the minute
    for out in (status, listed, pending, found):
        assert not NOISE.search(out), NOISE.search(out)
    # JSON stays machine-readable UTC (design.md's contract)
    assert '"started": "2026-12-06T04:17:46.693+00:00"' in run(env, "status", "--json", "--index", index_url)


def test_the_web_pages_show_beijing_time(utc_server, monkeypatch):
    from web_server import serving
    index_url, env = utc_server
    monkeypatch.delenv("NEWSMON_TZ", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    with serving(index_url) as base:
        pages = {path: urllib.request.urlopen(base + path, timeout=30).read().decode("utf-8")
                 for path in ("/sources", "/watches", "/?q=%E6%BF%80%E5%85%89")}
    assert f"<time>{SHOWN}</time> <span class=\"status status-failed\">" in pages["/sources"]
    assert f"<td><time>{SHOWN}</time></td>" in pages["/watches"]
    assert "<time>2026-12-06 12:17</time>" in pages["/?q=%E6%BF%80%E5%85%89"]
    for path, html in pages.items():
        times = re.findall(r"<time>([^<]*)</time>", html)
        assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\d( \d\d:\d\d)?|—", t) for t in times), (path, times)
        assert "+00:00" not in html and "04:17" not in html, path


def test_the_digest_and_the_alert_say_beijing_time(utc_server, tmp_path):
    from index import open_index
    from mailserver import MailServer
    from monitor.alerts import deliver_pending
    from monitor.delivery import SMTPSettings

    index_url, env = utc_server
    for suffix in (".txt", ".html"):
        out = tmp_path / f"digest{suffix}"
        run(env, "digest", "--to", "team@example.com", "--dry-run", "--out", out, "--index", index_url)
        text = out.read_text(encoding="utf-8")
        assert "（Asia/Shanghai 时间）" in text and "UTC" not in text and "+00:00" not in text
        assert "2026-12-06 12:17" in text                     # the story's date, and the source's last run
        assert not re.search(r"\d\d:\d\d:\d\d", text)

    mail = MailServer().start()
    index = open_index(index_url)
    try:
        assert deliver_pending(index, smtp=SMTPSettings.from_env(mail.env())).sent == 1
    finally:
        index.close()
        mail.stop()
    body = mail.messages[0].message.get_content()
    assert "sucheng-gov · 2026-12-06 12:17\n" in body.replace("\r\n", "\n")
    assert not NOISE.search(body.split("\n-- ")[0])


def test_the_scheduler_log_is_in_beijing_time(utc_server, tmp_path):
    """Log stamps and the times in its lines: NEWSMON_TZ, without a zone name or offset."""
    from test_scheduler import closed_port_url

    index_url, env = utc_server
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"sites:\n  - name: gone-gov\n    start_urls: [{closed_port_url()}]\n"
                     f"    schedule: every 6h\n", encoding="utf-8")
    log = tmp_path / "scheduler.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "scheduler.py", "--sites", sites, "--index", index_url,
                                 "--jitter", "0"], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        try:
            deadline = time.monotonic() + 60
            while not re.search(r"crawl \w+ ended in", log.read_text(encoding="utf-8")):  # the run's last line
                assert time.monotonic() < deadline and proc.poll() is None, log.read_text(encoding="utf-8")
                time.sleep(0.3)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0
    beijing = datetime.now(timezone(timedelta(hours=8)))
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    stamps = [re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d):\d\d (INFO|WARNING|ERROR) ", line) for line in lines]
    assert all(stamps), lines
    assert {stamp.group(1) for stamp in stamps} <= {f"{beijing - timedelta(minutes=m):%Y-%m-%d %H:%M}"
                                                    for m in range(3)}
    next_runs = [line for line in lines if "next run" in line]
    assert next_runs and all(re.search(r"next run \d{4}-\d\d-\d\d \d\d:\d\d$", line) for line in next_runs)
    assert any(re.search(r"\(scheduled for \d{4}-\d\d-\d\d \d\d:\d\d\)$", line) for line in lines), lines
    for line in lines:
        message = line[20:]
        assert not re.search(r"\+00:00|\d\d:\d\d:\d\d|\bUTC\b|\bCST\b", message), line


def test_a_watch_made_in_the_browser_shows_its_pacing_and_beijing_time(utc_server, chromium_browser, monkeypatch,
                                                                       tmp_path):
    """Headless Chromium on the Watches page of a server in UTC: the form takes the
    window and quiet hours, and the new row says when it was created in Beijing time."""
    from browser import ARTIFACTS
    from web_server import copy_of, serving

    index_url, _env = utc_server
    monkeypatch.delenv("NEWSMON_TZ", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    context = chromium_browser.new_context(locale="zh-CN", viewport={"width": 1300, "height": 900})
    page = context.new_page()
    try:
        with serving(copy_of(index_url, tmp_path)) as base:
            page.goto(base + "/watches")
            page.fill("#watch-name", "night-shift")
            page.fill("#watch-query", "激光 产业园")
            page.fill("#watch-emails", "night@example.com")
            page.select_option("#watch-mode", "immediate")
            page.fill("#watch-window-hours", "24")
            page.fill("#watch-quiet-hours", "22:00-07:00")
            page.click("#create-watch")
            assert "已创建监测「night-shift」" in page.inner_text("#flash")
            row = page.locator("tr.watch[data-name=night-shift]")
            assert row.locator("td.pacing").inner_text() == "24 小时内发布；免打扰 22:00-07:00"
            created = row.locator("time").last.inner_text()
            beijing = datetime.now(timezone(timedelta(hours=8)))
            assert created in {f"{beijing - timedelta(minutes=m):%Y-%m-%d %H:%M}" for m in range(3)}
            snoozed = page.locator("tr.watch[data-name=laser] td.pacing").inner_text()
            assert snoozed.startswith("48 小时内发布；免打扰 22:00-07:00；暂停提醒至 ")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "web-watches-pacing.png"), full_page=True)
    finally:
        context.close()
