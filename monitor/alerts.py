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
   blocks or crashes the crawl and survives restarts.
4. ``deliver_pending`` (the crawl's delivery thread, the scheduler job and
   ``newsmon alerts deliver``) sends what is due. An entry is claimed by deleting
   it (atomic on both backends), so two processes never send it twice; a failed
   attempt is re-queued after ``BACKOFF``; when the attempts run out -- or the
   failure is permanent -- it becomes a ``dead_letter`` record.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from index.base import ArticleRecord, IndexBackend, story_dict
from index.query import make_snippet
from monitor.delivery import DeliveryError, SMTPSettings, post_webhook, send_email
from monitor.matcher import WatchMatcher
from monitor.text import when
from monitor.watches import Watch, WatchStore

logger = logging.getLogger("newsmon.alerts")

NEW_STORY_KIND = "new_story"
ALERT_KIND = "alert"
OUTBOX_KIND = "alert_outbox"
DEAD_LETTER_KIND = "dead_letter"
# Seconds to wait before attempts 2, 3, ...: six attempts over about eight hours.
BACKOFF = (60, 300, 1800, 7200, 21600)
WATCH_RELOAD_SECONDS = 30     # a crawl picks up watches added while it runs


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def key_time(moment: datetime) -> str:
    """UTC timestamps as they appear in state keys: fixed width, so keys sort by time."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_key_time(text: str) -> datetime:
    return datetime.strptime(text[:20], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


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


def alert_email(watch: Watch, story: dict, to: str, sender: str | None = None) -> EmailMessage:
    """A plain-text alert; the footer and List-Unsubscribe name the watch."""
    message = EmailMessage()
    message["Subject"] = f"[newsmon] {watch.name}: {story['title']}"
    message["To"] = to
    if sender:
        message["From"] = sender
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="newsmon")
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
            "story": story, "queued": due_text, "errors": []})


# -- 4: delivery --------------------------------------------------------------------------------

@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retried} to retry, {self.dead} dead-lettered"


def deliver(entry: dict, smtp: SMTPSettings | None = None) -> None:
    """One outbox entry to its one target; ``DeliveryError`` if it did not go."""
    watch, story, target = Watch.from_dict(entry["watch"]), entry["story"], entry["target"]
    if target.startswith("mailto:"):
        settings = smtp or SMTPSettings.from_env()
        send_email(alert_email(watch, story, target[len("mailto:"):], settings.sender), settings)
    else:
        payload = {"watch": watch.name, "query": watch.query, "story": story}
        post_webhook(target, alert_text(watch, story), payload)


def deliver_pending(index: IndexBackend, now: datetime | None = None, *, deadline: float | None = None,
                    smtp: SMTPSettings | None = None, batch: int = 100) -> DeliveryReport:
    """Send every outbox entry due at ``now``; stop early at ``deadline`` (a
    ``time.monotonic()`` value). Safe to run from several processes at once."""
    state = index.state
    now = now or utc_now()
    report = DeliveryReport()
    while True:
        entries = state.scan(OUTBOX_KIND, limit=batch)
        due = [(k, d) for k, d in entries if parse_key_time(k) <= now]
        for key, entry in due:
            if deadline is not None and time.monotonic() > deadline:
                return report
            if not state.delete(OUTBOX_KIND, key):
                continue      # another process claimed it
            _attempt(state, key, entry, now, smtp, report)
        if len(due) < len(entries) or len(entries) < batch:
            return report


def _attempt(state, key: str, entry: dict, now: datetime, smtp, report: DeliveryReport) -> None:
    attempts = entry.get("attempts", 0) + 1
    try:
        deliver(entry, smtp)
    except DeliveryError as exc:
        error = f"{key_time(now)} attempt {attempts}: {exc}"
        entry = {**entry, "attempts": attempts, "errors": (entry.get("errors") or [])[-9:] + [error]}
        report.errors.append(f"{entry['alert']} -> {entry['target']}: {exc}")
        if exc.permanent or attempts > len(BACKOFF):
            state.put(DEAD_LETTER_KIND, f"{key_time(now)}/{key.split('/', 1)[1]}",
                      {**entry, "dead_at": key_time(now), "reason": str(exc)})
            report.dead += 1
            logger.error("alert %s to %s dead-lettered after %d attempts: %s",
                         entry["alert"], entry["target"], attempts, exc)
            return
        retry_at = now + timedelta(seconds=BACKOFF[attempts - 1])
        state.put(OUTBOX_KIND, f"{key_time(retry_at)}/{key.split('/', 1)[1]}", entry)
        report.retried += 1
        logger.warning("alert %s to %s failed (attempt %d), retrying at %s: %s",
                       entry["alert"], entry["target"], attempts, key_time(retry_at), exc)
        return
    except Exception as exc:  # noqa: BLE001 - a bug in one message must not stop the others
        logger.exception("alert %s to %s crashed", entry.get("alert"), entry.get("target"))
        state.put(DEAD_LETTER_KIND, f"{key_time(now)}/{key.split('/', 1)[1]}",
                  {**entry, "attempts": attempts, "dead_at": key_time(now), "reason": repr(exc)})
        report.dead += 1
        return
    report.sent += 1
    logger.info("alert %s sent to %s", entry["alert"], entry["target"])


def pending(index: IndexBackend) -> list[tuple[str, dict]]:
    return index.state.scan(OUTBOX_KIND)


def dead_letters(index: IndexBackend) -> list[tuple[str, dict]]:
    return index.state.scan(DEAD_LETTER_KIND)


def requeue_dead(index: IndexBackend, now: datetime | None = None) -> int:
    """Put every dead letter back in the outbox, due now, with fresh attempts."""
    state, moved = index.state, 0
    due = key_time(now or utc_now())
    for key, entry in state.scan(DEAD_LETTER_KIND):
        if state.delete(DEAD_LETTER_KIND, key):
            rest = key.split("/", 1)[1]
            clean = {k: v for k, v in entry.items() if k not in ("dead_at", "reason")}
            state.put(OUTBOX_KIND, f"{due}/{rest}", {**clean, "attempts": 0})
            moved += 1
    return moved


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
