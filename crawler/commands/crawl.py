"""``newsmon crawl``: every configured site once, to completion, and a summary."""
from __future__ import annotations

import click

from crawler.commands.common import DEFAULT_SITES, check_extractors, dump, open_for_command
from crawler.sites import SitesFileError, load_sites


@click.command()
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
    from crawler.logsetup import configure_logging   # imports Scrapy (~1 s): not for --help
    configure_logging(verbose, quiet)
    check_extractors()
    try:
        sites = load_sites(sites_file).select(site_names)
    except SitesFileError as exc:
        raise click.ClickException(str(exc)) from None
    from crawler.runner import run_crawl     # Scrapy costs ~0.5 s and 100 MB: only for a usable file
    if not sites:
        raise click.ClickException(f"{sites_file}: no sites to crawl")
    open_for_command(index_url).close()   # fail fast, before any fetching, on a bad index URL
    summary = run_crawl(sites, index_url, jobdir=jobdir)
    click.echo(dump(summary.as_dict()) if as_json else summary.format())
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
