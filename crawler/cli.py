"""The ``newsmon`` command line: a thin click layer over the library.

Each command parses arguments, calls one library function, and prints; library
errors become ``click.ClickException`` with a hint. JSON prints Chinese as is.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from crawler.cli_common import DEMO_INDEX_URL, BadInput, dump as _dump, open_for_command  # noqa: F401 - for the command modules
from crawler.logsetup import configure_logging
from crawler.serve_cmd import serve
from crawler.sites import SitesFileError, load_sites

DEFAULT_SITES = "sites.yaml"
def _open_index(url: str | None, read_only: bool = False):
    """The index for a command; ``read_only``: refuse one that does not exist (one line)."""
    return open_for_command(url, read_only=read_only)


class _Commands(click.Group):
    """Every command: a storage failure (disk full, read-only, index locked too long,
    damaged file) is one line and exit status 1, never a ``sqlite3`` traceback."""

    def invoke(self, ctx):
        from index import StorageError
        from pipelines.requirements import MissingExtractor
        try:
            return super().invoke(ctx)
        except (StorageError, MissingExtractor) as exc:
            raise click.ClickException(str(exc)) from None


def _check_extractors() -> None:
    """Before any work: an extraction package that cannot be imported is one line and
    exit status 1 (``MissingExtractor``, above), never a crawl of worse text."""
    from pipelines.requirements import check_extractors
    check_extractors()


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsmon")
def main():
    """newsmon: crawl, clean, deduplicate and search Chinese local-government news."""


@main.command()
@click.option("--sites", "sites_file", default=DEFAULT_SITES, show_default=True, help="Sites file (YAML).")
@click.option("--site", "site_names", multiple=True, help="Crawl only this site (repeatable).")
@click.option("--index", "index_url", envvar="NEWSMON_INDEX", help="Index URL (sqlite:///… or http://host:9200).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also show Scrapy's own log.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and the summary.")
@click.option("--jobdir", type=click.Path(file_okay=False),
              help="Resume directory: a crawl killed and rerun with the same --jobdir finishes its run.")
def crawl(sites_file, site_names, index_url, as_json, verbose, quiet, jobdir):
    """Crawl the configured sites once, to completion, and print a summary.

    Example: newsmon crawl --sites sites.yaml --site sucheng-gov
    """
    configure_logging(verbose, quiet)
    _check_extractors()
    try:
        sites = load_sites(sites_file).select(site_names)
    except SitesFileError as exc:
        raise click.ClickException(str(exc)) from None
    from crawler.runner import run_crawl     # Scrapy costs ~0.5 s and 100 MB: only for a usable file
    if not sites:
        raise click.ClickException(f"{sites_file}: no sites to crawl")
    _open_index(index_url).close()   # fail fast, before any fetching, on a bad index URL
    summary = run_crawl(sites, index_url, jobdir=jobdir)
    click.echo(_dump(summary.as_dict()) if as_json else summary.format())
    if summary.missing_extractor:   # (a package gone after the check above: the crawl stopped)
        raise click.ClickException(summary.missing_extractor)
    if summary.storage_error:
        raise click.ClickException(f"抓取已停止：{summary.storage_error}（以上摘要只计入已写入索引的文章）")
    if not summary.ok:
        raise click.ClickException("no page could be fetched from any site (see the errors above)")
    if summary.failed_sites:
        raise click.ClickException(
            f"{len(summary.failed_sites)} 个站点没有抓到任何文章页：" + "；".join(
                f"{site}（{', '.join(f'{k} {v}' for k, v in sorted(summary.errors_for(site).items()))}）"
                for site in summary.failed_sites) + "。其余站点的结果已写入索引，见上方摘要")


@main.command()
@click.argument("inputs", nargs=-1)
@click.option("--from-list", "from_list", type=click.File("r", encoding="utf-8"),
              help="Read one path or URL per line (optionally PATH<TAB>URL: the page URL of a file).")
@click.option("--url", "page_url", help="The page's URL, for a file input (relative links, URL dates).")
@click.option("--encoding", help="Force a charset instead of detecting it.")
@click.option("--json", "as_json", is_flag=True, help="Print one page as a JSON object.")
@click.option("--jsonl", "as_jsonl", is_flag=True, help="Print one JSON line per input, in input order.")
def extract(inputs, from_list, page_url, encoding, as_json, as_jsonl):
    """Decode, extract and clean pages (files or URLs) and print the article.

    Example: newsmon extract page.html --url http://www.example.gov.cn/xwdt/202107/t20210712_1.html --json

    Batch: newsmon extract --jsonl --from-list pages.txt (one process for all pages).
    """
    _check_extractors()
    from crawler.extract_cmd import extract_inputs
    items = list(inputs) + ([line.strip() for line in from_list if line.strip()] if from_list else [])
    items = [tuple(item.split("\t", 1)) if "\t" in item else item for item in items]
    if not items:
        raise click.UsageError("give at least one PATH_OR_URL (or --from-list FILE)")
    if as_json and len(items) > 1:
        raise click.UsageError("--json takes one page; use --jsonl for several")
    failed = 0
    for path, result in extract_inputs(items, page_url=page_url, encoding=encoding):
        if as_jsonl:
            click.echo(json.dumps({"path": path, **result}, ensure_ascii=False))
            continue
        if "error" in result:
            failed += 1
            click.echo(f"Error: {path}: {result['error']}", err=True)
        elif as_json:
            click.echo(_dump(result))
        else:
            click.echo(result["text"])
    if failed:
        sys.exit(1)


@main.command()
@click.option("--index", "index_url", envvar="NEWSMON_INDEX", help="Index URL.")
def export(index_url):
    """Every indexed article page as JSON lines (id, url, site, title, published, text, story_id, canonical).

    Example: newsmon export --index sqlite:///data/newsmon.db > articles.jsonl
    """
    from index import IndexURLError
    index = _open_index(index_url, read_only=True)
    try:
        for line in index.export():
            click.echo(json.dumps(line, ensure_ascii=False))
    except IndexURLError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        index.close()


@main.group("index")
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


@main.command()
@click.option("--index", "index_url", default=DEMO_INDEX_URL, show_default=True,
              help="Where the demo's fresh embedded index goes.")
@click.option("-v", "--verbose", is_flag=True, help="Also show Scrapy's own log.")
def demo(index_url, verbose):
    """Crawl the bundled fixture sites on 127.0.0.1 into a fresh index and run a few searches.

    Example: newsmon demo
    """
    from crawler.demo import run_demo
    configure_logging(verbose)
    _check_extractors()
    try:
        run_demo(index_url, echo=click.echo)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                "help_option_names": []}, add_help_option=False)
@click.pass_context
def schedule(ctx):
    """The scheduler daemon: crawls each site on its schedule (same as `python scheduler.py`).

    Options: --sites FILE --index URL --jobstore SQL_URL --timezone TZ --max-crawls N
    --time-limit S --jitter S (newsmon schedule --help lists them).

    Example: newsmon schedule --sites sites.yaml --index sqlite:///data/newsmon.db
    """
    from crawler.daemon import main as run_daemon
    sys.exit(run_daemon(ctx.args))


main.add_command(serve)


# Command groups kept in their own modules (imported last: they use the helpers above).
from crawler import digest_cli, watch_cli  # noqa: E402
main.add_command(watch_cli.watch)
main.add_command(watch_cli.alerts)
main.add_command(digest_cli.digest)
from crawler.cli_status import status  # noqa: E402
main.add_command(status)
from crawler.search_cmd import search  # noqa: E402
main.add_command(search)
from crawler.sites_cli import sites  # noqa: E402
main.add_command(sites)


if __name__ == "__main__":  # pragma: no cover
    main()
