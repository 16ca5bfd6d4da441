"""Run history: one document per site per crawl, kept in the index database.

Every crawl (``newsmon crawl``, a scheduled run, a child that crashed or timed
out) leaves one ``run`` document per site in ``backend.state``, keyed
``f"{site}/{started_utc_iso}/{run_id}"`` so a site's runs scan in time order.
Next to them a ``run_site`` document per site keeps the totals a status page
needs without scanning all history (runs, last run, last new article).

The crawl writes it (``crawler/runner.py``, ``crawler/child.py``, the scheduler);
``monitor/health.py`` and ``newsmon status`` read it, so it lives here, below both.
The counts a run document carries come from ``crawler/runs.py``'s
``RunQualityStats`` and the other reason-keyed counters (``netsafety.counters``).
"""
from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

logger = logging.getLogger("newsmon.runs")

RUN_KIND = "run"
SITE_KIND = "run_site"
# Exit statuses of a site's run; only "ok" breaks a failure streak.
OK, FAILED, STOPPED, TIMEOUT, CRASHED = "ok", "failed", "stopped", "timeout", "crashed"
BLOCKED = "blocked"     # every page it tried answered with an anti-bot challenge (crawler/challenge.py)
# The anti-bot challenges a run can be blocked by (its ``blocked`` counts), and what the
# monitoring team reads for each (health flags, the crawl summary).
RUISHU, JIASULE, WAF, CAPTCHA, SCRIPT_PAGE = "ruishu", "jiasule", "waf", "captcha", "script_page"
CHALLENGE_KINDS = (RUISHU, JIASULE, WAF, CAPTCHA, SCRIPT_PAGE)
CHALLENGE_LABELS = {RUISHU: "瑞数 412 验证", JIASULE: "加速乐 521 验证", CAPTCHA: "验证码页面",
                    WAF: "防火墙 403 拦截", SCRIPT_PAGE: "脚本验证页（无正文）"}
WORKER_ENV = "NEWSMON_WORKER_NAME"     # set by ``newsmon worker`` for its crawls: who ran a run
MISSED = "missed"       # the scheduler could not start it in time: not the site's failure
SKIPPED = "skipped"     # due while the site's previous run was still going (one run per site)
NOT_RUN = (MISSED, SKIPPED)
_COUNTS = ("pages_fetched", "article_pages_fetched", "articles_new", "articles_updated", "stories_new",
           "duplicates", "spam_quarantined", "not_modified", "unchanged_skipped")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """ISO UTC with milliseconds: one fixed width, so keys sort as times."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def run_key(site: str, started: str, run_id: str) -> str:
    return f"{site}/{started}/{run_id}"


@dataclass
class RunInfo:
    """Who started a crawl and when: passed down to the process that records it."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: str = field(default_factory=lambda: iso(utc_now()))
    trigger: str = "manual"               # "manual" (newsmon crawl) or "scheduled"
    scheduled_for: str | None = None      # the schedule's time this run serves
    coalesced: int = 0                    # missed run times folded into this one
    period_s: float | None = None         # the schedule's period (scheduled runs)


def site_status(counts: dict, finish_reason: str) -> str:
    if finish_reason == "shutdown":
        return STOPPED
    if finish_reason == "closespider_timeout":
        return TIMEOUT
    if finish_reason not in ("finished", ""):
        return FAILED
    # A site answered when it sent any page, or said "not changed" for one.
    answered = counts.get("pages_fetched", 0) + counts.get("not_modified", 0)
    # Challenged and no article page to show: blocked, never "empty" and never "no new article".
    if blocked_kinds(counts) and not any(counts.get(k, 0) for k in ("article_pages_fetched", "not_modified",
                                                                    "unchanged_skipped")):
        return BLOCKED
    return OK if answered else FAILED


