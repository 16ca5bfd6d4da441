"""A new team's first start: an empty index, a sites file managed from the web UI, a real
``python scheduler.py`` reloading that file every second and a real ``newsmon serve`` on both.

    with scheduler_and_web(tmp_path) as (base, index_url, scheduler, log):
        ...    # add sites on the Sources page or /api/sites; the scheduler crawls them

The scheduler's output goes to ``log`` (for ``test_scheduler.wait_until``); at the end it is
stopped with SIGTERM and must exit 0."""
from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from conftest import REPO, newsmon_env
from index import open_index
from test_scheduler import stop
from web_server import serving


@contextmanager
def scheduler_and_web(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen, Path]]:
    """Yield ``(web base URL, index URL, scheduler process, scheduler log)``."""
    index_url = f"sqlite:///{tmp_path}/newsmon.db"
    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text("# 由网页管理\nsites: []\n", encoding="utf-8")
    with open_index(index_url):      # a new team's empty index (serve refuses a missing one)
        pass
    log = tmp_path / "scheduler.log"
    with log.open("a", encoding="utf-8") as out:
        scheduler = subprocess.Popen([sys.executable, "scheduler.py", "--sites", str(sites_file), "--index", index_url,
                                      "--jitter", "0", "--reload-every", "1", "--time-limit", "120"],
                                     cwd=REPO, env=newsmon_env(), stdout=out, stderr=subprocess.STDOUT)
    try:
        with serving(index_url, "--sites", str(sites_file)) as base:
            yield base, index_url, scheduler, log
    finally:
        assert stop(scheduler) == 0
