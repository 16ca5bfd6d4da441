"""A source turning failing is one immediate alert, not one per failed run: real
crawls of a site whose server is gone, through the real CLI and a real SMTP server;
then who is told when no ops channel is set, and the one "recovered" notice."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import run_newsmon
from mailserver import MailServer
from test_scheduler import closed_port_url
from webhook_receiver import WebhookReceiver


@pytest.fixture
def mail():
    server = MailServer().start()
    yield server
    server.stop()


def test_a_site_turning_failing_sends_one_ops_alert(tmp_path, mail):
    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"sites:\n  - name: gone-gov\n    start_urls: [{closed_port_url()}]\n", encoding="utf-8")
    env = {**mail.env(), "NEWSMON_OPS_EMAIL": "ops@example.com"}
    added = run_newsmon("watch", "add", "gone", "--query", "激光", "--site", "gone-gov", "--email",
                        "team@example.com", "--index", index_url, **env)
    assert added.returncode == 0, added.stderr
    for n in range(1, 5):
        crawl = run_newsmon("crawl", "--sites", sites, "--index", index_url, **env)
        assert crawl.returncode == 1 and "connection_refused" in crawl.stdout
        assert len(mail.messages) == (0 if n < 3 else 1), n        # the third failure in a row, then no more
    (alert,) = mail.messages
    assert alert.rcpt_tos == ["ops@example.com"]                       # the ops channel, not the watch's
    assert alert.message["Subject"] == "[newsmon] 来源异常：gone-gov（连续失败）"
    body = alert.message.get_content()
    assert "连续抓取失败" in body and "最近 3 次运行连续失败" in body and "connection_refused" in body
    assert "newsmon status --site gone-gov" in body
    status = run_newsmon("status", "--index", index_url, **env)
    assert "gone-gov" in status.stdout and "failing" in status.stdout


def test_without_an_ops_channel_the_covering_watches_hear_it_once_and_of_the_recovery(tmp_path, mail, monkeypatch):
    from index.runs import FAILED, OK, RunInfo, iso, record_run, run_doc
    from index import open_index
    from monitor.alerts import deliver_pending
    from monitor.delivery import SMTPSettings
    from monitor.source_alerts import notify_source_changes
    from monitor.watches import Watch, WatchStore

    monkeypatch.delenv("NEWSMON_OPS_EMAIL", raising=False)
    monkeypatch.delenv("NEWSMON_OPS_WEBHOOK", raising=False)
    monkeypatch.setenv("NEWSMON_ALLOW_HOSTS", "127.0.0.1")
    hooks = WebhookReceiver().start()
    index = open_index(f"sqlite:///{tmp_path}/newsmon.db")
    try:
        store = WatchStore(index)
        store.add(Watch("scoped", "激光", emails=["team@example.com"], webhooks=[f"{hooks.url}/team"],
                        sites=["pingqiao-gov"], mode="immediate"))
        store.add(Watch("everywhere", "疫苗", emails=["team@example.com", "all@example.com"], mode="both"))
        store.add(Watch("elsewhere", "招商", emails=["other@example.com"], sites=["sucheng-gov"]))
        store.add(Watch("digest-only", "激光", emails=["digest@example.com"], mode="digest"))
        store.add(Watch("asleep", "激光", emails=["asleep@example.com"]))
        store.snooze("asleep", datetime.now(timezone.utc) + timedelta(days=1))
        start = datetime.now(timezone.utc) - timedelta(hours=3)
        smtp = SMTPSettings.from_env(mail.env())

        def run(n: int, status: str):
            began = start + timedelta(minutes=30 * n)
            record_run(index.state, run_doc("pingqiao-gov", RunInfo(run_id=f"r{n}", started=iso(began)),
                                            iso(began + timedelta(seconds=5)),
                                            {"pages_fetched": 3} if status == OK else {"errors/dns": 2}, status))
            notify_source_changes(index, ["pingqiao-gov"])
            deliver_pending(index, smtp=smtp)

        for n, status in enumerate((OK, FAILED, FAILED, FAILED, FAILED)):
            run(n, status)
        # one notice per recipient of the watches covering the site: each address once
        assert sorted(m.rcpt_tos[0] for m in mail.messages) == ["all@example.com", "team@example.com"]
        assert [p.path for p in hooks.posts] == ["/team"]
        assert hooks.posts[0].body["source"]["state"] == "failing"
        assert "来源异常 · pingqiao-gov" in hooks.posts[0].body["text"]

        run(5, OK)                                                    # back: one "recovered" notice
        run(6, OK)
        recovered = [m.message["Subject"] for m in mail.messages[2:]]
        assert recovered == ["[newsmon] 来源恢复：pingqiao-gov"] * 2
        assert len(hooks.posts) == 2 and hooks.posts[1].body["source"]["state"] == "recovered"
    finally:
        index.close()
        hooks.stop()


def test_a_site_turning_blocked_is_one_notice_saying_so(tmp_path, mail, monkeypatch):
    """An anti-bot challenge on every page (the run is recorded ``blocked``): one notice
    at the first such run, none for the next."""
    from index.runs import BLOCKED, OK, RunInfo, iso, record_run, run_doc
    from index import open_index
    from monitor.alerts import deliver_pending
    from monitor.delivery import SMTPSettings
    from monitor.source_alerts import notify_source_changes

    monkeypatch.setenv("NEWSMON_OPS_EMAIL", "ops@example.com")
    index = open_index(f"sqlite:///{tmp_path}/newsmon.db")
    try:
        start = datetime.now(timezone.utc) - timedelta(hours=2)
        for n, (status, counts) in enumerate(((OK, {"pages_fetched": 4}),
                                             (BLOCKED, {"pages_fetched": 2, "blocked/rs412": 2}),
                                             (BLOCKED, {"pages_fetched": 2, "blocked/rs412": 2}))):
            began = start + timedelta(minutes=30 * n)
            record_run(index.state, run_doc("guarded-gov", RunInfo(run_id=f"r{n}", started=iso(began)),
                                            iso(began + timedelta(seconds=5)), counts, status))
            notify_source_changes(index, ["guarded-gov"])
            deliver_pending(index, smtp=SMTPSettings.from_env(mail.env()))
    finally:
        index.close()
    (notice,) = mail.messages
    assert notice.message["Subject"] == "[newsmon] 来源异常：guarded-gov（被拦截）"
    body = notice.message.get_content()
    assert "被反爬验证拦截" in body and "newsmon status --site guarded-gov" in body
