"""``newsmon demo``: the whole product, offline, on the bundled fixture sites
(``crawler/fixtures/``): serve them on 127.0.0.1, crawl them into a fresh index, search."""
from __future__ import annotations

import os
from pathlib import Path

import click

from crawler.commands.common import DEMO_INDEX_URL, check_extractors

DEMO_QUERIES = ("激光产业园", "科技城 集中發展區", "停水 OR 停电", "项目 开工 -招聘")


@click.command()
@click.option("--index", "index_url", default=DEMO_INDEX_URL, show_default=True,
              help="Where the demo's fresh embedded index goes.")
@click.option("-v", "--verbose", is_flag=True, help="Also show Scrapy's own log.")
def demo(index_url, verbose):
    """Crawl the bundled fixture sites on 127.0.0.1 into a fresh index and run a few searches.

    Example: newsmon demo
    """
    from crawler.logsetup import configure_logging   # imports Scrapy (~1 s): not for --help
    configure_logging(verbose)
    check_extractors()
    try:
        run_demo(index_url, echo=click.echo)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


def _sqlite_path(index_url: str) -> Path | None:
    """``sqlite:///data/x.db`` -> ``data/x.db``; None for another kind of index."""
    from index import IndexURLError, sqlite_path
    try:
        return sqlite_path(index_url)
    except IndexURLError:
        return None


def run_demo(index_url: str, echo=print) -> None:
    from crawler.fixtures.server import start_fixture_sites
    from crawler.runner import run_crawl     # Scrapy: only when the demo runs, not for --help
    from crawler.sites import load_sites
    from index import open_index
    from index.query import parse_query
    from index.story_search import search_page
    from monitor.text import format_page

    db = _sqlite_path(index_url)
    if db is None:
        raise RuntimeError("the demo builds a fresh embedded index: give a sqlite:/// URL")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    os.environ["NEWSMON_ALLOW_HOSTS"] = "127.0.0.1"
    with start_fixture_sites() as fixture:
        echo(f"Serving {len(fixture.urls)} fixture sites on 127.0.0.1:")
        for name, url in fixture.urls.items():
            echo(f"  {name:<16} {url}")
        sites_file = db.parent / "demo-sites.yaml"
        fixture.write_sites_file(sites_file)
        sites = load_sites(sites_file).sites
        echo(f"\nCrawling into {index_url} (sites file: {sites_file}) ...")
        summary = run_crawl(sites, index_url, {"NEWSMON_ALLOW_HOSTS": "127.0.0.1", "DOWNLOAD_DELAY": 0.02})
    echo("\n" + summary.format())
    with open_index(index_url) as index:
        echo(f"\n{index.count_articles()} article pages indexed.")
        for query in DEMO_QUERIES:
            echo(f"\n$ newsmon search {query!r} --limit 5 --index {index_url}")
            echo(format_page(query, search_page(index, parse_query(query), limit=5)))
    echo(f"\nTry your own: newsmon search '激光 OR 传感' --index {index_url}")
