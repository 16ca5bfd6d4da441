"""The web app in-process (Starlette's TestClient) over the real fixture crawl: the JSON
API answers what `newsmon search --json` answers, pages carry the security headers,
and a configured login is enforced on pages and API alike."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from starlette.testclient import TestClient

from conftest import run_newsmon
from index import open_index
from index.query import parse_query
from monitor.web.app import create_app
from monitor.web.auth import AccessConfigError, Credentials, check_bind
from monitor.web.headers import CONTENT_SECURITY_POLICY
from pipelines.extract import extract_article
from pipelines.records import build_record
from test_index_contract import backend  # noqa: F401 - fixture
from test_search_pages import regional  # noqa: F401 - fixture
from web_server import LOOPBACK

HOSTILE_PAGE = Path(__file__).parent / "web" / "hostile_page.html"
HOSTILE_URL = "http://www.sczf.gov.cn/xwdt/202109/t20210914_4187654.html"
SEARCHES = [("激光产业园", []), ("激光產業園 會辦會", []), ("激光 OR 传感", ["--limit", "3"]),
            ("疫苗", ["--site", "mianyang-news"]), ("宿城区", ["--since", "2021-01-01", "--until", "2021-06-30"]),
            ("招商 -深圳", [])]


@pytest.fixture(scope="module")
def client(crawl):
    with TestClient(create_app(crawl.index_url, credentials=Credentials()), base_url=LOOPBACK) as client:
        yield client


def hostile_index(directory: Path) -> str:
    """An index holding one real page whose text, author and source carry script payloads."""
    url = f"sqlite:///{directory}/hostile.db"
    article = extract_article(HOSTILE_PAGE.read_bytes(), HOSTILE_URL, {"Content-Type": "text/html; charset=utf-8"})
    record = build_record(article, site="sucheng-gov", fetched_at="2021-09-14T02:00:00+00:00",
                          region="江苏省宿迁市宿城区")
    record.story_id, record.canonical = "s-" + record.id[:16], True
    with open_index(url) as index:
        index.upsert_article(record)
    return url


def api_args(cli_args: list[str]) -> list[tuple[str, str]]:
    names = {"--site": "site", "--since": "since", "--until": "until", "--limit": "limit"}
    return [(names[cli_args[i]], cli_args[i + 1]) for i in range(0, len(cli_args), 2)]


def test_api_search_answers_the_same_stories_as_the_cli(client, crawl):
    for query, cli_args in SEARCHES:
        cli = run_newsmon("search", query, "--json", "--index", crawl.index_url, *cli_args)
        assert cli.returncode == 0, cli.stderr
        want = json.loads(cli.stdout)
        response = client.get("/api/search", params=[("q", query), *api_args(cli_args)])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["stories"] == want, query
        assert body["total"] >= len(want) and want, query
    # Chinese as is, like --json.
    assert "激光" in client.get("/api/search", params={"q": "激光"}).text


def test_api_total_and_pages(client):
    everything = client.get("/api/search", params={"q": "宿城区", "limit": 1000}).json()
    assert everything["total"] == len(everything["stories"]) > 4
    first = client.get("/api/search", params={"q": "宿城区", "limit": 2}).json()
    second = client.get("/api/search", params={"q": "宿城区", "limit": 2, "offset": 2}).json()
    assert first["total"] == second["total"] == everything["total"]
    assert first["stories"] + second["stories"] == everything["stories"][:4]
    relevance = client.get("/api/search", params={"q": "宿城区", "limit": 1000, "sort": "relevance"}).json()
    assert sorted(s["story_id"] for s in relevance["stories"]) == sorted(s["story_id"] for s in everything["stories"])
    region = client.get("/api/search", params={"q": "激光", "region": "湖北省", "limit": 1000}).json()
    assert region["stories"] and region["total"] < client.get("/api/search", params={"q": "激光"}).json()["total"]
    assert all(any(c["site"] == "laser-industry" for c in s["copies"]) for s in region["stories"])


@pytest.mark.parametrize("params, message", [
    ({}, "缺少查询 q"), ({"q": '"激光'}, "引号没有闭合"), ({"q": "激光", "since": "2021-13-01"}, "since"),
    ({"q": "激光", "limit": "0"}, "limit"), ({"q": "激光", "sort": "clicks"}, "sort"),
    ({"q": "激光", "since": "2021-06-01", "until": "2021-01-01"}, "晚于截止日期")])
def test_api_says_which_parameter_is_wrong(client, params, message):
    response = client.get("/api/search", params=params)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_api_story_has_clean_text_metadata_and_every_copy(client):
    story = client.get("/api/search", params={"q": "激光产业园建设第九次会办会"}).json()["stories"][0]
    detail = client.get(f"/api/story/{story['story_id']}").json()
    assert detail["url"] == story["url"] and detail["title"] == story["title"]
    assert [c["url"] for c in detail["copies"]] == [c["url"] for c in story["copies"]]
    assert len(detail["copies"]) >= 2 and detail["reach"] == story["reach"]
    assert "激光产业园" in detail["text"] and "<" not in detail["text"]
    assert {"source", "author", "column", "region"} <= set(detail)
    missing = client.get("/api/story/s-does-not-exist")
    assert missing.status_code == 404 and missing.json() == {"error": "没有这篇报道"}


def test_openapi_describes_every_api_route(client):
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    routes = {re.sub(r"\{(\w+)\}", r"{\1}", r.path) for r in client.app.routes if getattr(r, "path", "").startswith("/api/")}
    assert routes == set(document["paths"])
    search = document["paths"]["/api/search"]["get"]
    assert {p["name"] for p in search["parameters"]} >= {"q", "site", "since", "until", "limit"}


def test_every_response_carries_the_security_headers(client):
    for path in ("/", "/?q=激光", "/api/search?q=激光", "/story/nope", "/static/style.css", "/api/openapi.json"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'none'" in CONTENT_SECURITY_POLICY


def test_search_page_escapes_article_fields(tmp_path):
    with TestClient(create_app(hostile_index(tmp_path), credentials=Credentials()), base_url=LOOPBACK) as client:
        page = client.get("/", params={"q": "恶意代码"}).text
        assert "&lt;script&gt;" in page and "<script" not in page
        story_id = client.get("/api/search", params={"q": "恶意代码"}).json()["stories"][0]["story_id"]
        page = client.get(f"/story/{story_id}", params={"q": "onerror"}).text
        assert "<script" not in page and "<img" not in page
        assert "&lt;img src=x onerror=" in page and "&lt;/dd&gt;&lt;script&gt;alert(" in page


# -- access -------------------------------------------------------------------------------

CREDS = Credentials(token="t0k3n-for-tests", user="analyst", password="correct horse")


@pytest.fixture(scope="module")
def locked(crawl):
    with TestClient(create_app(crawl.index_url, credentials=CREDS), base_url=LOOPBACK,
                    follow_redirects=False) as client:
        yield client


def test_non_loopback_bind_needs_credentials():
    with pytest.raises(AccessConfigError, match="NEWSMON_WEB_TOKEN"):
        check_bind("0.0.0.0", Credentials())
    check_bind("0.0.0.0", CREDS)
    check_bind("127.0.0.1", Credentials())
    check_bind("::1", Credentials())
    check_bind("localhost", Credentials())
    with pytest.raises(AccessConfigError, match="NEWSMON_WEB_PASSWORD"):
        Credentials.from_env({"NEWSMON_WEB_USER": "analyst"})


def test_without_credentials_pages_redirect_to_login_and_api_says_401(locked):
    page = locked.get("/?q=激光")
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=%2F%3Fq%3D")
    api = locked.get("/api/search", params={"q": "激光"})
    assert api.status_code == 401 and "Bearer" in api.headers["www-authenticate"]
    assert "stories" not in api.text
    assert locked.get("/api/search", params={"q": "激光"}, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert locked.get("/login").status_code == 200 and locked.get("/static/style.css").status_code == 200


def test_token_or_basic_credentials_open_the_api(locked):
    bearer = locked.get("/api/search", params={"q": "激光"}, headers={"Authorization": f"Bearer {CREDS.token}"})
    assert bearer.status_code == 200 and bearer.json()["stories"]
    basic = base64.b64encode(f"{CREDS.user}:{CREDS.password}".encode()).decode()
    assert locked.get("/api/search", params={"q": "激光"}, headers={"Authorization": f"Basic {basic}"}).status_code == 200
    wrong = base64.b64encode(f"{CREDS.user}:nope".encode()).decode()
    assert locked.get("/api/search", params={"q": "激光"}, headers={"Authorization": f"Basic {wrong}"}).status_code == 401


def test_login_form_needs_its_csrf_token_and_the_right_password(crawl):
    with TestClient(create_app(crawl.index_url, credentials=CREDS), base_url=LOOPBACK,
                    follow_redirects=False) as client:
        form = client.get("/login", params={"next": "/?q=激光"}).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        assert client.post("/login", data={"user": "analyst", "password": "correct horse"}).status_code == 400
        assert client.post("/login", data={"csrf": csrf, "user": "analyst", "password": "wrong"}).status_code == 401
        ok = client.post("/login", data={"csrf": csrf, "user": "analyst", "password": "correct horse",
                                         "next": "/?q=激光"})
        assert ok.status_code == 303 and unquote(ok.headers["location"]) == "/?q=激光"
        assert client.get("/", params={"q": "激光"}).status_code == 200
        assert client.get("/api/search", params={"q": "激光"}).status_code == 200     # the session works for the API
        fresh = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
        assert fresh != csrf                                          # a new session, a new token
        assert client.post("/logout", data={"csrf": csrf}).status_code == 400
        assert client.post("/logout", data={"csrf": fresh}).status_code == 303
        assert client.get("/").status_code == 303


def test_login_never_redirects_off_site(crawl):
    with TestClient(create_app(crawl.index_url, credentials=CREDS), base_url=LOOPBACK,
                    follow_redirects=False) as client:
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        ok = client.post("/login", data={"csrf": csrf, "token": CREDS.token, "next": "//evil.example/"})
        assert ok.status_code == 303 and ok.headers["location"] == "/"


def test_serve_refuses_a_public_address_without_credentials(crawl):
    proc = run_newsmon("serve", "--host", "0.0.0.0", "--port", "0", "--index", crawl.index_url, timeout=60,
                       NEWSMON_WEB_TOKEN="", NEWSMON_WEB_USER="", NEWSMON_WEB_PASSWORD="")
    assert proc.returncode == 1
    assert "refusing to listen on 0.0.0.0" in proc.stderr and "NEWSMON_WEB_TOKEN" in proc.stderr
    assert "NEWSMON_WEB_USER" in proc.stderr and "NEWSMON_WEB_PASSWORD" in proc.stderr


def test_first_page_matches_search_for_the_query_the_page_shows(client, crawl):
    with open_index(crawl.index_url) as index:
        want = index.search(parse_query("激光"), limit=20)
    page = client.get("/", params={"q": "激光"}).text
    assert [m for m in re.findall(r'href="/story/([^"?]+)\?', page)] == [s["story_id"] for s in want]
    assert f"共 <strong>{len(want)}</strong> 条报道" in page or len(want) == 20


def test_a_search_is_reused_for_cache_seconds_then_read_again(tmp_path):
    url = hostile_index(tmp_path)
    cached = TestClient(create_app(url, credentials=Credentials(), cache_seconds=3600), base_url=LOOPBACK)
    fresh = TestClient(create_app(url, credentials=Credentials(), cache_seconds=0), base_url=LOOPBACK)
    with cached, fresh:
        assert cached.get("/api/search", params={"q": "网络安全"}).json()["total"] == 1
        assert cached.get("/api/search", params={"q": "網絡安全"}).json()["total"] == 1   # same entry
        with open_index(url) as index:
            record = index.get_article(next(iter(index.export()))["id"])
            record.id, record.url, record.story_id = "f" * 40, record.url.replace("4187654", "4187655"), "s-second"
            index.upsert_article(record)
        assert fresh.get("/api/search", params={"q": "网络安全"}).json()["total"] == 2
        assert cached.get("/api/search", params={"q": "網絡安全"}).json()["total"] == 1   # until it expires
        assert cached.get("/api/search", params={"q": "网络安全 宣传周"}).json()["total"] == 2


def test_api_and_page_agree_with_the_backend_on_either_backend(index_url, backend, regional):  # noqa: F811
    """The same in-process app over SQLite and over the real Elasticsearch."""
    with TestClient(create_app(index_url, credentials=Credentials(), cache_seconds=0), base_url=LOOPBACK) as client:
        for params, filters in [({"q": "激光 OR 防汛", "limit": 2}, {"limit": 2}),
                                ({"q": "激光產業園", "site": "tw-news"}, {"sites": ["tw-news"]})]:
            body = client.get("/api/search", params=params).json()
            assert body["stories"] == backend.search(parse_query(params["q"]), **filters)
        assert client.get("/api/search", params={"q": "激光 OR 防汛"}).json()["total"] == 4
        page = client.get("/", params={"q": "激光产业园", "region": "台湾省"}).text
        assert "共 <strong>1</strong> 条报道" in page and regional["laser_tw"].url in page
        assert client.get("/api/sites").json()["sites"][-1] == {"name": "tw-news", "region": "台湾省台北市", "title": "tw-news"}
