"""Scheduled crawls run in crawl processes that serve many sites each.

``crawl_site`` is the job the scheduler runs (in a worker thread) for one due
site: it hands the run to a crawl process of the pool (``crawler/crawlpool.py``),
waits for it, asks the process to stop the site past its time limit, and
records a run itself when the process left none (it died, or the site's crawl
would not stop).

``python -m crawler.child --serve`` is such a process: it reads run requests
(JSON lines) on stdin and crawls each site, many at once, with
``crawler.sitebatch.SiteBatch``; ``python -m crawler.child --site NAME ...``
crawls one site once (the same code, one run).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from crawler.crawlpool import CrawlPool, describe_exit
from index.runs import CRASHED, FAILED, MISSED, STOPPED, TIMEOUT, RunInfo, get_run, iso, record_failure, utc_now
from monitor.clock import show
from monitor.source_alerts import after_runs

logger = logging.getLogger("newsmon.scheduler")

HARD_LIMIT_GRACE = 30.0     # seconds past the time limit before the site is stopped from outside
STOP_WAIT = 20.0            # seconds a stopping site gets to close its spider and record the run
ORPHAN_STOP_WAIT = 60.0     # seconds a stopping crawl process waits for its crawls before it exits anyway

RUNNING = CrawlPool()       # the daemon configures it (--crawl-processes, --sites-per-process)


def crawl_site(site: str, sites_file: str, index_url: str | None = None, time_limit: float = 3600.0,
               run: RunInfo | None = None, period_s: float | None = None) -> str:
    """Run one crawl of ``site`` in a crawl process and return its run status.

    Never raises for a failed crawl: every outcome is a run in the history."""
    if run is None:
        from crawler.scheduling import current_run
        run = current_run()
    run.period_s = run.period_s or period_s
    if RUNNING.stopping.is_set():      # due (or queued for a free slot) as the scheduler stops
        logger.warning("[%s] run due at %s not started: the scheduler is stopping", site, show(run.scheduled_for))
        record_failure(index_url, site, run, MISSED, "due while the scheduler was stopping; not started")
        return MISSED
    run.started = iso(utc_now())       # now, not when the job was queued: start - due is the scheduling lag
    return run_in_pool(RUNNING, site, sites_file, index_url, time_limit, run)


def run_in_pool(pool: CrawlPool, site: str, sites_file: str, index_url: str | None, time_limit: float,
                run: RunInfo, grace: float = HARD_LIMIT_GRACE, stop_wait: float = STOP_WAIT,
                reopen_index: bool = False) -> str:
    """Run ``run`` of ``site`` in a process of ``pool``, wait for it (stopping it ``grace``
    seconds past its time limit, then giving it ``stop_wait`` to record itself) and return
    its run status, recording one here when the process left none. The scheduler's job
    threads and a worker's task threads both come here (``reopen_index``: the process
    opens the index afresh once it has no run going; see ``SiteBatch``)."""
    message = {"op": "run", "site": site, "sites_file": str(sites_file), "index": index_url,
               "time_limit": time_limit, "run": asdict(run), "reopen_index": reopen_index}
    placed = pool.submit(site, run.run_id, message)
    if placed is None:
        record_failure(index_url, site, run, MISSED, "due while the scheduler was stopping; not started")
        return MISSED
    target, pending = placed
    note = f" (scheduled for {show(run.scheduled_for)}" + (f", {run.coalesced} missed runs folded in)" if run.coalesced
                                                     else ")") if run.scheduled_for else ""
    logger.info("[%s] crawl %s starting in process %d%s", site, run.run_id, target.pid, note)
    started = time.monotonic()
    timed_out = False
    try:
        if not pending.done.wait(time_limit + grace):
            timed_out = True
            logger.error("[%s] crawl %s still running %.0fs past its %.0fs limit: stopping it",
                         site, run.run_id, grace, time_limit)
            pool.stop(target, run.run_id)
            pending.done.wait(stop_wait)
    finally:
        pool.finished(target, pending)
    elapsed = time.monotonic() - started
    recorded = get_run(index_url, site, run)
    if recorded is not None:
        logger.info("[%s] crawl %s ended in %.1fs: %s", site, run.run_id, elapsed, recorded["status"])
        return recorded["status"]
    code = pending.exit_code
    if timed_out:
        status, message_text = TIMEOUT, f"stopped after {elapsed:.0f}s (time limit {time_limit:.0f}s)"
    elif pool.stopping.is_set():
        status, message_text = STOPPED, f"stopped with the scheduler ({describe_exit(code)})"
    else:
        status, message_text = CRASHED, f"crawl process exited with {describe_exit(code)} and recorded nothing"
    logger.log(logging.WARNING if status == STOPPED else logging.ERROR, "[%s] crawl %s %s: %s",
               site, run.run_id, status, message_text)
    after_runs(index_url, [record_failure(index_url, site, run, status, message_text, exit_code=code)])
    return status


class SitesFiles:
    """Sites files read by a serving process, read again only when they change."""

    KEEP = 16

    def __init__(self):
        self._cache: dict[str, tuple[float, object]] = {}

    def site(self, path: str, name: str):
        from crawler.sites import load_sites
        mtime = Path(path).stat().st_mtime
        cached = self._cache.get(path)
        if cached is None or cached[0] != mtime:
            cached = self._cache[path] = (mtime, load_sites(Path(path)))
            while len(self._cache) > self.KEEP:      # a worker writes a file per run: keep the last few
                del self._cache[next(iter(self._cache))]
        return cached[1].select([name])[0]


def serve() -> int:
    """Crawl the runs asked for on stdin, many at once; report each on stdout."""
    from scrapy.utils.reactor import install_reactor
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import reactor, threads

    from crawler.sitebatch import RunResult, SiteBatch, SiteRun
    from crawler.sites import SitesFileError

    # One of the pool's processes (and maybe of other machines'): an Elasticsearch index empty
    # at open may take others' writes too (index/elasticsearch/own_writes.py).
    os.environ["NEWSMON_ES_SHARED"] = "1"
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)                    # only results on the real stdout; stray prints go to the log
    batches: dict[str | None, SiteBatch] = {}
    sites = SitesFiles()
    state = {"open": 0, "eof": False, "stopping": False}

    def report(result: RunResult) -> None:
        out.write(json.dumps({"run_id": result.run_id, "site": result.site, "status": result.status}) + "\n")
        state["open"] -= 1
        maybe_exit()

    def maybe_exit() -> None:
        if (state["eof"] or state["stopping"]) and state["open"] == 0 and reactor.running:
            reactor.stop()

    def start(msg: dict) -> None:
        run = RunInfo(**msg["run"])
        index_url = msg.get("index")
        if state["stopping"]:
            return
        state["open"] += 1
        try:
            site = sites.site(msg["sites_file"], msg["site"])
        except (SitesFileError, OSError, IndexError) as exc:
            recorded = threads.deferToThread(record_failure, index_url, msg["site"], run, CRASHED,
                                             f"sites file unusable: {exc}", exit_code=2)
            recorded.addCallback(lambda doc: report(RunResult(msg["site"], run.run_id, doc["status"], doc)))
            return
        batch = batches.get(index_url) or batches.setdefault(index_url, SiteBatch(index_url))
        batch.reopen_when_idle = bool(msg.get("reopen_index"))
        batch.run(SiteRun(site, run, float(msg.get("time_limit", 3600.0)))).addCallback(report)

    def on_message(msg: dict) -> None:
        if msg.get("op") == "run":
            start(msg)
        elif msg.get("op") == "stop":
            for batch in batches.values():
                batch.stop(msg.get("run_id", ""))

    def on_eof() -> None:
        state["eof"] = True
        maybe_exit()

    def stop_all() -> None:
        if state["stopping"]:
            return
        state["stopping"] = True
        for batch in batches.values():
            batch.stop_all()
        maybe_exit()
        # a crawl that will not close must not keep the process (and its memory) forever
        reactor.callLater(ORPHAN_STOP_WAIT, lambda: reactor.running and reactor.stop())

    def on_sigterm(*_args) -> None:
        reactor.callFromThread(stop_all)

    parent = os.getppid()

    def check_parent() -> None:
        if os.getppid() != parent:          # the scheduler died (even kill -9): stop, record, exit
            logger.error("crawl process %d: the scheduler is gone; stopping its crawls", os.getpid())
            stop_all()

    def read_stdin() -> None:
        for line in sys.stdin:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            reactor.callFromThread(on_message, msg)
        reactor.callFromThread(on_eof)

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)
    threading.Thread(target=read_stdin, name="run-requests", daemon=True).start()
    from twisted.internet.task import LoopingCall
    LoopingCall(check_parent).start(5.0, now=False)
    reactor.run(installSignalHandlers=False)
    for batch in batches.values():
        batch.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    from crawler.logsetup import configure_logging
    from crawler.sitebatch import SiteRun, run_site_batch
    from crawler.sites import SitesFileError, load_sites

    parser = argparse.ArgumentParser(prog="python -m crawler.child", description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true", help="serve run requests (JSON lines) on stdin")
    parser.add_argument("--sites")
    parser.add_argument("--site")
    parser.add_argument("--index")
    parser.add_argument("--run-id")
    parser.add_argument("--started")
    parser.add_argument("--trigger", default="scheduled")
    parser.add_argument("--scheduled-for")
    parser.add_argument("--coalesced", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=3600.0)
    parser.add_argument("--period", type=float)
    args = parser.parse_args(argv)
    # Its lines join the scheduler's log: the same stamp (date and time in NEWSMON_TZ).
    configure_logging(quiet=os.environ.get("NEWSMON_CHILD_QUIET") == "1", datefmt="%Y-%m-%d %H:%M:%S")
    from pipelines.requirements import MissingExtractor, check_extractors
    if args.serve:
        try:
            check_extractors()      # (checked when the scheduler started; a package may have gone since)
        except MissingExtractor as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 2
        return serve()
    if not (args.sites and args.site and args.run_id and args.started):
        parser.error("--sites, --site, --run-id and --started are required (or --serve)")
    run = RunInfo(run_id=args.run_id, started=args.started, trigger=args.trigger,
                  scheduled_for=args.scheduled_for, coalesced=args.coalesced, period_s=args.period)
    try:
        [site] = load_sites(Path(args.sites)).select([args.site])
        check_extractors()
    except SitesFileError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        record_failure(args.index, args.site, run, CRASHED, f"sites file unusable: {exc}", exit_code=2)
        return 2
    except MissingExtractor as exc:
        print(f"Error: {exc}", file=sys.stderr)
        record_failure(args.index, args.site, run, FAILED, str(exc), exit_code=2)
        return 2
    [result] = run_site_batch([SiteRun(site, run, args.time_limit)], args.index)
    doc = result.doc
    logger.info("[%s] run %s: %s, %d pages, %d new articles, %d unchanged, finished at %s",
                args.site, run.run_id, doc.get("status"), doc.get("pages_fetched", 0),
                doc.get("articles_new", 0), doc.get("not_modified", 0), show(iso(utc_now())))
    return 0 if doc.get("status") == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
