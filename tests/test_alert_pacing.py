"""The daily cap, the digest that goes once a day, and the watch fields that pace
alerts (window, quiet hours, snooze) in the CLI, the sites file and the web API.

The cap and the digest run on real crawls of the fixture sites through the real CLI
and a real SMTP server and webhook receiver (the watch there has been running since
before the fixture news: ``alert_helpers``)."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from alert_helpers import NO_BURST, add_archive_watch
from conftest import crawl_into, run_newsmon
from mailserver import MailServer
from webhook_receiver import WebhookReceiver

LASER = '"产业园" OR 激光 -招聘'


@pytest.fixture(scope="module")
def capped(fixture_sites, tmp_path_factory):
    """A crawl with a daily cap of 3 per recipient."""
    mail, hooks = MailServer().start(), WebhookReceiver().start()
    directory = tmp_path_factory.mktemp("capped")
    index_url = f"sqlite:///{directory}/newsmon.db"
    env = {**mail.env(), **NO_BURST, "NEWSMON_ALERT_DAILY_CAP": "3"}
    try:
        add_archive_watch(index_url, "laser", "--query", LASER, "--email", "team@example.com",
                          "--webhook", f"{hooks.url}/laser", "--mode", "immediate", **env)
        crawl = crawl_into(fixture_sites, directory, index_url=index_url, **env)
        # what the crawl's 5 s drain did not get out on a busy machine (the scheduler does this every minute)
        assert run_newsmon("alerts", "deliver", "--index", index_url, **env).returncode == 0
        found = run_newsmon("search", LASER, "--json", "--limit", "1000", "--index", index_url, **env)
        yield crawl, env, mail, hooks, {s["story_id"]: s for s in json.loads(found.stdout)}
    finally:
        mail.stop()
        hooks.stop()


def test_past_the_daily_cap_matches_go_to_the_digest_and_the_last_alert_says_so(capped, tmp_path):
    crawl, env, mail, hooks, laser = capped
    assert len(laser) >= 5
    alerts = mail.to("team@example.com")
    assert len(alerts) == 3 and len(hooks.at("/laser")) == 3
    bodies = [a.message.get_content() for a in alerts]
    # The third alert says so (deliveries run concurrently, so it need not arrive last).
    assert [b for b in bodies if "上限" in b] == [b for b in bodies if "已达每日上限 3 条" in b] != []
    assert sum("上限" in b for b in bodies) == 1
    assert [p.body.get("daily_cap_reached") for p in hooks.at("/laser")].count(3) == 1
    assert crawl.summary["totals"]["alerts_to_digest"] == len(laser) - 3

    out = tmp_path / "digest.txt"
    digest = run_newsmon("digest", "--to", "team@example.com", "--dry-run", "--out", out,
                         "--index", crawl.index_url, **env)
    assert digest.returncode == 0, digest.stderr
    section = out.read_text(encoding="utf-8").split("== 监测「laser」")[1].split("== 来源健康")[0]
    assert f"其中 {len(laser) - 3} 条没有逐条提醒" in section       # an immediate-only watch: what it held back
    # Each matching story came either as one of the three alerts or in the digest, not both
    # (by its copies' URLs: a story may have been renamed after its alert, story_moves.py).
    mailed = "\n".join(a.message.get_content() for a in alerts)
    for story in laser.values():
        urls = {c["url"] for c in story["copies"]} | {story["url"]}
        assert any(u in mailed for u in urls) != (story["url"] in section), story["title"]
    assert len(re.findall(r"^\d+\. ", section, re.M)) == len(laser) - 3


def test_the_daily_digest_gives_a_webhook_its_held_matches_as_one_summary(capped, monkeypatch):
    from index import open_index
    from monitor.alerts import deliver_pending
    from monitor.delivery import SMTPSettings
    from monitor.digest import run_daily_digest

    crawl, env, mail, hooks, laser = capped
    monkeypatch.setenv("NEWSMON_ALLOW_HOSTS", "127.0.0.1")          # the receiver is on loopback
    with open_index(crawl.index_url) as index:
        smtp = SMTPSettings.from_env(env)
        now = datetime.now(timezone.utc) + timedelta(minutes=1)
        before = len(mail.messages)
        assert run_daily_digest(index, now, smtp=smtp) == ["team@example.com"]
        assert deliver_pending(index, now, smtp=smtp).sent == 1
        assert run_daily_digest(index, now + timedelta(minutes=5), smtp=smtp) == []     # once a day
        assert deliver_pending(index, now + timedelta(minutes=5), smtp=smtp).sent == 0
    assert len(mail.messages) == before + 1
    (summary,) = [p for p in hooks.at("/laser") if "summary" in p.body]
    assert summary.body["summary"]["kind"] == "digest"
    assert summary.body["summary"]["total"] == len(laser) - 3
    assert summary.body["summary"]["reasons"] == {"cap": len(laser) - 3}
    assert "今天有" in summary.body["text"] and "超过每日提醒上限" in summary.body["text"]


def test_a_second_digest_run_on_the_same_day_sends_nothing(crawl, tmp_path):
    from index import open_index
    from monitor.clock import local_day
    from monitor.digest import DIGEST_KIND
    from web_server import copy_of

    mail = MailServer().start()
    index_url = copy_of(crawl.index_url, tmp_path)
    env = mail.env()
    try:
        added = run_newsmon("watch", "add", "morning", "--query", LASER, "--email", "team@example.com",
                            "--mode", "digest", "--index", index_url, **env)
        assert added.returncode == 0, added.stderr
        first = run_newsmon("digest", "--index", index_url, **env)
        assert first.returncode == 0 and "sent to team@example.com" in first.stdout, first.stderr
        assert len(mail.messages) == 1 and "条新报道" in mail.messages[0].message["Subject"]

        second = run_newsmon("digest", "--index", index_url, **env)
        assert second.returncode == 0, second.stderr
        assert re.fullmatch(rf"digest {local_day()} for team@example.com: already sent at "
                            r"\d{4}-\d\d-\d\d \d\d:\d\d; nothing sent \(--force sends another\)\n", second.stdout)
        assert len(mail.messages) == 1                             # no second, empty email

        forced = run_newsmon("digest", "--force", "--index", index_url, **env)
        assert forced.returncode == 0 and "sent to team@example.com" in forced.stdout
        assert len(mail.messages) == 2

        # A run that died mid-send left "sending": it does not count, and is taken over.
        with open_index(index_url) as index:
            key = f"team@example.com/{local_day()}"
            stale = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            index.state.put(DIGEST_KIND, key, {**index.state.get(DIGEST_KIND, key), "status": "sending",
                                               "sent_at": stale})
        retried = run_newsmon("digest", "--index", index_url, **env)
        assert retried.returncode == 0 and "sent to team@example.com" in retried.stdout, retried.stdout
        assert len(mail.messages) == 3
        assert "already sent" in run_newsmon("digest", "--index", index_url, **env).stdout
    finally:
        mail.stop()


def test_crawls_of_many_new_sites_make_one_summary_per_watch_not_one_per_crawl(tmp_path):
    """The scheduler runs one crawl per site: the first crawl's end sends its summary,
    the next ones' matches wait until they settle and go as one more."""
    from index import open_index
    from monitor.alerts import flush_backlog, pending
    from monitor.backlog import add_backlog
    from monitor.watches import Watch, WatchStore

    with open_index(f"sqlite:///{tmp_path}/newsmon.db") as index:
        WatchStore(index).add(Watch("laser", "激光", emails=["team@example.com"], mode="immediate"))
        start = datetime.now(timezone.utc)

        def crawl(n: int, at: datetime) -> list[str]:
            for i in range(5):
                add_backlog(index.state, "laser", {"story_id": f"s-{n}-{i}", "title": f"激光 {n}-{i}",
                                                   "url": f"http://example.gov.cn/{n}/{i}.html", "site": f"site{n}",
                                                   "published": "2023-01-01"}, "old", f"run{n}", at)
            return flush_backlog(index, run=f"run{n}", now=at)         # the crawl's end

        assert len(crawl(0, start)) == 1                                 # the first: its summary at once
        for n in range(1, 20):                                           # 19 more sites, a minute apart
            assert crawl(n, start + timedelta(minutes=n)) == []
        last = start + timedelta(minutes=19)
        assert flush_backlog(index, now=last + timedelta(minutes=5)) == []        # still coming in
        (summary,) = flush_backlog(index, now=last + timedelta(minutes=11))       # settled: one for all
        assert flush_backlog(index, now=last + timedelta(hours=2)) == []
        entries = [e for _k, e in pending(index) if e.get("kind") == "summary"]
        assert sorted(e["summary"]["total"] for e in entries) == [5, 95]


