"""``newsmon extract``: decode, extract and clean pages (``crawler/extract_batch.py``) and print them."""
from __future__ import annotations

import json
import sys

import click

from crawler.commands.common import check_extractors, dump


@click.command()
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
    check_extractors()
    from crawler.extract_batch import extract_inputs     # after the check: extractors import here
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
            click.echo(dump(result))
        else:
            click.echo(result["text"])
    if failed:
        sys.exit(1)
