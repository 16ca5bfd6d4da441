"""Matches that do not get an alert of their own, kept in the index until they are told.

* ``alert_backlog`` (key ``<watch>/<recorded UTC>/<story_id>``): a match for the
  watch's summary -- older than its window or than the watch, or past a crawl's
  burst cap. The crawl that recorded it folds its own into one summary per watch
  when it ends (``claim_backlog(run=...)``) -- unless the watch had a summary in
  the last ``SUMMARY_GAP``: the scheduler runs one crawl per site, and twenty new
  sites must not mean twenty summaries. What a crawl left (that case, or a crawl
  that was killed) the scheduler's delivery job folds once the watch's backlog has
  settled (no new record for ``SETTLE``) or its oldest has waited ``MAX_WAIT``:
  one summary for all of it.
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
SUMMARY_KIND = "alert_summary"          # key <watch>: when its last summary was queued
SUMMARY_GAP = timedelta(minutes=30)
SETTLE = timedelta(minutes=10)
MAX_WAIT = timedelta(hours=1)


def _story_doc(story: dict) -> dict:
    return {k: story.get(k) for k in ("story_id", "title", "url", "site", "published")}


def add_backlog(state, watch: str, story: dict, reason: str, run: str, now: datetime) -> None:
    state.put(BACKLOG_KIND, f"{watch}/{key_time(now)}/{story['story_id']}",
              {"watch": watch, "story": _story_doc(story), "reason": reason, "run": run, "at": key_time(now)})


def claim_backlog(state, *, run: str | None = None, now: datetime | None = None) -> dict[str, list[dict]]:
    """Take backlog records out of the store, per watch, oldest first: with ``run``
    (a crawl's end), that run's records of each watch that had no summary in the
    last ``SUMMARY_GAP``; without (the delivery job), all records of each watch whose
    backlog has settled or waited ``MAX_WAIT``."""
    now = now or datetime.now(timezone.utc)
    groups: dict[str, list[tuple[str, dict]]] = {}
    for key, doc in state.scan(BACKLOG_KIND):
        groups.setdefault(doc["watch"], []).append((key, doc))
    taken: dict[str, list[dict]] = {}
    for watch, items in groups.items():
        if run is not None:
            last = state.get(SUMMARY_KIND, watch)
            if last and parse_key_time(last["at"]) > now - SUMMARY_GAP:
                continue                       # the job folds it with what else comes
            items = [(key, doc) for key, doc in items if doc.get("run") == run]
        else:
            times = [parse_key_time(doc["at"]) for _key, doc in items]
            if max(times) > now - SETTLE and min(times) > now - MAX_WAIT:
                continue                       # still coming in
        docs = [doc for key, doc in items if state.delete(BACKLOG_KIND, key)]
        if docs:
            taken[watch] = docs
    return taken


def summarized(state, watch: str, now: datetime) -> None:
    state.put(SUMMARY_KIND, watch, {"at": key_time(now)})


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
