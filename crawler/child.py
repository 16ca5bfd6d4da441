"""One scheduled crawl of one site, in a child process of its own.

Twisted's reactor cannot be restarted, and a crawl that hangs or crashes must
not take the scheduler down, so each run is ``python -m crawler.child ...``:
the child runs ``run_crawl`` (which records the run) with Scrapy's own
``CLOSESPIDER_TIMEOUT`` as the time limit; the parent (``crawl_site``, the job
the scheduler runs in a worker thread) waits, stops it past the limit, and
records a run itself when the child left none (crashed, killed, timed out).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from index.runs import CRASHED, FAILED, MISSED, STOPPED, TIMEOUT, RunInfo, get_run, iso, record_failure
from monitor.clock import show
from monitor.source_alerts import after_runs

logger = logging.getLogger("newsmon.scheduler")

HARD_LIMIT_GRACE = 30.0     # seconds past the time limit before the child is stopped from outside
STOP_WAIT = 20.0            # seconds a stopping child gets to close its spider and record the run


class RunningChildren:
    """The crawl processes running now, so a scheduler shutdown can stop them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._procs: dict[int, tuple[str, subprocess.Popen]] = {}
        self.stopping = threading.Event()

    def add(self, site: str, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs[proc.pid] = (site, proc)
        if self.stopping.is_set():      # started while the scheduler was stopping
            _signal(proc, signal.SIGTERM)

    def remove(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.pop(proc.pid, None)

    def stop_all(self, wait: float = STOP_WAIT) -> None:
        """SIGTERM every child (Scrapy closes the spider, the run is recorded "stopped"),
        then SIGKILL whatever is still running after ``wait`` seconds."""
        self.stopping.set()
        with self._lock:
            procs = list(self._procs.values())
        for site, proc in procs:
            logger.info("[%s] stopping the running crawl (pid %d)", site, proc.pid)
            _signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + wait
        for site, proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("[%s] crawl did not stop within %.0fs: killing it", site, wait)
                _signal(proc, signal.SIGKILL)

    def count(self) -> int:
        with self._lock:
            return len(self._procs)


RUNNING = RunningChildren()


def _signal(proc: subprocess.Popen, sig: int) -> None:
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass


def crawl_site(site: str, sites_file: str, index_url: str | None = None, time_limit: float = 3600.0,
               run: RunInfo | None = None, period_s: float | None = None) -> str:
    """Run one crawl of ``site`` in a child process and return its run status.

    Never raises for a failed crawl: every outcome is a run in the history."""
    if run is None:
        from crawler.scheduling import current_run
        run = current_run()
    run.period_s = run.period_s or period_s
    cmd = [sys.executable, "-m", "crawler.child", "--sites", str(sites_file), "--site", site,
           "--run-id", run.run_id, "--started", run.started, "--trigger", run.trigger,
           "--coalesced", str(run.coalesced), "--time-limit", str(time_limit)]
    if run.scheduled_for:
        cmd += ["--scheduled-for", run.scheduled_for]
    if run.period_s:
        cmd += ["--period", str(run.period_s)]
    if index_url:
        cmd += ["--index", index_url]
    if RUNNING.stopping.is_set():      # due (or queued for a free slot) as the scheduler stops
        logger.warning("[%s] run due at %s not started: the scheduler is stopping", site, show(run.scheduled_for))
        record_failure(index_url, site, run, MISSED, "due while the scheduler was stopping; not started")
        return MISSED
    note = f" (scheduled for {show(run.scheduled_for)}" + (f", {run.coalesced} missed runs folded in)" if run.coalesced
                                                     else ")") if run.scheduled_for else ""
    logger.info("[%s] crawl %s starting%s", site, run.run_id, note)
    started = time.monotonic()
    # Own session: a Ctrl-C in the terminal reaches the scheduler only, which stops children itself.
    proc = subprocess.Popen(cmd, start_new_session=True, cwd=os.getcwd())
    RUNNING.add(site, proc)
    timed_out = False
    try:
        try:
            code = proc.wait(timeout=time_limit + HARD_LIMIT_GRACE)
        except subprocess.TimeoutExpired:
            timed_out = True
            logger.error("[%s] crawl %s still running %.0fs past its %.0fs limit: stopping it",
                         site, run.run_id, HARD_LIMIT_GRACE, time_limit)
            _signal(proc, signal.SIGTERM)
            try:
                code = proc.wait(timeout=STOP_WAIT)
            except subprocess.TimeoutExpired:
                _signal(proc, signal.SIGKILL)
                code = proc.wait()
    finally:
        RUNNING.remove(proc)
    elapsed = time.monotonic() - started
    recorded = get_run(index_url, site, run)
    if recorded is not None:
        logger.info("[%s] crawl %s ended in %.1fs: %s", site, run.run_id, elapsed, recorded["status"])
        return recorded["status"]
    if timed_out:
        status, message = TIMEOUT, f"killed after {elapsed:.0f}s (time limit {time_limit:.0f}s)"
    elif RUNNING.stopping.is_set():
        status, message = STOPPED, f"stopped with the scheduler (exit {code})"
    else:
        status, message = CRASHED, f"crawl process exited with {_describe_exit(code)} and recorded nothing"
    logger.log(logging.WARNING if status == STOPPED else logging.ERROR, "[%s] crawl %s %s: %s",
               site, run.run_id, status, message)
    after_runs(index_url, [record_failure(index_url, site, run, status, message, exit_code=code)])
    return status


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"status {code}"


def main(argv: list[str] | None = None) -> int:
    from crawler.logsetup import configure_logging
    from crawler.runner import run_crawl
    from crawler.sites import SitesFileError, load_sites

    parser = argparse.ArgumentParser(prog="python -m crawler.child", description=__doc__.split("\n")[0])
    parser.add_argument("--sites", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--index")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--started", required=True)
    parser.add_argument("--trigger", default="scheduled")
    parser.add_argument("--scheduled-for")
    parser.add_argument("--coalesced", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=3600.0)
    parser.add_argument("--period", type=float)
    args = parser.parse_args(argv)
    # Its lines join the scheduler's log: the same stamp (date and time in NEWSMON_TZ).
    configure_logging(quiet=os.environ.get("NEWSMON_CHILD_QUIET") == "1", datefmt="%Y-%m-%d %H:%M:%S")
    run = RunInfo(run_id=args.run_id, started=args.started, trigger=args.trigger,
                  scheduled_for=args.scheduled_for, coalesced=args.coalesced, period_s=args.period)
    try:
        sites = load_sites(Path(args.sites)).select([args.site])
    except SitesFileError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        record_failure(args.index, args.site, run, CRASHED, f"sites file unusable: {exc}", exit_code=2)
        return 2
    from pipelines.requirements import MissingExtractor, check_extractors
    try:
        check_extractors()      # (checked when the scheduler started; a package may have gone since)
    except MissingExtractor as exc:
        print(f"Error: {exc}", file=sys.stderr)
        record_failure(args.index, args.site, run, FAILED, str(exc), exit_code=2)
        return 2
    summary = run_crawl(sites, args.index, {"CLOSESPIDER_TIMEOUT": args.time_limit}, run=run)
    doc = summary.runs[0] if summary.runs else {}
    logger.info("[%s] run %s: %s, %d pages, %d new articles, %d unchanged, finished at %s",
                args.site, run.run_id, doc.get("status"), doc.get("pages_fetched", 0),
                doc.get("articles_new", 0), doc.get("not_modified", 0), show(iso_now()))
    return 0 if doc.get("status") == "ok" else 1


def iso_now() -> str:
    from index.runs import utc_now
    return iso(utc_now())


if __name__ == "__main__":
    sys.exit(main())
