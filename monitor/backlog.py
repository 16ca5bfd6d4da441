"""Matches that do not get an alert of their own, kept in the index until they are told.

* ``alert_backlog`` (key ``<watch>/<recorded UTC>/<story_id>``): a match for the
  watch's summary -- older than its window or than the watch, or past a crawl's
  burst cap. The crawl that recorded it folds its own into one summary per watch
  when it ends (``claim_backlog(run=...)``); the scheduler's delivery job folds what
  a killed crawl left (``older_than``).
* ``alert_held`` (key ``<recorded UTC>/<watch>/<story_id>/<n>``): a match for one
  recipient that goes to the digest only -- the watch is snoozed, or the
  recipient's daily cap is used up. The digest lists them (an immediate-only watch
  too); a webhook gets them as one summary a day.

Claiming is ``delete``: whoever deletes a record tells it, so two processes
folding at once never tell a story twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from monitor.outbox import key_time, parse_key_time

BACKLOG_KIND = "alert_backlog"
HELD_KIND = "alert_held"


def _story_doc(story: dict) -> dict:
    return {k: story.get(k) for k in ("story_id", "title", "url", "site", "published")}


def add_backlog(state, watch: str, story: dict, reason: str, run: str, now: datetime) -> None:
    state.put(BACKLOG_KIND, f"{watch}/{key_time(now)}/{story['story_id']}",
              {"watch": watch, "story": _story_doc(story), "reason": reason, "run": run, "at": key_time(now)})


def claim_backlog(state, *, run: str | None = None, older_than: timedelta | None = None,
                  now: datetime | None = None) -> dict[str, list[dict]]:
    """Take backlog records -- this ``run``'s, or any recorded more than ``older_than``
    ago -- out of the store; returns them per watch, oldest first."""
    now = now or datetime.now(timezone.utc)
    taken: dict[str, list[dict]] = {}
    for key, doc in state.scan(BACKLOG_KIND):
        mine = run is not None and doc.get("run") == run
        stale = older_than is not None and parse_key_time(doc.get("at") or key_time(now)) <= now - older_than
        if (mine or stale) and state.delete(BACKLOG_KIND, key):
            taken.setdefault(doc["watch"], []).append(doc)
    return taken


def hold(state, watch: str, story: dict, target: str, n: int, reason: str, now: datetime) -> None:
    state.put(HELD_KIND, f"{key_time(now)}/{watch}/{story['story_id']}/{n}",
              {"watch": watch, "story": _story_doc(story), "target": target, "reason": reason,
               "at": key_time(now)})


def held_between(state, since: datetime, until: datetime) -> list[dict]:
    """Held matches recorded in ``[since, until)``, one prefix scan per UTC day."""
    found: list[dict] = []
    day = since.astimezone(timezone.utc).date()
    while day <= until.astimezone(timezone.utc).date():
        for key, doc in state.scan(HELD_KIND, day.isoformat()):
            if since <= parse_key_time(key) < until:
                found.append(doc)
        day += timedelta(days=1)
    return found


def prune_held(state, before: datetime) -> int:
    """Drop held records older than ``before`` (every digest that could list them is out)."""
    dropped = 0
    for key, _doc in state.scan(HELD_KIND, limit=10000):
        if parse_key_time(key) >= before:
            break
        dropped += state.delete(HELD_KIND, key)
    return dropped
