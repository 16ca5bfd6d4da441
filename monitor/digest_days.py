"""Once per recipient and local day: the record of each digest that went out.

``digest`` records (key ``<recipient>/<local date>``) make the daily digest go once
a day, the scheduler's run and ``newsmon digest`` alike, and say where the next
one starts (``last_digest_until``). A record says ``sending`` until the mail went;
one left ``sending`` by a process that died (older than ``STALE_SENDING``) is taken
over and never counts as a digest that went out.

A webhook has no digest: the matches a watch held back from it (snoozed, daily
cap; ``monitor.backlog``) go to it as one summary message a day
(``webhook_summaries``), recorded the same way, with the webhook URL as recipient.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from index.base import IndexBackend
from monitor.alerts import enqueue_notice, key_time, parse_key_time, utc_now
from monitor.backlog import held_between
from monitor.notices import summary_doc
from monitor.watches import WatchStore

logger = logging.getLogger("newsmon.digest")

DIGEST_KIND = "digest"
STALE_SENDING = timedelta(minutes=15)      # a "sending" record this old: its sender died


def claim_day(state, key: str, doc: dict) -> bool:
    """Record that ``key``'s digest is being sent; False if one was sent (or is being
    sent) already. A ``sending`` record older than ``STALE_SENDING`` is taken over."""
    if state.add(DIGEST_KIND, key, {**doc, "status": "sending"}):
        return True
    old = state.get(DIGEST_KIND, key) or {}
    if old.get("status") != "sending" or parse_key_time(old.get("sent_at") or doc["sent_at"]) > \
            utc_now() - STALE_SENDING:
        return False
    logger.warning("digest %s: the previous attempt (%s) never finished; sending it now", key, old.get("sent_at"))
    return state.delete(DIGEST_KIND, key) and state.add(DIGEST_KIND, key, {**doc, "status": "sending"})


def already_sent(state, recipient: str, label: str) -> dict | None:
    """The record of the recipient's digest of that day, if one went (or is going) out."""
    doc = state.get(DIGEST_KIND, f"{recipient}/{label}")
    if doc and doc.get("status") == "sending" and \
            parse_key_time(doc.get("sent_at") or key_time(utc_now())) <= utc_now() - STALE_SENDING:
        return None
    return doc


def last_digest_until(state, recipient: str) -> datetime | None:
    """End of the window the recipient's latest (by day) digest covered; one that
    never went out (left ``sending`` by a process that died) does not count."""
    for _key, doc in state.scan(DIGEST_KIND, f"{recipient}/", reverse=True, limit=5):
        if doc.get("status") != "sending" or \
                parse_key_time(doc.get("sent_at") or doc["until"]) > utc_now() - STALE_SENDING:
            return parse_key_time(doc["until"])
    return None


def webhook_summaries(index: IndexBackend, label: str, now: datetime) -> list[str]:
    """Each webhook of a watch that held matches back (snoozed, daily cap) since its
    previous one gets them as one summary message, once per local day."""
    queued = []
    watches = {w.name: w for w in WatchStore(index).list()}
    by_target: dict[tuple[str, str], list[dict]] = {}
    for doc in held_between(index.state, now - timedelta(days=7), now):
        if not doc["target"].startswith("mailto:") and doc["watch"] in watches:
            by_target.setdefault((doc["target"], doc["watch"]), []).append(doc)
    for (target, name), docs in sorted(by_target.items()):
        since = last_digest_until(index.state, target) or now - timedelta(days=1)
        docs = [d for d in docs if parse_key_time(d["at"]) >= since]
        record = {"recipient": target, "label": label, "since": key_time(since), "until": key_time(now),
                  "stories": len(docs), "watches": [name], "sent_at": key_time(now)}
        if not docs or not claim_day(index.state, f"{target}/{label}", record):
            continue
        summary = summary_doc("digest", [(d["story"], d["reason"]) for d in docs])
        queued.append(enqueue_notice(index.state, f"{name}/digest-{label}", "summary", summary, [target],
                                     now, watch=watches[name]))
        index.state.put(DIGEST_KIND, f"{target}/{label}", {**record, "status": "sent"})
    return queued
