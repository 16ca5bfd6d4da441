"""A fake resolver for network-safety tests, installed at the OS boundary.

It replaces ``socket.getaddrinfo`` and ``socket.gethostbyname`` for the names it
is given and passes every other name through, so the code under test (the crawl's
resolver, ``newsmon extract``'s connector, webhooks) runs unchanged. Each name maps
to a list of successive answers, each answer a list of addresses; the last answer
repeats. That expresses both attacks: a mixed answer (``[["127.0.0.2",
"127.0.0.1"]]``) and rebinding (``[["127.0.0.2"], ["127.0.0.1"]]``: the first lookup
gets the allowed address, every later one loopback).

In a subprocess it is installed by putting ``tests/fakedns`` on ``PYTHONPATH`` and the
mapping, as JSON, in ``NEWSMON_FAKE_DNS`` (see ``subprocess_env``).
"""
from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

SITECUSTOMIZE_DIR = Path(__file__).resolve().parent / "fakedns"
_real_getaddrinfo = socket.getaddrinfo
_real_gethostbyname = socket.gethostbyname


class FakeResolver:
    def __init__(self, answers: dict[str, list[list[str]]]):
        self.answers = {name.lower(): list(seq) for name, seq in answers.items()}
        self.lookups: dict[str, int] = {}
        self._lock = threading.Lock()

    def answer(self, name: str) -> list[str] | None:
        key = (name or "").lower().rstrip(".")
        if key not in self.answers:
            return None
        with self._lock:
            n = self.lookups.get(key, 0)
            self.lookups[key] = n + 1
        seq = self.answers[key]
        return seq[min(n, len(seq) - 1)]

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's names
        addresses = self.answer(host if isinstance(host, str) else (host or b"").decode())
        if addresses is None:
            return _real_getaddrinfo(host, port, family, type, proto, flags)
        out = []
        for address in addresses:
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port or 0, 0, 0) if fam == socket.AF_INET6 else (address, port or 0)
            out.append((fam, type or socket.SOCK_STREAM, proto or socket.IPPROTO_TCP, "", sockaddr))
        return out

    def gethostbyname(self, host):
        addresses = self.answer(host)
        if addresses is None:
            return _real_gethostbyname(host)
        return next((a for a in addresses if ":" not in a), addresses[0])

    def install(self) -> "FakeResolver":
        socket.getaddrinfo = self.getaddrinfo
        socket.gethostbyname = self.gethostbyname
        return self

    @staticmethod
    def uninstall() -> None:
        socket.getaddrinfo = _real_getaddrinfo
        socket.gethostbyname = _real_gethostbyname


def install_from_env() -> None:
    spec = os.environ.get("NEWSMON_FAKE_DNS")
    if spec:
        FakeResolver(json.loads(spec)).install()


def subprocess_env(answers: dict[str, list[list[str]]]) -> dict[str, str]:
    """Environment additions that install the fake resolver in a child Python."""
    path = os.pathsep.join(p for p in (str(SITECUSTOMIZE_DIR), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "NEWSMON_FAKE_DNS": json.dumps(answers)}
