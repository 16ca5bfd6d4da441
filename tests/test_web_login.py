"""Logging in to the real `newsmon serve` (issue 16): wrong passwords are throttled per
client and per user with doubling waits, logout ends the session on the server (a
copied cookie stops working, across a restart too), and the session cookie is Secure
when the request came over https through a trusted proxy."""
from __future__ import annotations

import base64
import math
import re
import time
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
import pytest

from web_server import copy_of, serving

USER, PASSWORD, SECRET = "analyst", "correct horse", "a-fixed-secret-so-sessions-survive-restarts"
LOGIN_ENV = {"NEWSMON_WEB_USER": USER, "NEWSMON_WEB_PASSWORD": PASSWORD, "NEWSMON_WEB_TOKEN": "",
             "NEWSMON_WEB_SECRET": SECRET, "NEWSMON_TRUST_PROXY": ""}
COOKIE = "newsmon_session"
NO_JAR = CookieJar(DefaultCookiePolicy(allowed_domains=[]))     # cookies go by hand, see client()


def client(base: str, ip: str | None = None, **headers) -> httpx.Client:
    """A non-browser client; ``ip`` is the address a trusted proxy says the request came from.
    It carries the session cookie itself, whatever the Host header and Secure flag say
    (the pretend proxy's client spoke https to a public name; this one speaks http to 127.0.0.1)."""
    c = httpx.Client(base_url=base, follow_redirects=False, timeout=30, cookies=NO_JAR,
                     headers={**headers, **({"X-Forwarded-For": ip} if ip else {})})

    def carry(response: httpx.Response) -> None:
        for value in response.headers.get_list("set-cookie"):
            name, _, rest = value.partition("=")
            if name == COOKIE:
                data = rest.split(";")[0]
                if data == "null":           # the session was cleared
                    c.headers.pop("Cookie", None)
                else:
                    c.headers["Cookie"] = f"{COOKIE}={data}"

    c.event_hooks["response"] = [carry]
    return c


def csrf(c: httpx.Client, path: str = "/login") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', c.get(path).text).group(1)


def log_in(c: httpx.Client, user: str = USER, password: str = PASSWORD, token: str | None = None) -> httpx.Response:
    fields = {"token": token} if token else {"user": user, "password": password}
    return c.post("/login", data={"csrf": csrf(c), **fields})


@pytest.fixture(scope="module")
def index_copy(crawl, tmp_path_factory):
    return copy_of(crawl.index_url, tmp_path_factory.mktemp("login"))


@pytest.fixture(scope="module")
def proxied(index_copy):
    """Behind a (pretend) reverse proxy: X-Forwarded-For tells clients apart."""
    with serving(index_copy, "--behind-proxy", "--allowed-host", "news.example.org", **LOGIN_ENV) as url:
        yield url


def test_300_wrong_passwords_are_mostly_refused_unevaluated(proxied):
    attacker = client(proxied, "198.51.100.1")
    token = csrf(attacker)
    started = time.monotonic()
    answers = [attacker.post("/login", data={"csrf": token, "user": USER, "password": f"guess-{i}"})
               for i in range(300)]
    elapsed = time.monotonic() - started
    evaluated = sum(a.status_code == 401 for a in answers)
    refused = [a for a in answers if a.status_code == 429]
    print(f"\n300 wrong passwords: {evaluated} evaluated, {len(refused)} refused (429) in {elapsed:.2f} s")
    assert evaluated + len(refused) == 300
    # Five free tries, then one more each time a lock (1, 2, 4 ... s) has run out.
    assert 5 <= evaluated <= 5 + 1 + math.log2(elapsed + 1), (evaluated, elapsed)
    assert [a.status_code for a in answers[:5]] == [401] * 5 and answers[5].status_code == 429
    assert all(int(a.headers["retry-after"]) >= 1 for a in refused)
    assert "登录失败次数过多" in refused[-1].text and "秒后再试" in refused[-1].text
    assert "script-src 'none'" in refused[-1].headers["content-security-policy"]

    # The user is locked from everywhere: the right password from elsewhere is not even compared.
    other = client(proxied, "198.51.100.2")
    locked = log_in(other)
    assert locked.status_code == 429 and "set-cookie" not in locked.headers
    # Once the wait is over, the right password gets in (and clears the count).
    time.sleep(int(locked.headers["retry-after"]) + 0.2)
    assert log_in(other).status_code == 303
    assert other.get("/", params={"q": "激光"}).status_code == 200


