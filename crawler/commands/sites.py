"""``newsmon sites ...``: look at a site before (or instead of) crawling it."""
from __future__ import annotations

import json
import re

import click


@click.group("sites")
def sites():
    """Check how newsmon reads a site, without crawling or indexing it.

    Example: newsmon sites probe https://www.example.gov.cn/
    """


@sites.command("probe")
@click.argument("url")
@click.option("--article-pattern", help="Try an article_url_pattern (regex searched in the URL).")
@click.option("--list-pattern", help="Try a list_url_pattern.")
@click.option("--limit", default=40, show_default=True, type=click.IntRange(1, 10000),
              help="Links shown per kind.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def probe(url, article_pattern, list_pattern, limit, as_json):
    """Fetch one page and print how each link on it is classified (article, list,
    skipped, other) and why; nothing is indexed. Network-safety rules apply
    (NEWSMON_ALLOW_HOSTS for private addresses).

    Example: newsmon sites probe https://www.example.gov.cn/ --article-pattern '/d/\\d+\\.html$'
    """
    from netsafety.fetch import FetchError
    from netsafety.addresses import UnsafeURLError
    from crawler.probe import format_report, probe_url
    from pipelines.article import ExtractionError
    for label, pattern in (("--article-pattern", article_pattern), ("--list-pattern", list_pattern)):
        if pattern:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise click.BadParameter(f"not a regular expression: {exc}", param_hint=label) from None
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="URL")
    try:
        report = probe_url(url, article_pattern, list_pattern)
    except UnsafeURLError as exc:
        raise click.ClickException(f"{exc} (a private address needs NEWSMON_ALLOW_HOSTS)") from None
    except FetchError as exc:
        raise click.ClickException(f"could not fetch the page: {exc}") from None
    except ExtractionError as exc:
        raise click.ClickException(f"{url}: not an HTML page ({exc})") from None
    click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if as_json
               else format_report(report, limit=limit))
