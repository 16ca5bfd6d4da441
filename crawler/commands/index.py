"""``newsmon index replay``: index maintenance (the Elasticsearch spool)."""
from __future__ import annotations

import click


@click.group("index")
def index_group():
    """Index maintenance: replay what Elasticsearch missed while it was down.

    Example: newsmon index replay --index http://127.0.0.1:9200
    """


@index_group.command("replay")
@click.option("--index", "index_url", envvar="NEWSMON_INDEX", help="Index URL (http://host:9200).")
def index_replay(index_url):
    """Send the on-disk spool (articles Elasticsearch did not confirm) to it, oldest first.

    Crawls replay it by themselves when the server is back; this does it now.
    Exit status 1 if something is still spooled.

    Example: newsmon index replay --index http://127.0.0.1:9200
    """
    from index import IndexURLError, replay_spool
    try:
        result = replay_spool(index_url)
    except IndexURLError as exc:
        raise click.ClickException(str(exc)) from None
    if result is None:
        click.echo("nothing to replay: this index is written directly, never spooled")
        return
    click.echo(f"replayed {result.delivered} spooled actions ({result.rejected} rejected, "
               f"{result.remaining} still spooled in {result.spool})")
    if result.remaining:
        raise click.ClickException("Elasticsearch did not take everything; run it again when it is back")
