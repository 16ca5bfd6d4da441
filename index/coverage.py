"""Crawl coverage per site: did the site's runs reach the end of its lists?

One ``crawl_frontier`` document per site in ``backend.state`` (key: the site):

* ``complete_run``: start (UTC ISO) of the last run that genuinely reached the
  end of every list it paged (``crawler/coverage.py`` decides). Every article
  page recorded as seen carries the start of the run that first saw it, so
  "seen in or before ``complete_run``" is the frontier below which a list holds
  only known articles, however far new articles pushed it down since.
* ``status``: ``"complete"`` or ``"incomplete"``. A run writes ``incomplete``
  before its first seen page is saved and ``complete`` only at a genuine end; a
  run that stops any other way -- killed, budget, time limit, fetch errors, a
  crash -- leaves ``incomplete``, and the next runs page past known articles
  down to the frontier (backfill) until one completes.

Written by the crawl, read by source health (``monitor/health.py``).
"""
from __future__ import annotations

FRONTIER_KIND = "crawl_frontier"
COMPLETE, INCOMPLETE = "complete", "incomplete"


def read_frontier(state, site: str) -> dict:
    """The site's frontier document, ``{}`` for a site never crawled with one."""
    return state.get(FRONTIER_KIND, site) or {}


def frontier_sites(state) -> list[str]:
    return [key for key, _doc in state.scan(FRONTIER_KIND)]


def mark_incomplete(state, site: str, run: str, reason: str | None = None, before: dict | None = None,
                    running: bool = False) -> dict:
    """``run`` (its start) changes what is known without having reached the end (yet:
    ``running`` while it goes, and after it died without a word)."""
    before = read_frontier(state, site) if before is None else before
    doc = {"site": site, "status": INCOMPLETE, "run": run, "reason": reason, "running": running,
           "complete_run": before.get("complete_run"), "completed_at": before.get("completed_at"),
           # when backfill began: kept across a row of incomplete runs
           "since": before.get("since") if before.get("status") == INCOMPLETE else run}
    state.put(FRONTIER_KIND, site, doc)
    return doc


def mark_complete(state, site: str, run: str, ended: str) -> dict:
    doc = {"site": site, "status": COMPLETE, "run": run, "reason": None, "running": False,
           "complete_run": run, "completed_at": ended, "since": None}
    state.put(FRONTIER_KIND, site, doc)
    return doc


def backfilling(doc: dict) -> bool:
    return doc.get("status") == INCOMPLETE
