"""Delivery against real servers on loopback: SMTP with STARTTLS, SSL and login
(aiosmtpd), webhooks in JSON and the group-robot text shapes (http.server), and
the retry -> backoff -> dead-letter path on a real index's state store."""
from __future__ import annotations

from datetime import timedelta

import pytest

from index import open_index
from mailserver import MailServer
from monitor.alerts import (BACKOFF, alert_email, deliver_pending, dead_letters, enqueue, pending,
                            requeue_dead, utc_now)
from monitor.delivery import DeliveryError, SMTPSettings, post_webhook, send_email
from monitor.watches import Watch, validate_watch
from webhook_receiver import WebhookReceiver

STORY = {"story_id": "s-3e1f0c2a9b8d7e6f", "title": "宿城区召开激光产业园建设第九次会办会",
         "url": "http://www.sqsc.gov.cn/xwdt/201611/t20161108_3012345.html", "site": "sucheng-gov",
         "published": "2016-11-08T16:42", "reach": 2,
         "snippet": "…11月8日上午,宿迁市宿城区召开激光产业园建设第九次会办会。…",
         "copies": [{"url": "http://www.sqsc.gov.cn/xwdt/201611/t20161108_3012345.html",
                     "site": "sucheng-gov", "published": "2016-11-08T16:42"}]}


@pytest.fixture(scope="module")
def hooks():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def index(tmp_path):
    with open_index(f"sqlite:///{tmp_path}/newsmon.db") as opened:
        yield opened


def laser(**kw) -> Watch:
    kw.setdefault("emails", ["team@example.com"])
    return validate_watch(Watch("laser", '"产业园" OR 激光 -招聘', **kw))


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_email_over_tls_with_login(security, tmp_path, monkeypatch):
    server = MailServer(security=security, users={"newsmon": "s3cret"}, cert_dir=tmp_path).start()
    try:
        env = server.env(NEWSMON_SMTP_USER="newsmon", NEWSMON_SMTP_PASSWORD="s3cret")
        monkeypatch.setenv("SSL_CERT_FILE", env.pop("SSL_CERT_FILE"))   # trust the throwaway cert
        settings = SMTPSettings.from_env(env)
        send_email(alert_email(laser(), STORY, "team@example.com", settings.sender), settings)
        (got,) = server.messages
        assert got.login == "newsmon" and got.rcpt_tos == ["team@example.com"]
        assert got.message["Subject"] == "[newsmon] laser: 宿城区召开激光产业园建设第九次会办会"

        wrong = SMTPSettings.from_env({**env, "NEWSMON_SMTP_PASSWORD": "nope"})
        with pytest.raises(DeliveryError, match="SMTP login to 127.0.0.1:.* refused: 535"):
            send_email(alert_email(laser(), STORY, "team@example.com"), wrong)
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_smtp_settings_errors_are_plain():
    with pytest.raises(DeliveryError, match="email is not configured: set NEWSMON_SMTP_HOST"):
        SMTPSettings.from_env({})
    with pytest.raises(DeliveryError, match="NEWSMON_SMTP_SECURITY='tls': use one of none, starttls, ssl"):
        SMTPSettings.from_env({"NEWSMON_SMTP_HOST": "mail", "NEWSMON_SMTP_SECURITY": "tls"})
    assert SMTPSettings.from_env({"NEWSMON_SMTP_HOST": "mail", "NEWSMON_SMTP_SECURITY": "ssl"}).port == 465


@pytest.mark.parametrize("prefix, expected", [
    ("dingtalk+", lambda text: {"msgtype": "text", "text": {"content": text}}),
    ("feishu+", lambda text: {"msg_type": "text", "content": {"text": text}}),
    ("wecom+", lambda text: {"msgtype": "text", "text": {"content": text}}),
])
def test_group_robot_text_shapes(prefix, expected, hooks, monkeypatch):
    monkeypatch.setenv("NEWSMON_ALLOW_HOSTS", "127.0.0.1")
    path = f"/robot-{prefix.rstrip('+')}"
    post_webhook(f"{prefix}{hooks.url}{path}", "newsmon 监测提醒 · laser\n宿城区召开…", {"ignored": True})
    assert hooks.at(path)[-1].body == expected("newsmon 监测提醒 · laser\n宿城区召开…")


