"""Queries are bounded in the one parser (index/query.py), so the CLI, the web UI
and its API, and watches refuse the same queries with the same Chinese message:
a NUL or other control character, more than 64 terms, more than 500 characters.
Before, a NUL gave a 500 (FTS5's parser) and ~1,000 terms "Expression tree is too
large". The largest accepted query runs on both backends."""
from __future__ import annotations

import http.client
import json
from urllib.parse import quote, urlsplit

import pytest

from conftest import run_newsmon
from index import open_index
from index.query import MAX_QUERY_CHARS, MAX_QUERY_TERMS, QueryLimitError, QuerySyntaxError, parse_query
from monitor.watches import WATCH_KIND, Watch
from test_index_contract import LASER, backend, make_record  # noqa: F401 - fixture
from web_server import serving

NUL = "激\x00光"
THOUSAND = " ".join(f"词{i}" for i in range(1000))
SIXTY_FIVE = " ".join(f"w{i}" for i in range(MAX_QUERY_TERMS + 1))          # 65 terms, ~250 characters
TOO_LONG = "激光产业园" * (MAX_QUERY_CHARS // 5) + "区"                        # 501 characters, one term
CONTROL = "查询的第 2 个字符 U+0000 是控制字符，不能用于搜索：请删掉它"
TOO_MANY = f"查询词太多：最多 {MAX_QUERY_TERMS} 个（OR 两边的词和排除的词都算）；请拆成几个查询"
LONG = f"查询太长：501 个字符，最多 {MAX_QUERY_CHARS} 个；请删掉一些词"
REFUSED = [(NUL, CONTROL), (THOUSAND, TOO_MANY), (SIXTY_FIVE, TOO_MANY), (TOO_LONG, LONG)]


def refusal(text: str) -> str:
    with pytest.raises(QueryLimitError) as caught:
        parse_query(text)
    return str(caught.value)


@pytest.mark.parametrize("text, message", REFUSED)
def test_the_parser_refuses_with_one_chinese_line(text, message):
    assert refusal(text) == message


@pytest.mark.parametrize("char", ["\x01", "\x07", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\udcff"])
def test_every_control_character_and_undecodable_byte_is_refused(char):
    message = refusal("激光" + char + "产业园")
    assert message.startswith(f"查询的第 3 个字符 U+{ord(char):04X} 是") and "\n" not in message


def test_tab_cr_and_newline_are_spaces_and_the_limits_themselves_are_fine():
    assert parse_query("激光\t产业园\r\n-招聘").root == parse_query("激光 产业园 -招聘").root
    assert len(parse_query(" ".join(f"w{i}" for i in range(MAX_QUERY_TERMS))).root.clauses) == MAX_QUERY_TERMS
    alternatives = " OR ".join(f"w{i}" for i in range(MAX_QUERY_TERMS))       # 64 terms, 63 ORs
    assert len(parse_query(alternatives).root.clauses[0].alternatives) == MAX_QUERY_TERMS
    assert parse_query("激" * MAX_QUERY_CHARS).positive_terms == ["激" * MAX_QUERY_CHARS]
    # A syntax error keeps its own message and position.
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query('"激光')
    assert not isinstance(caught.value, QueryLimitError) and caught.value.position == 0


def test_the_largest_queries_run_on_both_backends(backend):
    """64 ANDed terms, 64 OR alternatives, 500 characters: one story, no backend error."""
    laser = make_record("http://www.sczf.gov.cn/art/2024/7/12/art_1229_3456789.html", "suqian-sucheng",
                        "宿城区召开激光产业园建设推进会", LASER, "2024-07-12")
    backend.upsert_article(laser)
    backend.flush()
    chars = list(dict.fromkeys(c for c in LASER if "\u4e00" <= c <= "\u9fff"))
    anded = " ".join(chars[:MAX_QUERY_TERMS])
    ored = " OR ".join([f"无{i}" for i in range(MAX_QUERY_TERMS - 1)] + ["激光"])
    longest = f'"{LASER[:250]}" "{LASER[1:246]}"'
    assert len(longest) == MAX_QUERY_CHARS
    for text in (anded, ored, longest):
        assert [s["story_id"] for s in backend.search(parse_query(text))] == [laser.story_id], text[:40]


# -- the CLI -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bounds_index(tmp_path_factory):
    """A real embedded index with one story (and one watch stored before the bounds)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('bounds')}/newsmon.db"
    index = open_index(url)
    index.upsert_article(make_record("http://www.sczf.gov.cn/art/2024/7/12/art_1229_3456789.html",
                                     "suqian-sucheng", "宿城区召开激光产业园建设推进会", LASER, "2024-07-12"))
    # As an older newsmon stored it: WatchStore.add would refuse it now.
    old = Watch("legacy", THOUSAND, emails=["team@example.com"], created="2024-01-01T00:00:00+00:00")
    index.state.put(WATCH_KIND, old.name, old.to_dict())
    index.close()
    return url


def one_line_error(proc) -> str:
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize("text, message", [
    # argv cannot carry a NUL byte: another control character stands in for it.
    ("激\x01光", CONTROL.replace("U+0000", "U+0001")), (THOUSAND, TOO_MANY), (SIXTY_FIVE, TOO_MANY), (TOO_LONG, LONG)])
def test_cli_search_refuses_with_exit_2_and_one_line(bounds_index, text, message):
    proc = run_newsmon("search", text, "--index", bounds_index)
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert line.startswith("Error: bad query ") and line.endswith(": " + message) and len(line) < 300, line


def test_cli_search_reads_tabs_and_newlines_as_spaces(bounds_index):
    proc = run_newsmon("search", "激光\t产业园\n推进会", "--json", "--index", bounds_index)
    assert proc.returncode == 0, proc.stderr
    assert [s["title"] for s in json.loads(proc.stdout)] == ["宿城区召开激光产业园建设推进会"]


@pytest.mark.parametrize("text, message", [("激\x1b光", CONTROL.replace("U+0000", "U+001B")),
                                           (THOUSAND, TOO_MANY), (TOO_LONG, LONG)])
def test_cli_watch_add_refuses(bounds_index, text, message):
    proc = run_newsmon("watch", "add", "w", "--query", text, "--email", "team@example.com", "--index", bounds_index)
    assert proc.returncode == 1
    assert one_line_error(proc) == f"Error: 监测「w」：查询有误：{message}"
    assert "w" not in [w["name"] for w in json.loads(run_newsmon("watch", "list", "--json", "--index", bounds_index).stdout)]


def test_cli_watch_test_refuses_a_watch_stored_before_the_bounds(bounds_index):
    proc = run_newsmon("watch", "test", "legacy", "--index", bounds_index)
    assert proc.returncode == 1
    assert one_line_error(proc) == f"Error: 监测「legacy」：查询有误：{TOO_MANY}"


def test_sites_file_watch_with_a_nul_is_refused_at_its_line(bounds_index, tmp_path):
    sites = tmp_path / "sites.yaml"
    sites.write_text('sites:\n  - name: a\n    start_urls: [http://www.a.gov.cn/]\nwatches:\n'
                     '  - name: w\n    query: "激\\0光"\n    email: team@example.com\n', encoding="utf-8")
    proc = run_newsmon("watch", "sync", "--sites", sites, "--index", bounds_index)
    assert proc.returncode == 1
    assert one_line_error(proc) == f"Error: {sites}:5: 监测「w」：查询有误：{CONTROL}"


# -- the web UI and its API, as `newsmon serve` runs them -----------------------------

@pytest.fixture(scope="module")
def server(bounds_index):
    with serving(bounds_index) as base:
        yield base


def call(base: str, method: str, path: str, body: dict | None = None):
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        conn.close()


@pytest.mark.parametrize("text, message", REFUSED)
def test_api_search_and_search_page_answer_400(server, text, message):
    status, body = call(server, "GET", "/api/search?q=" + quote(text))
    assert status == 400 and json.loads(body) == {"error": f"查询有误：{message}"}
    status, page = call(server, "GET", "/?q=" + quote(text))
    assert status == 400 and message in page


def test_web_reads_a_tab_as_a_space(server):
    status, body = call(server, "GET", "/api/search?q=" + quote("激光\t产业园"))
    assert status == 200 and json.loads(body)["total"] == 1


def test_web_watches_refuse_and_test_answers_400(server):
    status, body = call(server, "POST", "/api/watches", {"name": "nul", "query": NUL, "emails": ["t@example.com"]})
    assert status == 400 and json.loads(body) == {"error": f"监测「nul」：查询有误：{CONTROL}"}
    status, body = call(server, "GET", "/api/watches/legacy/test")
    assert status == 400 and json.loads(body) == {"error": f"监测「legacy」：查询有误：{TOO_MANY}"}
    status, page = call(server, "GET", "/watches/legacy/test")
    assert status == 400 and TOO_MANY in page
