"""The scheduler's alert and digest jobs: built from the sites file (its watches:
and digest: sections), and the job functions themselves run on a real index and
send through a real SMTP server."""
from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from crawler.sites import SitesFileError, load_sites
from mailserver import MailServer

SITES = """\
sites:
  - name: sucheng-gov
    start_urls: [{url}]
    schedule: every 30m
watches:
  - name: laser
    query: '"产业园" OR 激光 -招聘'
    email: team@example.com
    mode: both
digest:
  time: "07:30"
  timezone: Asia/Shanghai
"""


@pytest.fixture
def copied(crawl, tmp_path):
    """A copy of the shared fixture crawl's index (it noted every new story)."""
    source = crawl.index_url[len("sqlite:///"):]
    shutil.copy(source, tmp_path / "newsmon.db")
    return f"sqlite:///{tmp_path}/newsmon.db"


def write_sites(tmp_path, fixture_sites, text=SITES):
    path = tmp_path / "sites.yaml"
    path.write_text(text.format(url=fixture_sites.urls["sucheng-gov"]), encoding="utf-8")
    return path


def test_scheduler_keeps_the_alert_and_digest_jobs(tmp_path, fixture_sites, copied):
    from monitor.watches import WatchStore
    from index import open_index
    from crawler.daemon import SchedulerConfig, build_jobs

    sites_file = write_sites(tmp_path, fixture_sites)
    specs = {s.id: s for s in build_jobs(SchedulerConfig(str(sites_file), copied), load_sites(sites_file))}
    assert {"crawl:sucheng-gov", "alerts:deliver", "digest:daily"} <= set(specs)
    assert specs["alerts:deliver"].func == "monitor.alerts:deliver_pending_job"
    digest = specs["digest:daily"]
    assert digest.func == "monitor.digest:daily_digest_job" and digest.name == "daily digest at 07:30 Asia/Shanghai"
    assert str(digest.trigger.timezone) == "Asia/Shanghai"
    assert {f.name: str(f) for f in digest.trigger.fields}["hour"] == "7"
    with open_index(copied) as index:
        (watch,) = WatchStore(index).list()          # the sites file's watch, loaded
        assert (watch.name, watch.emails) == ("laser", ["team@example.com"])


@pytest.mark.parametrize("change, message", [
    (('time: "07:30"', 'time: "7h30"'), "digest: field 'time': '7h30' is not HH:MM"),
    (("    mode: both", "    mode: hourly"), "sites.yaml:6: 监测「laser」：方式 'hourly' 不可用"),
])
def test_a_bad_watch_or_digest_section_is_a_sites_file_error(tmp_path, fixture_sites, copied, change, message):
    from crawler.daemon import SchedulerConfig, build_jobs
    sites_file = write_sites(tmp_path, fixture_sites, SITES.replace(*change))
    with pytest.raises(SitesFileError, match=None) as caught:
        build_jobs(SchedulerConfig(str(sites_file), copied), load_sites(sites_file))
    assert message in str(caught.value) and str(sites_file) in str(caught.value)


def test_the_job_functions_send_on_a_real_index(tmp_path, fixture_sites, copied, monkeypatch):
    from index import open_index
    from monitor.alerts import deliver_pending_job, enqueue, pending
    from crawler.sites import load_sites
    from monitor.digest import daily_digest_job
    from monitor.watches import Watch, WatchStore

    mail = MailServer().start()
    try:
        for key, value in mail.env().items():
            monkeypatch.setenv(key, value)
        sites_file = write_sites(tmp_path, fixture_sites)
        with open_index(copied) as index:
            watch = WatchStore(index).add(Watch("forum", "高峰论坛", emails=["ops@example.com"]))
            story = index.search(watch.parsed, limit=1)[0]
            enqueue(index.state, watch, story, f"forum/{story['story_id']}")
        assert deliver_pending_job(copied) == "1 sent, 0 to retry, 0 dead-lettered"
        (alert,) = mail.to("ops@example.com")
        assert alert.message["X-Newsmon-Story"] == story["story_id"]

        assert sorted(daily_digest_job(copied, load_sites(sites_file).digest, f"{sites_file}: digest")) == ["ops@example.com"]
        (_alert, digest) = mail.to("ops@example.com")
        assert digest.message.get_content_type() == "multipart/alternative"
        assert "高峰论坛" in digest.message.get_body(("plain",)).get_content()
        assert daily_digest_job(copied, load_sites(sites_file).digest, f"{sites_file}: digest") == []      # once a day
        with open_index(copied) as index:
            assert pending(index) == []
    finally:
        mail.stop()
