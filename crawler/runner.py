"""Run one crawl of some sites to completion, and summarize it.

Twisted's reactor runs once per process, so a crawl is one process: the CLI
calls ``run_crawl`` once; the scheduler starts each crawl in a child process
(``crawler/child.py``). Every crawl leaves its run history (``index/runs.py``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from index.runs import RunInfo, iso, record_crawl, utc_now
from crawler.sites import SiteConfig
from netsafety.counters import read_counts
from monitor.source_alerts import after_runs
from pipelines.stages import MISSING_EXTRACTOR_STAT, STORAGE_ERROR_STAT

SPIDER_NAME = "gov_news"        # spiders/government.py, found through SPIDER_MODULES as `scrapy crawl` does


@dataclass
class CrawlSummary:
    totals: dict[str, int]
    per_site: dict[str, dict[str, int]]
    sites: list[str]
    elapsed: float
    finish_reason: str = ""
    errors: dict[str, int] = field(default_factory=dict)
    runs: list[dict] = field(default_factory=list)     # the run history written for this crawl
    storage_error: str = ""     # why the index could not take the crawl's pages (the crawl stopped)
    missing_extractor: str = ""     # an extraction package that could not be imported (the crawl stopped)

    def get(self, key: str, site: str | None = None) -> int:
        source = self.per_site.get(site, {}) if site else self.totals
        return source.get(key, 0)

    def errors_for(self, site: str | None = None) -> dict[str, int]:
        source = self.per_site.get(site, {}) if site else self.totals
        return {k.split("/", 1)[1]: v for k, v in source.items() if k.startswith("errors/")}

    @property
    def ok(self) -> bool:
        """A crawl fails when no site answered at all, the index could not store its
        pages, or it crashed."""
        return (self.finish_reason in ("finished", "") and self.get("pages_fetched") > 0
                and not self.storage_error and not self.missing_extractor)

    @property
    def failed_sites(self) -> list[str]:
        """Sites that had errors and not one article page to show for them: every
        article page (or the list pages leading to them) failed. The crawl exits 1."""
        answered = ("article_pages_fetched", "not_modified", "unchanged_skipped")
        return [site for site in self.sites
                if self.errors_for(site) and not any(self.get(key, site) for key in answered)]

    def blocked_for(self, site: str | None = None) -> dict[str, int]:
        """Pages an anti-bot challenge kept from the crawl, by kind (crawler/challenge.py)."""
        source = self.per_site.get(site, {}) if site else self.totals
        return {k.split("/", 1)[1]: v for k, v in source.items() if k.startswith("blocked/") and v}

    def unchanged(self, site: str | None = None) -> int:
        """Known article pages not fetched again: 304 Not Modified, or known and the
        site sends no validators (``crawler/incremental.py``)."""
        return self.get("not_modified", site) + self.get("unchanged_skipped", site)

    def as_dict(self) -> dict:
        extra = {"storage_error": self.storage_error} if self.storage_error else {}
        if self.failed_sites:
            extra["failed_sites"] = self.failed_sites
        if self.missing_extractor:
            extra["missing_extractor"] = self.missing_extractor
        return {"elapsed_seconds": round(self.elapsed, 2), "finish_reason": self.finish_reason,
                "totals": self.totals, "sites": self.per_site, **extra}

    def format(self) -> str:
        cols = ("pages_fetched", "articles_indexed", "stories_new", "duplicates", "spam_quarantined")
        heads = ("pages", "articles", "stories", "duplicates", "spam", "unchanged")
        width = max([len(s) for s in self.sites] + [5])
        failed = self.failed_sites
        lines = [f"{'site':<{width}}  " + "  ".join(f"{h:>10}" for h in heads) + "  errors"]
        for site in self.sites + ["TOTAL"]:
            key = None if site == "TOTAL" else site
            errs = self.errors_for(key)
            err_text = ", ".join(f"{k} {v}" for k, v in sorted(errs.items())) or "-"
            if site in failed:
                err_text = "FAILED: " + err_text
            blocked = self.blocked_for(key)
            if blocked:
                from crawler.challenge import LABELS
                err_text = ("BLOCKED 被反爬验证拦截: " + ", ".join(f"{LABELS.get(k, k)} {v}" for k, v in blocked.items())
                            + ("" if err_text == "-" else "; " + err_text))
            counts = [self.get(c, key) for c in cols] + [self.unchanged(key)]
            lines.append(f"{site:<{width}}  " + "  ".join(f"{n:>10}" for n in counts) + f"  {err_text}")
        lines.append(f"crawl {self.finish_reason or 'finished'} in {self.elapsed:.1f}s"
                     + (f"; {len(failed)} of {len(self.sites)} sites FAILED (no article page fetched): "
                        + ", ".join(failed) if failed else ""))
        return "\n".join(lines)


def crawl_settings(index_url: str | None, sites: list[SiteConfig], extra: dict | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if index_url:
        settings.set("NEWSMON_INDEX", index_url, priority="cmdline")
    slots = {}
    for site in sites:
        slot = {}
        if site.download_delay is not None:
            slot["delay"] = site.download_delay
        if site.concurrency:
            slot["concurrency"] = site.concurrency
        if slot:
            slots[site.name] = slot
    settings.set("DOWNLOAD_SLOTS", slots, priority="cmdline")
    settings.set("NEWSMON_EXTRACT_OPTIONS", {s.name: s.extract_options() for s in sites}, priority="cmdline")
    for key, value in (extra or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(sites: list[SiteConfig], index_url: str | None = None, extra_settings: dict | None = None,
              jobdir: str | None = None, run: RunInfo | None = None) -> CrawlSummary:
    """One crawl to completion; records one run per site in the index's run history.

    ``jobdir``: a directory per site set and run; a crawl killed (even with SIGKILL)
    and run again with the same jobdir finishes that run (crawler/resume.py)."""
    resume = {"NEWSMON_JOBDIR": str(jobdir)} if jobdir else {}
    settings = crawl_settings(index_url, sites, {"LOG_INSTALL_ROOT_HANDLER": False, **resume,
                                                 **(extra_settings or {})})
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(SPIDER_NAME)     # by name, through SPIDER_MODULES: spiders/ sit above crawler/
    run = run or RunInfo()
    started = time.monotonic()
    process.crawl(crawler, sites=sites, max_list_depth=settings.getint("NEWSMON_MAX_LIST_DEPTH", 6))
    process.start()
    totals, per_site, finish_reason, message = crawl_outcome(crawler)
    names = [s.name for s in sites]
    runs = record_crawl(settings.get("NEWSMON_INDEX"), run, iso(utc_now()), per_site, names, finish_reason,
                        message=message or None)
    after_runs(settings.get("NEWSMON_INDEX"), runs)     # a site turned failing or blocked: one alert
    stats = crawler.stats.get_stats()
    return CrawlSummary(totals=totals, per_site=per_site, sites=names, elapsed=time.monotonic() - started,
                        finish_reason=finish_reason, runs=runs, storage_error=str(stats.get(STORAGE_ERROR_STAT) or ""),
                        missing_extractor=str(stats.get(MISSING_EXTRACTOR_STAT) or ""))


def crawl_outcome(crawler) -> tuple[dict, dict, str, str]:
    """A finished crawler's counts (totals, per site), finish reason and failure message."""
    stats = crawler.stats.get_stats()
    totals, per_site = read_counts(stats)
    finish_reason = str(stats.get("finish_reason", ""))
    storage_error = str(stats.get(STORAGE_ERROR_STAT) or "")
    if storage_error:       # (also when only the last commit, after "finished", failed)
        finish_reason = "storage_error"
    missing_extractor = str(stats.get(MISSING_EXTRACTOR_STAT) or "")
    if missing_extractor:
        finish_reason = "missing_extractor"
    return totals, per_site, finish_reason, storage_error or missing_extractor


# What a site run has to show for itself besides exceptions (its pages stored or known).
_STORED = ("articles_indexed", "spam_quarantined", "not_modified", "unchanged_skipped")


def record_site_run(crawler, site: str, run: RunInfo) -> list[dict]:
    """Record the run of a crawler that crawled one site (``crawler/sitebatch.py``).

    Besides ``record_crawl``'s rules, a run whose pages raised in the pipelines or
    the spider and stored nothing is "failed" (finish reason ``page_exceptions``):
    the site's pages break the crawl, which a monitoring team must hear about."""
    _totals, per_site, finish_reason, message = crawl_outcome(crawler)
    counts = per_site.get(site, {})
    raised = counts.get("errors/pipeline_exception", 0) + counts.get("errors/spider_exception", 0)
    if raised and finish_reason == "finished" and not any(counts.get(k) for k in _STORED):
        finish_reason = "page_exceptions"
        message = f"{raised} 个页面在处理时抛出异常，没有文章入库"
    index_url = crawler.settings.get("NEWSMON_INDEX")
    runs = record_crawl(index_url, run, iso(utc_now()), per_site, [site], finish_reason, message=message or None)
    after_runs(index_url, runs)
    return runs
