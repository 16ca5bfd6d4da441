"""Alerts: one per story per watch, ever, delivered off the crawl's back -- never a flood.

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
   Then ``monitor.alert_policy`` routes it: a snoozed watch's match goes to the
   digest only; a match older than the watch's window (or than the watch), or past
   the crawl's burst cap, goes to the backlog (``monitor.backlog``), which the
   crawl's end folds into ONE summary message per watch (``flush_backlog``); a
   fresh match is an alert, due when the watch's quiet hours end, for each
   recipient still under its daily cap (past it: the digest).
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
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from index.base import ArticleRecord, IndexBackend, story_dict
from index.query import make_snippet
from monitor import outbox
from monitor.alert_policy import (BURST, CAPPED, FRESH, REASONS, SNOOZED, burst_cap, claim_slot, daily_cap,
                                  freshness, quiet_until, snoozed)
from monitor.backlog import add_backlog, claim_backlog, hold, prune_held, summarized
from monitor.delivery import DeliveryError, SMTPSettings, post_webhook, send_email
from monitor.matcher import WatchMatcher
from monitor.notices import (notice_email, recipient_footer, source_subject, source_text, summary_doc,
                             summary_subject, summary_text)
from monitor.outbox import (BACKOFF, DEAD_LETTER_KIND, OUTBOX_KIND, DeliveryReport,  # noqa: F401 - the alerts API
                            key_time, parse_key_time, utc_now)
from monitor.sitenames import site_titles
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


def alert_text(watch: Watch, story: dict, cap: int | None = None) -> str:
    """``cap``: this is the recipient's last alert of the day under that cap."""
    lines = [f"newsmon 监测提醒 · {watch.name}（{watch.query}）",
             story["title"],
             f"{story.get('site_title') or story['site']} · {when(story.get('published'))}",
             story["url"]]
    if story.get("snippet"):
        lines.append(story["snippet"])
    if cap:
        lines.append(f"（这是今天第 {cap} 条提醒，已达每日上限 {cap} 条：今天其余的匹配不再逐条提醒，"
                     "将出现在每日摘要中。）")
    return "\n".join(lines)


def message_id(watch: str, story_id: str, target: str) -> str:
    """The alert's stable id for one recipient: the same every time it is sent."""
    return hashlib.sha256(f"{watch}\n{story_id}\n{target}".encode("utf-8")).hexdigest()[:32]


def alert_email(watch: Watch, story: dict, to: str, sender: str | None = None,
                key: str | None = None, cap: int | None = None) -> EmailMessage:
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
    message.set_content(alert_text(watch, story, cap) + "\n\n-- \n" + recipient_footer(watch.name, to))
    return message


# -- 1-3: index time -------------------------------------------------------------------------

@dataclass
class Observed:
    new_story: bool = False
    alerts: list[str] = field(default_factory=list)      # "<watch>/<story_id>" queued as alerts now
    summarized: list[str] = field(default_factory=list)  # ... kept for the watch's summary
    to_digest: list[str] = field(default_factory=list)   # ... for the digest only (snoozed, or every recipient capped)


