"""The web UI refuses what a hostile page could make a browser send (issue 16), against
the real `newsmon serve`: a foreign Host (DNS rebinding) gets 421 on every route,
cross-origin writes get 403, a 500 still carries the security headers, an IPv6
listening address is printed as a usable URL, and a kept-alive connection is not
held up by Nagle's algorithm. Login limits and sessions: test_web_login.py."""
from __future__ import annotations

import http.client
import json
import re
import sqlite3
from urllib.parse import urlsplit

import pytest
from starlette.routing import Mount

from browser import CHROMIUM
from monitor.web.app import create_app
from monitor.web.auth import Credentials
from monitor.web.headers import CONTENT_SECURITY_POLICY
from web_server import copy_of, serving

LASER = {"name": "laser-park", "query": "激光产业园", "emails": ["team@example.com"], "webhooks": []}
ATTACKER = "attacker.example"


def call(base: str, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
    """One raw request with exactly these headers (a Host of our choosing included)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
    finally:
        conn.close()


def host_of(base: str) -> str:
    return urlsplit(base).netloc


def route_table(index_url: str) -> list[tuple[str, str]]:
    """(method, path) for every route the app has, path parameters filled in."""
    app = create_app(index_url, credentials=Credentials())
    requests = []
    for route in app.routes:
        if isinstance(route, Mount):
            requests.append(("GET", route.path + "/style.css"))
        else:
            path = re.sub(r"\{\w+(:\w+)?\}", "laser-park", route.path)
            requests += [(method, path) for method in sorted(route.methods)]
    app.state.web.readers.close()
    app.state.web.index.close()
    assert len({path for _, path in requests}) >= 12          # the pages, the API and /static
    return requests


@pytest.fixture(scope="module")
def index_copy(crawl, tmp_path_factory):
    return copy_of(crawl.index_url, tmp_path_factory.mktemp("security"))


@pytest.fixture(scope="module")
def server(index_copy):
    with serving(index_copy, "--allowed-host", "news.example.org",
                 NEWSMON_ALLOWED_HOSTS="intranet.example:8443, [fd00::5]") as url:
        yield url


def watch_names(base: str) -> list[str]:
    status, _, body = call(base, "GET", "/api/watches", {"Host": host_of(base)})
    assert status == 200, body
    return [w["name"] for w in json.loads(body)["watches"]]


def test_a_foreign_host_gets_421_on_every_route(server, index_copy):
    port = urlsplit(server).port
    for method, path in route_table(index_copy):
        for host in (ATTACKER, f"{ATTACKER}:{port}"):
            headers = {"Host": host, "Origin": f"http://{host}", "Content-Type": "application/json"}
            body = json.dumps(LASER).encode() if method in ("POST", "PUT") else None
            status, response_headers, text = call(server, method, path, headers, body)
            assert status == 421, (method, path, host, status, text)
            assert response_headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            if method != "HEAD":
                assert "拒绝访问" in text and "--allowed-host" in text, text
    assert watch_names(server) == []               # nothing was created by all those POSTs


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LOCALHOST.",
                                  "news.example.org", "intranet.example:8443", "[fd00::5]"])
def test_loopback_the_bound_address_and_configured_names_are_answered(server, host):
    status, _, body = call(server, "GET", "/api/search?q=%E6%BF%80%E5%85%89",
                           {"Host": host.format(port=urlsplit(server).port)})
    assert status == 200 and json.loads(body)["stories"], body


@pytest.mark.parametrize("host", ["localhost.attacker.example", "127.0.0.1.nip.io", "news.example.org.evil",
                                  "10.0.0.8", "[fd00::6]", "", "a b", "[::1"])
def test_other_names_and_malformed_hosts_are_refused(server, host):
    status, _, body = call(server, "GET", "/api/watches", {"Host": host})
    assert status == 421 and "拒绝访问" in json.loads(body)["error"]


def test_listening_on_every_interface_answers_its_addresses_but_not_foreign_names(crawl):
    with serving(crawl.index_url, "--host", "0.0.0.0", NEWSMON_WEB_TOKEN="t-wildcard") as url:
        base = url.replace("0.0.0.0", "127.0.0.1")
        bearer = {"Authorization": "Bearer t-wildcard"}
        assert call(base, "GET", "/api/sites", {"Host": "192.0.2.7", **bearer})[0] == 200
        assert call(base, "GET", "/api/sites", {"Host": host_of(url), **bearer})[0] == 200
        assert call(base, "GET", "/api/sites", {"Host": ATTACKER, **bearer})[0] == 421


def test_cross_origin_writes_are_refused_and_same_origin_or_scripted_ones_work(server):
    own = host_of(server)
    json_post = {"Host": own, "Content-Type": "application/json"}
    body = json.dumps(LASER).encode()
    port = urlsplit(server).port
    for hostile in ({"Origin": f"http://{ATTACKER}"}, {"Origin": "null"}, {"Origin": f"http://localhost:{port}"},
                    {"Origin": f"https://{own}"}, {"Referer": f"http://{ATTACKER}/page.html"},
                    {"Sec-Fetch-Site": "cross-site"}):
        status, headers, text = call(server, "POST", "/api/watches", {**json_post, **hostile}, body)
        assert status == 403 and "拒绝跨站请求" in json.loads(text)["error"], (hostile, text)
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert watch_names(server) == []

    # The UI's own page, and a script with no Origin at all (curl), still write.
    assert call(server, "POST", "/api/watches", {**json_post, "Origin": f"http://{own}"}, body)[0] == 201
    status, _, text = call(server, "DELETE", "/api/watches/laser-park", {"Host": own, "Origin": f"http://{ATTACKER}"})
    assert status == 403 and "拒绝跨站请求" in text
    assert watch_names(server) == ["laser-park"]
    assert call(server, "DELETE", "/api/watches/laser-park", {"Host": own})[0] == 200
    assert watch_names(server) == []

    # The forms too, before their CSRF token is even looked at.
    form = {"Host": own, "Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://{ATTACKER}"}
    for path in ("/watches", "/watches/laser-park/delete", "/login", "/logout"):
        status, _, text = call(server, "POST", path, form, b"name=x&query=a&emails=a%40example.com")
        assert status == 403 and "拒绝跨站请求" in text, path


def test_in_a_browser_a_rebound_name_and_a_cross_site_form_are_refused(chromium_browser, server):
    # Chromium resolves attacker.example to 127.0.0.1, as DNS rebinding would make it.
    browser = chromium_browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-dev-shm-usage", f"--host-resolver-rules=MAP {ATTACKER} 127.0.0.1"])
    try:
        page = browser.new_page()
        rebound = f"http://{ATTACKER}:{urlsplit(server).port}"
        response = page.goto(rebound + "/api/watches")
        assert response.status == 421 and "拒绝访问" in page.inner_text("body")
        assert page.goto(rebound + "/watches").status == 421

        # A page on another site whose button posts a watch to the analyst's UI.
        form = (f'<form method="post" action="{server}/watches"><input name="name" value="exfil">'
                f'<input name="query" value="激光"><input name="webhooks" value="http://{ATTACKER}/hook">'
                f'<button id="go">看看</button></form>')
        page.route(f"http://{ATTACKER}/", lambda route: route.fulfill(body=form, content_type="text/html"))
        page.goto(f"http://{ATTACKER}/")
        with page.expect_navigation() as navigation:
            page.click("#go")
        assert navigation.value.status == 403 and "拒绝跨站请求" in page.inner_text("body")
    finally:
        browser.close()
    assert watch_names(server) == []


def test_every_kind_of_error_carries_the_security_headers(server):
    own = {"Host": host_of(server)}
    errors = [("GET", "/no-such-page", own, None, 404), ("GET", "/api/no-such-call", own, None, 404),
              ("DELETE", "/api/search", own, None, 405), ("GET", "/api/search?q=%22", own, None, 400),
              ("POST", "/api/watches", {**own, "Content-Type": "text/plain"}, b"x", 415),
              ("GET", "/story/s-none", own, None, 404)]
    for method, path, headers, body, expected in errors:
        status, response_headers, _ = call(server, method, path, headers, body)
        assert status == expected, (method, path, status)
        assert response_headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response_headers["x-frame-options"] == "DENY" and response_headers["referrer-policy"] == "same-origin"


def test_a_500_carries_the_security_headers_and_says_what_happened_in_chinese(crawl, tmp_path):
    index_url = copy_of(crawl.index_url, tmp_path)
    with serving(index_url) as url:
        assert call(url, "GET", "/api/search?q=%E6%BF%80%E5%85%89", {"Host": host_of(url)})[0] == 200
        # Break the index under the running server: its full-text table disappears.
        db = sqlite3.connect(index_url.removeprefix("sqlite:///"))
        db.execute("DROP TABLE articles_fts")
        db.commit()
        db.close()
        # New queries (a search's matches are cached for a while): 宿城区, 疫苗.
        for path in ("/api/search?q=%E5%AE%BF%E5%9F%8E%E5%8C%BA", "/?q=%E7%96%AB%E8%8B%97"):
            status, headers, text = call(url, "GET", path, {"Host": host_of(url)})
            assert status == 500, (path, text)
            assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
            assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
            assert "服务器内部错误" in text and "Traceback" not in text and "articles_fts" not in text


@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_an_ipv6_address_is_printed_in_brackets_once_and_answers(crawl, host):
    with serving(crawl.index_url, "--host", host) as url:
        assert re.fullmatch(r"http://\[::1\]:\d+", url), url
        status, _, body = call(url, "GET", "/api/sites", {"Host": host_of(url)})
        assert status == 200 and json.loads(body)["sites"]


def test_the_served_connections_send_without_waiting_for_acks(server):
    # The pre-bound listening socket once lacked TCP_NODELAY: each request on a reused
    # connection then waited ~40 ms for a delayed ACK (300 logins took 13 s). Checked on
    # the socket newsmon serve binds, as asyncio hands it its connections, not with a clock;
    # and a kept-alive connection to the real server still answers request after request.
    import asyncio
    import socket

    from crawler.commands.serve import _bind

    async def accepted_nodelay() -> int:
        seen: asyncio.Future = asyncio.get_running_loop().create_future()

        async def handle(_reader, writer):
            seen.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()
        listener = _bind("127.0.0.1", 0)
        served = await asyncio.start_server(handle, sock=listener)
        async with served:
            _r, w = await asyncio.open_connection(*listener.getsockname())
            flag = await asyncio.wait_for(seen, 30)
            w.close()
        return flag

    # In a thread of its own: a browser test earlier on this worker may own this thread's loop.
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, accepted_nodelay()).result(60) != 0
    parts = urlsplit(server)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    for _ in range(15):
        conn.request("GET", "/static/style.css", headers={"Host": parts.netloc})
        answer = conn.getresponse()
        assert answer.status == 200 and answer.read()
    conn.close()
