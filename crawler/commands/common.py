"""What the command modules share: opening the index, a bad-input error, JSON output,
the extractor check, and the ``--site``/``--region`` check of search and watches.

Commands that write create the index; commands that only read (search, export,
status, watch list/test, digest, serve) refuse an index that does not exist with
one line naming its URL, and never create one.
"""
from __future__ import annotations

import json
import os

import click

DEFAULT_SITES = "sites.yaml"
DEMO_INDEX_URL = "sqlite:///data/demo.db"      # where `newsmon demo` (and `make demo`) put theirs
INDEX_OPTION = click.option("--index", "index_url", envvar="NEWSMON_INDEX", help="Index URL.")


def open_for_command(url: str | None, *, read_only: bool = False):
    """``open_index`` with its errors as one-line ``ClickException``s."""
    from index import IndexMissing, IndexURLError, open_index
    try:
        return open_index(url, create=not read_only)
    except IndexMissing as exc:
        raise click.ClickException(str(exc) + demo_hint(url)) from None
    except IndexURLError as exc:
        raise click.ClickException(str(exc)) from None


def demo_hint(url: str | None) -> str:
    """After `make demo`, a plain `newsmon serve` or `search` looks for the default
    index, which the demo did not write: say where the demo's index is."""
    from index import DEFAULT_INDEX_URL, INDEX_ENV, sqlite_path
    wanted = url or os.environ.get(INDEX_ENV) or DEFAULT_INDEX_URL
    if wanted == DEMO_INDEX_URL or not sqlite_path(DEMO_INDEX_URL).is_file():
        return ""
    return f"；newsmon demo 建的示例索引在 {DEMO_INDEX_URL}，要打开它请加上 --index {DEMO_INDEX_URL}"


class BadInput(click.ClickException):
    """A value typed on the command line that cannot be used: one line, exit 2 as
    click's own usage errors (without their usage block)."""
    exit_code = 2


def dump(obj) -> str:
    """JSON as the commands print it: indented, Chinese as is."""
    return json.dumps(obj, ensure_ascii=False, indent=2)


def check_extractors() -> None:
    """Before any work: an extraction package that cannot be imported is one line and
    exit status 1 (``MissingExtractor``, turned into a ``ClickException`` by the
    command group), never a crawl of worse text."""
    from pipelines.requirements import check_extractors as check
    check()


def known_scope(index) -> dict[str, str | None]:
    """Every site the index knows, with its region: sites with articles, and sites
    that only have runs (crawled, nothing stored yet)."""
    from index.runs import known_sites
    known = dict(index.site_regions())
    for site in known_sites(index.state):
        known.setdefault(site, None)
    return known


def check_filters(index, sites, regions, label: str = "") -> None:
    """``--site``/``--region`` values the index knows nothing of are an error naming
    the close matches; when it knows no site at all yet, a warning (nothing to check against)."""
    from monitor.web.params import BadSearch, check_scope
    if not sites and not regions:
        return
    known = known_scope(index)
    if not known:
        click.echo(f"注意：索引里还没有任何站点，无法核对 {'、'.join([*sites, *regions])} 是否写对", err=True)
        return
    try:
        check_scope(sites, regions, known)
    except BadSearch as exc:
        raise BadInput(f"{label}{exc}") from None