def test_one_address_trying_many_user_names_is_throttled_too(proxied):
    sprayer = client(proxied, "198.51.100.3")
    token = csrf(sprayer)
    statuses = [sprayer.post("/login", data={"csrf": token, "user": f"user{i}", "password": "123456"}).status_code
                for i in range(12)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}


def test_wrong_basic_credentials_on_the_api_are_throttled_with_doubling_waits(proxied):
    api = client(proxied, "198.51.100.4")
    wrong = {"Authorization": "Basic " + base64.b64encode(b"ops:wrong").decode()}
    statuses = [api.get("/api/search", params={"q": "激光"}, headers=wrong).status_code for _ in range(5)]
    assert statuses == [401] * 5
    waits = []
    for _ in range(3):
        refused = api.get("/api/search", params={"q": "激光"}, headers=wrong)
        assert refused.status_code == 429 and "登录失败次数过多" in refused.json()["error"]
        waits.append(int(refused.headers["retry-after"]))
        time.sleep(waits[-1] + 0.1)
        assert api.get("/api/search", params={"q": "激光"}, headers=wrong).status_code == 401
    assert waits == [1, 2, 4]


def test_the_old_cookie_is_refused_after_logout(proxied):
    browser = client(proxied, "198.51.100.5")
    assert log_in(browser).status_code == 303
    old = browser.headers["Cookie"].partition("=")[2]
    assert browser.get("/", params={"q": "激光"}).status_code == 200
    assert browser.post("/logout", data={"csrf": csrf(browser, "/")}).status_code == 303

    thief = client(proxied, "198.51.100.6", Cookie=f"{COOKIE}={old}")
    page = thief.get("/", params={"q": "激光"})
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert thief.get("/api/search", params={"q": "激光"}).status_code == 401
    assert 'action="/logout"' not in thief.get("/login").text          # not shown as logged in either


def test_sessions_and_logouts_both_survive_a_restart(index_copy):
    with serving(index_copy, **LOGIN_ENV) as url:
        stays, leaves = client(url), client(url)
        assert log_in(stays).status_code == 303 and log_in(leaves).status_code == 303
        kept, gone = stays.headers["Cookie"], leaves.headers["Cookie"]
        assert leaves.post("/logout", data={"csrf": csrf(leaves, "/")}).status_code == 303
    with serving(index_copy, **LOGIN_ENV) as url:
        assert client(url, Cookie=kept).get("/api/sites").status_code == 200
        assert client(url, Cookie=gone).get("/api/sites").status_code == 401


def test_the_session_cookie_is_secure_over_https_from_a_trusted_proxy(proxied, index_copy):
    public = {"Host": "news.example.org", "X-Forwarded-Proto": "https"}
    https = client(proxied, "198.51.100.7", **public)
    made = log_in(https)
    assert made.status_code == 303
    assert "secure" in made.headers["set-cookie"].lower() and "samesite=strict" in made.headers["set-cookie"].lower()
    # The proxied site's own forms (Origin https://news.example.org) write; a downgraded origin does not.
    fields = {"csrf": csrf(https, "/watches"), "name": "proxied", "query": "激光", "emails": "a@example.com"}
    assert https.post("/watches", data=fields, headers={"Origin": "http://news.example.org"}).status_code == 403
    assert https.post("/watches", data=fields, headers={"Origin": "https://news.example.org"}).status_code == 303

    plain = client(proxied, "198.51.100.8")
    assert "secure" not in log_in(plain).headers["set-cookie"].lower()

    # Without --behind-proxy nobody is believed about https, NEWSMON_TRUST_PROXY=1 is the same as the flag.
    with serving(index_copy, **LOGIN_ENV) as url:
        assert "secure" not in log_in(client(url, **{"X-Forwarded-Proto": "https"})).headers["set-cookie"].lower()
    with serving(index_copy, **{**LOGIN_ENV, "NEWSMON_TRUST_PROXY": "1"}) as url:
        assert "secure" in log_in(client(url, **{"X-Forwarded-Proto": "https"})).headers["set-cookie"].lower()
