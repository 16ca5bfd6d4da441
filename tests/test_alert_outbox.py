"""At-least-once alerts against real receivers on loopback: a sender killed with
SIGKILL mid-send loses nothing (its claims come back when their leases end, and the
repeat carries the same id), and receivers that hang or trickle a byte every few
seconds hold neither the other receivers nor ``newsmon alerts deliver`` for long."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from alert_helpers import NO_BURST, add_archive_watch
from conftest import REPO, newsmon_env, run_newsmon
from index import open_index
from mailserver import MailServer
from monitor.alerts import enqueue, pending, utc_now
from monitor.delivery import DEADLINE, SMTPSettings
from monitor.outbox import LEASE_SECONDS
from monitor.watches import Watch, validate_watch
from slow_receiver import SMTP_TRICKLE, SlowReceiver, wait_for
from webhook_receiver import WebhookReceiver

STORY = {"title": "宿城区召开激光产业园建设第九次会办会", "site": "sucheng-gov",
         "published": "2016-11-08T16:42", "reach": 1, "snippet": "…宿城区召开激光产业园建设第九次会办会。…"}


def stories(n: int) -> list[dict]:
    return [{**STORY, "story_id": f"s-{i:016x}", "title": f"{STORY['title']}（{i}）",
             "url": f"http://www.sqsc.gov.cn/xwdt/201611/t20161108_30123{i:02d}.html", "copies": []}
            for i in range(n)]


def queue(index_url: str, watch: Watch, items: list[dict]) -> None:
    index = open_index(index_url)
    try:
        for story in items:
            enqueue(index.state, watch, story, f"{watch.name}/{story['story_id']}")
    finally:
        index.close()


def deliver_process(index_url: str, **env) -> subprocess.Popen:
    """``newsmon alerts deliver`` in its own process, as the scheduler or an operator runs it."""
    return subprocess.Popen([sys.executable, "-m", "crawler", "alerts", "deliver", "--index", index_url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                            env=newsmon_env(**env), cwd=REPO)


def test_kill_9_mid_send_loses_nothing_and_the_repeat_has_the_same_id(index_url, monkeypatch):
    """On both backends (``index_url``): the lease is plain state-store writes."""
    monkeypatch.setenv("NEWSMON_ALLOW_HOSTS", "127.0.0.1")
    mail = MailServer(hold=True).start()            # both receivers take the first message, then stall
    hooks = WebhookReceiver(hold={"/hook"}).start()
    items = stories(5)
    watch = validate_watch(Watch("laser", "激光", emails=["team@example.com"], webhooks=[f"{hooks.url}/hook"],
                                 mode="immediate"))
    queue(index_url, watch, items)
    try:
        sender = deliver_process(index_url, **mail.env())
        wait_for(lambda: hooks.posts and mail.messages, 60)
        sender.send_signal(signal.SIGKILL)               # mid-send: both messages are out, unanswered
        assert sender.wait(10) == -signal.SIGKILL
        mail.release.set()
        hooks.release.set()
        first_post, first_mail = hooks.posts[0], mail.messages[0].message

        listed = run_newsmon("alerts", "pending", "--index", index_url)
        assert listed.stdout.count("  sending (") == 2 and "10 queued" in listed.stdout

        index = open_index(index_url)
        try:
            smtp = SMTPSettings.from_env(mail.env())
            now = utc_now()
            # The next run sends what the dead process never claimed; its two claims wait for their leases.
            assert str(deliver_pending(index, now, smtp)) == "8 sent, 0 to retry, 0 dead-lettered"
            assert len(pending(index)) == 2
            later = now + timedelta(seconds=LEASE_SECONDS + 1)
            assert str(deliver_pending(index, later, smtp)) == "2 sent, 0 to retry, 0 dead-lettered"
            assert pending(index) == [] and index.state.scan("dead_letter") == []
        finally:
            index.close()
    finally:
        mail.stop()
        hooks.stop()

    want = {s["story_id"] for s in items}
    posts = hooks.at("/hook")
    by_key = {p.key: p for p in posts}                    # the receiver keeps one per key
    assert len(posts) == 6 and len(by_key) == 5            # one repeat, recognisable by its key
    assert {p.body["story"]["story_id"] for p in by_key.values()} == want
    assert [p.key for p in posts].count(first_post.key) == 2
    assert all(p.body["idempotency_key"] == p.key and len(p.key) == 32 for p in posts)
    repeat = [p for p in posts if p.key == first_post.key][1]
    assert repeat.body == first_post.body

    ids = [m.message["Message-ID"] for m in mail.to("team@example.com")]
    assert len(ids) == 6 and len(set(ids)) == 5 and ids.count(first_mail["Message-ID"]) == 2
    assert {m.message["X-Newsmon-Story"] for m in mail.to("team@example.com")} == want
    assert not set(ids) & {f"<alert.{k}@example.org>" for k in by_key}    # per recipient: email != webhook


def deliver_pending(index, now, smtp):
    from monitor.alerts import deliver_pending as deliver
    return deliver(index, now, smtp=smtp)


def test_hanging_and_trickling_receivers_hold_neither_the_others_nor_the_run(tmp_path):
    hang = SlowReceiver("hang").start()
    trickle = SlowReceiver("trickle", every=3).start()
    smtp = SlowReceiver("trickle", SMTP_TRICKLE, every=3).start()     # the mail server trickles too
    hooks = WebhookReceiver().start()
    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    watch = validate_watch(Watch("laser", "激光", emails=["team@example.com"], mode="immediate", webhooks=[
        f"{hang.url}/hook", f"{trickle.url}/hook", f"{hooks.url}/ok", f"wecom+{hooks.url}/robot"]))
    queue(index_url, watch, stories(4))
    try:
        started = time.monotonic()
        sender = deliver_process(index_url, **smtp.env())
        others = wait_for(lambda: len(hooks.at("/ok")) == 4 and len(hooks.at("/robot")) == 4, 30)
        out, err = sender.communicate(timeout=DEADLINE + 30)
        whole_run = time.monotonic() - started
    finally:
        for receiver in (hang, trickle, smtp, hooks):
            receiver.stop()
    print(f"other receivers served in {others:.1f} s; alerts deliver took {whole_run:.1f} s")
    assert sender.returncode == 0, err
    assert others < 30
    assert out.strip() == "8 sent, 3 to retry, 0 dead-lettered"
    # One try per slow receiver (one send's deadline, not one per queued alert): its other
    # alerts wait, unsent, for the same retry time.
    assert (hang.connections, trickle.connections, smtp.connections) == (1, 1, 1)

    index = open_index(index_url)
    try:
        queued = pending(index)
    finally:
        index.close()
    assert len(queued) == 12 and all(key[:20] > f"{utc_now():%Y-%m-%dT%H:%M:%SZ}" for key, _ in queued)
    tried = {e["target"]: e["errors"][0] for _k, e in queued if e["attempts"] == 1}
    assert set(tried) == {f"{hang.url}/hook", f"{trickle.url}/hook", "mailto:team@example.com"}
    assert f"{DEADLINE} 秒内没有发完" in tried["mailto:team@example.com"]
    assert f"no complete answer within {DEADLINE} s" in tried[f"{trickle.url}/hook"]


@pytest.mark.parametrize("security", ["none", "ssl"])
def test_smtp_send_has_a_total_deadline(security, tmp_path):
    """A mail server trickling its greeting (plain, or inside TLS) is cut off at the deadline."""
    from monitor.alerts import alert_email
    from monitor.delivery import DeliveryError, send_email
    slow = SlowReceiver("trickle", SMTP_TRICKLE, every=0.5).start()
    try:
        settings = SMTPSettings.from_env({**slow.env(), "NEWSMON_SMTP_SECURITY": security})
        message = alert_email(validate_watch(Watch("laser", "激光", emails=["team@example.com"])),
                              {**stories(1)[0]}, "team@example.com", settings.sender)
        # The trickle never ends, so returning at all is the deadline at work (a missing
        # deadline hangs until pytest-timeout fails the test); no clock is asserted.
        with pytest.raises(DeliveryError) as caught:
            send_email(message, settings, deadline=3)
    finally:
        slow.stop()
    assert caught.value.unreachable
    if security == "none":
        assert "3 秒内没有发完" in str(caught.value)


def test_a_hanging_receiver_holds_the_crawl_exit_at_most_10_s(fixture_sites, tmp_path):
    """The crawl's delivery thread gets a few seconds at the end; sends still hanging
    then are left to their leases, and queued for the next ``alerts deliver``."""
    import json
    import re
    from datetime import datetime

    from monitor.clock import zone

    hang = SlowReceiver("hang").start()
    trickle = SlowReceiver("trickle", every=3).start()
    hooks = WebhookReceiver().start()
    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    query = '"产业园" OR 激光 -招聘'
    try:
        add_archive_watch(index_url, "laser", "--query", query, "--mode", "immediate",
                          "--webhook", f"{hang.url}/hook", "--webhook", f"{trickle.url}/hook",
                          "--webhook", f"{hooks.url}/ok")
        sites_file = tmp_path / "sites.yaml"
        fixture_sites.write_sites_file(sites_file)
        crawl = run_newsmon("crawl", "--sites", sites_file, "--index", index_url, "--json", **NO_BURST)
        ended = datetime.now(zone()).replace(tzinfo=None)      # the log's clock: NEWSMON_TZ
    finally:
        for receiver in (hang, trickle, hooks):
            receiver.stop()
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    started = re.search(r"^(\d\d:\d\d:\d\d) INFO +alert delivery: sending what is due, for at most 5 s$",
                        crawl.stderr, re.M)
    assert started, crawl.stderr[-3000:]
    drain_began = datetime.combine(ended.date(), datetime.strptime(started.group(1), "%H:%M:%S").time())
    held = (ended - drain_began).total_seconds() % 86400      # (a crawl across midnight)
    print(f"crawl exit held {held:.0f} s (whole seconds) by delivery")
    assert held <= 10
    assert "receivers still busy after 5 s" in crawl.stderr

    found = run_newsmon("search", query, "--json", "--limit", "1000", "--index", index_url)
    laser = {s["story_id"] for s in json.loads(found.stdout)}
    assert len(laser) >= 5
    # (as the stories are named now: one whose origin came later took its id, test_alerts_crawl.now_named)
    from test_alerts_crawl import now_named
    sent = now_named(index_url, [p.body["story"]["story_id"] for p in hooks.at("/ok")])
    assert set(sent) == laser                                                 # the others got theirs
    assert json.loads(crawl.stdout)["totals"]["alert_deliveries_sent"] == len(laser)
    index = open_index(index_url)
    try:
        queued = pending(index)
    finally:
        index.close()
    # Nothing lost: every alert to the two slow receivers waits in the index (some under a lease).
    assert sorted(now_named(index_url, [e["alert"].split("/", 1)[1] for _k, e in queued])) == \
        sorted(s for s in laser for _ in (0, 1))
    assert any(e.get("lease") for _k, e in queued)
