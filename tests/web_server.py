"""``newsmon serve`` as a user starts it: its own process, port 0, the URL read from
the first line it prints; stopped with SIGTERM (then killed) when the test is done. And
``copy_of``: a private copy of an embedded index for tests that write to it."""
from __future__ import annotations

import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from conftest import REPO, newsmon_env

_URL = re.compile(r"newsmon web UI on (http://\S+?)/ ")


@contextmanager
def serving(index_url: str, *args: str, timeout: float = 60.0, nice: int = 0, **env) -> Iterator[str]:
    """Run ``newsmon serve --port 0 --index INDEX_URL *args``; yield its base URL."""
    command = [sys.executable, "-m", "crawler", "serve", "--port", "0", "--index", index_url, *args]
    proc = subprocess.Popen((["nice", "-n", str(nice)] if nice else []) + command,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=newsmon_env(**env))
    try:
        output = b""
        deadline = time.monotonic() + timeout
        while not _URL.search(output.decode("utf-8", "replace")):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"newsmon serve printed no URL within {timeout}s: {output!r}")
            ready, _, _ = select.select([proc.stdout], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                proc.wait()
                raise RuntimeError(f"newsmon serve exited ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
            output += chunk
        yield _URL.search(output.decode("utf-8")).group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def copy_of(index_url: str, directory: Path) -> str:
    """A private copy of an embedded index (SQLite's backup API), for tests that write."""
    source = sqlite3.connect(index_url.removeprefix("sqlite:///"))
    target = sqlite3.connect(directory / "copy.db")
    source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{directory}/copy.db"


# In-process clients ask as a browser on this machine would: the app answers only Host
# names it is known by (monitor/web/guard.py), and TestClient's default "testserver" is not one.
LOOPBACK = "http://127.0.0.1"
