"""``newsmon worker``: take crawl, alert and digest tasks from the queue (``crawler/queue/worker.py``)."""
from __future__ import annotations

import sys

import click


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                "help_option_names": []}, add_help_option=False)
@click.pass_context
def worker(ctx):
    """A worker of the task queue (NEWSMON_BROKER): runs the site runs the scheduler queues.

    Options: --index URL --crawls N --name NAME (newsmon worker --help lists them).

    Example: NEWSMON_BROKER=redis://10.0.0.5:6379/0 newsmon worker --index http://10.0.0.7:9200 --crawls 2
    """
    from crawler.queue.worker import main as run_worker
    sys.exit(run_worker(ctx.args))
