"""Issue 21, items 4 and 5: every mistake the issue lists gets an answer or a clear
error, never a silent "no match". The real CLI (in-process ``CliRunner`` or its own
process), the real web app, on the fixture crawl and on both backends."""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch
from starlette.testclient import TestClient

from conftest import REPO, es_index_url, newsmon_env, run_newsmon
from crawler.cli import main
from monitor.web.app import create_app
from monitor.web.auth import Credentials
from test_index_contract import backend  # noqa: F401 - fixture
from test_search_pages import regional  # noqa: F401 - fixture
from web_server import LOOPBACK, copy_of


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def story_ids(index_url: str, query: str, *args) -> list[str]:
    result = cli("search", query, "--json", "--limit", "1000", "--index", index_url, *args)
    assert result.exit_code == 0, result.output
    return [s["story_id"] for s in json.loads(result.stdout)]


# -- query syntax users type: an answer, or an error saying where ------------------------

def test_parentheses_and_and_and_lowercase_or_answer(crawl):
    laser, sensor = story_ids(crawl.index_url, "激光 宿迁"), story_ids(crawl.index_url, "传感 宿迁")
    grouped = story_ids(crawl.index_url, "(激光 OR 传感) 宿迁")
    assert grouped and set(grouped) == set(laser) | set(sensor)
    assert story_ids(crawl.index_url, "激光 AND 宿迁") == laser
    either = story_ids(crawl.index_url, "激光 or 传感")
    assert either == story_ids(crawl.index_url, "激光 OR 传感") and len(either) > len(laser)


def test_empty_parentheses_are_an_error_pointing_at_them(crawl):
    result = cli("search", "宿迁 ()", "--index", crawl.index_url)
    assert result.exit_code == 2
    assert result.output == ("Error: bad query '宿迁 ()': 括号里是空的：请在括号中写上查询词（第 4 个字符处）\n"
                             "  宿迁 ()\n"
                             "       ^\n")


@pytest.mark.parametrize("args", [["-招聘 激光"], ["--", "-招聘 激光"]])
def test_a_query_starting_with_a_dash_is_the_query(crawl, args):
    result = cli("search", "--index", crawl.index_url, "--json", "--limit", "1000", *args)
    assert result.exit_code == 0, result.output
    assert [s["story_id"] for s in json.loads(result.stdout)] == story_ids(crawl.index_url, "激光 -招聘")


@pytest.mark.parametrize("args", [["-激光"], ["--", "-激光"]])
def test_an_exclusion_alone_reaches_the_parser(crawl, args):
    result = cli("search", "--index", crawl.index_url, *args)
    assert result.exit_code == 2 and "没有必须出现的词" in result.output


def test_a_misspelt_option_is_still_an_error(crawl):
    result = cli("search", "激光", "--sitee", "laser-industry", "--index", crawl.index_url)
    assert result.exit_code == 2 and "No such option '--sitee'" in result.output and "--site" in result.output


# -- filters: typos are errors with the close matches; the web's wording for dates --------

def test_an_unknown_site_is_an_error_naming_the_close_ones(crawl):
    typo = cli("search", "激光", "--site", "laser-industy", "--index", crawl.index_url)
    assert typo.exit_code == 2
    assert typo.output == "Error: 未知站点 'laser-industy'：索引里没有这个站点；相近的有：laser-industry\n"
    unknown = cli("search", "激光", "--site", "nosuchsite", "--index", crawl.index_url)
    assert unknown.exit_code == 2 and "未知站点 'nosuchsite'" in unknown.output
    assert "已知的站点有：" in unknown.output and "sucheng-gov" in unknown.output


def test_an_unknown_region_is_an_error_and_a_known_level_works(crawl):
    region = cli("search", "激光", "--region", "湖南省", "--index", crawl.index_url)
    assert region.exit_code == 2 and region.output.startswith("Error: 未知地区 '湖南省'")
    assert story_ids(crawl.index_url, "激光", "--region", "江苏省宿迁市")


def test_watch_add_refuses_an_unknown_site(crawl, tmp_path):
    index_url = copy_of(crawl.index_url, tmp_path)
    bad = cli("watch", "add", "laser", "--query", "激光", "--email", "t@example.com", "--site", "nosuch",
              "--index", index_url)
    assert bad.exit_code == 2 and bad.output.startswith("Error: watch 'laser': 未知站点 'nosuch'")
    assert json.loads(cli("watch", "list", "--json", "--index", index_url).stdout) == []
    good = cli("watch", "add", "laser", "--query", "激光", "--email", "t@example.com", "--site", "laser-industry",
               "--index", index_url)
    assert good.exit_code == 0 and good.stderr == ""


