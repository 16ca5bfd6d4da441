"""SSRF by DNS, through the real entry points: a name whose answer mixes an allowed
address with loopback, and a name that rebinds (allowed first, loopback after).

The stand-in for "the public internet" is a fixture server on 127.0.0.2 (allowed by
``NEWSMON_ALLOW_HOSTS=127.0.0.2``); "the internal service" is a canary listening on
127.0.0.1 at the same port, which must never see a connection.
"""
from __future__ import annotations

import json
import socket
import threading

import pytest

from conftest import run_newsmon
from fake_dns import FakeResolver, subprocess_env

NAME = "news.example.cn"
MIXED = {NAME: [["127.0.0.2", "127.0.0.1"]]}
REBINDING = {NAME: [["127.0.0.2"], ["127.0.0.1"]]}
ALLOW = {"NEWSMON_ALLOW_HOSTS": "127.0.0.2"}


class Canary:
    """A listener on 127.0.0.1:port that records every connection it accepts."""

    def __init__(self, port: int):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.hits: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                self.hits.append(conn.recv(4096))
            except OSError:
                self.hits.append(b"")
            conn.close()


@pytest.fixture(scope="module")
def public_site(tmp_path_factory):
    """The pingqiao-gov fixture site on 127.0.0.2 and a canary on 127.0.0.1, same port."""
    from crawler.fixtures import server as fixture_server
    log = tmp_path_factory.mktemp("public") / "access.log"
    with fixture_server.start_fixture_sites(access_log=log, host="127.0.0.2") as sites:
        port = int(sites.urls["pingqiao-gov"].rsplit(":", 1)[1].strip("/"))
        canary = Canary(port)
        yield sites, port, canary
        canary.sock.close()


ARTICLE = "/art/2021/7/12/art_1229_3456789.html"


def _extract(port: int, answers: dict) -> dict:
    proc = run_newsmon("extract", f"http://{NAME}:{port}{ARTICLE}", "--jsonl", timeout=60,
                       **ALLOW, **subprocess_env(answers))
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return json.loads(proc.stdout.splitlines()[0])


def test_extract_refuses_a_name_that_mixes_in_loopback(public_site):
    _sites, port, canary = public_site
    result = _extract(port, MIXED)
    assert "error" in result and "127.0.0.1" in result["error"], result
    assert canary.hits == []


def test_extract_connects_to_the_address_it_checked_when_the_name_rebinds(public_site):
    sites, port, canary = public_site
    result = _extract(port, REBINDING)
    assert "error" not in result, result
    assert "平橋" in result["title"] or "平桥" in result["title"]
    assert canary.hits == []
    assert any(path == ARTICLE for _site, _m, path, _s in sites.requests())


def _crawl(tmp_path, port: int, answers: dict) -> tuple:
    (tmp_path / "sites.yaml").write_text(
        f"sites:\n  - name: rebinder\n    start_urls: ['http://{NAME}:{port}/']\n", encoding="utf-8")
    index = f"sqlite:///{tmp_path}/newsmon.db"
    proc = run_newsmon("crawl", "--sites", tmp_path / "sites.yaml", "--index", index, "--json",
                       timeout=120, **ALLOW, **subprocess_env(answers))
    exported = run_newsmon("export", "--index", index)
    return proc, [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]


def test_crawl_refuses_a_name_that_mixes_in_loopback(public_site, tmp_path):
    sites, port, canary = public_site
    served_before = len(sites.requests())
    proc, articles = _crawl(tmp_path, port, MIXED)
    assert articles == []
    assert "unsafe_url" in proc.stdout + proc.stderr
    assert canary.hits == []
    assert len(sites.requests()) == served_before   # refused before any connection


def test_crawl_never_connects_to_the_rebound_address(public_site, tmp_path):
    _sites, port, canary = public_site
    _proc, articles = _crawl(tmp_path, port, REBINDING)
    assert articles, "the site's articles come from the address that was checked"
    assert canary.hits == []


def test_webhook_connector_refuses_mixed_answers_and_rebinding(public_site):
    """Webhooks post through ``request_url``; in-process, with the resolver swapped."""
    from netsafety.fetch import request_url
    from netsafety.addresses import AllowList, UnsafeURLError
    _sites, port, canary = public_site
    allow = AllowList.parse("127.0.0.2")
    try:
        FakeResolver(MIXED).install()
        with pytest.raises(UnsafeURLError, match="127.0.0.1"):
            request_url(f"http://{NAME}:{port}/hook", method="POST", data=b"{}", allow=allow,
                        follow_redirects=False, deadline=10)
        FakeResolver(REBINDING).install()
        for _ in range(3):   # one lookup per exchange: the first is checked, later ones refused
            try:
                request_url(f"http://{NAME}:{port}/hook", method="POST", data=b"{}", allow=allow,
                            follow_redirects=False, deadline=10)
            except UnsafeURLError as exc:
                assert "127.0.0.1" in str(exc)
    finally:
        FakeResolver.uninstall()
    assert canary.hits == []


def test_robots_txt_is_obeyed_for_an_allow_private_site(fixture_sites, gold, tmp_path):
    """A site allowed by its own ``allow_private: true`` (nothing in NEWSMON_ALLOW_HOSTS):
    its robots.txt is fetched under that allowance and obeyed, not refused and ignored."""
    sites_file = fixture_sites.write_sites_file(tmp_path / "sites.yaml", names=["pingqiao-gov"],
                                                allow_private=True)
    served_before = len(fixture_sites.requests())
    proc = run_newsmon("crawl", "--sites", sites_file, "--index", f"sqlite:///{tmp_path}/n.db", "--json",
                       NEWSMON_ALLOW_HOSTS="")
    assert proc.returncode == 0, proc.stderr[-2000:]
    served = [(site, path) for site, _m, path, _s in fixture_sites.requests()[served_before:]]
    assert ("pingqiao-gov", "/robots.txt") in served
    assert not [p for _site, p in served if p.startswith("/module/")], "robots.txt disallows /module/"
    assert json.loads(proc.stdout)["totals"].get("article_pages_fetched", 0) > 0
