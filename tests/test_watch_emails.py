"""One email check for every way an address comes in: ``watch add``, ``digest --to``,
the web API and form, and a sites file's ``watches:``. An address carrying a line
break would add headers to the alert (``Bcc:``); it is refused with a Chinese message
that names the character, and nothing is stored."""
from __future__ import annotations

import json
import re

import pytest
from starlette.testclient import TestClient

from conftest import run_newsmon
from web_server import LOOPBACK

INJECTED = "a@b.cn\r\nBcc: x@y"
CONTROL = ["a@b.cn\x1b[31m", "a@b.cn\x7f", "a\u200b@b.cn", "a@b.cn\rBcc: x@y"]
REFUSED = "含有控制字符或不可见字符"


def stored_watches(index_url: str) -> list:
    listed = run_newsmon("watch", "list", "--json", "--index", index_url)
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


@pytest.mark.parametrize("address", [INJECTED] + CONTROL)
def test_watch_add_refuses_control_characters(tmp_path, address):
    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    proc = run_newsmon("watch", "add", "laser", "--query", "激光", "--email", address, "--index", index_url)
    assert proc.returncode == 1
    assert REFUSED in proc.stderr and "监测「laser」" in proc.stderr and "user@example.com" in proc.stderr
    assert stored_watches(index_url) == []


def test_digest_to_refuses_control_characters(tmp_path):
    proc = run_newsmon("digest", "--to", INJECTED, "--dry-run", "--index", f"sqlite:///{tmp_path}/n.db")
    assert proc.returncode == 2 and REFUSED in proc.stderr and "--to" in proc.stderr


def test_a_plain_address_is_still_fine(tmp_path):
    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    proc = run_newsmon("watch", "add", "laser", "--query", "激光", "--email", "张三@宿城.gov.cn",
                       "--email", " team@example.com\n", "--index", index_url)
    assert proc.returncode == 0, proc.stderr
    assert stored_watches(index_url)[0]["emails"] == ["张三@宿城.gov.cn", "team@example.com"]


@pytest.fixture
def client(tmp_path):
    from monitor.web.app import create_app
    from monitor.web.auth import Credentials
    from web_server import LOOPBACK      # the app answers only Host names it is known by
    with TestClient(create_app(f"sqlite:///{tmp_path}/newsmon.db", credentials=Credentials()),
                    base_url=LOOPBACK, follow_redirects=False) as client:
        yield client


@pytest.mark.parametrize("address", [INJECTED] + CONTROL)
def test_web_api_refuses_control_characters(client, address):
    answer = client.post("/api/watches", json={"name": "laser", "query": "激光", "emails": [address]})
    assert answer.status_code == 400
    assert REFUSED in answer.json()["error"] and "user@example.com" in answer.json()["error"]
    assert client.get("/api/watches").json() == {"watches": []}


def test_web_form_refuses_control_characters(client):
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/watches").text).group(1)
    # The form splits on spaces and line breaks; an escape character survives the split.
    answer = client.post("/watches", data={"csrf": token, "name": "laser", "query": "激光",
                                           "emails": "a@b.cn\x1b[31m", "mode": "both"})
    assert answer.status_code == 400 and REFUSED in answer.text
    assert client.get("/api/watches").json() == {"watches": []}


SITES = """\
sites:
  - name: sucheng-gov
    start_urls: [http://127.0.0.1:9/]
watches:
  - name: laser
    query: 激光
    email: team@example.com
  - name: injected
    query: 激光
    email: "a@b.cn\\r\\nBcc: x@y"
"""


def test_sites_file_watches_refuse_control_characters(tmp_path):
    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text(SITES, encoding="utf-8")
    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    proc = run_newsmon("watch", "sync", "--sites", sites_file, "--index", index_url)
    assert proc.returncode == 1
    assert f"{sites_file}:8: 监测「injected」：邮箱地址 'a@b.cn\\r\\nBcc: x@y' {REFUSED}" in proc.stderr
    # a bad file loads nothing, not half of it (the refused sync need not even create the index)
    assert not (tmp_path / "newsmon.db").exists() or stored_watches(index_url) == []
