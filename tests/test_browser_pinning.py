"""The browser keeps network safety's pin: Chromium resolves no name itself, every
connection it makes goes to the address vetted for the host (issue 20).

"The public site" is ``tests/challenge_server.py`` on 127.0.0.2 (allowed by
``NEWSMON_ALLOW_HOSTS=127.0.0.2``); "the internal service" is a canary on 127.0.0.1
at the same port. ``news.example.cn`` rebinds (127.0.0.2 first, 127.0.0.1 for every
later lookup) through the fake resolver (``tests/fake_dns.py``).
"""
from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys

import pytest

from conftest import REPO, run_newsmon
from fake_dns import FakeResolver, subprocess_env
from test_ssrf_dns import Canary


def run_async(coro):
    """asyncio.run in a thread of its own: a session's Playwright (sync API) may own this thread's loop."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(300)


NAME = "news.example.cn"
REBINDING = {NAME: [["127.0.0.2"], ["127.0.0.1"]], "intranet.example.cn": [["127.0.0.1"]]}
ENV = {"NEWSMON_ALLOW_HOSTS": "127.0.0.2", "NEWSMON_BROWSER_TIMEOUT": "10", "NEWSMON_CHROMIUM": "/usr/bin/chromium"}


@pytest.fixture(scope="module")
def public_challenge_site():
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "challenge_server.py"), "--host", "127.0.0.2",
                             "--lifetime", "600", "--delay", "500", "--cookie-uses", "3"], cwd=REPO / "tests",
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("challenge server did not start: " + proc.stderr.read().decode(errors="replace"))
    sites = json.loads(line)["sites"]
    port = int(sites["ruishu"].rsplit(":", 1)[1].strip("/"))
    canary = Canary(port)
    try:
        yield sites, port, canary
    finally:
        canary.sock.close()
        proc.stdin.close()
        proc.wait(timeout=10)


def test_a_challenged_site_read_by_the_browser_never_reaches_the_rebound_address(public_challenge_site, tmp_path):
    """瑞数 412 on plain fetches: the ladder opens the pages in Chromium, under a name that
    answers 127.0.0.1 to every lookup after the first. Chromium connects to the vetted
    127.0.0.2 only; the articles come from there and the canary sees nothing."""
    sites, port, canary = public_challenge_site
    (tmp_path / "sites.yaml").write_text(
        f"sites:\n  - name: rebinder\n    start_urls: ['http://{NAME}:{port}/']\n    download_delay: 0\n",
        encoding="utf-8")
    index = f"sqlite:///{tmp_path}/newsmon.db"
    proc = run_newsmon("crawl", "--sites", tmp_path / "sites.yaml", "--index", index, "--json", timeout=300,
                       **ENV, **subprocess_env(REBINDING))
    site = json.loads(proc.stdout)["sites"]["rebinder"]
    exported = [json.loads(x) for x in run_newsmon("export", "--index", index).stdout.splitlines() if x.strip()]
    assert site.get("browser/pages", 0) >= 1, site
    assert len(exported) >= 5, site
    assert canary.hits == []


def test_the_pinning_proxy_refuses_a_name_that_points_inside(public_challenge_site):
    """A request past the page's own check (straight to the proxy) for a name that
    resolves to 127.0.0.1 gets a 403 and never a connection, as http or as an https
    tunnel (CONNECT); the vetted name works both ways, on its one vetted address."""
    from crawler.browser import Browser
    from netsafety.addresses import AllowList
    from netsafety.proxy import PinningProxy
    _sites, port, canary = public_challenge_site
    browser = Browser(allow=AllowList.parse("127.0.0.2"))

    async def ask(proxy_url: str, host: str) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", int(proxy_url.rsplit(":", 1)[1]))
        writer.write(f"GET http://{host}:{port}/ HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        answer = await reader.read()
        writer.close()
        return answer

    async def tunnel(proxy_url: str, host: str) -> tuple[bytes, bytes]:
        """https's way through: CONNECT, then the browser's own bytes (TLS there; HTTP here)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", int(proxy_url.rsplit(":", 1)[1]))
        writer.write(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        established = await reader.readuntil(b"\r\n\r\n")
        if not established.startswith(b"HTTP/1.1 200"):
            writer.close()
            return established, b""
        writer.write(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        answer = await reader.read()
        writer.close()
        return established, answer

    async def scenario():
        proxy = PinningProxy(lambda host, p: browser.pin(host, p))
        url = await proxy.start()
        try:
            return (await ask(url, NAME), await ask(url, "intranet.example.cn"), await ask(url, NAME),
                    await tunnel(url, NAME), await tunnel(url, "intranet.example.cn"), proxy)
        finally:
            await proxy.close()

    resolver = FakeResolver(REBINDING).install()
    try:
        first, inside, again, (opened, through), (shut, _nothing), proxy = run_async(scenario())
    finally:
        FakeResolver.uninstall()
    assert first.startswith(b"HTTP/1.0 412") or first.startswith(b"HTTP/1.1 412"), first[:80]   # 瑞数, reached
    assert again.split(b"\r\n", 1)[0] == first.split(b"\r\n", 1)[0]        # still the pinned 127.0.0.2
    assert inside.startswith(b"HTTP/1.1 403") and "127.0.0.1" in inside.decode("utf-8", "replace")
    assert opened.startswith(b"HTTP/1.1 200") and through.split(b" ", 2)[1] == b"412"   # the tunnel, pinned too
    assert shut.startswith(b"HTTP/1.1 403")
    assert proxy.connections == [(NAME, "127.0.0.2")] * 3
    assert resolver.lookups[NAME] == 1
    assert canary.hits == []
    with socket.create_connection(("127.0.0.2", port), timeout=5):
        pass     # the site itself is up: the refusals above are the pin's, not a dead server


def test_the_browser_proxy_never_looks_up_a_host_outside_the_sites_scope(public_challenge_site):
    """Chromium's own background requests (autofill, updates) reach the proxy too: a host
    outside the site's scope is refused before any DNS lookup, as http or as a tunnel,
    while the site's own host still goes through."""
    from crawler.browser import Browser, _hosts_admitted
    from crawler.scope import Scope
    from netsafety.addresses import AllowList
    from netsafety.proxy import PinningProxy
    _sites, port, _canary = public_challenge_site
    browser = Browser(allow=AllowList.parse("127.0.0.2"))
    pinned: list[str] = []

    async def pin(host, p):
        pinned.append(host)
        return await browser.pin(host, p)

    async def ask(proxy_url: str, line: str) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", int(proxy_url.rsplit(":", 1)[1]))
        writer.write(line.encode())
        answer = await reader.readuntil(b"\r\n\r\n")
        writer.close()
        return answer

    async def scenario():
        proxy = PinningProxy(pin, admits=_hosts_admitted(Scope.of([f"http://{NAME}:{port}/"])))
        url = await proxy.start()
        try:
            return (await ask(url, "CONNECT content-autofill.googleapis.com:443 HTTP/1.1\r\n\r\n"),
                    await ask(url, f"GET http://update.example.net:{port}/ HTTP/1.1\r\nHost: x\r\n\r\n"),
                    await ask(url, f"GET http://{NAME}:{port}/ HTTP/1.1\r\nHost: {NAME}:{port}\r\n\r\n"), proxy)
        finally:
            await proxy.close()

    resolver = FakeResolver(REBINDING).install()
    try:
        autofill, update, own, proxy = run_async(scenario())
    finally:
        FakeResolver.uninstall()
    assert autofill.startswith(b"HTTP/1.1 403") and update.startswith(b"HTTP/1.1 403")
    assert b"412" in own.split(b"\r\n", 1)[0]                 # the site's own host, pinned and reached
    assert pinned == [NAME] and set(resolver.lookups) == {NAME}
    assert {why for _t, why in proxy.refused} == {"out of the site's scope"}
