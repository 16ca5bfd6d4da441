"""Alerts: one per story per watch, ever, delivered off the crawl's back.

1. At index time (``AlertRecorder.observe``, called by ``pipelines.alerts``) each
   indexed page that is not a re-crawl is matched against every watch with the
   Aho–Corasick pre-filter (``monitor.matcher``) on its normalized text, in
   Python, so both backends alert alike. A new story is also noted (kind
   ``new_story``, key ``<first seen UTC>/<story_id>``) for the digest.
2. A hit is recorded with ``state.add("alert", "<watch>/<story_id>")``, which is
   atomic: the first copy of a story that matches a watch wins; later copies,
   re-crawls, restarts and a second crawler process find the record and send
   nothing. (A story whose origin did not match but whose later copy does is
   alerted once then -- the same story ``search`` would list.)
3. Each recipient of a recorded alert gets an outbox entry (kind
   ``alert_outbox``, key ``<due UTC>/<watch>/<story_id>/<n>``), so delivery never
   blocks or crashes the crawl and survives restarts. The entry carries the
   message's stable id (``message_id``: watch, story, recipient), sent as the
   email's ``Message-ID`` and the webhook's ``Idempotency-Key``, so a receiver
   recognises a message sent twice.
4. ``deliver_pending`` (the crawl's delivery thread, the scheduler job and
   ``newsmon alerts deliver``) sends what is due, at least once: an entry is
   claimed with a lease and removed only after it went (``monitor.outbox``); a
   failed attempt is re-queued after ``BACKOFF``; when the attempts run out -- or
   the failure is permanent -- it becomes a ``dead_letter`` record.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from index.base import ArticleRecord, IndexBackend, story_dict
from index.query import make_snippet
from monitor import outbox
from monitor.delivery import DeliveryError, SMTPSettings, post_webhook, send_email
from monitor.matcher import WatchMatcher
from monitor.outbox import (BACKOFF, DEAD_LETTER_KIND, OUTBOX_KIND, DeliveryReport,  # noqa: F401 - the alerts API
                            key_time, parse_key_time, utc_now)
from monitor.text import when
from monitor.watches import Watch, WatchError, WatchStore, check_email

logger = logging.getLogger("newsmon.alerts")

NEW_STORY_KIND = "new_story"
ALERT_KIND = "alert"
WATCH_RELOAD_SECONDS = 30     # a crawl picks up watches added while it runs


def first_seen(record: ArticleRecord) -> datetime:
    try:
        moment = datetime.fromisoformat(record.fetched_at)
    except (TypeError, ValueError):
        return utc_now()
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# -- what an alert says -------------------------------------------------------------------

def alert_story(watch: Watch, record: ArticleRecord) -> dict:
    """The story as ``search --json`` shows it, from the copy that matched."""
    return story_dict([record], make_snippet(record.text, watch.parsed.positive_terms))


def alert_text(watch: Watch, story: dict) -> str:
    lines = [f"newsmon 监测提醒 · {watch.name}（{watch.query}）",
             story["title"],
             f"{story['site']} · {when(story.get('published'))}",
             story["url"]]
    if story.get("snippet"):
        lines.append(story["snippet"])
    return "\n".join(lines)


def message_id(watch: str, story_id: str, target: str) -> str:
    """The alert's stable id for one recipient: the same every time it is sent."""
    return hashlib.sha256(f"{watch}\n{story_id}\n{target}".encode("utf-8")).hexdigest()[:32]


def alert_email(watch: Watch, story: dict, to: str, sender: str | None = None,
                key: str | None = None) -> EmailMessage:
    """A plain-text alert; the footer and List-Unsubscribe name the watch."""
    key = key or message_id(watch.name, story["story_id"], f"mailto:{to}")
    message = EmailMessage()
    message["Subject"] = f"[newsmon] {watch.name}: {story['title']}"
    message["To"] = to
    if sender:
        message["From"] = sender
    message["Date"] = formatdate(localtime=False)
    # Stable, so a mail client shows a repeat (after a crash mid-send) as one message.
    domain = parseaddr(sender or "")[1].rpartition("@")[2]
    message["Message-ID"] = f"<alert.{key}@{domain or 'newsmon'}>"
    message["List-Id"] = f"newsmon watch {watch.name}"
    message["X-Newsmon-Watch"] = watch.name           # for mail filters (and tests)
    message["X-Newsmon-Story"] = story["story_id"]
    message["List-Unsubscribe"] = f"<mailto:{sender or 'newsmon'}?subject=unsubscribe%20{watch.name}>"
    message.set_content(alert_text(watch, story) + "\n\n-- \n"
                        f"You get this because the newsmon watch '{watch.name}' lists {to}.\n"
                        f"Stop it: newsmon watch remove {watch.name}\n")
    return message