def test_webhooks_to_private_addresses_need_allowing(hooks, monkeypatch):
    monkeypatch.delenv("NEWSMON_ALLOW_HOSTS", raising=False)
    with pytest.raises(DeliveryError, match="non-public address 127.0.0.1"):
        post_webhook(f"{hooks.url}/private", "x", {})
    assert hooks.at("/private") == []


def test_robot_refusal_is_retried_with_backoff_then_dead_lettered(index, hooks, monkeypatch):
    """A DingTalk robot answering HTTP 200 with errcode 310000 (keyword check failed)
    is a failed delivery: retried on the backoff schedule, then a dead letter."""
    monkeypatch.setenv("NEWSMON_ALLOW_HOSTS", "127.0.0.1")
    hooks.answers["/refusing"] = (200, {"errcode": 310000, "errmsg": "keywords not in content"})
    watch = laser(emails=[], webhooks=[f"dingtalk+{hooks.url}/refusing"], mode="immediate")
    now = utc_now()
    enqueue(index.state, watch, STORY, f"laser/{STORY['story_id']}", due=now)
    # A run's clock advances while it runs (a retry is due backoff seconds after its send),
    # so each step looks 30 s past the backoff, and 30 s before it for "not yet".
    for attempt, wait in enumerate((0,) + BACKOFF, start=1):
        now += timedelta(seconds=wait + (30 if wait else 0))
        report = deliver_pending(index, now)
        assert report.sent == 0
        if attempt <= len(BACKOFF):
            assert report.retried == 1 and len(pending(index)) == 1
            assert deliver_pending(index, now + timedelta(seconds=BACKOFF[attempt - 1] - 30)).retried == 0
    assert report.dead == 1 and pending(index) == []
    assert len(hooks.at("/refusing")) == len(BACKOFF) + 1
    (key, letter), = dead_letters(index)
    assert letter["attempts"] == len(BACKOFF) + 1
    assert letter["reason"] == "dingtalk robot answered error 310000: keywords not in content"
    assert letter["target"] and letter["target"].endswith("/refusing")

    hooks.answers.pop("/refusing")            # the robot's keyword is fixed: requeue and deliver
    assert requeue_dead(index, now) == 1 and dead_letters(index) == []
    assert deliver_pending(index, now).sent == 1


def test_a_permanent_refusal_is_dead_lettered_at_once(index, hooks, monkeypatch):
    monkeypatch.setenv("NEWSMON_ALLOW_HOSTS", "127.0.0.1")
    hooks.answers["/gone"] = (404, {"error": "no such hook"})
    watch = laser(emails=[], webhooks=[f"{hooks.url}/gone"], mode="immediate")
    enqueue(index.state, watch, STORY, f"laser/{STORY['story_id']}")
    report = deliver_pending(index)
    assert (report.sent, report.retried, report.dead) == (0, 0, 1)
    assert "HTTP 404" in dead_letters(index)[0][1]["reason"]


def test_one_failing_recipient_does_not_hold_back_the_others(index, hooks, monkeypatch):
    monkeypatch.setenv("NEWSMON_ALLOW_HOSTS", "127.0.0.1")
    hooks.answers["/down"] = (503, {"error": "maintenance"})
    watch = laser(emails=[], webhooks=[f"{hooks.url}/down", f"{hooks.url}/up"], mode="immediate")
    enqueue(index.state, watch, STORY, f"laser/{STORY['story_id']}")
    report = deliver_pending(index)
    assert (report.sent, report.retried) == (1, 1)
    assert len(hooks.at("/up")) == 1
    assert [e["target"] for _k, e in pending(index)] == [f"{hooks.url}/down"]