# -- the watch fields, in the CLI, the sites file and the web API -----------------------------

from test_watch_cli import newsmon  # noqa: E402,F401 - the same CliRunner fixture


def test_watch_add_takes_a_window_and_quiet_hours_and_says_what_is_wrong(newsmon):
    added = newsmon("watch", "add", "night", "--query", "激光", "--email", "t@example.com",
                    "--window-hours", "72", "--quiet-hours", "22:00-07:30")
    assert added.exit_code == 0, added.output
    assert added.output.endswith("; all sites; window 72h, quiet 22:00-07:30\n")
    (stored,) = json.loads(newsmon("watch", "list", "--json").output)
    assert stored["window_hours"] == 72 and stored["quiet_hours"] == "22:00-07:30" and stored["snoozed_until"] == ""
    bad = newsmon("watch", "add", "x", "--query", "激光", "--email", "t@example.com", "--quiet-hours", "22-7")
    assert bad.exit_code == 1
    assert bad.output == "Error: 监测「x」：免打扰时段 '22-7' 有误：请写成 HH:MM-HH:MM，如 22:00-07:00\n"
    zero = newsmon("watch", "add", "x", "--query", "激光", "--email", "t@example.com", "--window-hours", "0")
    assert zero.exit_code == 1 and "即时提醒窗口 window_hours 0 应是 1 到" in zero.output


