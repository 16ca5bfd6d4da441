"""Watches over the web (in-process): the JSON API and the form, on a copy of the fixture
crawl, through the issue-7 model (``monitor.watches``) -- the same watches the CLI sees."""
from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from index import open_index
from monitor.watches import WatchStore
from monitor.web.app import create_app
from monitor.web.auth import Credentials
from web_server import LOOPBACK, copy_of

LASER = {"name": "laser-park", "query": "激光产业园 -招聘", "emails": ["team@example.com"], "mode": "both"}


@pytest.fixture
def index_copy(crawl, tmp_path):
    return copy_of(crawl.index_url, tmp_path)


@pytest.fixture
def client(index_copy):
    with TestClient(create_app(index_copy, credentials=Credentials()), base_url=LOOPBACK,
                    follow_redirects=False) as client:
        yield client


def csrf(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/watches").text).group(1)


def test_api_creates_lists_tests_and_deletes_a_watch(client, index_copy):
    created = client.post("/api/watches", json=LASER)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "laser-park" and created.json()["created"]
    assert [w["name"] for w in client.get("/api/watches").json()["watches"]] == ["laser-park"]
    assert client.get("/api/watches/laser-park").json()["query"] == "激光产业园 -招聘"
    # The CLI's store sees the same watch, and the test answers what it answers.
    index = open_index(index_copy)
    try:
        store = WatchStore(index)
        want = store.matches(store.get("laser-park"), 3650)
    finally:
        index.close()
    tested = client.get("/api/watches/laser-park/test", params={"days": 3650}).json()
    assert tested["stories"] == want and want
    assert client.post("/api/watches", json=LASER).status_code == 400          # the name is taken
    assert client.delete("/api/watches/laser-park").json() == {"removed": "laser-park"}
    assert client.get("/api/watches/laser-park").status_code == 404
    assert client.delete("/api/watches/laser-park").status_code == 404


def test_api_explains_a_bad_watch_and_takes_json_only(client):
    bad = client.post("/api/watches", json={**LASER, "query": "激光 OR"})
    assert bad.status_code == 400
    assert "'OR' 右边缺少查询词" in bad.json()["error"] and "^" in bad.json()["error"]
    no_recipient = client.post("/api/watches", json={"name": "x", "query": "激光"})
    assert no_recipient.status_code == 400 and "至少要有一个收件人" in no_recipient.json()["error"]
    form = client.post("/api/watches", data={"name": "x", "query": "激光", "emails": "a@example.com"})
    assert form.status_code == 415
    assert client.get("/api/watches/laser-park/test").status_code == 404
    assert client.get("/api/watches").json() == {"watches": []}


def test_form_needs_its_csrf_token(client):
    fields = {"name": "flood", "query": "防汛", "emails": "duty@example.com", "mode": "immediate"}
    refused = client.post("/watches", data=fields)
    assert refused.status_code == 400 and "表单已过期" in refused.text
    assert client.get("/api/watches").json() == {"watches": []}
    token = csrf(client)
    made = client.post("/watches", data={**fields, "csrf": token, "sites": ["sucheng-gov", "pingqiao-gov"],
                                         "regions": "宿城区，平桥区"})
    assert made.status_code == 303 and made.headers["location"] == "/watches?created=flood"
    watch = client.get("/api/watches/flood").json()
    assert watch["sites"] == ["sucheng-gov", "pingqiao-gov"] and watch["regions"] == ["宿城区", "平桥区"]
    assert watch["emails"] == ["duty@example.com"] and watch["mode"] == "immediate"
    assert client.post("/watches/flood/delete", data={}).status_code == 400
    assert client.post("/watches/flood/delete", data={"csrf": token}).status_code == 303
    assert client.get("/api/watches").json() == {"watches": []}


def test_form_errors_keep_what_was_typed(client):
    page = client.post("/watches", data={"csrf": csrf(client), "name": "bad name", "query": "<b>激光</b>",
                                          "emails": "duty@example.com"})
    assert page.status_code == 400
    assert "只能用字母（含汉字）、数字" in page.text
    assert 'value="&lt;b&gt;激光&lt;/b&gt;"' in page.text                     # kept, and escaped


def test_watches_need_the_login_too(index_copy):
    creds = Credentials(token="watch-token")
    with TestClient(create_app(index_copy, credentials=creds), base_url=LOOPBACK,
                    follow_redirects=False) as client:
        assert client.get("/api/watches").status_code == 401
        assert client.post("/api/watches", json=LASER).status_code == 401
        assert client.get("/watches").status_code == 303
        ok = client.post("/api/watches", json=LASER, headers={"Authorization": "Bearer watch-token"})
        assert ok.status_code == 201


def test_a_watch_is_edited_in_place_and_paused_on_its_page(client, index_copy):
    assert client.post("/api/watches", json=LASER).status_code == 201
    created = client.get("/api/watches/laser-park").json()["created"]
    edit = client.get("/watches/laser-park/edit")
    assert edit.status_code == 200 and 'value="激光产业园 -招聘"' in edit.text
    saved = client.post("/watches/laser-park/edit", data={"csrf": csrf(client), "query": "(激光 OR 传感) 宿迁",
                                                          "emails": "team@example.com，lead@example.com",
                                                          "mode": "immediate"})
    assert saved.status_code == 303 and saved.headers["location"] == "/watches?saved=laser-park"
    watch = client.get("/api/watches/laser-park").json()
    assert watch["query"] == "(激光 OR 传感) 宿迁" and watch["emails"] == ["team@example.com", "lead@example.com"]
    assert watch["created"] == created, "an edit is not a new watch: alerts already sent stay sent"
    refused = client.post("/watches/laser-park/edit", data={"csrf": csrf(client), "query": "激光 OR",
                                                            "emails": "team@example.com"})
    assert refused.status_code == 400 and "右边缺少查询词" in refused.text and 'value="激光 OR"' in refused.text
    assert client.get("/api/watches/laser-park").json()["query"] == "(激光 OR 传感) 宿迁"

    assert client.post("/watches/laser-park/pause", data={"csrf": csrf(client)}).status_code == 303
    page = client.get("/watches?paused=laser-park").text
    assert "已暂停监测「laser-park」" in page and 'class="resume-watch"' in page
    with open_index(index_copy) as index:      # what alerts and digests read: nothing for a paused watch
        paused = WatchStore(index).get("laser-park")
    assert paused.paused and not paused.immediate and not paused.in_digest
    assert client.post("/watches/laser-park/resume", data={"csrf": csrf(client)}).status_code == 303
    assert client.get("/api/watches/laser-park").json()["paused"] is False


def test_the_api_edits_and_pauses_a_watch(client):
    assert client.post("/api/watches", json=LASER).status_code == 201
    patched = client.patch("/api/watches/laser-park", json={"query": "激光 AND 宿迁", "window_hours": 24})
    assert patched.status_code == 200, patched.text
    assert patched.json()["query"] == "激光 AND 宿迁" and patched.json()["emails"] == ["team@example.com"]
    assert client.patch("/api/watches/laser-park", json={"query": "()"}).status_code == 400
    assert client.patch("/api/watches/laser-park", json={"colour": "red"}).status_code == 400
    assert client.patch("/api/watches/nope", json={"query": "激光"}).status_code == 404
    assert client.post("/api/watches/laser-park/pause").json()["paused"] is True
    assert client.delete("/api/watches/laser-park/pause").json()["paused"] is False
    assert client.post("/api/watches/nope/pause").status_code == 404
