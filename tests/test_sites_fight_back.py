"""Sites that fight back (issue 20): anti-bot challenges and lists filled by script, crawled
for real against ``tests/challenge_server.py`` on loopback, with Debian's chromium.

* plain fetching: every challenged site is recorded ``blocked`` (never "empty", never
  "no new article"), nothing is indexed, and health, status, the Sources page and the
  digest say 被反爬验证拦截;
* the fetch ladder: the same sites are read with a real browser, every article is
  indexed, and the server sees the later fetches come with the cookies it earned;
* a challenge "passed" into a blank page, and a WAF page, stay blocked: only real text
  counts;
* a Hanweb column filled by an XHR: every article is found, the ones its script does
  not show too; the browser's stray requests (a metadata address, another site) never
  leave it.
"""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from conftest import REPO, run_newsmon

sys.path.insert(0, str(REPO / "tests"))
from challenge_server import ARTICLES, HANWEB, ROBOTS_DISALLOWED, SHOWN, TRS_PATHS  # noqa: E402

CHALLENGED = ("ruishu", "jsl", "script200")
KINDS = {"ruishu": "ruishu", "jsl": "jiasule", "script200": "script_page", "blank200": "script_page", "waf": "waf"}
ENV = {"NEWSMON_TZ": "Asia/Shanghai", "NEWSMON_BROWSER_TIMEOUT": "8", "NEWSMON_CHROMIUM": "/usr/bin/chromium"}


@pytest.fixture(scope="module")
def challenge_sites():
    yield from serve_challenges()


