"""Receivers that never finish answering, on loopback, on a port the OS chose: a real
TCP server in a thread that accepts every connection, then says nothing (``hang``)
or trickles ``reply`` one byte every ``every`` seconds, forever (``trickle``: a
socket timeout never trips). For webhooks (HTTP) and mail (SMTP) alike."""
from __future__ import annotations

import itertools
import socket
import threading
import time

# A reply that never ends. HTTP: a status line, then one header line after another.
HTTP_TRICKLE = (b"HTTP/1.1 200 OK\r\n", b"X-Slow: still-here\r\n")
# SMTP: a multi-line greeting ("220-" says more lines follow) that never reaches its last line.
SMTP_TRICKLE = (b"", b"220-slow.example.org still greeting\r\n")


class SlowReceiver:
    def __init__(self, mode: str = "hang", reply: tuple[bytes, bytes] = HTTP_TRICKLE, every: float = 3.0):
        assert mode in ("hang", "trickle")
        self.mode, self.reply, self.every = mode, reply, every
        self.connections = 0
        self._stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._conns: list[socket.socket] = []

    def start(self) -> "SlowReceiver":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._conns.append(conn)
            if self.mode == "trickle":
                threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        first, again = self.reply
        data = itertools.chain(first, itertools.cycle(again))
        try:
            for byte in data:
                if self._stopped.wait(self.every):
                    return
                conn.sendall(bytes([byte]))
        except OSError:
            return

    def env(self) -> dict[str, str]:
        """NEWSMON_SMTP_* pointing at this receiver."""
        return {"NEWSMON_SMTP_HOST": "127.0.0.1", "NEWSMON_SMTP_PORT": str(self.port),
                "NEWSMON_SMTP_SECURITY": "none", "NEWSMON_SMTP_FROM": "newsmon@example.org"}

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        for conn in self._conns:
            conn.close()


def wait_for(condition, timeout: float, step: float = 0.05) -> float:
    """Seconds until ``condition()`` held (``timeout`` passed: AssertionError)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(step)
    return time.monotonic() - start
