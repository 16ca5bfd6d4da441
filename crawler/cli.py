"""The ``newsmon`` command line: assembles the commands of ``crawler/commands/``.

Each command parses arguments, calls one library function, and prints; library
errors become ``click.ClickException`` with a hint. JSON prints Chinese as is.
"""
from __future__ import annotations

import click

from crawler.commands import (alerts, crawl, demo, digest, export, extract, index, schedule, search,
                              serve, sites, status, watch, worker)


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


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsmon")
def main():
    """newsmon: crawl, clean, deduplicate and search Chinese local-government news."""


for command in (crawl.crawl, extract.extract, export.export, index.index_group, demo.demo, schedule.schedule,
                serve.serve, watch.watch, alerts.alerts, digest.digest, status.status, search.search,
                sites.sites, worker.worker):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