def serve_challenges(*extra: str):
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "challenge_server.py"), "--lifetime", "900",
                             "--delay", "800", "--cookie-uses", "5", *extra], cwd=REPO / "tests",
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("challenge server did not start: " + proc.stderr.read().decode(errors="replace"))
    try:
        yield json.loads(line)["sites"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def hits(urls: dict, since: int = 0) -> list[dict]:
    with urllib.request.urlopen(urls["ruishu"] + "_hits", timeout=10) as answer:
        return json.loads(answer.read())["hits"][since:]


def sites_file(path, urls: dict, names, render: str | None = None):
    lines = ["sites:"]
    for name in names:
        start = urls[name] + ("col/col1229/index.html" if name == "xhrlist" else "")
        lines.append(f"  - name: {name}\n    start_urls: [\"{start}\"]\n    download_delay: 0")
        if render:
            lines.append(f"    render: {render}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def crawl(tmp_path, urls, names, **env):
    index = f"sqlite:///{tmp_path}/newsmon.db"
    before = len(hits(urls))
    proc = run_newsmon("crawl", "--sites", sites_file(tmp_path / "sites.yaml", urls, names), "--index", index,
                       "--json", timeout=300, **{**ENV, **env})
    summary = json.loads(proc.stdout)
    exported = run_newsmon("export", "--index", index)
    status = json.loads(run_newsmon("status", "--json", "--index", index, **ENV).stdout)
    return {"proc": proc, "summary": summary, "index": index, "hits": hits(urls, before),
            "export": [json.loads(x) for x in exported.stdout.splitlines() if x.strip()],
            "status": {s["name"]: s for s in status["sites"]}}


@pytest.fixture(scope="module")
def plain(challenge_sites, tmp_path_factory):
    """Plain fetching only (NEWSMON_BROWSER=0): what a crawler without a browser records."""
    return crawl(tmp_path_factory.mktemp("plain"), challenge_sites, [*CHALLENGED, "waf", "blank200"],
                 NEWSMON_BROWSER="0")


@pytest.fixture(scope="module")
def ladder(challenge_sites, tmp_path_factory):
    return crawl(tmp_path_factory.mktemp("ladder"), challenge_sites,
                 [*CHALLENGED, "waf", "blank200", "xhrlist"])


def test_plain_fetching_records_blocked_and_indexes_nothing(plain):
    assert plain["export"] == []
    for name, kind in KINDS.items():
        site = plain["summary"]["sites"][name]
        assert site.get(f"blocked/{kind}") == 1, site
        assert not any(key.startswith(("errors/", "quality/")) for key in site), site   # not "empty"
        entry = plain["status"][name]
        assert entry["last_run"]["status"] == "blocked" and entry["last_run"]["blocked"] == {kind: 1}
        assert entry["fetch_rung"] == "plain"
    assert not any(hit["browser"] for hit in plain["hits"])        # no browser was started


def test_health_says_blocked_in_chinese_in_beijing_time(plain):
    from monitor.clock import show
    for name in KINDS:
        entry = plain["status"][name]
        [flag] = entry["health"]                                  # not failing, not silent
        assert flag["kind"] == "blocked"
        assert flag["message"].startswith(f"被反爬验证拦截，自 {show(entry['last_run']['started'])} 起")
    assert "瑞数 412 验证" in plain["status"]["ruishu"]["health"][0]["message"]
    assert "加速乐 521 验证" in plain["status"]["jsl"]["health"][0]["message"]
    text = run_newsmon("status", "--index", plain["index"], NEWSMON_TZ="Asia/Shanghai").stdout
    assert "ruishu: blocked since" in text and "被反爬验证拦截" in text


def test_sources_page_and_digest_show_blocked(plain):
    from starlette.testclient import TestClient

    from index import open_index
    from monitor.digest import build_digests, render_text
    from monitor.web.app import create_app
    from monitor.web.auth import Credentials
    from web_server import LOOPBACK

    with TestClient(create_app(plain["index"], credentials=Credentials()), base_url=LOOPBACK) as client:
        page = client.get("/sources").text
    assert page.count("flag-blocked") == len(KINDS) and "被反爬验证拦截，自" in page
    assert "普通请求" in page and "rung-plain" in page
    assert run_newsmon("watch", "add", "flood", "--query", "防汛", "--email", "team@example.com",
                       "--index", plain["index"]).returncode == 0
    index = open_index(plain["index"])
    try:
        now = datetime.now(timezone.utc)
        (digest,) = build_digests(index, now - timedelta(hours=1), now + timedelta(seconds=1), label="d")
    finally:
        index.close()
    assert {site["name"] for site in digest.problem_sites} == set(KINDS)
    assert render_text(digest).count("被反爬验证拦截") == len(KINDS)


def test_the_ladder_indexes_every_article_with_a_real_browser(ladder):
    by_site = Counter(doc["site"] for doc in ladder["export"])
    titles = {ARTICLES[path][0] for path in TRS_PATHS}
    for name in CHALLENGED:
        assert by_site[name] == len(TRS_PATHS), by_site
        assert {doc["title"] for doc in ladder["export"] if doc["site"] == name} == titles
        entry = ladder["status"][name]
        assert entry["last_run"]["status"] == "ok" and entry["fetch_rung"] == "browser"
        assert entry["health"] == []
        stats = ladder["summary"]["sites"][name]
        assert stats.get("browser/pages", 0) >= 1 and not any(k.startswith("blocked/") for k in stats)


def test_later_fetches_reuse_the_cookies_the_browser_earned(ladder):
    """Counted at the server: a page is the browser's (Sec-Fetch-* headers) or a plain request
    that carried a cookie the challenge script computed. A cookie opens 5 pages here."""
    for name in CHALLENGED:
        pages = [h for h in ladder["hits"] if h["site"] == name and not h["path"].startswith(("/robots", "/favicon"))]
        in_browser = [h for h in pages if h["browser"] and h["cookie"]]      # served for real
        with_cookie = [h for h in pages if not h["browser"] and h["cookie"]]
        plain_challenged = [h for h in pages if not h["browser"] and not h["cookie"]]
        assert len(in_browser) + len(with_cookie) == 1 + len(TRS_PATHS), pages    # every page once
        assert len(with_cookie) >= len(TRS_PATHS) - 2, pages    # the first page and one re-earn in the browser
        assert len(in_browser) <= 3
        # challenged without a cookie: the first request, and the ones out when the cookie ran out
        assert 1 <= len(plain_challenged) <= 3, pages
        stats = ladder["summary"]["sites"][name]
        assert stats.get("browser/cookie_reuse", 0) >= len(with_cookie)


def test_only_real_text_passes_a_challenge(ladder):
    for name, kind in (("blank200", "script_page"), ("waf", "waf")):
        entry = ladder["status"][name]
        assert entry["last_run"]["status"] == "blocked", entry
        assert [flag["kind"] for flag in entry["health"]] == ["blocked"]
        assert ladder["summary"]["sites"][name].get(f"blocked/{kind}") == 1
    assert not [doc for doc in ladder["export"] if doc["site"] in ("blank200", "waf")]
    # the browser did try them
    assert any(h["browser"] for h in ladder["hits"] if h["site"] == "blank200")


def test_a_list_filled_by_script_finds_every_article(ladder):
    found = {doc["url"].split("/", 3)[3] for doc in ladder["export"] if doc["site"] == "xhrlist"}
    assert found == {path.lstrip("/") for path, *_ in HANWEB}
    assert len(HANWEB) > SHOWN        # two only in the JSON the page loaded, never in its DOM
    stats = ladder["summary"]["sites"]["xhrlist"]
    assert stats.get("script_lists") == 1 and stats.get("browser/pages") == 1
    assert ladder["status"]["xhrlist"]["fetch_rung"] == "browser"


def test_the_browser_never_bypasses_network_safety_or_scope(ladder):
    """The column page's script also fetches a metadata address and another site: both are
    stopped by the route check, so no other site sees a request from it."""
    stats = ladder["summary"]["sites"]["xhrlist"]
    assert stats.get("browser/refused", 0) >= 2
    assert not [h for h in ladder["hits"] if h["path"].startswith("/_canary")]
    assert "169.254.169.254" in ladder["proc"].stderr and "outside the site" in ladder["proc"].stderr


def test_pages_with_scripts_that_fill_no_list_start_no_browser(challenge_sites, tmp_path):
    """Twelve column pages with data-loading scripts (a visit counter, a weather widget) and no
    article link: no empty list a script names, so no page goes to the browser."""
    from challenge_server import COLUMNS
    run = crawl(tmp_path, challenge_sites, ["scripty"])
    totals, stats = run["summary"]["totals"], run["summary"]["sites"]["scripty"]
    assert stats.get("pages_fetched", 0) >= 1 + COLUMNS, stats
    assert not totals.get("browser/launches") and not stats.get("script_lists") and not stats.get("browser/pages")
    assert not any(h["browser"] for h in run["hits"] if h["site"] == "scripty")


def test_the_browser_budget_for_script_lists_holds(challenge_sites, tmp_path):
    """Twelve columns each filled by an XHR, at most 3 renders: then plain fetching, said once."""
    run = crawl(tmp_path, challenge_sites, ["xhrmany"], NEWSMON_BROWSER_MAX_PAGES="3")
    stats = run["summary"]["sites"]["xhrmany"]
    assert 1 <= stats.get("browser/pages", 0) <= 3, stats
    assert stats.get("browser/budget_exhausted") == 1, stats
    assert len({h["path"] for h in run["hits"] if h["browser"] and h["path"].startswith("/col/")}) <= 3
    assert run["proc"].stderr.count("浏览器预算已用完") == 1
    assert run["status"]["xhrmany"]["last_run"]["status"] != "blocked"
    # the time budget: none left after the first render
    (tmp_path / "t").mkdir()
    run = crawl(tmp_path / "t", challenge_sites, ["xhrmany"], NEWSMON_BROWSER_BUDGET_SECONDS="0.01")
    stats = run["summary"]["sites"]["xhrmany"]
    assert stats.get("browser/pages") == 1 and stats.get("browser/budget_exhausted") == 1, stats


def test_the_rung_is_remembered_until_the_site_stops_challenging(challenge_sites, tmp_path):
    """A run that met 瑞数 remembers it in the index: the next run opens its first page in the
    browser at once (no plain 412 first), and status and the Sources page say so in Chinese.
    Run 1's memory lasts under a second here, so run 2 starts plain again, as a site that
    stopped challenging would; run 2 meets the challenge and remembers it for 7 days."""
    def first_page(run):
        return next(h for h in run["hits"] if h["site"] == "ruishu" and h["path"] == "/")

    def plain_412s(run):     # pages asked without a browser and without a working cookie
        return len([h for h in run["hits"] if h["site"] == "ruishu" and not h["browser"] and not h["cookie"]
                    and not h["path"].startswith(("/robots", "/favicon"))])

    crawl(tmp_path, challenge_sites, ["ruishu"], NEWSMON_LADDER_MEMORY_DAYS="0.00001")
    plain_first = crawl(tmp_path, challenge_sites, ["ruishu"])
    assert "browser/remembered" not in plain_first["summary"]["sites"]["ruishu"]
    assert not first_page(plain_first)["browser"] and first_page(plain_first)["status"] == 412
    memory = plain_first["status"]["ruishu"]["fetch_rung_memory"]
    assert memory["kind"] == "ruishu" and memory["rung"] == "browser"
    assert datetime.fromisoformat(memory["until"]) - datetime.fromisoformat(memory["seen"]) == timedelta(days=7)
    remembered = crawl(tmp_path, challenge_sites, ["ruishu"])
    assert remembered["summary"]["sites"]["ruishu"].get("browser/remembered") == 1
    assert first_page(remembered)["browser"]       # the browser meets the 412 itself and gets through
    assert plain_412s(remembered) == plain_412s(plain_first) - 1, (remembered["hits"], plain_first["hits"])
    assert len(remembered["export"]) == len(TRS_PATHS)
    assert remembered["status"]["ruishu"]["fetch_rung_memory"]["since"] == memory["since"]
    text = run_newsmon("status", "--index", remembered["index"], **ENV).stdout
    assert "遇到反爬验证（瑞数 412 验证" in text and "恢复普通请求" in text
    from starlette.testclient import TestClient

    from monitor.web.app import create_app
    from monitor.web.auth import Credentials
    from web_server import LOOPBACK
    with TestClient(create_app(remembered["index"], credentials=Credentials()), base_url=LOOPBACK) as client:
        page = client.get("/sources").text
    assert page.count('class="rung-memory"') == 1 and "首个页面用真实浏览器打开" in page


@pytest.fixture(scope="module")
def robots_challenged():
    yield from serve_challenges("--robots-challenged")


def last_run(index_url: str, site: str) -> dict:
    from index import open_index
    from index.runs import recent_runs
    index = open_index(index_url)
    try:
        return recent_runs(index.state, site, limit=1)[0]
    finally:
        index.close()


def test_robots_txt_behind_a_challenge_is_read_in_the_browser_and_obeyed(robots_challenged, tmp_path):
    """The robots.txt request meets the 412 too: the ladder reads it in the browser (which
    earns the cookies the first page then uses) and its rules are obeyed."""
    run = crawl(tmp_path, robots_challenged, ["ruishu"])
    assert run["summary"]["sites"]["ruishu"].get("robots/browser") == 1
    robots = [h for h in run["hits"] if h["path"] == "/robots.txt"]
    assert [h["status"] for h in robots if h["browser"] and h["cookie"]] == [200], robots
    assert not [h for h in run["hits"] if h["path"] == ROBOTS_DISALLOWED]
    assert len(run["export"]) == len(TRS_PATHS) - 1
    assert last_run(run["index"], "ruishu")["robots"] == {"browser": 1}
    home = next(h for h in run["hits"] if h["path"] == "/")
    assert home["cookie"] and not home["browser"]      # the cookies robots.txt earned, reused


def test_robots_txt_that_cannot_be_read_is_said_so_in_the_run_record(robots_challenged, tmp_path):
    run = crawl(tmp_path, robots_challenged, ["ruishu"], NEWSMON_BROWSER="0")
    assert run["summary"]["sites"]["ruishu"].get("robots/unreadable") == 1
    record = last_run(run["index"], "ruishu")
    assert record["robots"] == {"unreadable": 1} and record["status"] == "blocked"
    assert "robots.txt 无法读取（瑞数 412 验证" in run["proc"].stderr


def test_render_must_be_a_known_mode(tmp_path):
    from crawler.sites import SitesFileError, load_sites
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  - name: a\n    start_urls: [http://a.example/]\n    render: chrome\n", encoding="utf-8")
    with pytest.raises(SitesFileError) as err:
        load_sites(path)
    assert str(err.value).startswith(f"{path}:4: site 'a': field 'render': 'chrome' is not one of auto, plain, browser")
    assert "\n" not in str(err.value)
    path.write_text("sites:\n  - name: a\n    start_urls: [http://a.example/]\n    render: browser\n", encoding="utf-8")
    assert load_sites(path).sites[0].render == "browser"


def test_a_crawl_of_ordinary_sites_starts_no_browser(crawl):
    """The fixture sites (four CMS families): no challenge, no list filled by script, no
    browser -- the ladder only looked."""
    assert crawl.summary["totals"]["pages_fetched"] > 50
    touched = [key for key in crawl.summary["totals"]
               if key.startswith(("browser/", "challenges/", "blocked/", "script_lists"))]
    assert touched == []
    assert "Chromium" not in crawl.proc.stderr


@pytest.mark.parametrize("status, body, kind", [
    (412, b"<html><head><script>var $_ts=window['$_ts'];$_ts.cd='x';</script></head><body></body></html>", "ruishu"),
    (521, b"<script>document.cookie=('__jsl_clearance=1733')+';path=/';location.href=location.pathname</script>",
     "jiasule"),
    (200, b"<html><body><script>setTimeout(function(){location.reload()},500)</script></body></html>", "script_page"),
    (403, "<html><body><h1>网站防火墙</h1><p>您的请求已被拦截</p></body></html>".encode(), "waf"),
    (200, "<html><body><p>请输入验证码</p><input name=captcha><script src=/c.js></script></body></html>".encode(),
     "captcha"),
    (403, b"<html><body>Forbidden</body></html>", None),                  # a plain 403 is an HTTP error
    # Short ordinary pages (from real snapshots' shapes): linked scripts only, a jump to
    # another page, a login form with its own 验证码 -- no evidence of a challenge.
    (200, b'<html><head><script type="text/javascript" src="js/js.js"></script>'
          b'<script src="/js/kb.js"></script></head><body><img src="top.jpg"></body></html>', None),
    (200, b"<html><body><script>window.location.href='/xwzx/index.html';</script></body></html>", None),
    (200, "<html><body><form><input name=user><input type=password name=pwd>验证码<input name=checkcode>"
          "</form><script src=/login.js></script></body></html>".encode(), None),
    (200, b"<html><body><script>var _0x=String.fromCharCode(119,97,102);document.write(_0x)</script></body></html>",
     "script_page"),                                                      # hidden code
    (200, ("<html><body><script>var $_ts={};</script><div><p>" + "宿城区召开会议，部署下阶段重点工作。" * 5
           + "</p></div></body></html>").encode(), None),                # got through: $_ts stays, text is real
    (200, ("<html><head><meta charset=gbk></head><body><script>x()</script><p>" + "宿城区召开防汛工作会议。" * 6
           + "</p></body></html>").encode("gbk"), None),                 # GBK prose, decoded as such
])
def test_challenge_kinds(status, body, kind):
    from crawler.challenge import challenge_kind
    assert challenge_kind(status, {"content-type": "text/html"}, body) == kind
