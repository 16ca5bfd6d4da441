"""The scheduler's crawl processes: a few long-lived processes, each serving many sites.

Each process is ``python -m crawler.child --serve`` (``crawler/sitebatch.py``: a
crawler per site run in one reactor). The scheduler's job threads hand site
runs to ``CrawlPool.run``, which sends each to a process with a free place and
waits for its result, as it once waited for a child process per site.

Memory stays bounded whatever the number of sites: at most ``processes``
processes, each with at most ``sites_per_process`` site runs at once, and a
process is retired (takes no more runs, exits once its runs end, and a fresh
one takes its place) after ``recycle_after`` site runs, so what a long-lived
Python process accumulates never piles up.

Protocol (JSON lines): to the process ``{"op": "run", ...}`` and ``{"op": "stop",
"run_id"}``; from it ``{"run_id", "status"}`` per finished run. EOF on its stdin
means "no more runs": it finishes the ones it has and exits (so does an orphan
whose scheduler died). SIGTERM stops its crawls (recorded "stopped"). A process
that dies (SIGKILL, the OOM killer) leaves each of its unfinished runs recorded
"crashed" here, with the signal; its sites' coverage marks already say
"incomplete", so their next runs heal (``crawler/coverage.py``).

A ``newsmon worker``'s pool (``die_with_parent``) ties its processes to the worker's
life (``PR_SET_PDEATHSIG``): a worker killed with SIGKILL must leave no crawl behind
to race the run's second delivery on another worker. (The signal follows the thread
that started the process: Celery's task threads live as long as the worker.)
"""
from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

logger = logging.getLogger("newsmon.scheduler")

# Measured (benchmarks/capacity/README.md, memory.py): a crawl process peaks at 230 MB
# crawling 1 site, 268 MB with 10 at once and 476 MB with 50 (first full crawls; a
# process per site would take 50 x 230 MB), at ~21 ms CPU a page. One process runs on
# one core (the GIL), so two processes of 50 use both cores of a small machine within
# ~1 GB; a fresh process after 500 runs keeps what a long-lived one accumulates bounded.
DEFAULT_SITES_PER_PROCESS = 50
DEFAULT_PROCESSES = 2
DEFAULT_RECYCLE_AFTER = 500
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:      # runs in the crawl process between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Pending:
    site: str
    run_id: str
    done: threading.Event = field(default_factory=threading.Event)
    status: str | None = None
    exit_code: int | None = None       # set when the process died with the run unfinished


