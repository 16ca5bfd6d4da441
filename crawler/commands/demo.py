"""``newsmon demo``: the whole product, offline, on the bundled fixture sites."""
from __future__ import annotations

import click

from crawler.commands.common import DEMO_INDEX_URL, check_extractors
from crawler.logsetup import configure_logging


@click.command()
@click.option("--index", "index_url", default=DEMO_INDEX_URL, show_default=True,
              help="Where the demo's fresh embedded index goes.")
@click.option("-v", "--verbose", is_flag=True, help="Also show Scrapy's own log.")
def demo(index_url, verbose):
    """Crawl the bundled fixture sites on 127.0.0.1 into a fresh index and run a few searches.

    Example: newsmon demo
    """
    from crawler.demo import run_demo
    configure_logging(verbose)
    check_extractors()
    try:
        run_demo(index_url, echo=click.echo)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
