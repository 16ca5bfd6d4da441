"""``newsmon export``: every indexed article page as JSON lines (design.md's export format)."""
from __future__ import annotations

import json

import click

from crawler.commands.common import open_for_command


@click.command()
@click.option("--index", "index_url", envvar="NEWSMON_INDEX", help="Index URL.")
def export(index_url):
    """Every indexed article page as JSON lines (id, url, site, title, published, text, story_id, canonical).

    Example: newsmon export --index sqlite:///data/newsmon.db > articles.jsonl
    """
    from index import IndexURLError
    with open_for_command(index_url, read_only=True) as index:
        try:
            for line in index.export():
                click.echo(json.dumps(line, ensure_ascii=False))
        except IndexURLError as exc:
            raise click.ClickException(str(exc)) from None
