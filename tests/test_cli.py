"""The CLI as a user runs it: real files, real index, exact exit codes."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
from conftest import FIXTURES, REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_is_documented_with_an_example(name):
    command = main.commands[name]
    assert "Example:" in (command.help or ""), f"`newsmon {name} --help` has no Example:"
    assert re.search(rf"newsmon {name}\b", README), f"README does not show `newsmon {name}`"


def gold_page(gold, site, script=None):
    for article in gold["articles"]:
        if article["site"] == site and (script is None or article.get("lang_script") == script):
            return article
    raise AssertionError(f"no gold page on {site}")


def test_extract_json_on_a_gbk_page_declared_gb2312(gold):
    article = gold_page(gold, "pingqiao-gov")
    path = FIXTURES / "sites" / "pingqiao-gov" / article["path"].lstrip("/")
    result = CliRunner().invoke(main, ["extract", str(path), "--url", f"http://www.pingqiao.gov.cn{article['path']}", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["title"] == article["title"]
    assert data["encoding"] == "gb18030"
    assert data["published"][:10] == article["published"]
    assert article["text"].splitlines()[0][:20] in data["text"]
    assert "\\u" not in result.output   # Chinese printed as is


def test_extract_jsonl_keeps_order_and_reports_failures_per_line(gold, tmp_path):
    good = [FIXTURES / "sites" / a["site"] / a["path"].lstrip("/") for a in gold["articles"][:2]]
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(map(str, [good[0], tmp_path / "missing.html", empty, good[1]])) + "\n")
    result = CliRunner().invoke(main, ["extract", "--from-list", str(listing), "--jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["path"] for line in lines] == [str(good[0]), str(tmp_path / "missing.html"), str(empty), str(good[1])]
    assert "error" in lines[1] and "No such file" in lines[1]["error"]
    assert lines[2]["error"].startswith("empty")
    assert lines[0]["title"] and lines[3]["title"]


def test_plain_extract_prints_clean_text_and_fails_on_a_missing_file(gold, tmp_path):
    article = gold_page(gold, "mianyang-news")
    path = FIXTURES / "sites" / "mianyang-news" / article["path"].lstrip("/")
    result = CliRunner().invoke(main, ["extract", str(path)])
    assert result.exit_code == 0, result.output
    assert article["text"].splitlines()[-1][-15:] in result.output
    missing = CliRunner().invoke(main, ["extract", str(tmp_path / "nope.html")])
    assert missing.exit_code == 1 and "nope.html" in missing.output


def test_search_rejects_a_bad_query_with_a_hint(tmp_path):
    result = CliRunner().invoke(main, ["search", '"激光 产业园', "--index", f"sqlite:///{tmp_path}/x.db"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: bad query")


def test_bad_index_url_and_bad_sites_file_are_plain_errors(tmp_path):
    result = CliRunner().invoke(main, ["search", "激光", "--index", "mysql://x"])
    assert result.exit_code == 1 and "sqlite" in result.output
    sites = tmp_path / "sites.yaml"
    sites.write_text("sites:\n  - name: a\n    start_urls: [http://a.gov.cn/]\n    schedule: sometimes\n")
    result = CliRunner().invoke(main, ["crawl", "--sites", str(sites), "--index", f"sqlite:///{tmp_path}/x.db"])
    assert result.exit_code == 1
    assert f"{sites}:4: site 'a': field 'schedule'" in result.output


def test_search_and_export_on_the_crawled_index(crawl):
    result = CliRunner().invoke(main, ["search", "激光產業園", "--index", crawl.index_url])
    assert result.exit_code == 0, result.output
    assert "首发" in result.output
    exported = CliRunner().invoke(main, ["export", "--index", crawl.index_url])
    assert exported.exit_code == 0
    assert len(exported.output.splitlines()) == len(crawl.export)
