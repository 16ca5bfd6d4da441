"""A child process's own peak memory, for the tests and benchmarks that bound it.

Not ``wait4``'s ``ru_maxrss``: Python starts children with vfork, and Linux
counts the parent's resident set at exec time into the child's maxrss, so a
large test process made a small crawl look large (430 MB in the full suite for
a crawl that peaks at ~270 MB alone). ``VmHWM`` is the high-water mark of the
child's own memory after exec; it only grows, so reading it every 20 ms misses
at most the last 20 ms of the child's life.
"""
from __future__ import annotations

import subprocess
from pathlib import Path


def wait_with_peak_rss(proc: subprocess.Popen, every: float = 0.02) -> float:
    """Wait for ``proc`` to exit; its peak RSS in MB."""
    peak_kb = 0
    try:
        while proc.poll() is None:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
            except OSError:
                break
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
            try:
                proc.wait(timeout=every)
            except subprocess.TimeoutExpired:
                pass
        proc.wait()
    except BaseException:
        proc.kill()
        raise
    if not peak_kb:
        raise RuntimeError(f"the memory of process {proc.pid} was never read")
    return peak_kb / 1024
