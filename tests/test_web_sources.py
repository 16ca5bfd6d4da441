"""The Sources page and /api/sources: the scheduler's run history and health flags, the
same entries as ``newsmon status --json``, on a copy of the fixture crawl (which records
one run per site)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from conftest import run_newsmon
from index.runs import FAILED, RunInfo, iso, record_run, run_doc
from index import open_index
from monitor.web.app import create_app
from monitor.web.auth import Credentials
from web_server import LOOPBACK, copy_of


@pytest.fixture
def index_copy(crawl, tmp_path):
    return copy_of(crawl.index_url, tmp_path)


def fail_site(index_url: str, site: str, times: int) -> None:
    """``times`` failed runs of ``site`` after its real one: DNS gone, nothing fetched."""
    with open_index(index_url) as index:
        start = datetime.now(timezone.utc) + timedelta(minutes=1)
        for n in range(times):
            began = start + timedelta(minutes=30 * n)
            info = RunInfo(run_id=f"fail{n}", started=iso(began), trigger="scheduled")
            record_run(index.state, run_doc(site, info, iso(began + timedelta(seconds=4)),
                                            {"errors/dns": 3}, FAILED))


def test_api_sources_answers_what_newsmon_status_prints(index_copy, crawl):
    fail_site(index_copy, "pingqiao-gov", 3)
    with TestClient(create_app(index_copy, credentials=Credentials()), base_url=LOOPBACK) as client:
        api = client.get("/api/sources")
    assert api.status_code == 200
    cli = run_newsmon("status", "--json", "--index", index_copy)
    assert cli.returncode == 0, cli.stderr
    assert api.json() == json.loads(cli.stdout)
    sites = {site["name"]: site for site in api.json()["sites"]}
    assert set(crawl.urls) <= set(sites)
    assert all(sites[name]["runs"] >= 1 for name in crawl.urls)
    assert sites["pingqiao-gov"]["failure_streak"] == 3
    assert [flag["kind"] for flag in sites["pingqiao-gov"]["health"]] == ["failing"]
    assert sites["sucheng-gov"]["failure_streak"] == 0


def test_sources_page_shows_each_site_and_flags_the_failing_one(index_copy, crawl):
    fail_site(index_copy, "pingqiao-gov", 3)
    with TestClient(create_app(index_copy, credentials=Credentials()), base_url=LOOPBACK) as client:
        page = client.get("/sources")
        spec = client.get("/api/openapi.json").json()
    assert page.status_code == 200
    html = page.text
    for name in crawl.urls:
        assert f'data-site="{name}"' in html
    flagged = html.split('data-site="pingqiao-gov"', 1)[1].split("</tr>", 1)[0]
    assert "flag-failing" in flagged and "最近 3 次运行连续失败" in flagged
    ok_row = html.split('data-site="sucheng-gov"', 1)[1].split("</tr>", 1)[0]
    assert "flag-" not in ok_row and "正常" in ok_row
    assert "1 个需要注意" in html
    assert "/api/sources" in spec["paths"]


def test_sources_page_on_an_index_with_no_history_says_how_to_get_some(tmp_path):
    url = f"sqlite:///{tmp_path}/empty.db"
    with TestClient(create_app(url, credentials=Credentials()), base_url=LOOPBACK) as client:
        page = client.get("/sources")
        api = client.get("/api/sources")
    assert page.status_code == 200 and "newsmon crawl" in page.text
    assert api.json() == {"sites": []}