# -- 1-3: index time -------------------------------------------------------------------------

@dataclass
class Observed:
    new_story: bool = False
    alerts: list[str] = field(default_factory=list)      # "<watch>/<story_id>" recorded now


class AlertRecorder:
    """The index-time side: note new stories, record alerts, queue deliveries."""

    def __init__(self, index: IndexBackend, *, reload_seconds: float = WATCH_RELOAD_SECONDS):
        self.state = index.state
        self.watches = WatchStore(index)
        self.reload_seconds = reload_seconds
        self._matcher: WatchMatcher | None = None
        self._loaded_at = 0.0

    def matcher(self) -> WatchMatcher:
        if self._matcher is None or time.monotonic() - self._loaded_at > self.reload_seconds:
            watches = [w for w in self.watches.list() if w.immediate]
            self._matcher, self._loaded_at = WatchMatcher(watches), time.monotonic()
        return self._matcher

    def observe(self, record: ArticleRecord, *, new_story: bool, recrawl: bool) -> Observed:
        """``new_story``: this page started a story; ``recrawl``: the same page again
        (nothing to do: it was observed when first seen)."""
        seen = Observed()
        if recrawl:
            return seen
        seen_at = first_seen(record)
        if new_story:
            seen.new_story = self.state.add(NEW_STORY_KIND, f"{key_time(seen_at)}/{record.story_id}", {
                "story_id": record.story_id, "first_seen": key_time(seen_at), "site": record.site,
                "title": record.title[:200]})
        for watch in self.matcher().match_record(record):
            key = f"{watch.name}/{record.story_id}"
            story = alert_story(watch, record)
            if not self.state.add(ALERT_KIND, key, {
                    "watch": watch.name, "story_id": record.story_id, "title": story["title"],
                    "url": story["url"], "site": story["site"], "at": key_time(utc_now())}):
                continue
            seen.alerts.append(key)
            enqueue(self.state, watch, story, key)
        return seen


def targets(watch: Watch) -> list[str]:
    return [f"mailto:{a}" for a in watch.emails] + list(watch.webhooks)


def enqueue(state, watch: Watch, story: dict, alert_key: str, due: datetime | None = None) -> None:
    due_text = key_time(due or utc_now())
    for n, target in enumerate(targets(watch)):
        state.put(OUTBOX_KIND, f"{due_text}/{alert_key}/{n}", {
            "alert": alert_key, "target": target, "attempts": 0, "watch": watch.to_dict(),
            "story": story, "queued": due_text, "errors": [],
            "id": message_id(watch.name, story["story_id"], target)})


# -- 4: delivery --------------------------------------------------------------------------------

def deliver(entry: dict, smtp: SMTPSettings | None = None) -> None:
    """One outbox entry to its one target; ``DeliveryError`` if it did not go."""
    watch, story, target = Watch.from_dict(entry["watch"]), entry["story"], entry["target"]
    key = entry.get("id") or message_id(watch.name, story["story_id"], target)
    if target.startswith("mailto:"):
        try:      # stored before addresses were checked this strictly
            address = check_email(target[len("mailto:"):], watch.name)
        except WatchError as exc:
            raise DeliveryError(str(exc), permanent=True) from None
        settings = smtp or SMTPSettings.from_env()
        send_email(alert_email(watch, story, address, settings.sender, key), settings)
    else:
        payload = {"watch": watch.name, "query": watch.query, "story": story, "idempotency_key": key}
        post_webhook(target, alert_text(watch, story), payload, key=key)


def deliver_pending(index: IndexBackend, now: datetime | None = None, *, deadline=None,
                    smtp: SMTPSettings | None = None) -> DeliveryReport:
    """Send every outbox entry due at ``now``; stop early at ``deadline`` (a
    ``time.monotonic()`` value, or a function returning one). Safe to run from
    several processes at once."""
    return outbox.deliver_due(index.state, lambda entry: deliver(entry, smtp), now, deadline=deadline)


def pending(index: IndexBackend) -> list[tuple[str, dict]]:
    return index.state.scan(OUTBOX_KIND)


def dead_letters(index: IndexBackend) -> list[tuple[str, dict]]:
    return index.state.scan(DEAD_LETTER_KIND)


def requeue_dead(index: IndexBackend, now: datetime | None = None) -> int:
    """Put every dead letter back in the outbox, due now, with fresh attempts."""
    return outbox.requeue_dead(index.state, now)


def deliver_pending_job(index_url: str | None = None) -> str:
    """The scheduler's delivery job: open the index, send what is due, close."""
    from index import open_index
    index = open_index(index_url)
    try:
        report = deliver_pending(index)
    finally:
        index.close()
    if report.sent or report.retried or report.dead:
        logger.info("alert delivery: %s", report)
    return str(report)
