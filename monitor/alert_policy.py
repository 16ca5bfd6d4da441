"""When a match becomes an immediate alert, and when it waits: the rules against floods.

A watch's match is one of:

1. ``snoozed``: the watch is snoozed (``watch snooze NAME --until ...``): nothing
   immediate; the story goes to the digest only.
2. ``old`` / ``before_watch``: the article was first published before the watch's
   window (``window_hours``, default 48) or before the watch was created -- a first
   crawl's backfill, an archive page found late. It goes into ONE summary message
   per watch at the end of the crawl, never a message each.
3. ``burst``: fresh, but the crawl already sent the watch ``NEWSMON_ALERT_BURST``
   (10) immediate alerts: the rest join that summary too.
4. ``fresh``: an immediate alert -- queued until the watch's quiet hours end, and
   each recipient gets at most ``NEWSMON_ALERT_DAILY_CAP`` (50) of them per local
   day; past the cap, matches go to the digest (the last alert says so).

A page's date is compared at the precision the page gives: a date alone counts
from that day's start (Beijing time), so an article dated today is fresh on a
watch created this morning. An undated article counts from when it was first
seen. Everything here is plain functions of the watch and the clock, except the
daily cap, which claims numbered slots in the state store (``add`` is atomic, so
two crawler processes never hand out the same slot).
"""
from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta, timezone

from monitor.clock import PAGE_ZONE, local_day, parse, zone

DEFAULT_WINDOW_HOURS = 48
MAX_WINDOW_HOURS = 24 * 366 * 20         # (a test or a migration may want a long one)
DEFAULT_DAILY_CAP = 50
DEFAULT_BURST = 10
QUOTA_KIND = "alert_quota"               # key "<target>/<local day>/<slot, 4 digits>"
_QUIET = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")

FRESH, OLD, BEFORE_WATCH, BURST, SNOOZED, CAPPED = "fresh", "old", "before_watch", "burst", "snoozed", "cap"
# What a summary or a digest says about why a story did not come as an alert of its own.
REASONS = {
    OLD: "发布时间早于监测窗口",
    BEFORE_WATCH: "发布于监测创建之前",
    BURST: "本次抓取超过逐条提醒上限",
    SNOOZED: "监测暂停提醒期间",
    CAPPED: "超过每日提醒上限",
}


def _int_env(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name) or default))
    except ValueError:
        return default


def daily_cap() -> int:
    """Immediate alerts per recipient per local day (``NEWSMON_ALERT_DAILY_CAP``; 0: no cap)."""
    return _int_env("NEWSMON_ALERT_DAILY_CAP", DEFAULT_DAILY_CAP)


def burst_cap() -> int:
    """Immediate alerts per watch per crawl (``NEWSMON_ALERT_BURST``; 0: no cap)."""
    return _int_env("NEWSMON_ALERT_BURST", DEFAULT_BURST)


# -- quiet hours -----------------------------------------------------------------------

def parse_quiet_hours(text: str | None) -> tuple[time, time] | None:
    """``"22:00-07:00"`` (in ``NEWSMON_TZ``; may wrap midnight) -> (start, end); ""
    -> None; ``ValueError`` saying the format."""
    if not text or not str(text).strip():
        return None
    found = _QUIET.match(str(text))
    if not found:
        raise ValueError(f"免打扰时段 {text!r} 有误：请写成 HH:MM-HH:MM，如 22:00-07:00")
    h1, m1, h2, m2 = map(int, found.groups())
    if (h1, m1) == (h2, m2):
        raise ValueError(f"免打扰时段 {text!r} 有误：开始和结束是同一时刻")
    return time(h1, m1), time(h2, m2)


def quiet_until(quiet_hours: str | None, now: datetime) -> datetime | None:
    """The end of the quiet period ``now`` falls in (UTC), or None when not quiet."""
    span = parse_quiet_hours(quiet_hours)
    if span is None:
        return None
    start, end = span
    here = now.astimezone(zone())
    today, clock = here.date(), here.time().replace(tzinfo=None)
    if start < end:
        inside, end_day = start <= clock < end, today
    elif clock >= start:                    # wraps midnight, evening part
        inside, end_day = True, today + timedelta(days=1)
    else:                                   # wraps midnight, morning part
        inside, end_day = clock < end, today
    if not inside:
        return None
    return datetime.combine(end_day, end, zone()).astimezone(timezone.utc)


# -- snooze ------------------------------------------------------------------------------

def snoozed(snoozed_until: str | None, now: datetime) -> bool:
    moment = parse(snoozed_until)
    return isinstance(moment, datetime) and now < moment


# -- freshness -----------------------------------------------------------------------------

def _at_or_after(published, bound: datetime) -> bool:
    """``published`` (aware datetime or a date alone) is not before ``bound``, at the
    precision pages give: a time to the minute, a date alone from that day's start
    (in the pages' zone)."""
    if isinstance(published, datetime):
        return published >= bound.replace(second=0, microsecond=0)
    return published >= bound.astimezone(PAGE_ZONE).date()


def freshness(published: str | None, first_seen: datetime, created: str | None,
              window_hours: int | None, now: datetime) -> str:
    """``fresh``, ``old`` (before the window) or ``before_watch`` (before the watch existed)."""
    moment = parse(published)
    if not isinstance(moment, (datetime, date)):
        moment = first_seen                       # undated: when it was first seen
    window = window_hours if window_hours else DEFAULT_WINDOW_HOURS
    if not _at_or_after(moment, now - timedelta(hours=window)):
        return OLD
    made = parse(created)
    if isinstance(made, datetime) and not _at_or_after(moment, made):
        return BEFORE_WATCH
    return FRESH


# -- the daily cap ------------------------------------------------------------------------

def claim_slot(state, target: str, due: datetime, cap: int) -> int | None:
    """The number (0-based) of this alert among the target's alerts of the local day
    ``due`` falls on, or None when the day's ``cap`` is used up (cap 0: no cap)."""
    if cap <= 0:
        return 0
    prefix = f"{target}/{local_day(due).isoformat()}/"
    slot = len(state.scan(QUOTA_KIND, prefix, limit=cap))
    while slot < cap:
        if state.add(QUOTA_KIND, f"{prefix}{slot:04d}", {"at": due.astimezone(timezone.utc).isoformat()}):
            return slot
        slot += 1                                  # another process took it just now
    return None


def prune_quota(state, today: date | None = None, keep_days: int = 3) -> int:
    """Drop slot records of days long gone (the delivery job calls this)."""
    cutoff = ((today or local_day()) - timedelta(days=keep_days)).isoformat()
    dropped = 0
    for key, _doc in state.scan(QUOTA_KIND):
        if key.rsplit("/", 2)[-2] < cutoff and state.delete(QUOTA_KIND, key):
            dropped += 1
    return dropped
