"""The alert outbox: at-least-once delivery of queued messages, off the crawl's back.

Entries live in the state store (kind ``alert_outbox``) keyed ``<due UTC>/<rest>``
(``rest`` = ``<watch>/<story_id>/<n>``), so a scan in key order reads the due ones first.

1. Claim: a due entry is moved to ``<claim time + LEASE>/<rest>`` -- ``add`` of the
   new key, then ``delete`` of the old one, both atomic on either backend. Whoever
   deletes the old key owns the entry; a loser removes its copy. The entry stays in
   the store while it is sent, so a process that dies mid-send (kill -9, a crawl's
   exit) leaves it to come due again when its lease ends. Every claim counts as an
   attempt, so an entry that keeps killing its sender is dead-lettered in the end.
2. Send, within a total deadline (``monitor.delivery``), with a stable message id so
   a receiver recognises the repeat that a death mid-send causes.
3. Settle: sent -> delete the lease; failed -> put the retry (``BACKOFF``) or the
   dead letter first, then delete the lease. A crash in between leaves a
   duplicate, never a loss.
4. Lanes: entries go out concurrently on a few daemon threads, one lane per
   webhook URL and ``SMTP_LANES`` for email, each lane in order. When a lane's
   receiver cannot be reached or does not answer in time, its other entries move
   to the same retry time unsent, so a hanging receiver holds one thread once per
   run, never the other receivers. Daemon threads, not ``concurrent.futures``,
   whose exit hook would hold the crawl's exit until every send had ended.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from monitor.clock import show
from monitor.delivery import DeliveryError

logger = logging.getLogger("newsmon.alerts")

OUTBOX_KIND = "alert_outbox"
DEAD_LETTER_KIND = "dead_letter"
# Seconds to wait before attempts 2, 3, ...: six attempts over about eight hours.
BACKOFF = (60, 300, 1800, 7200, 21600)
# A claim's lease: longer than one send's deadline (monitor.delivery.DEADLINE) and
# the state writes around it; a dead sender's entries come back after this.
LEASE_SECONDS = 120
WORKERS = 8               # sends at once
SMTP_LANES = 2            # of them at most this many to the one mail server
SCAN_LIMIT = 1000         # entries read per look
RESCAN_SECONDS = 1.0      # how often a run looks for entries come due while it sends


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def key_time(moment: datetime) -> str:
    """UTC timestamps as they appear in state keys: fixed width, so keys sort by time."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_key_time(text: str) -> datetime:
    return datetime.strptime(text[:20], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def rest_of(key: str) -> str:
    return key.split("/", 1)[1]


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)
    cut_short: bool = False       # the deadline came with sends still running (their leases keep them)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, what: str, error: str | None = None) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)
            if error:
                self.errors.append(error)

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retried} to retry, {self.dead} dead-lettered"


Send = Callable[[dict], None]          # one entry to its target; DeliveryError if it did not go


