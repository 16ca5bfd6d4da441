"""A source that turns failing or blocked is an immediate alert -- once per change.

After each recorded run (``crawler.runner.run_crawl``, and the scheduler's own record
of a crawl that crashed or timed out) ``after_runs`` asks ``monitor.health`` about
those sites. A site whose health now says ``failing`` (N failed runs in a row), or
whose last run was ``blocked`` (an anti-bot challenge), and that was not already
known as such, gets one notice; a later good run gets one "recovered" notice.

Changes are ``source_event`` records keyed ``<site>/<since>/<state>`` (``since`` =
the start of the failure streak): ``add`` is atomic, so two processes recording
runs of one site announce one change once, and the latest key says the site's
current state.

Who is told: ``NEWSMON_OPS_EMAIL`` / ``NEWSMON_OPS_WEBHOOK`` (comma-separated) when
set; otherwise the recipients of the immediate watches that cover the site (scoped
to it, or to every site), respecting their quiet hours and snoozes.
"""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime

from monitor.alert_policy import quiet_until, snoozed
from monitor.alerts import deliver_pending, enqueue_notice, key_time, targets, utc_now
from monitor.health import source_status
from monitor.watches import WatchError, WatchStore, check_email

logger = logging.getLogger("newsmon.alerts")

EVENT_KIND = "source_event"
BAD = ("failing", "blocked")
DELIVER_SECONDS = 10.0       # a crawl's end waits at most this for the notices to go


def ops_targets(env: dict | None = None) -> list[str]:
    env = os.environ if env is None else env
    found = []
    for address in filter(None, (a.strip() for a in (env.get("NEWSMON_OPS_EMAIL") or "").split(","))):
        try:
            found.append("mailto:" + check_email(address))
        except WatchError as exc:
            logger.error("NEWSMON_OPS_EMAIL: %s", exc)
    found += [u.strip() for u in (env.get("NEWSMON_OPS_WEBHOOK") or "").split(",") if u.strip()]
    return found


def problem(status) -> dict | None:
    """``{"state", "since", "message"}`` when the site is blocked or failing now
    (``monitor.health``'s flags of those kinds)."""
    for kind in BAD[::-1]:                              # blocked says more than failing
        flag = next((f for f in status.health if f.kind == kind), None)
        if flag is not None:
            return {"state": kind, "since": flag.since, "message": flag.message}
    return None


def _recipients(index, site: str, now: datetime) -> list[tuple[list[str], datetime, object]]:
    """(targets, due, watch or None) groups."""
    ops = ops_targets()
    if ops:
        return [(ops, now, None)]
    groups, seen = [], set()
    for watch in WatchStore(index).list():
        if not watch.immediate or (watch.sites and site not in watch.sites) or snoozed(watch.snoozed_until, now):
            continue
        fresh = [t for t in targets(watch) if t not in seen]
        seen.update(fresh)
        if fresh:
            groups.append((fresh, quiet_until(watch.quiet_hours, now) or now, watch))
    return groups


def notify_source_changes(index, sites: list[str], now: datetime | None = None) -> list[str]:
    """Queue a notice for each of ``sites`` whose health changed; returns their names."""
    now = now or utc_now()
    queued = []
    for status in source_status(index, sites, now=now):
        latest = index.state.scan(EVENT_KIND, f"{status.name}/", reverse=True, limit=1)
        was_bad = bool(latest) and latest[0][1]["state"] in BAD
        found = problem(status)
        if found and not was_bad:
            event = {"site": status.name, "title": status.title, **found, "at": key_time(now)}
        elif not found and was_bad and (status.last_run or {}).get("status") == "ok":
            event = {"site": status.name, "title": status.title, "state": "recovered", "since": latest[0][1]["since"],
                     "message": "", "at": key_time(now)}
        else:
            continue
        key = f"{status.name}/{event['since']}/{event['state']}"
        if not index.state.add(EVENT_KIND, key, event):
            continue                       # another process announced it
        name = f"source/{status.name}/{event['state']}-{key_time(now)}"
        n = 0
        for recipients, due, watch in _recipients(index, status.name, now):
            enqueue_notice(index.state, name, "source", event, recipients, due, watch=watch, start=n)
            n += len(recipients)
        queued.append(name)
        logger.warning("[%s] 来源状态变化：%s（%s）", status.name, event["state"], event.get("message") or "")
    return queued


def after_runs(index_url: str | None, runs: list[dict]) -> None:
    """The hook where runs are recorded: announce changes, and send them now (for a
    few seconds; what is left waits for the delivery job). Never raises."""
    sites = sorted({doc["site"] for doc in runs if doc.get("site")})
    if not sites:
        return
    from index import open_index
    try:
        with open_index(index_url) as index:
            if notify_source_changes(index, sites):
                deliver_pending(index, deadline=time.monotonic() + DELIVER_SECONDS)
    except Exception as exc:  # noqa: BLE001 - a health notice must never fail a crawl's record
        logger.error("source health alerts not checked for %s: %s", ", ".join(sites), exc)
