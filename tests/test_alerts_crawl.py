"""Alerts end to end: real crawls of the fixture sites through the real CLI, a real
SMTP server (aiosmtpd) and a real HTTP receiver on loopback.

One alert per matching story per watch -- the stories ``newsmon search`` lists
for the same query and scope -- none for copies, none again after a re-crawl or
a restart, and nothing lost when the mail server refuses for a while. The watches
have been running since before the fixture news (``alert_helpers``): what a
watch added today makes of the same crawl is ``test_alert_flood.py``."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from alert_helpers import NO_BURST, add_archive_watch
from conftest import crawl_into, run_newsmon
from index import open_index
from index.normalize import normalize_text
from mailserver import MailServer
from monitor.sitenames import sync_titles
from webhook_receiver import WebhookReceiver

LASER = '"产业园" OR 激光 -招聘'
TITLES = {"sucheng-gov": "宿城区人民政府", "laser-industry": "中国激光产业网"}


@pytest.fixture(scope="module")
def mail():
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hooks():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def add_watch(index_url: str, name: str, *args, **env):
    return add_archive_watch(index_url, name, *args, **env)


def search_ids(index_url: str, query: str, *sites: str, **env) -> set[str]:
    args = [a for s in sites for a in ("--site", s)]
    proc = run_newsmon("search", query, "--json", "--limit", "1000", "--index", index_url, *args, **env)
    assert proc.returncode == 0, proc.stderr
    return {s["story_id"] for s in json.loads(proc.stdout)}


@pytest.fixture(scope="module")
def crawled(fixture_sites, tmp_path_factory, mail, hooks):
    """Four watches, then one crawl of every fixture site."""
    directory = tmp_path_factory.mktemp("alerts")
    index_url = f"sqlite:///{directory}/newsmon.db"
    env = {**mail.env(), **NO_BURST}
    add_watch(index_url, "laser", "--query", LASER, "--email", "team@example.com",
              "--webhook", f"{hooks.url}/laser", "--mode", "both", **env)
    add_watch(index_url, "vaccine", "--query", "疫苗 接种", "--email", "ops@example.com",
              "--webhook", f"wecom+{hooks.url}/wecom", "--mode", "immediate", **env)
    add_watch(index_url, "sucheng-laser", "--query", "激光", "--site", "sucheng-gov",
              "--webhook", f"{hooks.url}/sucheng", "--mode", "immediate", **env)
    add_watch(index_url, "morning", "--query", "激光", "--email", "digest-only@example.com",
              "--mode", "digest", **env)
    with open_index(index_url) as index:     # the sites' display names, as the web app stores them
        sync_titles(index.state, TITLES)
    crawl = crawl_into(fixture_sites, directory, index_url=index_url, **env)
    return crawl, env


def story_ids_in(messages) -> list[str]:
    return [m.message["X-Newsmon-Story"] for m in messages]


def now_named(index_url: str, story_ids) -> list[str]:
    """The ids the alerts name, as the stories are named now: a story whose origin was
    crawled after its alert went out took the origin's id; the alert's id still finds it."""
    from index import open_index
    index = open_index(index_url)
    try:
        return [index.story_copies(story_id)[0].story_id for story_id in story_ids]
    finally:
        index.close()


def test_one_alert_per_matching_story_per_watch(crawled, mail, hooks):
    crawl, env = crawled
    laser = search_ids(crawl.index_url, LASER, **env)
    vaccine = search_ids(crawl.index_url, "疫苗 接种", **env)
    sucheng = search_ids(crawl.index_url, "激光", "sucheng-gov", **env)
    assert len(laser) >= 5 and vaccine and sucheng     # the watches do hit the fixture news

    team = now_named(crawl.index_url, story_ids_in(mail.to("team@example.com")))
    assert sorted(team) == sorted(laser)               # every matching story once, nothing else
    assert sorted(now_named(crawl.index_url, [p.body["story"]["story_id"] for p in hooks.at("/laser")])) \
        == sorted(laser)
    assert sorted(now_named(crawl.index_url, story_ids_in(mail.to("ops@example.com")))) == sorted(vaccine)
    assert sorted(now_named(crawl.index_url, [p.body["story"]["story_id"] for p in hooks.at("/sucheng")])) \
        == sorted(sucheng)
    assert mail.to("digest-only@example.com") == []    # digest mode: no immediate alert

    # "none for copies": these stories have copies on other sites, yet one alert each.
    stories = {s["story_id"]: s for s in json.loads(run_newsmon(
        "search", LASER, "--json", "--limit", "1000", "--index", crawl.index_url, **env).stdout)}
    assert sum(1 for s in stories.values() if s["reach"] > 1) >= 3
    assert crawl.summary["totals"]["alerts_queued"] == len(laser) + len(vaccine) + len(sucheng)
    # email + webhook for laser and vaccine, webhook only for sucheng-laser: all out during the crawl
    assert crawl.summary["totals"]["alert_deliveries_sent"] == 2 * len(laser) + 2 * len(vaccine) + len(sucheng)


def test_alert_email_and_webhook_say_what_matched(crawled, mail, hooks):
    crawl, _env = crawled
    # The story's first copy crawled speaks for it: the district's report or the
    # industry portal's traditional-script repost, whichever the crawl met first.
    first = next(m for m in mail.to("team@example.com")
                 if "第九次会办会" in normalize_text(m.message["Subject"]))
    assert normalize_text(first.message["Subject"]) in (
        "[newsmon] laser: 宿城区召开激光产业园建设第九次会办会", "[newsmon] laser: 宿迁召开激光产业园建设第九次会办会")
    assert first.message["X-Newsmon-Watch"] == "laser"
    assert "unsubscribe" in first.message["List-Unsubscribe"]
    body = first.message.get_content()
    assert (crawl.url_of("sucheng-gov", "/xwdt/201611/t20161108_3012345.html") in body
            or crawl.url_of("laser-industry", "/news/201611/14/show-31208.html") in body)
    assert "激光" in body and "不想再收到：请在 newsmon 网页的「监测」页暂停或删除「laser」" in body
    assert "\n宿城区人民政府 · " in body or "\n中国激光产业网 · " in body      # the site by its display name

    post = next(p for p in hooks.at("/laser") if "第九次会办会" in normalize_text(p.body["story"]["title"]))
    assert post.content_type.startswith("application/json")
    assert post.body["watch"] == "laser" and post.body["query"] == LASER
    assert set(post.body["story"]) >= {"story_id", "title", "url", "site", "published", "snippet"}
    robot = hooks.at("/wecom")[0].body            # WeCom's group-robot text shape
    assert robot["msgtype"] == "text" and "疫苗" in robot["text"]["content"]
    assert set(robot) == {"msgtype", "text"}


def test_search_watch_test_alerts_and_digest_agree(crawled, hooks):
    """The same query gives the same stories in search, watch test, the alerts and the
    digest (Elasticsearch: test_watch_backends.py)."""
    from test_watch_backends import assert_agree, matched_everywhere
    crawl, _env = crawled
    assert_agree(matched_everywhere(crawl.index_url, hooks, "/laser"))


def test_recrawl_and_restart_send_nothing_again(crawled, fixture_sites, mail, hooks):
    crawl, env = crawled
    before = (len(mail.messages), len(hooks.posts))
    # NEWSMON_INCREMENTAL=0: fetch and index every page again (not just "304 Not Modified")
    again = crawl_into(fixture_sites, crawl.sites_file.parent, index_url=crawl.index_url,
                       NEWSMON_INCREMENTAL="0", **env)
    assert again.summary["totals"].get("articles_indexed", 0) >= 30   # it did crawl everything again
    assert again.summary["totals"].get("alerts_queued", 0) == 0
    delivered = run_newsmon("alerts", "deliver", "--index", crawl.index_url, **env)
    assert delivered.returncode == 0, delivered.stderr
    assert delivered.stdout.strip() == "0 sent, 0 to retry, 0 dead-lettered"
    assert (len(mail.messages), len(hooks.posts)) == before


def test_a_mail_server_that_refuses_for_a_while_loses_nothing(fixture_sites, tmp_path, mail):
    """The crawl finishes while mail is refused; the alerts wait in the index and go
    out, once, when the delivery job runs after the backoff."""
    from index import open_index
    from monitor.alerts import deliver_pending, pending, utc_now
    from monitor.delivery import SMTPSettings

    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    env = {**mail.env(), **NO_BURST}
    add_watch(index_url, "forum", "--query", "高峰论坛", "--email", "later@example.com", **env)
    mail.refuse = True
    try:
        crawl = crawl_into(fixture_sites, tmp_path, index_url=index_url, **env)
    finally:
        mail.refuse = False
    expected = search_ids(index_url, "高峰论坛", **env)
    assert expected and crawl.summary["totals"]["alerts_queued"] == len(expected)
    assert mail.to("later@example.com") == []

    index = open_index(index_url)
    try:
        queued = pending(index)
        assert len(queued) == len(expected) and all(e["attempts"] == 1 for _k, e in queued)
        assert "451" in queued[0][1]["errors"][0]
        smtp = SMTPSettings.from_env(env)
        early = deliver_pending(index, smtp=smtp)                 # not due yet: backoff
        assert early.sent == 0 and mail.to("later@example.com") == []
        report = deliver_pending(index, utc_now() + timedelta(minutes=2), smtp=smtp)
        assert (report.sent, report.retried, report.dead) == (len(expected), 0, 0)
        assert pending(index) == []
        assert deliver_pending(index, utc_now() + timedelta(days=1), smtp=smtp).sent == 0
    finally:
        index.close()
    assert sorted(now_named(index_url, story_ids_in(mail.to("later@example.com")))) == sorted(expected)
