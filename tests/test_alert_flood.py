"""Alerts never flood: a first crawl of a site with years of archive, watches added
today, through the real CLI, a real SMTP server and a real webhook receiver.

The site is a 200-article TRS county site (``tests/paged_site.py``, articles from
2023, far outside any watch's 48-hour window). The first crawl sends ONE summary per
watch, never a message per story; an article published after the watches were
added is exactly one alert; quiet hours hold it until they end; a snoozed watch's
match goes to the digest only."""
from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import run_newsmon
from mailserver import MailServer
from monitor.clock import zone
from paged_site import build_paged_site
from webhook_receiver import WebhookReceiver

SITE = "qingtan-gov"
ARTICLES = 200
WATCHES = {"town": "镇", "projects": "项目", "work": "工作"}     # each matches over a hundred of them
NEW_TITLE = "新安镇开展冬季消防安全大检查"
NEW_PARAGRAPHS = ["今天上午，新安镇组织消防、应急和市场监管力量，对辖区商超、学校和敬老院开展冬季消防安全大检查。",
                  "检查组逐一查看消防通道、灭火器材和电气线路，现场督促整改隐患12处。",
                  "镇相关负责人表示，将持续加强冬季防火宣传，守牢安全底线。"]


def write_sites(path: Path, url: str) -> Path:
    path.write_text(f"sites:\n  - name: {SITE}\n    start_urls: [{json.dumps(url)}]\n", encoding="utf-8")
    return path


def publish_new_article(root: Path, now_local: datetime) -> str:
    """The site as it is a moment later: one new report on top of the news column
    (only the files that changed are replaced under the running server)."""
    import paged_site
    day = now_local.date()
    new = {"title": NEW_TITLE, "paragraphs": NEW_PARAGRAPHS, "published": day.isoformat(),
           "date_display": now_local.strftime("%Y-%m-%d %H:%M"), "source": "新安镇人民政府",
           "path": f"/xwdt/{day:%Y%m}/t{day:%Y%m%d}_4199999.html"}
    original = paged_site.county_reports
    paged_site.county_reports = lambda n, seed=16: [new] + original(n - 1, seed)
    try:
        staging = root.parent / "staging"
        build_paged_site(staging, SITE, articles=ARTICLES + 1)
    finally:
        paged_site.county_reports = original
    for source in (staging / SITE).rglob("*"):
        target = root / SITE / source.relative_to(staging / SITE)
        if source.is_file() and (not target.exists() or target.read_bytes() != source.read_bytes()):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return new["path"]


