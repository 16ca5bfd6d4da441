"""The users' clock: every time newsmon shows is in ``NEWSMON_TZ``, to the minute.

newsmon stores times in UTC (ISO with ``+00:00``, state keys with ``Z``); the
monitoring team reads them in one local time zone, ``NEWSMON_TZ`` (an IANA name,
default ``Asia/Shanghai``), whatever zone the server runs in. ``show`` is the one
formatter for the CLI, the web pages, the digest, the alert texts and the logs:
``2026-12-06 12:17`` -- no seconds, no offset; a date alone stays a date.

A time without an offset is a page's own date (``published``): Chinese sites give
Beijing time, so it is read in ``PAGE_ZONE`` and shown in ``NEWSMON_TZ`` (the same
thing by default). ``LocalTimeFormatter`` stamps log lines in ``NEWSMON_TZ``.
"""
from __future__ import annotations

import logging
import os
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"
PAGE_ZONE = ZoneInfo("Asia/Shanghai")      # the zone of a page's own (offset-less) dates
DISPLAY = "%Y-%m-%d %H:%M"

logger = logging.getLogger("newsmon")


class ZoneError(ValueError):
    """An unknown time zone name."""


def zone_name() -> str:
    return (os.environ.get("NEWSMON_TZ") or "").strip() or DEFAULT_ZONE


def check_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ZoneError(f"unknown time zone {name!r} (an IANA name, e.g. Asia/Shanghai)") from None


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    try:
        return check_zone(name)
    except ZoneError as exc:
        # A display setting must not stop a crawl or a delivery: said once, then the default.
        logger.warning("NEWSMON_TZ: %s; showing times in %s", exc, DEFAULT_ZONE)
        return ZoneInfo(DEFAULT_ZONE)


def zone() -> ZoneInfo:
    """``NEWSMON_TZ`` (read each time, so a test or a long process sees a change)."""
    return _zone(zone_name())


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def parse(value: str | datetime | date | None) -> datetime | date | None:
    """A stored time as an aware datetime (offset-less: a page's own time, in
    ``PAGE_ZONE``), a ``date`` for a date alone, None for nothing or garbage."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=PAGE_ZONE)
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=PAGE_ZONE)


def local(value: str | datetime | None) -> datetime | None:
    """The moment in ``NEWSMON_TZ`` (None for nothing, garbage or a date alone)."""
    moment = parse(value)
    return moment.astimezone(zone()) if isinstance(moment, datetime) else None


def show(value: str | datetime | date | None, missing: str = "") -> str:
    """``2026-12-06 12:17`` in ``NEWSMON_TZ``; a date alone as ``2026-12-06``;
    ``missing`` for nothing; text that is no time at all as it is."""
    moment = parse(value)
    if moment is None:
        return missing if value in (None, "") else str(value)
    if isinstance(moment, datetime):
        return moment.astimezone(zone()).strftime(DISPLAY)
    return moment.isoformat()


def local_day(moment: datetime | None = None) -> date:
    """The calendar day in ``NEWSMON_TZ`` (today by default)."""
    return (moment or utc_now()).astimezone(zone()).date()


def parse_local(text: str) -> datetime:
    """``YYYY-MM-DD`` (its midnight) or ``YYYY-MM-DD HH:MM`` typed by a user, read in
    ``NEWSMON_TZ``; an explicit offset is kept. ``ValueError`` saying the format."""
    text = (text or "").strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not YYYY-MM-DD or 'YYYY-MM-DD HH:MM'") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone())


class LocalTimeFormatter(logging.Formatter):
    """Log lines stamped in ``NEWSMON_TZ`` (not the server's zone, which is UTC)."""

    def formatTime(self, record, datefmt=None):
        moment = datetime.fromtimestamp(record.created, zone())
        return moment.strftime(datefmt or "%Y-%m-%d %H:%M:%S")
