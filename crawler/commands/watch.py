"""``newsmon watch add|list|remove|snooze|unsnooze|sync|test``: thin click commands over
``monitor.watches``. Times are shown in ``NEWSMON_TZ`` (``monitor.clock``)."""
from __future__ import annotations

import click

from crawler.commands.common import DEFAULT_SITES, INDEX_OPTION, check_filters, dump, open_for_command
from monitor.alert_policy import DEFAULT_WINDOW_HOURS
from monitor.clock import parse_local, show, zone_name
from monitor.watches import MODES, Watch, WatchError, WatchStore


def _recipients(watch: Watch) -> str:
    return ", ".join(watch.emails + watch.webhooks) or "-"


def _scope(watch: Watch) -> str:
    parts = ([f"site {s}" for s in watch.sites] + [f"region {r}" for r in watch.regions])
    return ", ".join(parts) or "all sites"


def _pacing(watch: Watch) -> str:
    """Window, quiet hours and snooze, as the list and add show them."""
    parts = [f"window {watch.window_hours}h"]
    if watch.quiet_hours:
        parts.append(f"quiet {watch.quiet_hours}")
    if watch.snoozed_until:
        parts.append(f"snoozed until {show(watch.snoozed_until)}")
    return ", ".join(parts)


@click.group()
def watch():
    """Watches: named queries that send alerts and feed the daily digest.

    Example: newsmon watch add laser --query '"产业园" OR 激光 -招聘' --email team@example.com
    """


@watch.command("add")
@click.argument("name")
@click.option("--query", "-q", required=True, help="Query in the search language.")
@click.option("--email", "emails", multiple=True, help="Email recipient (repeatable).")
@click.option("--webhook", "webhooks", multiple=True,
              help="Webhook URL (repeatable); WeCom/DingTalk/Feishu robots are recognised by host, "
                   "or force a format with a wecom+/dingtalk+/feishu+/json+ prefix.")
@click.option("--mode", type=click.Choice(MODES), default="both", show_default=True,
              help="immediate alerts, the daily digest, or both.")
@click.option("--site", "sites", multiple=True, help="Only stories with a matching copy on this site (repeatable).")
@click.option("--region", "regions", multiple=True, help="Only copies whose site region contains this (repeatable).")
@click.option("--window-hours", type=int, default=DEFAULT_WINDOW_HOURS, show_default=True,
              help="Immediate alerts only for articles published in the last N hours (and after the "
                   "watch was created); older matches come as one summary.")
@click.option("--quiet-hours", default="", help="HH:MM-HH:MM in NEWSMON_TZ (e.g. 22:00-07:00): alerts wait "
                                                "until it ends.")
@INDEX_OPTION
def watch_add(name, query, emails, webhooks, mode, sites, regions, window_hours, quiet_hours, index_url):
    """Add the watch NAME.

    Example: newsmon watch add laser --query '"产业园" OR 激光 -招聘' --email team@example.com --mode both
    """
    with open_for_command(index_url) as index:
        try:
            check_filters(index, sites, regions, f"watch {name!r}: ")   # a misspelt site would match nothing
            added = WatchStore(index).add(Watch(name, query, list(emails), list(webhooks), mode,
                                                list(sites), list(regions), window_hours=window_hours,
                                                quiet_hours=quiet_hours))
        except WatchError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"added watch {added.name!r}: {added.query}\n"
               f"  mode {added.mode}; to {_recipients(added)}; {_scope(added)}; {_pacing(added)}")


@watch.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the watches as JSON.")
@INDEX_OPTION
def watch_list(as_json, index_url):
    """List the watches.

    Example: newsmon watch list --json
    """
    with open_for_command(index_url, read_only=True) as index:
        watches = WatchStore(index).list()
    if as_json:
        click.echo(dump([w.to_dict() for w in watches]))
        return
    if not watches:
        click.echo("no watches (add one: newsmon watch add NAME --query Q --email ADDR)")
        return
    for w in watches:
        click.echo(f"{w.name}  [{w.mode}]  {w.query}\n  to {_recipients(w)}; {_scope(w)}; "
                   f"{_pacing(w)}; since {show(w.created)}")


@watch.command("remove")
@click.argument("name")
@INDEX_OPTION
def watch_remove(name, index_url):
    """Remove the watch NAME (its sent-alert marks stay, so re-adding it never re-sends).

    Example: newsmon watch remove laser
    """
    with open_for_command(index_url) as index:
        removed = WatchStore(index).remove(name)
    if not removed:
        raise click.ClickException(f"no watch named {name!r} (see: newsmon watch list)")
    click.echo(f"removed watch {name!r}")


@watch.command("snooze")
@click.argument("name")
@click.option("--until", "until", required=True,
              help="YYYY-MM-DD (its start) or 'YYYY-MM-DD HH:MM', in NEWSMON_TZ.")
@INDEX_OPTION
def watch_snooze(name, until, index_url):
    """No immediate alerts from the watch NAME until then: its matches go to the digest only.

    Example: newsmon watch snooze laser --until '2026-12-10 08:00'
    """
    try:
        moment = parse_local(until)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--until") from None
    with open_for_command(index_url) as index:
        try:
            snoozed = WatchStore(index).snooze(name, moment)
        except WatchError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"watch {snoozed.name!r} snoozed until {show(snoozed.snoozed_until)} ({zone_name()}): "
               "matches go to the digest only until then")


@watch.command("unsnooze")
@click.argument("name")
@INDEX_OPTION
def watch_unsnooze(name, index_url):
    """End the snooze of the watch NAME: immediate alerts again from now on.

    Example: newsmon watch unsnooze laser
    """
    with open_for_command(index_url) as index:
        try:
            WatchStore(index).snooze(name, None)
        except WatchError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"watch {name!r}: immediate alerts again")


@watch.command("sync")
@click.option("--sites", "sites_file", default=DEFAULT_SITES, show_default=True,
              help="Sites file whose watches: section to load.")
@INDEX_OPTION
def watch_sync(sites_file, index_url):
    """Load the sites file's watches: section (added or updated by name; others stay).
    The scheduler does this whenever the sites file changes.

    Example: newsmon watch sync --sites sites.yaml
    """
    from crawler.sites import SitesFileError, load_sites
    from monitor.watches import watches_from_config
    try:
        sites = load_sites(sites_file)
        watches = watches_from_config(sites.watches, sites_file, sites.watch_lines)
    except (SitesFileError, WatchError) as exc:
        raise click.ClickException(str(exc)) from None
    with open_for_command(index_url) as index:
        written = WatchStore(index).sync(watches)
    click.echo(f"{len(watches)} watches in {sites_file}; "
               f"{len(written)} added or updated{': ' + ', '.join(written) if written else ''}")


@watch.command("test")
@click.argument("name")
@click.option("--days", default=7, show_default=True, type=click.IntRange(0, 100000),
              help="Look this many days back (by publication date).")
@click.option("--json", "as_json", is_flag=True, help="Print the stories as JSON.")
@INDEX_OPTION
def watch_test(name, days, as_json, index_url):
    """Show the stories the watch NAME matches among those published in the last N days.

    Example: newsmon watch test laser --days 30
    """
    from monitor.text import format_stories
    with open_for_command(index_url, read_only=True) as index:
        store = WatchStore(index)
        found = store.get(name)
        if found is None:
            raise click.ClickException(f"no watch named {name!r} (see: newsmon watch list)")
        try:
            stories = store.matches(found, days)
        except WatchError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(dump(stories))
    else:
        click.echo(f"watch {found.name!r}, last {days} days:\n" + format_stories(found.query, stories))