def search(index_url: str, query: str) -> list[dict]:
    proc = run_newsmon("search", query, "--json", "--limit", "1000", "--index", index_url)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def crawl(sites: Path, index_url: str, **env) -> dict:
    proc = run_newsmon("crawl", "--sites", sites, "--index", index_url, "--json", **env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # what the crawl's 5 s drain did not get out on a busy machine (the scheduler does this every minute)
    assert run_newsmon("alerts", "deliver", "--index", index_url, **env).returncode == 0
    return {"summary": json.loads(proc.stdout), "stderr": proc.stderr}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Three watches added today, a first crawl; then two more watches (one with
    quiet hours now, one snoozed), a new article, and a second crawl."""
    from crawler.fixtures import server as fixture_server
    root = tmp_path_factory.mktemp("flood-site")
    build_paged_site(root, SITE, articles=ARTICLES)
    mail, hooks = MailServer().start(), WebhookReceiver().start()
    work = tmp_path_factory.mktemp("flood")
    index_url = f"sqlite:///{work}/newsmon.db"
    env = mail.env()
    try:
        with fixture_server.start_fixture_sites(root=root) as sites:
            sites_file = write_sites(work / "sites.yaml", sites.urls[SITE])
            for name, query in WATCHES.items():
                hook = ["--webhook", f"{hooks.url}/{name}"] if name == "town" else []
                added = run_newsmon("watch", "add", name, "--query", query, "--email", f"{name}@example.com",
                                    *hook, "--mode", "immediate", "--index", index_url, **env)
                assert added.returncode == 0, added.stderr
            first = crawl(sites_file, index_url, **env)
            first_mail, first_posts = list(mail.messages), list(hooks.posts)
            matched = {name: search(index_url, query) for name, query in WATCHES.items()}

            now_local = datetime.now(zone())
            quiet = f"{now_local - timedelta(hours=1):%H:%M}-{now_local + timedelta(minutes=4):%H:%M}"
            for name, query, extra in (("quiet", "消防 大检查", ["--quiet-hours", quiet]),
                                       ("paused", "冬季 消防", [])):
                added = run_newsmon("watch", "add", name, "--query", query, "--email", f"{name}@example.com",
                                    "--mode", "immediate", *extra, "--index", index_url, **env)
                assert added.returncode == 0, added.stderr
            tomorrow = (now_local + timedelta(days=1)).strftime("%Y-%m-%d")
            snoozed = run_newsmon("watch", "snooze", "paused", "--until", tomorrow, "--index", index_url, **env)
            assert snoozed.returncode == 0, snoozed.stderr
            new_path = publish_new_article(root, now_local)
            second = crawl(sites_file, index_url, **env)
            yield {"index_url": index_url, "env": env, "mail": mail, "hooks": hooks, "first": first,
                   "first_mail": first_mail, "first_posts": first_posts, "matched": matched, "second": second, "quiet": quiet,
                   "new_url": sites.urls[SITE].rstrip("/") + new_path, "snooze_out": snoozed.stdout,
                   "tomorrow": tomorrow}
    finally:
        mail.stop()
        hooks.stop()


def test_first_crawl_sends_one_summary_per_watch_not_one_per_story(world):
    first = world["first"]
    assert first["summary"]["totals"]["articles_indexed"] >= ARTICLES * 0.9     # the archive was crawled
    matched = world["matched"]                                     # what search found after the first crawl
    assert all(len(stories) >= 100 for stories in matched.values())
    assert sum(len(s) for s in matched.values()) >= 300          # hundreds of matches in all ...

    messages = world["first_mail"]
    assert sorted(m.rcpt_tos[0] for m in messages) == sorted(f"{n}@example.com" for n in WATCHES)   # ... 3 emails
    for message in (m.message for m in messages):
        name = message["X-Newsmon-Watch"]
        total = len(matched[name])
        assert message["Subject"] == f"[newsmon] {name}: 补录 {total} 条匹配报道（汇总，不逐条提醒）"
        body = message.get_content()
        assert f"本次抓取有 {total} 条匹配报道不逐条提醒" in body
        assert f"发布时间早于监测窗口（48 小时）：{total} 条" in body
        listed = re.findall(r"^ ?\d+\. (\d{4}-\d\d-\d\d)  (.+?)\r?$", body, re.M)
        assert len(listed) == 10                                    # the newest ten (search: newest first)
        cutoff = matched[name][9]["published"]
        newest = {s["title"] for s in matched[name] if s["published"] >= cutoff}
        assert all(day >= cutoff and title in newest for day, title in listed), listed
        assert f"其余 {total - 10} 条" in body
    (post,) = world["first_posts"]                                 # the webhook: one summary too
    assert post.path == "/town" and post.body["summary"]["total"] == len(matched["town"])
    assert post.body["text"].startswith("newsmon 监测汇总 · town")
    totals = first["summary"]["totals"]
    assert totals.get("alerts_queued", 0) == 0
    assert totals["alerts_summarized"] == sum(len(s) for s in matched.values())
    assert totals["alert_summaries_queued"] == 3


def test_an_article_published_after_the_watch_is_exactly_one_alert(world):
    mail, hooks = world["mail"], world["hooks"]
    second = world["second"]["summary"]["totals"]
    assert second["articles_new"] == 1
    later = mail.messages[len(world["first_mail"]):]
    town = [m.message for m in later if m.rcpt_tos == ["town@example.com"]]
    assert len(town) == 1, [m.message["Subject"] for m in later]
    assert town[0]["Subject"] == f"[newsmon] town: {NEW_TITLE}"
    assert world["new_url"] in town[0].get_content()
    new_posts = hooks.posts[len(world["first_posts"]):]
    assert [p.body["story"]["title"] for p in new_posts] == [NEW_TITLE]
    # the other two watches do not match it; the quiet one waits; the snoozed one sends nothing
    assert {m.rcpt_tos[0] for m in later} == {"town@example.com"}


def test_quiet_hours_hold_the_alert_until_they_end(world):
    from index import open_index
    from monitor.alerts import deliver_pending, pending
    from monitor.clock import show
    from monitor.delivery import SMTPSettings
    from monitor.outbox import parse_key_time

    index_url, env, mail = world["index_url"], world["env"], world["mail"]
    end_text = world["quiet"].split("-")[1]
    listed = run_newsmon("alerts", "pending", "--index", index_url, **env)
    assert listed.returncode == 0, listed.stderr
    (line,) = [x for x in listed.stdout.splitlines() if " quiet/" in x]
    assert line.split("  ")[0].endswith(f" {end_text}")             # due when the quiet hours end, local time
    index = open_index(index_url)
    try:
        (key, entry), = [(k, e) for k, e in pending(index) if e["alert"].startswith("quiet/")]
        due = parse_key_time(key)
        assert show(due).endswith(end_text)
        smtp = SMTPSettings.from_env(env)
        assert deliver_pending(index, due - timedelta(seconds=30), smtp=smtp).sent == 0    # still quiet
        assert mail.to("quiet@example.com") == []
        assert deliver_pending(index, due + timedelta(seconds=1), smtp=smtp).sent == 1     # released
    finally:
        index.close()
    (released,) = mail.to("quiet@example.com")
    assert released.message["Subject"] == f"[newsmon] quiet: {NEW_TITLE}"


def test_a_snoozed_watch_sends_nothing_and_its_match_is_in_the_digest(world, tmp_path):
    index_url, env, mail = world["index_url"], world["env"], world["mail"]
    assert world["snooze_out"].startswith(f"watch 'paused' snoozed until {world['tomorrow']} 00:00 (Asia/Shanghai)")
    assert mail.to("paused@example.com") == []
    pending = run_newsmon("alerts", "pending", "--index", index_url, **env)
    assert " paused/" not in pending.stdout
    listed = run_newsmon("watch", "list", "--index", index_url, **env)
    assert f"snoozed until {world['tomorrow']} 00:00" in listed.stdout

    out = tmp_path / "digest.txt"
    digest = run_newsmon("digest", "--to", "paused@example.com", "--dry-run", "--out", out,
                         "--index", index_url, **env)
    assert digest.returncode == 0, digest.stderr
    text = out.read_text(encoding="utf-8")
    section = text.split("== 监测「paused」")[1].split("== ")[0]
    assert NEW_TITLE in section and world["new_url"] in section
    assert "其中 1 条没有逐条提醒" in section

    woke = run_newsmon("watch", "unsnooze", "paused", "--index", index_url, **env)
    assert woke.returncode == 0 and woke.stdout == "watch 'paused': immediate alerts again\n"
    assert "snoozed" not in run_newsmon("watch", "list", "--index", index_url, **env).stdout
