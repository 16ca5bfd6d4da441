"""``newsmon watch`` and ``newsmon digest`` on a real index file, through click's
runner: exact output, exit codes, and errors that say what to fix."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crawler.cli import main


@pytest.fixture
def newsmon(tmp_path):
    index = f"sqlite:///{tmp_path}/newsmon.db"

    def run(*args):
        return CliRunner().invoke(main, [*args, "--index", index])
    return run


def test_add_list_remove(newsmon):
    added = newsmon("watch", "add", "laser", "--query", '"产业园" OR 激光 -招聘', "--email", "team@example.com",
                    "--webhook", "https://oapi.dingtalk.com/robot/send?access_token=t", "--site", "sucheng-gov")
    assert added.exit_code == 0, added.output
    # A fresh index knows no site yet: the site name cannot be checked, and it says so.
    assert added.stderr == "注意：索引里还没有任何站点，无法核对 sucheng-gov 是否写对\n"
    assert added.stdout == ("added watch 'laser': \"产业园\" OR 激光 -招聘\n"
                            "  mode both; to team@example.com, https://oapi.dingtalk.com/robot/send?access_token=t; "
                            "site sucheng-gov; window 48h\n")
    listed = newsmon("watch", "list", "--json")
    (watch,) = json.loads(listed.output)
    assert {k: watch[k] for k in ("name", "query", "emails", "mode", "sites", "regions")} == {
        "name": "laser", "query": '"产业园" OR 激光 -招聘', "emails": ["team@example.com"], "mode": "both",
        "sites": ["sucheng-gov"], "regions": []}
    assert watch["created"].endswith("+00:00")
    assert "laser  [both]  \"产业园\" OR 激光 -招聘" in newsmon("watch", "list").output

    again = newsmon("watch", "add", "laser", "--query", "激光", "--email", "x@example.com")
    assert again.exit_code == 1
    assert again.output == ("Error: 已有名为「laser」的监测（可以在网页上编辑它，"
                            "或先删除：newsmon watch remove laser）\n")
    assert newsmon("watch", "remove", "laser").output == "removed watch 'laser'\n"
    gone = newsmon("watch", "remove", "laser")
    assert gone.exit_code == 1 and gone.output == "Error: no watch named 'laser' (see: newsmon watch list)\n"
    assert newsmon("watch", "list").output.startswith("no watches")


def test_bad_query_says_where(newsmon):
    bad = newsmon("watch", "add", "laser", "--query", "激光 OR -招聘", "--email", "team@example.com")
    assert bad.exit_code == 1
    assert bad.output == ("Error: 监测「laser」：查询有误：排除的词（-）不能单独作为 OR 的一项：OR 连接的是要找的词；"
                          "要排除请另写，例如 激光 OR 传感 -招聘（第 7 个字符处）\n"
                          "  激光 OR -招聘\n"
                          "          ^\n")
    assert json.loads(newsmon("watch", "list", "--json").output) == []


def test_watch_test_on_an_empty_index_and_unknown_watch(newsmon):
    assert newsmon("watch", "add", "laser", "--query", "激光", "--email", "t@example.com").exit_code == 0
    out = newsmon("watch", "test", "laser", "--days", "30")
    assert out.exit_code == 0 and out.output == "watch 'laser', last 30 days:\nno stories match '激光'\n"
    missing = newsmon("watch", "test", "nope")
    assert missing.exit_code == 1 and "no watch named 'nope'" in missing.output


SITES = """\
sites:
  - name: sucheng-gov
    start_urls: [http://www.sqsc.gov.cn/]
watches:
  - name: laser
    query: '"产业园" OR 激光 -招聘'
    email: team@example.com
    mode: both
  - name: vaccine
    query: 疫苗 接种
    emails: [ops@example.com, lead@example.com]
    webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
    region: 宿迁市
digest:
  time: "07:30"
  timezone: Asia/Shanghai
"""


def test_sync_from_the_sites_file(newsmon, tmp_path):
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES, encoding="utf-8")
    first = newsmon("watch", "sync", "--sites", str(sites))
    assert first.exit_code == 0, first.output
    assert first.output == f"2 watches in {sites}; 2 added or updated: laser, vaccine\n"
    assert newsmon("watch", "sync", "--sites", str(sites)).output == f"2 watches in {sites}; 0 added or updated\n"
    (vaccine,) = [w for w in json.loads(newsmon("watch", "list", "--json").output) if w["name"] == "vaccine"]
    assert vaccine["emails"] == ["ops@example.com", "lead@example.com"] and vaccine["regions"] == ["宿迁市"]

    sites.write_text(SITES.replace("query: 疫苗 接种", 'query: 疫苗 "接种'), encoding="utf-8")
    broken = newsmon("watch", "sync", "--sites", str(sites))
    assert broken.exit_code == 1
    assert broken.output.startswith(f"Error: {sites}:9: 监测「vaccine」：查询有误：引号没有闭合")
    sites.write_text(SITES.replace("    region: 宿迁市", "    regoin: 宿迁市"), encoding="utf-8")
    typo = newsmon("watch", "sync", "--sites", str(sites))
    assert typo.output.startswith(f"Error: {sites}:9: 字段 'regoin' 不认识；可用的字段：")


def test_digest_without_watches_says_what_to_do(newsmon):
    missing = newsmon("digest", "--dry-run")          # no index yet: said, and none is created
    assert missing.exit_code == 1 and missing.output.startswith("Error: 没有找到索引 sqlite:///")
    assert newsmon("watch", "add", "hook", "--query", "激光", "--webhook", "https://hooks.example.com/n",
                   "--mode", "immediate").exit_code == 0
    out = newsmon("digest", "--dry-run")
    assert out.exit_code == 1
    assert out.output == ("Error: no watch sends a digest: add one with --mode digest or both and an "
                          "--email, or name a recipient with --to\n")
    bad_day = newsmon("digest", "--date", "2021-13-01", "--dry-run")
    assert bad_day.exit_code == 2 and "'2021-13-01' is not YYYY-MM-DD" in bad_day.output
