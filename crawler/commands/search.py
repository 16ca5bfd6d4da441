"""``newsmon search``: the stories matching a query, a page at a time, with the total
(registered in ``crawler/cli.py``).

The options are checked by the web UI's own code (``monitor.web.params.build_search``
and ``check_scope``), so a date range backwards, an unknown sort, a site or region
the index does not know get the same answer here and there; the page is
``index.story_search.search_page``, as the web's.
"""
from __future__ import annotations

import difflib
import re

import click

from crawler.commands.common import BadInput, check_filters, dump, open_for_command
from index.story_search import SORTS

_LONG_OPTION = re.compile(r"^--[A-Za-z]")


class _QueryCommand(click.Command):
    """A query may start with '-' (``newsmon search '-招聘 激光'``, or after ``--``):
    click takes an argument it does not know as an option for the query. A
    misspelt long option (``--sitee``) is still an error, with the close match."""

    def parse_args(self, ctx, args):
        known = {opt for param in self.get_params(ctx) for opt in param.opts + param.secondary_opts}
        for arg in args:
            if arg == "--":
                break
            name = arg.split("=", 1)[0]
            if _LONG_OPTION.match(arg) and name not in known:
                close = difflib.get_close_matches(name, sorted(o for o in known if o.startswith("--")), n=3)
                raise click.NoSuchOption(name, possibilities=close, ctx=ctx)
        return super().parse_args(ctx, args)


@click.command(cls=_QueryCommand, context_settings={"ignore_unknown_options": True})
@click.argument("query")
@click.option("--site", "site_names", multiple=True, help="Only stories with a copy on this site (repeatable).")
@click.option("--region", "regions", multiple=True,
              help="Only stories with a copy whose site region contains this, e.g. 江苏省宿迁市 (repeatable).")
@click.option("--since", help="Published on or after YYYY-MM-DD.")
@click.option("--until", help="Published on or before YYYY-MM-DD.")
@click.option("--sort", type=click.Choice(SORTS), default="date", show_default=True,
              help="date: newest story first; relevance: best match first (as the web UI).")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1, 10**6),
              help="Which page of --limit stories.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="Stories per page.")
@click.option("--json", "as_json", is_flag=True, help="Print this page's stories as a JSON list.")
@click.option("--json-total", "as_json_total", is_flag=True,
              help='Print {"total","offset","limit","sort","stories"}: the JSON API\'s answer.')
@click.option("--format", "fmt", type=click.Choice(("csv", "xlsx")),
              help="Write every matching story (not a page; up to NEWSMON_EXPORT_MAX_ROWS) as a spreadsheet, "
                   "as the web UI's export: CSV to --out or stdout, XLSX to --out.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="File for --format.")
@click.option("--index", "index_url", envvar="NEWSMON_INDEX", help="Index URL.")
def search(query, site_names, regions, since, until, sort, page, limit, as_json, as_json_total, fmt, out,
           index_url):
    """Stories matching QUERY, newest first, each once with its copies; prints how
    many match in all and which of them it shows.

    Query language: terms are ANDed (also with AND), OR between terms, -term or
    NOT term excludes, "quoted phrase" is one term, parentheses group:
    '(激光 OR 传感) 宿迁'. AND/OR/NOT in any case. Simplified finds traditional and back.
    A query starting with '-' works as is or after --.

    Example: newsmon search '激光产业园 -招聘' --since 2016-01-01 --page 2
    Example: newsmon search 激光产业园 --format xlsx --out 激光产业园.xlsx
    """
    from index.query import QueryLimitError, QuerySyntaxError, parse_query
    from monitor.web.params import BadSearch, build_search
    if as_json and as_json_total:
        raise click.UsageError("--json or --json-total, not both")
    if fmt == "xlsx" and not out:
        raise click.UsageError("--format xlsx writes a file: give --out FILE.xlsx")
    try:
        parse_query(query)
    except QuerySyntaxError as exc:
        shown = query if len(query) <= 60 else query[:60] + "…"    # echo the start, not kilobytes
        pointer = "" if isinstance(exc, QueryLimitError) or len(query) > 60 else "\n" + exc.pointer(query)
        raise BadInput(f"bad query {shown!r}: {exc}{pointer}") from None
    try:
        params = build_search(query, sites=site_names, regions=regions, since=since, until=until, sort=sort,
                              offset=(page - 1) * limit, limit=limit)
    except BadSearch as exc:
        raise BadInput(str(exc)) from None
    from index import IndexURLError
    with open_for_command(index_url, read_only=True) as index:
        try:
            check_filters(index, params.sites, params.regions)
            if fmt:
                _export(index, params, fmt, out)
                return
            if as_json and params.offset == 0 and sort == "date" and not params.regions:
                # Only the first page, newest first: stop reading once it is full (no total needed).
                click.echo(dump(index.search(params.query, sites=params.sites or None, since=params.since,
                                              until=params.until, limit=limit)))
                return
            from index.story_search import search_page
            result = search_page(index, params.query, sites=params.sites, regions=params.regions,
                                 since=params.since, until=params.until, sort=sort, offset=params.offset, limit=limit)
        except IndexURLError as exc:     # e.g. Elasticsearch went away after the index was opened
            raise click.ClickException(str(exc)) from None
    from monitor.text import format_page
    if as_json_total:
        click.echo(dump(result.as_dict()))
    elif as_json:
        click.echo(dump(result.stories))
    else:
        click.echo(format_page(query, result))


def _export(index, params, fmt: str, out: str | None) -> None:
    """The search as the web's export writes it (``monitor.exports``); the count goes to stderr."""
    from monitor.exports import ExportRequest, csv_chunks, plan_export, write_xlsx
    export = plan_export(index, ExportRequest(query=params.query, q=params.q, sites=params.sites,
                                              regions=params.regions, since=params.since, until=params.until,
                                              sort=params.sort))
    stream = open(out, "wb") if out else click.get_binary_stream("stdout")
    try:
        if fmt == "xlsx":
            write_xlsx(export, stream)
        else:
            for chunk in csv_chunks(export):
                stream.write(chunk)
    finally:
        if out:
            stream.close()
    click.echo(f"导出 {len(export.matches)} / {export.total} 条报道" + (f" → {out}" if out else ""), err=True)