def test_snooze_and_unsnooze(newsmon):
    from monitor.clock import local_day
    assert newsmon("watch", "add", "laser", "--query", "激光", "--email", "t@example.com").exit_code == 0
    day = (local_day() + timedelta(days=3)).isoformat()
    snoozed = newsmon("watch", "snooze", "laser", "--until", f"{day} 08:30")
    assert snoozed.exit_code == 0
    assert snoozed.output == (f"watch 'laser' snoozed until {day} 08:30 (Asia/Shanghai): "
                              "matches go to the digest only until then\n")
    assert f"snoozed until {day} 08:30" in newsmon("watch", "list").output
    (stored,) = json.loads(newsmon("watch", "list", "--json").output)
    assert stored["snoozed_until"].endswith("+00:00")                   # stored in UTC
    past = newsmon("watch", "snooze", "laser", "--until", "2020-01-01")
    assert past.exit_code == 1 and "暂停提醒的截止时间必须在将来" in past.output
    garbled = newsmon("watch", "snooze", "laser", "--until", "next week")
    assert garbled.exit_code == 2 and "is not YYYY-MM-DD or 'YYYY-MM-DD HH:MM'" in garbled.output
    unknown = newsmon("watch", "snooze", "nope", "--until", day)
    assert unknown.exit_code == 1 and "没有名为「nope」的监测" in unknown.output
    assert newsmon("watch", "unsnooze", "laser").output == "watch 'laser': immediate alerts again\n"
    assert "snoozed" not in newsmon("watch", "list").output