def test_since_after_until_is_the_webs_error(crawl):
    result = cli("search", "激光", "--since", "2021-06-01", "--until", "2021-01-01", "--index", crawl.index_url)
    assert result.exit_code == 2
    with TestClient(create_app(crawl.index_url, credentials=Credentials()), base_url=LOOPBACK) as client:
        web = client.get("/api/search", params={"q": "激光", "since": "2021-06-01", "until": "2021-01-01"})
    assert web.status_code == 400
    assert result.output == f"Error: {web.json()['error']}\n" == "Error: 起始日期 2021-06-01 晚于截止日期 2021-01-01：请对调两者\n"


# -- counts, pages, regions, sort: what the web answers, on both backends ------------------

def test_limit_says_how_many_match_in_all(crawl):
    total = json.loads(cli("search", "激光", "--json-total", "--limit", "3", "--index", crawl.index_url).stdout)
    assert total["total"] > 3 and len(total["stories"]) == 3
    text = cli("search", "激光", "--limit", "3", "--index", crawl.index_url)
    assert text.exit_code == 0
    assert text.stdout.splitlines()[0] == f"共 {total['total']} 条报道，显示第 1–3 条（'激光'）："
    assert text.stdout.splitlines()[-1] == f"（还有 {total['total'] - 3} 条：加 --page 2 看下一页）"
    second = cli("search", "激光", "--limit", "3", "--page", "2", "--index", crawl.index_url)
    assert second.stdout.startswith(f"共 {total['total']} 条报道，显示第 4–6 条")


def test_pages_regions_and_sort_answer_what_the_web_answers(index_url, backend, regional):  # noqa: F811
    searches = [({"q": "激光产业园", "limit": 2, "offset": 2}, ["--limit", "2", "--page", "2"]),
                ({"q": "激光 OR 防汛", "region": "江苏省宿迁市"}, ["--region", "江苏省宿迁市"]),
                ({"q": "激光产业园", "sort": "relevance"}, ["--sort", "relevance"]),
                ({"q": "(激光 OR 防汛) -招聘", "site": "suqian-sucheng", "limit": 1},
                 ["--site", "suqian-sucheng", "--limit", "1"])]
    with TestClient(create_app(index_url, credentials=Credentials(), cache_seconds=0), base_url=LOOPBACK) as client:
        for params, args in searches:
            result = cli("search", params["q"], "--json-total", "--index", index_url, *args)
            assert result.exit_code == 0, result.output
            answer = json.loads(result.stdout)
            assert answer == client.get("/api/search", params=params).json(), params
            assert answer["stories"], params
    region = cli("search", "激光", "--region", "湖南", "--index", index_url)
    assert region.exit_code == 2 and "未知地区 '湖南'" in region.output
    site = cli("search", "激光", "--site", "tw-new", "--index", index_url)
    assert site.exit_code == 2 and site.output == "Error: 未知站点 'tw-new'：索引里没有这个站点；相近的有：tw-news\n"


def test_the_web_keeps_a_bad_query_in_the_box_and_points_at_it(crawl):
    with TestClient(create_app(crawl.index_url, credentials=Credentials()), base_url=LOOPBACK) as client:
        page = client.get("/", params={"q": "(激光 OR 传感 宿迁", "site": "laser-industry"})
    assert page.status_code == 400
    assert 'value="(激光 OR 传感 宿迁"' in page.text
    assert '<code class="query-pointer" id="query-pointer"><mark>(</mark>激光 OR 传感 宿迁</code>' in page.text
    assert "括号没有闭合" in page.text
    assert re.search(r'<option value="laser-industry"\s+selected', page.text)


# -- commands that only read never create an index ---------------------------------------

READERS = [["search", "激光"], ["export"], ["status"], ["watch", "list"], ["watch", "test", "laser"],
           ["digest", "--dry-run", "--to", "a@example.com"], ["serve", "--port", "0"]]