class AlertRecorder:
    """The index-time side: note new stories, record alerts, route and queue them.
    One recorder per crawl: its ``run`` tags the backlog it folds at the end."""

    def __init__(self, index: IndexBackend, *, reload_seconds: float = WATCH_RELOAD_SECONDS,
                 burst: int | None = None, cap: int | None = None):
        self.index = index
        self.state = index.state
        self.watches = WatchStore(index)
        self.reload_seconds = reload_seconds
        self.burst = burst_cap() if burst is None else burst
        self.cap = daily_cap() if cap is None else cap
        self.run = hashlib.sha256(f"{time.time_ns()}/{id(self)}".encode()).hexdigest()[:12]
        self._sent: dict[str, int] = {}         # watch -> immediate alerts this crawl
        self._matcher: WatchMatcher | None = None
        self._titles: dict[str, str] = {}      # site -> display name, reloaded with the watches
        self._loaded_at = 0.0

    def matcher(self) -> WatchMatcher:
        if self._matcher is None or time.monotonic() - self._loaded_at > self.reload_seconds:
            watches = [w for w in self.watches.list() if w.immediate]
            self._matcher, self._loaded_at = WatchMatcher(watches), time.monotonic()
            self._titles = site_titles(self.state)
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
            if self._titles.get(record.site):
                story["site_title"] = self._titles[record.site]     # shown instead of the site's name
            now = utc_now()
            if not self.state.add(ALERT_KIND, key, {
                    "watch": watch.name, "story_id": record.story_id, "title": story["title"],
                    "url": story["url"], "site": story["site"], "at": key_time(now)}):
                continue
            try:
                self.route(watch, record, story, key, seen_at, now, seen)
            except Exception:
                # Not routed: drop the mark, so the pipeline's second try routes it (never lost).
                self.state.delete(ALERT_KIND, key)
                raise
        return seen

    def route(self, watch: Watch, record: ArticleRecord, story: dict, key: str, seen_at: datetime,
              now: datetime, seen: Observed) -> None:
        """Snoozed -> digest; old or past the burst -> the summary; else an alert (see the module doc)."""
        if snoozed(watch.snoozed_until, now):
            for n, target in enumerate(targets(watch)):
                hold(self.state, watch.name, story, target, n, SNOOZED, now)
            seen.to_digest.append(key)
            return
        reason = freshness(record.published, seen_at, watch.created, watch.window_hours, now)
        if reason == FRESH and self.burst and self._sent.get(watch.name, 0) >= self.burst:
            reason = BURST
        if reason != FRESH:
            add_backlog(self.state, watch.name, story, reason, self.run, now)
            seen.summarized.append(key)
            return
        self._sent[watch.name] = self._sent.get(watch.name, 0) + 1
        queued = enqueue(self.state, watch, story, key, quiet_until(watch.quiet_hours, now), cap=self.cap)
        (seen.alerts if queued else seen.to_digest).append(key)

    def flush(self) -> list[str]:
        """This crawl's backlog as one summary per watch (the crawl's end calls it)."""
        return flush_backlog(self.index, run=self.run)


def targets(watch: Watch) -> list[str]:
    return [f"mailto:{a}" for a in watch.emails] + list(watch.webhooks)


def enqueue(state, watch: Watch, story: dict, alert_key: str, due: datetime | None = None, *,
            cap: int = 0) -> int:
    """Queue the alert for each recipient, due at ``due`` (now). ``cap``: each
    recipient's alerts per local day (0: no cap); a recipient past it gets the story
    in the digest instead, and its last alert says so. Returns how many were queued."""
    due = due or utc_now()
    due_text = key_time(due)
    queued = 0
    for n, target in enumerate(targets(watch)):
        slot = claim_slot(state, target, due, cap)
        if slot is None:
            hold(state, watch.name, story, target, n, CAPPED, utc_now())
            continue
        state.put(OUTBOX_KIND, f"{due_text}/{alert_key}/{n}", {
            "alert": alert_key, "target": target, "attempts": 0, "watch": watch.to_dict(),
            "story": story, "queued": due_text, "errors": [],
            "id": message_id(watch.name, story["story_id"], target),
            **({"last_of_day": cap} if cap and slot == cap - 1 else {})})
        queued += 1
    return queued


def enqueue_notice(state, name: str, kind: str, body: dict, recipients: list[str], due: datetime | None = None,
                   *, watch: Watch | None = None, start: int = 0) -> str:
    """Queue one message that is not a story (``kind`` ``summary`` or ``source``) for
    each recipient (numbered from ``start``); its id is stable (name + recipient), so
    a repeat is recognised."""
    due_text = key_time(due or utc_now())
    for n, target in enumerate(recipients, start):
        state.put(OUTBOX_KIND, f"{due_text}/{name}/{n}", {
            "alert": name, "kind": kind, kind: body, "target": target, "attempts": 0,
            "watch": watch.to_dict() if watch else None, "queued": due_text, "errors": [],
            "id": message_id(watch.name if watch else "", name, target)})
    return name