def test_sites_file_watches_take_the_fields_and_a_sync_keeps_a_snooze(newsmon, tmp_path):
    sites = tmp_path / "sites.yaml"
    sites.write_text("sites:\n  - name: sucheng-gov\n    start_urls: [http://www.sqsc.gov.cn/]\n"
                     "watches:\n  - name: laser\n    query: 激光\n    email: team@example.com\n"
                     "    window_hours: 24\n    quiet_hours: \"23:00-06:30\"\n", encoding="utf-8")
    assert newsmon("watch", "sync", "--sites", str(sites)).exit_code == 0
    (stored,) = json.loads(newsmon("watch", "list", "--json").output)
    assert stored["window_hours"] == 24 and stored["quiet_hours"] == "23:00-06:30"
    assert newsmon("watch", "snooze", "laser", "--until", "2099-01-01").exit_code == 0
    sites.write_text(sites.read_text(encoding="utf-8").replace("window_hours: 24", "window_hours: 12"),
                     encoding="utf-8")
    assert newsmon("watch", "sync", "--sites", str(sites)).output.endswith("1 added or updated: laser\n")
    (stored,) = json.loads(newsmon("watch", "list", "--json").output)
    assert stored["window_hours"] == 12 and stored["snoozed_until"].startswith("2098-12-31T16:00:00")
    sites.write_text(sites.read_text(encoding="utf-8").replace("23:00-06:30", "23:00"), encoding="utf-8")
    bad = newsmon("watch", "sync", "--sites", str(sites))
    assert bad.exit_code == 1 and f"{sites}:" in bad.output and "免打扰时段 '23:00'" in bad.output


def test_web_api_and_form_take_the_fields_and_snooze(crawl, tmp_path):
    from starlette.testclient import TestClient

    from monitor.web.app import create_app
    from monitor.web.auth import Credentials
    from web_server import LOOPBACK, copy_of

    watch = {"name": "night", "query": "激光", "emails": ["t@example.com"], "window_hours": 24,
             "quiet_hours": "22:00-07:00"}
    with TestClient(create_app(copy_of(crawl.index_url, tmp_path), credentials=Credentials()),
                    base_url=LOOPBACK, follow_redirects=False) as client:
        created = client.post("/api/watches", json=watch)
        assert created.status_code == 201, created.text
        assert created.json()["window_hours"] == 24 and created.json()["quiet_hours"] == "22:00-07:00"
        bad = client.post("/api/watches", json={**watch, "name": "x", "quiet_hours": "late"})
        assert bad.status_code == 400 and "免打扰时段 'late'" in bad.json()["error"]

        snoozed = client.post("/api/watches/night/snooze", json={"until": "2099-01-01 08:00"})
        assert snoozed.status_code == 200 and snoozed.json()["snoozed_until"] == "2099-01-01T00:00:00+00:00"
        page = client.get("/watches").text
        assert "暂停提醒至 <time>2099-01-01 08:00</time>" in page and "免打扰 22:00-07:00" in page
        assert client.post("/api/watches/night/snooze", json={"until": "soon"}).status_code == 400
        assert client.post("/api/watches/night/snooze", content=b"until=1").status_code == 415
        assert client.post("/api/watches/nope/snooze", json={"until": "2099-01-01"}).status_code == 404
        assert client.delete("/api/watches/night/snooze").json()["snoozed_until"] == ""

        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/watches").text).group(1)
        form = client.post("/watches", data={"csrf": token, "name": "form", "query": "激光",
                                             "emails": "f@example.com", "mode": "both",
                                             "window_hours": "6", "quiet_hours": "21:30-08:00"})
        assert form.status_code == 303, form.text
        stored = client.get("/api/watches/form").json()
        assert stored["window_hours"] == 6 and stored["quiet_hours"] == "21:30-08:00"
