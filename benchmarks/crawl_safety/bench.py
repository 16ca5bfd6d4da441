#!/usr/bin/env python3
"""Peak memory of a crawl of the hostile fault server, side by side with a crawl of
the ordinary fixture sites (the baseline), in the same run.

    python -m benchmarks.crawl_safety.bench

Each crawl is a real ``newsmon crawl`` process; its peak RSS is its own
``VmHWM`` (``tests/procmem.py`` says why not ``wait4``). The fault server offers a 300 MB page,
a 200 MB declared body and three 256 MB decompression bombs; a crawler that
buffered or inflated them would show it here as a ratio far above 1.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from fault_server import ARTICLES  # noqa: E402,F401  (fails early if tests/ is missing)
from procmem import wait_with_peak_rss  # noqa: E402


def crawl_peak(sites_file: Path, tmp: Path, env: dict) -> tuple[float, float, int]:
    """(peak RSS MB, seconds, exit code) of one ``newsmon crawl``."""
    full = {**os.environ, "NEWSMON_DOWNLOAD_DELAY": "0", **env}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "crawler", "crawl", "--sites", str(sites_file),
                             "--index", f"sqlite:///{tmp}/newsmon.db", "--json"], cwd=REPO, env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_mb = wait_with_peak_rss(proc)
    return peak_mb, time.monotonic() - started, proc.returncode


def main() -> int:
    from crawler.fixtures import server as fixture_server
    from test_crawl_faults import start_fault_server

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        with fixture_server.start_fixture_sites() as fixtures:
            (tmp / "base").mkdir()
            base_sites = fixtures.write_sites_file(tmp / "base" / "sites.yaml")
            base = crawl_peak(base_sites, tmp / "base", {"NEWSMON_ALLOW_HOSTS": "127.0.0.1"})
        server, info = start_fault_server()
        try:
            (tmp / "fault").mkdir()
            fault_sites = tmp / "fault" / "sites.yaml"
            fault_sites.write_text(f'sites:\n  - name: faulty-gov\n    start_urls: ["{info["url"]}"]\n',
                                   encoding="utf-8")
            fault = crawl_peak(fault_sites, tmp / "fault", {"NEWSMON_ALLOW_HOSTS": "127.0.0.2",
                                                            "NEWSMON_DOWNLOAD_TIMEOUT": "3",
                                                            "NEWSMON_RETRY_BACKOFF": "0.2"})
        finally:
            server.stdin.close()
            server.wait(timeout=10)
    print(f"{'crawl':<34} {'peak RSS':>9} {'time':>7}  exit")
    print(f"{'fixture sites (baseline)':<34} {base[0]:>6.0f} MB {base[1]:>6.1f}s  {base[2]}")
    print(f"{'fault server (300 MB page, bombs)':<34} {fault[0]:>6.0f} MB {fault[1]:>6.1f}s  {fault[2]}")
    print(f"peak RSS ratio fault/baseline: {fault[0] / base[0]:.2f}")
    return 0 if base[2] == fault[2] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
