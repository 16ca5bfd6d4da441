"""Coverage that heals: after a run that did not reach the end of a site's lists,
the next runs page past known articles until they meet the frontier an earlier
run completed.

Stopping at a list page of known articles (``crawler/incremental.py``) is only
safe when everything below that page is known too. It is after a complete run:
lists run newest first, so what the complete run saw is one unbroken stretch
down to the end, and new articles only push it down. A run that stops early --
``kill -9``, the page budget, a time limit, fetch errors, a crash -- records
some articles and not the ones further down, and a later run that stopped at
the first page of known articles would never reach those.

So a list page stops paging only when each of its articles was first seen in or
before the site's last complete run (``index/coverage.py`` keeps its start in
the site's ``crawl_frontier`` document; each seen page keeps the start of the
run that first recorded it). The document says ``incomplete`` from a run's
start until that run ends genuinely complete; nothing has to be written for a
run that dies, so whatever ends it leaves the site in backfill.

While a site is in backfill, its known articles are not asked for again (they
were fetched; 304s would spend the page budget and a run would never get deeper
than the last one); dead links (404/410) still are.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone

from netsafety.counters import count, read_counts
from index.coverage import COMPLETE, mark_complete, mark_incomplete, read_frontier

logger = logging.getLogger("newsmon.crawl")

# Fetch failures the next run may not meet: whatever the failed page held or led to is not covered.
# Permanent ones (404, robots.txt, unsafe address, too large) are the site's answer and do not count.
TRANSIENT_FAILURES = frozenset({"dns", "timeout", "connection_refused", "connection_lost", "truncated", "tls",
                                "download_failed", "http_408", "http_429"})
ENDINGS = {"closespider_timeout": "运行达到时限被结束", "shutdown": "运行被中止",
           "closespider_pagecount": "达到抓取页数上限", "closespider_itemcount": "达到条目上限"}
RUNNING = "运行尚未结束，或被强行终止、崩溃"


def transient(reason: str) -> bool:
    return reason in TRANSIENT_FAILURES or reason.startswith("http_5")


def passes_over(crawler, site: str, url: str) -> bool:
    """For the spider: is ``url`` a known article a backfilling run does not ask for again?"""
    coverage = getattr(crawler, "_newsmon_coverage", None)
    return coverage is not None and coverage.pass_over(site, url)


class Coverage:
    """One crawl's view of its sites' frontiers (created with ``SeenPages``)."""

    def __init__(self, pages, stats):
        self.pages = pages            # crawler.incremental.SeenPages
        self.stats = stats
        self.run = pages.run_started
        self._at_start: dict[str, dict] = {}     # each site's document as this run found it
        self._announced: set[str] = set()
        self._item_errors: Counter[str] = Counter()

    def frontier(self, site: str) -> dict:
        doc = self._at_start.get(site)
        if doc is None:
            try:
                doc = read_frontier(self.pages.state, site)
            except Exception as exc:  # noqa: BLE001 - unreadable: page like a site never completed
                logger.warning("[%s] coverage state unreadable (%s): paging every list this run", site, exc)
                doc = {}
            self._at_start[site] = doc
        return doc

    def backfilling(self, site: str) -> bool:
        """No run has completed since the known pages were recorded (or ever)."""
        return self.frontier(site).get("status") != COMPLETE

    def at_frontier(self, site: str, urls: list[str]) -> bool:
        """Every article of a list page was known when the last complete run began."""
        complete = self.frontier(site).get("complete_run")
        if not complete:
            return False
        for url in urls:
            entry = self.pages.get(site, url)
            if entry is None or entry.get("seen", "") > complete:
                return False
        return True

    def pass_over(self, site: str, url: str) -> bool:
        if not self.backfilling(site):
            return False
        entry = self.pages.get(site, url)
        if entry is None or entry.get("outcome", "").startswith("gone"):
            return False
        count(self.stats, "backfill_known_passed", site)
        count(self.stats, "unchanged_skipped", site)     # known, not fetched again: the summary's "unchanged"
        return True

    def paging_past_known(self, site: str, list_url: str) -> None:
        if site in self._announced:
            return
        self._announced.add(site)
        count(self.stats, "backfill_paging", site)
        doc = self.frontier(site)
        depth = (f"直到 {_local(doc['complete_run'])} 那次完整运行时已有的文章"
                 if doc.get("complete_run") else "直到列表末页（此前没有运行完整翻完过列表）")
        logger.info("[%s] 补采中…：%s 列出的文章均已知，但上次运行没有翻完列表（%s），继续往后翻页，%s",
                    site, list_url, doc.get("reason") or "原因未记录", depth)

    def item_failed(self, site: str | None) -> None:
        if site:
            self._item_errors[site] += 1

    def start(self, sites: list[str]) -> None:
        """Before anything of this run is saved: from now on the known pages are not
        those of a complete run, until this one ends complete."""
        for site in sites:
            try:
                mark_incomplete(self.pages.state, site, self.run, RUNNING, before=self.frontier(site), running=True)
            except Exception as exc:  # noqa: BLE001 - only health reads it before the run ends
                logger.warning("[%s] coverage state not saved (%s)", site, exc)

    def finish(self, sites: list[str], finish_reason: str) -> None:
        """After the last seen pages are saved: complete, or why not (for the next run and health)."""
        _totals, per_site = read_counts(self.stats.get_stats())
        ended = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        for site in sites:
            why = self.why_incomplete(site, finish_reason, per_site.get(site, {}))
            try:
                if why is None:
                    mark_complete(self.pages.state, site, self.run, ended)
                    if self.backfilling(site) and self.frontier(site):
                        logger.info("[%s] 补采完成：本次运行已翻完列表，之后的运行翻到已知文章即停", site)
                else:
                    mark_incomplete(self.pages.state, site, self.run, why)
                    logger.warning("[%s] 本次运行没有完整覆盖列表（%s）：下次运行将越过已知文章继续补采", site, why)
            except Exception as exc:  # noqa: BLE001 - the next run then pages as the stored state says
                logger.warning("[%s] coverage state not saved (%s)", site, exc)

    def why_incomplete(self, site: str, finish_reason: str, counts: dict) -> str | None:
        if site in self.pages.unsaved:
            return "部分已抓取页面的记录未能保存"
        if finish_reason not in ("finished", ""):
            return ENDINGS.get(finish_reason, f"运行提前结束（{finish_reason}）")
        if counts.get("errors/page_budget_reached"):
            return "达到页面预算 max_pages"
        failed = {key.split("/", 1)[1]: n for key, n in sorted(counts.items())
                  if key.startswith("errors/") and transient(key.split("/", 1)[1])}
        if failed:
            return "抓取出错：" + "，".join(f"{reason} {n}" for reason, n in failed.items())
        if self._item_errors[site]:
            return f"{self._item_errors[site]} 个页面处理出错"
        return None


def _local(iso: str) -> str:
    """In NEWSMON_TZ (Beijing time by default), to the minute, as every time shown."""
    from monitor.clock import show
    return show(iso)
