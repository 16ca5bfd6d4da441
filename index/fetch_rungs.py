"""The fetch-ladder rung a site needed, remembered between runs (issue 20).

One ``fetch_rung`` document per site in ``backend.state`` (key: the site)::

    {"site": "...", "rung": "browser", "kind": "ruishu",
     "since": "<UTC ISO>", "seen": "<UTC ISO>", "until": "<UTC ISO>"}

Written by the crawl (``crawler/ladder.py``) when a site's plain fetches met an
anti-bot challenge (``kind``, as in ``index.runs.CHALLENGE_LABELS``): ``since`` the
first run that met one, ``seen`` the last, ``until`` = ``seen`` + the memory's
lifetime. A later run of that site opens its first page in the browser instead of
being challenged first. A site that stops challenging is not seen challenged again,
so its document lapses at ``until`` and the site goes back to plain fetches. Read by
``newsmon status`` and the Sources page (``monitor.health``).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

RUNG_KIND = "fetch_rung"
DEFAULT_DAYS = 7.0


def remembered_rung(state, site: str, now: datetime | None = None) -> dict | None:
    """The site's remembered rung while it holds (``until`` in the future), else None."""
    doc = state.get(RUNG_KIND, site)
    if not doc or doc.get("rung") != "browser":
        return None
    now = now or datetime.now(timezone.utc)
    try:
        until = datetime.fromisoformat(doc["until"])
    except (KeyError, TypeError, ValueError):
        return None
    return doc if until > (now if now.tzinfo else now.replace(tzinfo=timezone.utc)) else None


def remember_rung(state, site: str, kind: str, now: datetime | None = None,
                  days: float = DEFAULT_DAYS) -> dict:
    """Record that ``site`` met a ``kind`` challenge now: it starts on the browser until ``days`` pass."""
    now = now or datetime.now(timezone.utc)
    before = remembered_rung(state, site, now) or {}
    stamp = now.isoformat(timespec="seconds")
    doc = {"site": site, "rung": "browser", "kind": kind, "since": before.get("since", stamp), "seen": stamp,
           "until": (now + timedelta(days=days)).isoformat(timespec="seconds")}
    state.put(RUNG_KIND, site, doc)
    return doc
