"""``newsmon schedule``: the scheduler daemon (``crawler/daemon.py``), with its own options."""
from __future__ import annotations

import sys

import click


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
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