def newsmon_in(directory: Path, *args, **env) -> subprocess.CompletedProcess:
    environment = newsmon_env(PYTHONPATH=str(REPO), **env)
    environment.pop("NEWSMON_INDEX", None)
    return subprocess.run([sys.executable, "-m", "crawler", *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", env=environment, timeout=120, cwd=directory)


@pytest.mark.parametrize("args", READERS, ids=lambda a: " ".join(a[:2]))
def test_a_reader_in_another_folder_says_there_is_no_index_and_creates_none(tmp_path, args):
    proc = newsmon_in(tmp_path, *args)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == (f"Error: 没有找到索引 sqlite:///data/newsmon.db：文件 {tmp_path}/data/newsmon.db 不存在。"
                           "请检查 --index 或 NEWSMON_INDEX，或先运行 newsmon crawl 建立索引\n")
    assert list(tmp_path.iterdir()) == []


def test_serve_after_the_demo_says_where_the_demo_index_is(crawl, tmp_path):
    (tmp_path / "data").mkdir()
    shutil.copy(crawl.index_url.removeprefix("sqlite:///"), tmp_path / "data" / "demo.db")
    proc = newsmon_in(tmp_path, "serve", "--port", "0")
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith("newsmon demo 建的示例索引在 sqlite:///data/demo.db，"
                                        "要打开它请加上 --index sqlite:///data/demo.db")
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["demo.db"]


@pytest.mark.elasticsearch
def test_elasticsearch_readers_say_what_is_wrong_and_create_nothing(elasticsearch_node, tmp_path):
    missing = es_index_url(elasticsearch_node, "missing")
    proc = newsmon_in(tmp_path, "search", "激光", "--index", missing, NEWSMON_ES_SPOOL_DIR=str(tmp_path / "s"))
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith(f"Error: 没有找到索引 {missing}：服务器上没有 {missing.rsplit('/', 1)[1]}-articles")
    assert not Elasticsearch(elasticsearch_node.url).indices.exists_alias(name=f"{missing.rsplit('/', 1)[1]}-articles")
    with socket.socket() as closed:           # bound, never listening: a mistyped port
        closed.bind(("127.0.0.1", 0))
        wrong = f"http://127.0.0.1:{closed.getsockname()[1]}"
        proc = newsmon_in(tmp_path, "status", "--index", wrong, NEWSMON_ES_SPOOL_DIR=str(tmp_path / "s"))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"Error: cannot reach Elasticsearch at {wrong} (connection refused)")
    assert not (tmp_path / "s").exists()


# -- the crawl: a site that failed completely fails the crawl; 304s are counted ---------------

@pytest.fixture(scope="module")
def dead_site_crawl(fixture_sites, tmp_path_factory):
    """One fixture site and one whose port refuses every connection, crawled twice."""
    directory = tmp_path_factory.mktemp("dead-site")
    sites = fixture_sites.write_sites_file(directory / "sites.yaml", names=["laser-industry"])
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        with open(sites, "a", encoding="utf-8") as out:
            out.write(f"  - name: dead-site\n    start_urls: [http://127.0.0.1:{closed.getsockname()[1]}/]\n")
        index = f"sqlite:///{directory}/newsmon.db"
        first = run_newsmon("crawl", "--sites", sites, "--index", index)
        again = run_newsmon("crawl", "--sites", sites, "--site", "laser-industry", "--index", index)
    return first, again


def test_a_site_whose_every_page_failed_fails_the_crawl_and_is_named(dead_site_crawl):
    first, _again = dead_site_crawl
    assert first.returncode == 1, first.stderr[-2000:]
    table = first.stdout.splitlines()
    assert re.match(r"dead-site\s+0\s+0\s+0\s+0\s+0\s+0\s+FAILED: connection_refused 1$", table[2]), table
    assert table[-1].endswith("; 1 of 2 sites FAILED (no article page fetched): dead-site")
    assert first.stderr.splitlines()[-1] == ("Error: 1 个站点没有抓到任何文章页：dead-site（connection_refused 1）。"
                                             "其余站点的结果已写入索引，见上方摘要")


def test_scrapy_log_lines_come_in_newsmons_words(dead_site_crawl):
    first, _again = dead_site_crawl
    assert "Gave up retrying" not in first.stderr and "Error downloading" not in first.stderr
    assert re.search(r"WARNING \[dead-site\] list http://127\.0\.0\.1:\d+/: connection_refused", first.stderr)
    assert re.search(r"WARNING \[dead-site\] robots\.txt http://127\.0\.0\.1:\d+/robots\.txt: connection_refused",
                     first.stderr)


def test_an_incremental_recrawl_shows_its_unchanged_pages(dead_site_crawl):
    first, again = dead_site_crawl
    assert again.returncode == 0, again.stderr[-2000:]
    head, row = again.stdout.splitlines()[:2]
    assert head.split()[:7] == ["site", "pages", "articles", "stories", "duplicates", "spam", "unchanged"]
    counts = row.split()
    assert counts[0] == "laser-industry" and counts[2] == "0" and int(counts[6]) > 0   # asked again: 304
