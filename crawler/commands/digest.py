"""``newsmon digest``: build the daily digest and send it, or write it to a file."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click

from crawler.commands.common import DEFAULT_SITES, open_for_command


def _settings(sites_file: str | None):
    """The ``digest:`` section of the sites file, when there is one."""
    from crawler.sites import SitesFileError, load_sites
    from monitor.digest import DigestConfigError, DigestSettings
    path = sites_file or DEFAULT_SITES
    if sites_file is None and not Path(path).exists():
        return DigestSettings()
    try:
        return DigestSettings.from_config(load_sites(path).digest, f"{path}: digest")
    except (SitesFileError, DigestConfigError) as exc:
        raise click.ClickException(str(exc)) from None


def _summary(digest) -> str:
    watches = ", ".join(f"{s.watch.name} {len(s.stories)}" for s in digest.sections) or "no watches"
    health = ("source health not available" if digest.health is None else
              f"source health: {len(digest.health)} sites, {len(digest.problem_sites)} silent or failing")
    stories = f"{digest.count} {'story' if digest.count == 1 else 'stories'}"
    return (f"digest {digest.label} for {digest.recipient}: {stories} "
            f"({watches}); {health}")


def _write(digest, out: Path, sender: str) -> None:
    from monitor.digest import digest_message, render_html, render_text
    suffix = out.suffix.lower()
    if suffix in (".html", ".htm"):
        out.write_text(render_html(digest), encoding="utf-8")
    elif suffix == ".txt":
        out.write_text(render_text(digest), encoding="utf-8")
    else:       # .eml or anything else: the whole message, as it would be sent
        out.write_bytes(bytes(digest_message(digest, sender)))


@click.command()
@click.option("--date", "day", help="Stories first seen on this local day (YYYY-MM-DD); "
                                    "default: since each recipient's last digest.")
@click.option("--to", "to", help="Only this recipient (an address no watch names gets every digest watch).")
@click.option("--dry-run", is_flag=True, help="Build it but send nothing.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --dry-run: write it here (.html, .txt, or .eml for the whole message).")
@click.option("--sites", "sites_file", help=f"Sites file whose digest: section sets the time zone "
                                           f"[default: {DEFAULT_SITES} if present].")
@click.option("--force", is_flag=True, help="Send even if the day's digest already went to that recipient.")
@click.option("--index", "index_url", envvar="NEWSMON_INDEX", help="Index URL.")
def digest(day, to, dry_run, out, sites_file, force, index_url):
    """Build the daily digest: per watch the stories first seen, newest first, with
    reach and a source-health section; send it by email (NEWSMON_SMTP_*). Each
    recipient gets one a day: a second run on the same day sends nothing (--force).

    Example: newsmon digest --date 2026-11-23 --to team@example.com --dry-run --out digest.html
    """
    from monitor.alerts import utc_now
    from monitor.backlog import held_between
    from monitor.clock import show
    from monitor.delivery import DeliveryError, SMTPSettings
    from monitor.digest import (already_sent, build_digests, held_by_recipient, last_digest_until, recipients,
                                send_digest)
    from monitor.watches import WatchStore

    if out and not dry_run:
        raise click.UsageError("--out goes with --dry-run (a digest is either sent or written)")
    if to is not None:
        from monitor.watches import WatchError, check_email
        try:
            to = check_email(to.strip())
        except WatchError as exc:
            raise click.BadParameter(str(exc), param_hint="--to") from None
    settings = _settings(sites_file)
    now = utc_now()
    if day:
        try:
            local_day = date.fromisoformat(day)
        except ValueError:
            raise click.BadParameter(f"{day!r} is not YYYY-MM-DD", param_hint="--date") from None
    else:
        local_day = now.astimezone(settings.zone()).date()
    with open_for_command(index_url, read_only=True) as index:     # a digest of no index is an error, not empty
        digests = []
        held = held_by_recipient(held_between(index.state, now - timedelta(days=7), now))
        targets = [to] if to else list(recipients(WatchStore(index).list(), held=held))
        if not targets:
            raise click.ClickException("no watch sends a digest: add one with --mode digest or both "
                                       "and an --email, or name a recipient with --to")
        label = local_day.isoformat()
        for address in targets:
            sent = None if dry_run or force else already_sent(index.state, address, label)
            if sent:
                click.echo(f"digest {label} for {address}: already sent at {show(sent.get('sent_at'))}; "
                           "nothing sent (--force sends another)")
                continue
            if day:
                since, until = settings.day_window(local_day)
            else:
                until = now
                since = last_digest_until(index.state, address) or now - timedelta(days=1)
            digests += build_digests(index, since, until, label=local_day.isoformat(),
                                     settings=settings, to=address, now=now)
        if out and len(digests) > 1:
            raise click.UsageError(f"{len(digests)} recipients: pick one with --to to write it to a file")
        smtp = None
        for built in digests:
            click.echo(_summary(built))
            if dry_run:
                if out:
                    _write(built, out, "newsmon")
                    click.echo(f"written to {out}")
                continue
            try:
                smtp = smtp or SMTPSettings.from_env()
                if not send_digest(index, built, smtp, once=not force):     # another run got there first
                    click.echo(f"digest {built.label} for {built.recipient}: already being sent; nothing sent")
                    continue
            except DeliveryError as exc:
                raise click.ClickException(f"digest to {built.recipient} not sent: {exc}") from None
            click.echo(f"sent to {built.recipient}")