class _Run:
    """One pass over the due entries: the clock, the deadline and the tally."""

    def __init__(self, state, now: datetime, deadline, send: Send):
        self.state, self.send = state, send
        self.report = DeliveryReport()
        self._start, self._started = now, time.monotonic()
        self._deadline = deadline
        self.owner = f"{socket.gethostname()}:{os.getpid()}"

    def now(self) -> datetime:
        """The run's ``now``, advancing with the run (a lease starts when its send does)."""
        return self._start + timedelta(seconds=time.monotonic() - self._started)

    def over(self) -> bool:
        deadline = self._deadline() if callable(self._deadline) else self._deadline
        return deadline is not None and time.monotonic() > deadline

    # -- 1. claim ------------------------------------------------------------------------

    def move(self, key: str, new_key: str, entry: dict) -> bool:
        """Move an entry, if nobody else moved it first (copy first: never lost)."""
        if not self.state.add(OUTBOX_KIND, new_key, entry):
            return False
        if not self.state.delete(OUTBOX_KIND, key):
            self.state.delete(OUTBOX_KIND, new_key)
            return False
        return True

    def claim(self, key: str, entry: dict) -> tuple[str, dict] | None:
        now = self.now()
        attempts = entry.get("attempts", 0) + 1
        errors = list(entry.get("errors") or [])
        if entry.get("lease"):      # claimed before, and that sender never settled it
            errors = errors[-9:] + [f"{key_time(now)} attempt {attempts - 1}: 发送中途投递进程退出（租约到期）"]
        claimed = {**entry, "attempts": attempts, "errors": errors,
                   "lease": {"until": key_time(now + timedelta(seconds=LEASE_SECONDS)), "by": self.owner}}
        lease_key = f"{claimed['lease']['until']}/{rest_of(key)}"
        if not self.move(key, lease_key, claimed):
            return None
        if attempts > len(BACKOFF) + 1:         # every attempt died with its sender
            self.dead_letter(lease_key, claimed, "每次投递都在发送中途退出，不再重试")
            return None
        return lease_key, claimed

    # -- 3. settle -----------------------------------------------------------------------

    def dead_letter(self, key: str, entry: dict, reason: str) -> None:
        now = key_time(self.now())
        letter = {k: v for k, v in entry.items() if k != "lease"}
        self.state.put(DEAD_LETTER_KIND, f"{now}/{rest_of(key)}", {**letter, "dead_at": now, "reason": reason})
        self.state.delete(OUTBOX_KIND, key)
        self.report.add("dead", f"{entry['alert']} -> {entry['target']}: {reason}")
        logger.error("alert %s to %s dead-lettered after %d attempts: %s",
                     entry["alert"], entry["target"], entry.get("attempts", 0), reason)

    def attempt(self, key: str, entry: dict) -> DeliveryError | None:
        """Send one claimed entry and settle it; the error if it failed."""
        try:
            self.send(entry)
        except DeliveryError as exc:
            self.failed(key, entry, exc)
            return exc
        except Exception as exc:  # noqa: BLE001 - a bug in one message must not stop the others
            logger.exception("alert %s to %s crashed", entry.get("alert"), entry.get("target"))
            self.dead_letter(key, entry, repr(exc))
            return DeliveryError(repr(exc), permanent=True)
        self.state.delete(OUTBOX_KIND, key)
        self.report.add("sent")
        logger.info("alert %s sent to %s", entry["alert"], entry["target"])
        return None

    def failed(self, key: str, entry: dict, exc: DeliveryError) -> None:
        now, attempts = self.now(), entry["attempts"]
        entry = {k: v for k, v in entry.items() if k != "lease"}
        entry["errors"] = (entry.get("errors") or [])[-9:] + [f"{key_time(now)} attempt {attempts}: {exc}"]
        if exc.permanent or attempts > len(BACKOFF):
            self.dead_letter(key, entry, str(exc))
            return
        retry_at = key_time(now + timedelta(seconds=BACKOFF[attempts - 1]))
        retry_key = f"{retry_at}/{rest_of(key)}"
        self.state.put(OUTBOX_KIND, retry_key, entry)
        if retry_key != key:        # the lease's own time: the put replaced it
            self.state.delete(OUTBOX_KIND, key)
        self.report.add("retried", f"{entry['alert']} -> {entry['target']}: {exc}")
        logger.warning("alert %s to %s failed (attempt %d), retrying at %s: %s",
                       entry["alert"], entry["target"], attempts, show(retry_at), exc)

    # -- 4. lanes --------------------------------------------------------------------------

    def one(self, key: str, entry: dict, held_until: str | None) -> str | None:
        """Claim, send and settle one entry of a lane; returns the lane's new hold."""
        if held_until is not None:
            self.move(key, f"{held_until}/{rest_of(key)}", entry)
            return held_until
        claimed = self.claim(key, entry)
        if claimed is None:
            return None
        error = self.attempt(*claimed)
        if error is None or not error.unreachable or error.permanent:
            return None
        # until the failed entry's own retry: one try per backoff step, not one per run
        wait = BACKOFF[min(claimed[1]["attempts"], len(BACKOFF)) - 1]
        return key_time(self.now() + timedelta(seconds=wait))


