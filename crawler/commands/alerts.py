"""``newsmon alerts deliver|pending|dead``: thin click commands over ``monitor.alerts``.
Times are shown in ``NEWSMON_TZ`` (``monitor.clock``)."""
from __future__ import annotations

import click

from crawler.commands.common import INDEX_OPTION, open_for_command
from monitor.clock import show
from monitor.outbox import parse_key_time


@click.group()
def alerts():
    """Alert delivery: send what is queued, list it, list and requeue dead letters.

    Example: newsmon alerts deliver
    """


@alerts.command("deliver")
@INDEX_OPTION
def alerts_deliver(index_url):
    """Send every queued alert that is due now (the scheduler does this every minute).

    Example: newsmon alerts deliver --index sqlite:///data/newsmon.db
    """
    from monitor.alerts import deliver_pending
    with open_for_command(index_url) as index:
        report = deliver_pending(index)
    for error in report.errors:
        click.echo(f"failed: {error}", err=True)
    click.echo(str(report))


@alerts.command("pending")
@INDEX_OPTION
def alerts_pending(index_url):
    """List queued alert deliveries (due time, watch/story, target, attempts; an entry
    being sent shows the process sending it, and is due again if that process dies).

    Example: newsmon alerts pending
    """
    from monitor.alerts import pending
    with open_for_command(index_url) as index:
        entries = pending(index)
    for key, entry in entries:
        # Keyed at its lease's end: being sent (or its sender died: it is due again then).
        lease = entry.get("lease") or {}
        sending = f"  sending ({lease.get('by')})" if lease.get("until") == key[:20] else ""
        click.echo(f"{show(parse_key_time(key))}  {entry['alert']}  {entry['target']}  "
                   f"attempts {entry.get('attempts', 0)}{sending}")
    click.echo(f"{len(entries)} queued")


@alerts.command("dead")
@click.option("--requeue", is_flag=True, help="Put every dead letter back in the queue, due now.")
@INDEX_OPTION
def alerts_dead(requeue, index_url):
    """List alert deliveries that kept failing (dead letters), or requeue them.

    Example: newsmon alerts dead --requeue
    """
    from monitor.alerts import dead_letters, requeue_dead
    with open_for_command(index_url) as index:
        if requeue:
            click.echo(f"requeued {requeue_dead(index)} dead letters")
            return
        entries = dead_letters(index)
    for key, entry in entries:
        click.echo(f"{show(entry.get('dead_at', key[:20]))}  {entry['alert']}  {entry['target']}  "
                   f"after {entry.get('attempts')} attempts: {entry.get('reason')}")
    click.echo(f"{len(entries)} dead letters")
