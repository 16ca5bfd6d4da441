"""``newsmon demo``: the whole product, offline, on the bundled fixture sites."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from crawler.runner import run_crawl
from crawler.sites import load_sites
from index import IndexURLError, sqlite_path as path_of

REPO = Path(__file__).resolve().parent.parent
FIXTURE_SERVER = REPO / "tests" / "fixtures" / "server.py"
DEMO_QUERIES = ("激光产业园", "科技城 集中發展區", "停水 OR 停电", "项目 开工 -招聘")


def load_fixture_server():
    """The fixture mini-internet's server module (lives with the tests, loaded by path)."""
    if not FIXTURE_SERVER.exists():
        raise RuntimeError(f"fixture sites not found at {FIXTURE_SERVER}; run the demo from a newsmon checkout")
    spec = importlib.util.spec_from_file_location("newsmon_fixture_server", FIXTURE_SERVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sqlite_path(index_url: str) -> Path | None:
    """``sqlite:///data/x.db`` -> ``data/x.db``; ``sqlite:////tmp/x.db`` -> ``/tmp/x.db``; None
    for another kind of index."""
    try:
        return path_of(index_url)
    except IndexURLError:
        return None


def run_demo(index_url: str, echo=print) -> None:
    from index import open_index
    from index.query import parse_query
    from index.story_search import search_page
    from monitor.text import format_page

    db = sqlite_path(index_url)
    if db is None:
        raise RuntimeError("the demo builds a fresh embedded index: give a sqlite:/// URL")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    os.environ["NEWSMON_ALLOW_HOSTS"] = "127.0.0.1"
    server = load_fixture_server()
    with server.start_fixture_sites() as fixture:
        echo(f"Serving {len(fixture.urls)} fixture sites on 127.0.0.1:")
        for name, url in fixture.urls.items():
            echo(f"  {name:<16} {url}")
        sites_file = db.parent / "demo-sites.yaml"
        fixture.write_sites_file(sites_file)
        sites = load_sites(sites_file).sites
        echo(f"\nCrawling into {index_url} (sites file: {sites_file}) ...")
        summary = run_crawl(sites, index_url, {"NEWSMON_ALLOW_HOSTS": "127.0.0.1", "DOWNLOAD_DELAY": 0.02})
    echo("\n" + summary.format())
    index = open_index(index_url)
    try:
        echo(f"\n{index.count_articles()} article pages indexed.")
        for query in DEMO_QUERIES:
            echo(f"\n$ newsmon search {query!r} --limit 5 --index {index_url}")
            echo(format_page(query, search_page(index, parse_query(query), limit=5)))
    finally:
        index.close()
    echo(f"\nTry your own: newsmon search '激光 OR 传感' --index {index_url}")
