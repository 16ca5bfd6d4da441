"""``AttachmentWorkers``: extraction in worker processes, with a wall-clock limit per file.

Started on first use and reused (a worker's start, ~0.3 s of imports, is paid once,
not per file); a worker that runs past ``limits.timeout`` on a file is killed and the
file recorded as ``timeout``; one that dies (memory limit, a crash in a C parser) as
``crashed``. Thread-safe: the crawl calls ``extract`` from Twisted's thread pool, up
to ``processes`` files at once.
"""
from __future__ import annotations

import hashlib
import json
import os
import queue
import select
import subprocess
import sys
import time
from dataclasses import asdict

from pipelines.attachments.limits import AttachmentLimits
from pipelines.attachments.model import Attachment, AttachmentFile
from pipelines.attachments.sniff import declared_kind, sniff
from pipelines.attachments.worker import _LENGTH, READY, write_frame

START_TIMEOUT = 60.0     # seconds for a worker's imports (not part of any file's time)


class _Worker:
    def __init__(self, limits: AttachmentLimits):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.attachments.worker", json.dumps(asdict(limits))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        deadline = time.monotonic() + START_TIMEOUT
        size = self._read(_LENGTH.size, deadline)
        if size is None or self._read(_LENGTH.unpack(size)[0], deadline) != READY:
            self.stop()
            raise RuntimeError("the attachment extraction worker did not start")

    def ask(self, header: dict, body: bytes, timeout: float) -> dict | None:
        """The answer, or None if the worker ran out of time or died (then it is stopped)."""
        try:
            write_frame(self.process.stdin, json.dumps(header).encode("utf-8"))
            write_frame(self.process.stdin, body)
        except (BrokenPipeError, OSError):
            self.stop()
            return None
        deadline = time.monotonic() + timeout
        data = self._read(_LENGTH.size, deadline)
        if data is not None:
            data = self._read(_LENGTH.unpack(data)[0], deadline)
        if data is None:
            self.stop()
            return None
        return json.loads(data)

    def _read(self, size: int, deadline: float) -> bytes | None:
        out = bytearray()
        fd = self.process.stdout.fileno()
        while len(out) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, size - len(out))
            if not chunk:
                return None
            out += chunk
        return bytes(out)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> str:
        if self.alive:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        return "timeout" if self.process.returncode == -9 else "crashed"


class AttachmentWorkers:
    def __init__(self, limits: AttachmentLimits | None = None, processes: int = 1):
        self.limits = limits or AttachmentLimits()
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        self._all: list[_Worker] = []
        for _ in range(max(1, processes)):
            self._idle.put(None)        # a slot; the process starts on first use

    def extract(self, file: AttachmentFile) -> tuple[Attachment, dict]:
        """The attachment with its text or its reason, and the worker's measurements
        (``seconds``, ``peak_rss`` in KiB; empty when the file never reached a worker)."""
        if file.body is None:
            return Attachment(name=file.name, url=file.url, type=declared_kind(file.url, file.name) or "",
                              size=0, sha256="", status=file.reason or "not_fetched"), {}
        worker = self._idle.get()
        try:
            if worker is None or not worker.alive:
                try:
                    worker = _Worker(self.limits)
                except (RuntimeError, OSError):   # e.g. a reader package missing: the file, not the crawl
                    worker = None
                    return self._failed(file, "worker_failed"), {}
                self._all.append(worker)
            header = {"url": file.url, "name": file.name, "content_type": file.content_type,
                      "disposition": file.disposition}
            answer = worker.ask(header, file.body, self.limits.timeout)
            if answer is None:
                status = worker.stop()
                worker = None
                return self._failed(file, status), {"seconds": self.limits.timeout}
            measured = {"seconds": answer.pop("seconds"), "peak_rss": answer.pop("peak_rss")}
            return Attachment.from_dict(answer), measured
        finally:
            self._idle.put(worker)

    def _failed(self, file: AttachmentFile, status: str) -> Attachment:
        body = file.body or b""
        return Attachment(name=file.name, url=file.url,
                          type=declared_kind(file.url, file.name, file.content_type) or sniff(body),
                          size=len(body), sha256=hashlib.sha256(body).hexdigest(), status=status)

    def close(self) -> None:
        for worker in self._all:
            worker.stop()
        self._all.clear()
