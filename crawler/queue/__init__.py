"""Several machines: site runs, alert delivery and digests as Celery tasks on a Redis broker.

Without ``NEWSMON_BROKER`` nothing here runs and the scheduler starts crawls as
local child processes. With ``NEWSMON_BROKER=redis://host:6379/0``:

1. the scheduler stays the only leader (APScheduler decides what is due) and
   sends one task per due site run, alert delivery or digest (``dispatch.py``);
2. ``newsmon worker`` on any machine takes tasks one at a time (``worker.py``),
   acknowledging each only when it is done, so a task whose worker died goes
   back to the queue once the broker's visibility timeout has passed;
3. a per-site lock in Redis with a short expiry, renewed while the run goes on
   (``locks.py``), keeps one site from being crawled twice at once; a dead
   worker's lock lapses by itself; a run that finished is marked done, so a
   late second delivery of it does nothing (``tasks.py``).

Elasticsearch is the shared index then: a SQLite URL is refused.
"""
from __future__ import annotations

import os

BROKER_ENV = "NEWSMON_BROKER"


def broker_url() -> str | None:
    """The configured broker URL, or None to run everything on this machine."""
    return (os.environ.get(BROKER_ENV) or "").strip() or None