def blocked_kinds(counts: dict) -> dict[str, int]:
    """``{kind: pages}`` of the challenges that stopped pages (``blocked/<kind>`` counts)."""
    return {k.split("/", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("blocked/") and v}


def fetch_rung(counts: dict) -> str:
    """How the site was read: ``browser`` when any page needed the real browser, else ``plain``."""
    return "browser" if counts.get("browser/pages") else "plain"


def run_doc(site: str, info: RunInfo, ended: str, counts: dict, status: str, **extra) -> dict:
    doc = {
        "site": site, "run_id": info.run_id, "started": info.started, "ended": ended,
        "duration_s": round((_parse(ended) - _parse(info.started)).total_seconds(), 2),
        "status": status, "trigger": info.trigger, "scheduled_for": info.scheduled_for,
        "coalesced": info.coalesced, "period_s": info.period_s,
        "worker": os.environ.get(WORKER_ENV) or None,      # None: this machine's scheduler ran it
        **{key: counts.get(key, 0) for key in _COUNTS},
        "errors": {k.split("/", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("errors/")},
        "quality": {k.split("/", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("quality/")},
        "blocked": blocked_kinds(counts), "rung": fetch_rung(counts),
        "browser": {k.split("/", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("browser/")},
        # robots.txt read through the fetch ladder: "browser", or "unreadable" (behind a challenge)
        "robots": {k.split("/", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("robots/")},
    }
    doc.update(extra)
    return doc


def record_run(state, doc: dict) -> None:
    """Store one site's run and fold it into the site's totals."""
    site = doc["site"]
    if not state.add(RUN_KIND, run_key(site, doc["started"], doc["run_id"]), doc):
        return                        # written before (a retried write): counted already
    totals = state.get(SITE_KIND, site) or {"site": site, "runs": 0, "last_new_article": None}
    if doc["status"] in NOT_RUN:      # in the history, so every scheduled time is accounted for
        state.put(SITE_KIND, site, {**totals, "last_not_run": doc["started"]})
        return
    totals["runs"] += 1
    totals.pop("retired", None)
    if not totals.get("last_run") or doc["started"] >= totals["last_run"]["started"]:
        totals["last_run"] = {k: doc.get(k) for k in ("run_id", "started", "ended", "status", "worker")}
        if doc["status"] not in (BLOCKED, FAILED, CRASHED, TIMEOUT, STOPPED):    # the rung that read it
            totals["rung"] = doc.get("rung", "plain")
    if doc.get("articles_new"):
        totals["last_new_article"] = max(filter(None, (totals.get("last_new_article"), doc["ended"])))
    state.put(SITE_KIND, site, totals)


def record_crawl(index_url: str | None, info: RunInfo, ended: str, per_site: dict[str, dict],
                 sites: list[str], finish_reason: str, message: str | None = None) -> list[dict]:
    """The run documents of one finished crawl, one per site, written to the index.
    ``message``: why it failed (e.g. the index's storage failure)."""
    extra = {"message": message} if message else {}
    docs = [run_doc(site, info, ended, per_site.get(site, {}), site_status(per_site.get(site, {}), finish_reason),
                    finish_reason=finish_reason, **extra)
            for site in sites]
    _write(index_url, docs)
    return docs


def record_failure(index_url: str | None, site: str, info: RunInfo, status: str, message: str,
                   exit_code: int | None = None) -> dict:
    """A run that left no record of its own (the process crashed or was killed)."""
    doc = run_doc(site, info, iso(utc_now()), {}, status, message=message, exit_code=exit_code)
    _write(index_url, [doc])
    return doc


def _write(index_url: str | None, docs: list[dict], attempts: int = 3) -> None:
    """Write run documents, retrying a busy index (another crawl's write transaction
    holds SQLite's lock for a while); an index that cannot take them costs the
    history, never the crawl, and says so on stderr."""
    from index import StorageBusy, StorageError, open_index
    for attempt in range(1, attempts + 1):
        try:
            with open_index(index_url) as index:
                for doc in docs:
                    record_run(index.state, doc)
            return
        except Exception as exc:  # noqa: BLE001 - the crawl's articles are safe (indexed or spooled)
            # a full disk or a read-only mount will not change in a second or two
            if attempt < attempts and not (isinstance(exc, StorageError) and not isinstance(exc, StorageBusy)):
                time.sleep(attempt)
                continue
            logger.error("run history not recorded for %s (%s): %s",
                         ", ".join(d["site"] for d in docs), docs[0]["status"] if docs else "-", exc)
            return


def retire_site(index_url: str | None, site: str) -> None:
    """The site left the sites file: its history stays, but it is no longer expected to run."""
    from index import open_index
    try:
        with open_index(index_url) as index:
            totals = index.state.get(SITE_KIND, site)
            if totals is not None:
                index.state.put(SITE_KIND, site, {**totals, "retired": iso(utc_now())})
    except Exception as exc:  # noqa: BLE001 - only the status page's "overdue" flag depends on it
        logger.warning("[%s] could not mark the site as removed from the schedule: %s", site, exc)


def get_run(index_url: str | None, site: str, info: RunInfo) -> dict | None:
    """The run document a crawl recorded, or None (also when the index cannot be read)."""
    from index import open_index
    try:
        with open_index(index_url) as index:
            return index.state.get(RUN_KIND, run_key(site, info.started, info.run_id))
    except Exception as exc:  # noqa: BLE001 - the caller records the run itself
        logger.warning("[%s] cannot read run %s back (%s)", site, info.run_id, exc)
        return None


def recent_runs(state, site: str, limit: int | None = 50) -> list[dict]:
    """A site's runs, newest first."""
    return [doc for _key, doc in state.scan(RUN_KIND, f"{site}/", reverse=True, limit=limit)]


def known_sites(state) -> list[str]:
    return [key for key, _doc in state.scan(SITE_KIND)]


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)