class CrawlProcess:
    """One serving process and the runs it holds."""

    def __init__(self, on_exit, tied: bool = False):
        cmd = [sys.executable, "-m", "crawler.child", "--serve"]
        # Own session: a Ctrl-C in the terminal reaches the scheduler only, which stops us itself.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True,
                                     cwd=os.getcwd(), text=True, encoding="utf-8", bufsize=1,
                                     preexec_fn=die_with_parent if tied else None)
        self.pending: dict[str, Pending] = {}
        self.assigned = 0
        self.retired = False
        self._write_lock = threading.Lock()
        self._on_exit = on_exit
        self._reader = threading.Thread(target=self._read, name=f"crawl-process-{self.proc.pid}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, message: dict) -> bool:
        with self._write_lock:
            try:
                self.proc.stdin.write(json.dumps(message, ensure_ascii=False) + "\n")
                self.proc.stdin.flush()
                return True
            except (BrokenPipeError, ValueError, OSError):
                return False

    def close_input(self) -> None:
        with self._write_lock:
            try:
                self.proc.stdin.close()
            except OSError:
                pass

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            pending = self.pending.get(msg.get("run_id"))
            if pending is not None:
                pending.status = msg.get("status")
                pending.done.set()
        code = self.proc.wait()
        self._on_exit(self, code)


class CrawlPool:
    """At most ``processes`` crawl processes of at most ``sites_per_process`` runs each."""

    def __init__(self, processes: int = DEFAULT_PROCESSES, sites_per_process: int = DEFAULT_SITES_PER_PROCESS,
                 recycle_after: int = DEFAULT_RECYCLE_AFTER, die_with_parent: bool = False):
        self.die_with_parent = die_with_parent
        self._cond = threading.Condition()
        self._procs: dict[int, tuple[str, subprocess.Popen]] = {}   # pid -> (label, process), for stop_all
        self._live: list[CrawlProcess] = []
        self.stopping = threading.Event()
        self.configure(processes, sites_per_process, recycle_after)

    def configure(self, processes: int, sites_per_process: int, recycle_after: int) -> None:
        """Set the limits (a scheduler starting); a pool stopped before takes runs again."""
        self.stopping.clear()
        self.processes = max(1, processes)
        self.sites_per_process = max(1, sites_per_process)
        self.recycle_after = max(1, recycle_after)

    def count(self) -> int:
        """Crawl processes running now."""
        with self._cond:
            return len(self._procs)

    def submit(self, site: str, run_id: str, message: dict) -> tuple[CrawlProcess, Pending] | None:
        """Send a run to a process with a free place (starting one if allowed), waiting
        for a place; None when the pool is stopping."""
        with self._cond:
            while True:
                if self.stopping.is_set():
                    return None
                target = next((p for p in self._live if not p.retired
                               and len(p.pending) < self.sites_per_process), None)
                if target is None and len(self._live) < self.processes:
                    target = CrawlProcess(self._exited, self.die_with_parent)
                    self._live.append(target)
                    self._procs[target.pid] = ("crawl process", target.proc)
                    logger.info("crawl process %d started (%d of at most %d, %d sites each)",
                                target.pid, len(self._live), self.processes, self.sites_per_process)
                if target is not None:
                    break
                self._cond.wait(1.0)
            pending = Pending(site, run_id)
            target.pending[run_id] = pending
            target.assigned += 1
            if target.assigned >= self.recycle_after:
                target.retired = True        # no more runs; it exits once these end
                self._live.remove(target)
        if not target.send(message):
            pending.done.set()
        return target, pending

    def finished(self, target: CrawlProcess, pending: Pending) -> None:
        with self._cond:
            target.pending.pop(pending.run_id, None)
            self._cond.notify_all()
        self._retire_when_idle(target)

    def _retire_when_idle(self, target: CrawlProcess) -> None:
        with self._cond:
            idle = target.retired and not target.pending
        if idle:
            logger.info("crawl process %d retired after %d site runs", target.pid, target.assigned)
            target.close_input()

    def _exited(self, target: CrawlProcess, code: int) -> None:
        with self._cond:
            self._procs.pop(target.pid, None)
            if target in self._live:
                self._live.remove(target)
            unfinished = [p for p in target.pending.values() if not p.done.is_set()]
            self._cond.notify_all()
        if unfinished:
            logger.error("crawl process %d exited (%s) with %d site runs unfinished: %s", target.pid,
                         describe_exit(code), len(unfinished), ", ".join(p.site for p in unfinished))
        for pending in unfinished:
            pending.exit_code = code
            pending.done.set()

    def stop(self, target: CrawlProcess, run_id: str) -> None:
        target.send({"op": "stop", "run_id": run_id})

    def stop_all(self, wait: float = 20.0) -> None:
        """SIGTERM every process (their crawls stop and are recorded "stopped"), then
        SIGKILL what still runs after ``wait`` seconds."""
        self.stopping.set()
        with self._cond:
            procs = list(self._procs.values())
            self._cond.notify_all()
        for _label, proc in procs:
            logger.info("stopping crawl process %d", proc.pid)
            _signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + wait
        for _label, proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("crawl process %d did not stop within %.0fs: killing it", proc.pid, wait)
                _signal(proc, signal.SIGKILL)


def _signal(proc: subprocess.Popen, sig: int) -> None:
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass


def describe_exit(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"status {code}"