def flush_backlog(index: IndexBackend, *, run: str | None = None, now: datetime | None = None) -> list[str]:
    """Fold backlog records (a crawl's own at its end; else what has settled,
    ``monitor.backlog.claim_backlog``) into one summary per watch, due when the
    watch's quiet hours end. Returns the summaries queued."""
    now = now or utc_now()
    queued = []
    state, store = index.state, WatchStore(index)
    for name, docs in claim_backlog(state, run=run, now=now).items():
        watch = store.get(name)
        if watch is None or not targets(watch):          # removed meanwhile
            continue
        stories = [(doc["story"], doc["reason"]) for doc in docs]
        summary = summary_doc("backfill", stories, watch.window_hours)
        digest = hashlib.sha256("\n".join(sorted(s["story_id"] for s, _r in stories)).encode()).hexdigest()[:12]
        queued.append(enqueue_notice(state, f"{name}/summary-{digest}", "summary", summary, targets(watch),
                                     quiet_until(watch.quiet_hours, now), watch=watch))
        summarized(state, name, now)
        logger.info("监测「%s」：%d 条匹配不逐条提醒，汇总为一条消息（%s）", name, len(docs),
                    "，".join(f"{REASONS.get(r, r)} {n} 条" for r, n in summary["reasons"].items()))
    return queued


# -- 4: delivery --------------------------------------------------------------------------------

def deliver(entry: dict, smtp: SMTPSettings | None = None) -> None:
    """One outbox entry to its one target; ``DeliveryError`` if it did not go."""
    kind = entry.get("kind") or "story"
    if kind != "story":
        return _deliver_notice(entry, kind, smtp)
    watch, story, target = Watch.from_dict(entry["watch"]), entry["story"], entry["target"]
    key = entry.get("id") or message_id(watch.name, story["story_id"], target)
    cap = entry.get("last_of_day")
    if target.startswith("mailto:"):
        address = _address(target, watch.name)
        settings = smtp or SMTPSettings.from_env()
        send_email(alert_email(watch, story, address, settings.sender, key, cap), settings)
    else:
        payload = {"watch": watch.name, "query": watch.query, "story": story, "idempotency_key": key}
        if cap:
            payload["daily_cap_reached"] = cap
        post_webhook(target, alert_text(watch, story, cap), payload, key=key)


def _address(target: str, watch: str = "") -> str:
    try:      # stored before addresses were checked this strictly
        return check_email(target[len("mailto:"):], watch)
    except WatchError as exc:
        raise DeliveryError(str(exc), permanent=True) from None


def _deliver_notice(entry: dict, kind: str, smtp: SMTPSettings | None) -> None:
    """A summary or a source notice to its one target."""
    watch = Watch.from_dict(entry["watch"]) if entry.get("watch") else None
    body, target, key = entry[kind], entry["target"], entry["id"]
    if kind == "summary":
        subject, text = summary_subject(watch.name, body), summary_text(watch.name, watch.query, body)
        payload = {"watch": watch.name, "query": watch.query, "summary": body, "idempotency_key": key}
    else:
        subject, text = source_subject(body), source_text(body)
        payload = {"source": body, "idempotency_key": key, **({"watch": watch.name} if watch else {})}
    if target.startswith("mailto:"):
        settings = smtp or SMTPSettings.from_env()
        send_email(notice_email(subject, text, _address(target, watch.name if watch else ""), settings.sender,
                                key, watch=watch.name if watch else None), settings)
    else:
        post_webhook(target, text, payload, key=key)


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
    """The scheduler's delivery job: open the index, fold what crawls left in the
    backlog once it settled (``monitor.backlog``), send what is due, close."""
    from index import open_index
    from monitor.alert_policy import prune_quota
    with open_index(index_url) as index:
        flush_backlog(index)
        report = deliver_pending(index)
        prune_quota(index.state)
        prune_held(index.state, utc_now() - timedelta(days=8))     # digests look back 7 days at most
    if report.sent or report.retried or report.dead:
        logger.info("alert delivery: %s", report)
    return str(report)
