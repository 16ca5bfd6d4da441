"""A real Redis for the task-queue tests: Debian's ``redis-server`` on 127.0.0.1.

1. Port 0 would make redis-server listen on no TCP port, and bind-and-release
   of a probe socket races; so Redis binds a port from a range itself and, on
   "Address already in use", the next one is tried.
2. Append-only file on (``appendfsync always``): a restarted Redis still holds
   the queued tasks, as a production broker must.
3. The server is stopped at exit; ``restart()`` keeps the data directory and the port.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REDIS_SERVER = os.environ.get("NEWSMON_REDIS_SERVER", "/usr/bin/redis-server")
PORTS = range(int(os.environ.get("NEWSMON_TEST_REDIS_PORT", "16379")), 16379 + 200)
START_TIMEOUT = 20.0


class RedisStartError(RuntimeError):
    """redis-server is missing or did not start; the message says why."""


@dataclass
class RedisServer:
    workdir: Path
    port: int = 0
    process: subprocess.Popen | None = None
    config: Path | None = None      # a redis.conf (deploy/'s): its persistence settings, not ours

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.workdir / "redis.log"

    def start(self) -> "RedisServer":
        if not Path(REDIS_SERVER).exists():
            raise RedisStartError(f"{REDIS_SERVER} not found: `make test` installs Debian's redis-server "
                                  "(apt-get install redis-server)")
        ports = [self.port] if self.port else PORTS
        for port in ports:
            if self._try_start(port):
                self.port = port
                atexit.register(self.stop)
                return self
        raise RedisStartError(f"redis-server did not start on any of ports {ports[0]}-{ports[-1]}; "
                              f"log {self.log_path}:\n{self._log_tail()}")

    def _try_start(self, port: int) -> bool:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        persistence = ["--appendonly", "yes", "--appendfsync", "always", "--save", ""] if not self.config else []
        command = [REDIS_SERVER, *([str(self.config)] if self.config else []), "--bind", "127.0.0.1",
                   "--port", str(port), "--dir", str(self.workdir), *persistence,
                   "--logfile", str(self.log_path), "--daemonize", "no", "--protected-mode", "yes"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                text = self._log_since(offset)
                if "Address already in use" in text:
                    return False
                raise RedisStartError(f"redis-server exited with {self.process.returncode}; "
                                      f"log {self.log_path}:\n{self._log_tail()}")
            if "Ready to accept connections" in self._log_since(offset) and self._answers(port):
                return True
            time.sleep(0.05)
        self.stop()
        raise RedisStartError(f"redis-server did not answer within {START_TIMEOUT:.0f}s; "
                              f"log {self.log_path}:\n{self._log_tail()}")

    def _answers(self, port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def _log_since(self, offset: int) -> str:
        try:
            return self.log_path.read_bytes()[offset:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _log_tail(self, lines: int = 20) -> str:
        return "\n".join(self._log_since(0).splitlines()[-lines:]) or "(no log)"

    def kill(self) -> None:
        """SIGKILL, like a crash (the append-only file keeps what was written)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> "RedisServer":
        """The same port and data directory, after ``kill`` or ``stop``."""
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_redis(config: Path | None = None) -> RedisServer:
    """A fresh Redis with its own temp data directory (and ``config``'s settings, if given)."""
    server = RedisServer(Path(tempfile.mkdtemp(prefix="newsmon-redis-")), config=config)
    atexit.register(server.cleanup)
    return server.start()
