"""Issue 18 item 6: tell the operator. ``newsmon sites probe URL`` shows how each link of a
page is read; a site whose crawl indexes nothing ends with a warning naming its link
shapes and a suggested ``article_url_pattern``. Real commands, real loopback servers."""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_newsmon

DISCOVERY = REPO / "tests" / "fixtures" / "discovery"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def discovery_sites(tmp_path_factory):
    """The generated discovery families, the homemade portal among them, plus a tiny
    picture-news site (no article text anywhere) for the warning."""
    root = tmp_path_factory.mktemp("discovery-sites")
    _load("probe_test_build", DISCOVERY / "build.py").build(root)
    _picture_site(root / "picture-news")
    serve = _load("probe_test_serve", DISCOVERY / "serve.py")
    with serve.start_sites(root, access_log=root.parent / "probe-access.log") as served:
        yield served


def _picture_site(root: Path) -> None:
    """图片新闻: lists of titled links to pages that are only a picture and a caption."""
    titles = ["县城新貌航拍图集第一组", "春耕时节田野风光摄影", "新建体育公园夜景掠影", "古镇老街修缮后面貌",
              "山区公路通车现场图片", "油菜花海吸引游客观赏", "河道治理前后对比照片", "乡村学校新操场启用"]
    (root / "p").mkdir(parents=True)
    items = "".join(f'<li><a href="/p/{5301 + k}.htm">{t}</a><span>2024-05-{k + 10}</span></li>'
                    for k, t in enumerate(titles))
    (root / "index.html").write_text(
        f'<html><head><meta charset="utf-8"><title>图片新闻</title></head><body><div class="nav">'
        f'<a href="/">首页</a></div><ul class="pics">{items}</ul></body></html>', encoding="utf-8")
    for k, title in enumerate(titles):
        (root / "p" / f"{5301 + k}.htm").write_text(
            f'<html><head><meta charset="utf-8"><title>{title}</title></head><body><h1>{title}</h1>'
            f'<img src="/img/{k}.jpg" alt=""></body></html>', encoding="utf-8")


def _probe(url: str) -> dict:
    proc = run_newsmon("sites", "probe", url, "--json", NEWSMON_ALLOW_HOSTS="127.0.0.0/8")
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    return json.loads(proc.stdout)


def _kinds(report: dict) -> dict[str, dict]:
    return {link["url"]: link for link in report["links"]}


def test_probe_reads_a_trs_homepage(fixture_sites):
    report = _probe(fixture_sites.urls["sucheng-gov"])
    links = _kinds(report)
    article = links[fixture_sites.url_of("sucheng-gov", "/xwdt/202107/t20210715_4123999.html")]
    assert article["kind"] == "article" and article["reason"], article
    assert links[fixture_sites.url_of("sucheng-gov", "/xwdt/index.html")]["kind"] == "list"
    assert links[fixture_sites.url_of("sucheng-gov", "/about.html")]["kind"] == "skipped"
    offsite = [link for link in report["links"] if "127.0.0.1" not in link["url"]]
    assert offsite and all(link["kind"] == "skipped" and "站外" in link["reason"] for link in offsite)
    assert report["counts"]["article"] >= 5


def test_probe_reads_a_hanweb_homepage(fixture_sites):
    report = _probe(fixture_sites.urls["pingqiao-gov"])
    arts = [link for link in report["links"] if re.search(r"/art_1229_\d+\.html$", link["url"])]
    assert arts and all(link["kind"] == "article" for link in arts), arts
    cols = [link for link in report["links"] if "/col/col1229/" in link["url"]]
    assert cols and all(link["kind"] == "list" for link in cols), cols


def test_probe_reads_an_unknown_shape_homepage_from_its_title_lists(discovery_sites):
    url = discovery_sites.urls["homemade"]
    before = len(discovery_sites.requests())
    report = _probe(url)
    arts = [link for link in report["links"] if re.search(r"/d/\d+\.html$", link["url"])]
    assert len(arts) >= 10 and all(link["kind"] == "article" for link in arts), arts
    assert all("/d/{n}.html" in link["reason"] for link in arts)
    offsite = [link for link in report["links"] if link["url"].startswith(discovery_sites.offsite)]
    assert offsite and all(link["kind"] == "skipped" for link in offsite)
    assert report["top_shapes"][0]["shape"] == "/d/{n}.html"
    # one page fetched (robots.txt aside), nothing followed, nothing off the site
    served = [r for r in discovery_sites.requests()[before:] if r[2] != "/robots.txt"]
    assert served == [("homemade", "GET", "/", 200)], served


def test_probe_explains_a_bad_pattern_and_a_private_address(discovery_sites):
    proc = run_newsmon("sites", "probe", discovery_sites.urls["homemade"], "--article-pattern", "([")
    assert proc.returncode == 2 and "--article-pattern" in proc.stderr, proc.stderr
    proc = run_newsmon("sites", "probe", discovery_sites.urls["homemade"], NEWSMON_ALLOW_HOSTS="")
    assert proc.returncode == 1 and "NEWSMON_ALLOW_HOSTS" in proc.stderr, proc.stderr


def test_a_site_with_no_recognisable_articles_ends_with_a_warning_and_a_pattern(discovery_sites, tmp_path):
    sites_file = tmp_path / "sites.yaml"
    url = discovery_sites.urls["picture-news"]
    sites_file.write_text(f'sites:\n  - name: picture-news\n    start_urls: ["{url}"]\n', encoding="utf-8")
    proc = run_newsmon("crawl", "--sites", sites_file, "--index", f"sqlite:///{tmp_path}/n.db", "--json",
                       NEWSMON_ALLOW_HOSTS="127.0.0.0/8")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["sites"]["picture-news"].get("articles_indexed", 0) == 0
    assert summary["sites"]["picture-news"]["no_articles_found"] == 1
    warning = proc.stderr[proc.stderr.index("[picture-news] 本次抓取没有找到文章"):]
    assert "站内最常见的链接形状" in warning and "/p/{n}.htm" in warning, warning
    pattern = re.search(r"article_url_pattern: '([^']+)'", warning).group(1)
    assert re.search(pattern, url + "p/5301.htm") and not re.search(pattern, url), pattern
    assert f"newsmon sites probe {url}" in warning


def test_sites_with_articles_get_no_warning(crawl):
    assert "本次抓取没有找到文章" not in crawl.proc.stderr
    assert not any(site.get("no_articles_found") for site in crawl.summary["sites"].values())