def lane_of(entry: dict) -> str:
    target = entry["target"]
    if target.startswith("mailto:"):
        return f"smtp/{zlib.crc32(target.encode('utf-8')) % SMTP_LANES}"
    return target


class _Lanes:
    """Entries queued per lane, each lane worked in order by one of at most
    ``workers`` daemon threads; entries offered while a lane runs join its queue."""

    def __init__(self, run: _Run, workers: int):
        self.run, self.workers = run, workers
        self._queues: dict[str, deque] = {}
        self._held: dict[str, str | None] = {}
        self._ready: deque = deque()          # lanes waiting for a thread
        self._active: set[str] = set()
        self._threads = 0
        self._lock = threading.Lock()

    def offer(self, key: str, entry: dict) -> None:
        lane = lane_of(entry)
        with self._lock:
            self._queues.setdefault(lane, deque()).append((key, entry))
            if lane in self._active:
                return
            self._active.add(lane)
            self._ready.append(lane)
            if self._threads < self.workers:
                self._threads += 1
                threading.Thread(target=self._work, name=f"newsmon-alert-send-{self._threads}",
                                 daemon=True).start()

    def idle(self) -> bool:
        with self._lock:
            return not self._active

    def _next(self, lane: str | None) -> tuple[str | None, tuple | None]:
        """The lane's next entry, or the next ready lane's; (None, None): no work left."""
        with self._lock:
            while True:
                if lane is not None and self._queues[lane] and not self.run.over():
                    return lane, self._queues[lane].popleft()
                if lane is not None:
                    self._active.discard(lane)
                    self._queues[lane].clear()        # after the deadline: left due for the next run
                if not self._ready:
                    self._threads -= 1
                    return None, None
                lane = self._ready.popleft()

    def _work(self) -> None:
        lane, item = self._next(None)
        while lane is not None:
            try:
                self._held[lane] = self.run.one(*item, self._held.get(lane))
            except Exception as exc:  # noqa: BLE001 - e.g. the index went away: the lane waits
                logger.error("alert delivery to %s paused (the queue is kept): %s", lane, exc)
                with self._lock:
                    self._queues[lane].clear()
            lane, item = self._next(lane)


def deliver_due(state, send: Send, now: datetime | None = None, *, deadline=None,
                workers: int = WORKERS) -> DeliveryReport:
    """Send every outbox entry due at ``now``, and what comes due while sending.
    ``deadline``: a ``time.monotonic()`` value, or a function returning one (or
    None), after which no send starts and this returns. Safe to run from several
    processes at once."""
    run = _Run(state, now or utc_now(), deadline, send)
    lanes = _Lanes(run, workers)
    seen: set[str] = set()
    while not run.over():
        # Entries seen but still due (claimed elsewhere, or waiting in a busy lane) stay in front.
        entries = state.scan(OUTBOX_KIND, limit=SCAN_LIMIT + len(seen))
        cutoff = run.now()
        due = [(k, e) for k, e in entries if parse_key_time(k) <= cutoff and k not in seen]
        for key, entry in due:
            seen.add(key)
            lanes.offer(key, entry)
        if not due and lanes.idle():
            break
        # Look again while lanes run: alerts queued meanwhile go out without waiting
        # for a slow lane, as long as their own lane is free.
        _wait(lanes.idle, RESCAN_SECONDS, run.over)
    run.report.cut_short = not lanes.idle()
    return run.report


def _wait(done: Callable[[], bool], seconds: float, over: Callable[[], bool]) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until and not done() and not over():
        time.sleep(0.05)


def requeue_dead(state, now: datetime | None = None) -> int:
    """Put every dead letter back in the outbox, due now, with fresh attempts."""
    moved = 0
    due = key_time(now or utc_now())
    for key, entry in state.scan(DEAD_LETTER_KIND):
        clean = {k: v for k, v in entry.items() if k not in ("dead_at", "reason", "lease")}
        if state.add(OUTBOX_KIND, f"{due}/{rest_of(key)}", {**clean, "attempts": 0}):
            state.delete(DEAD_LETTER_KIND, key)       # queued first: a crash leaves both, not neither
            moved += 1
    return moved
