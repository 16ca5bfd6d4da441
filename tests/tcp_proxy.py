"""A loopback TCP forwarder that a test can cut and restore: "the cluster went away".

newsmon talks to the proxy's fixed port; the test decides when the server
disappears (``down()``: listener closed, open connections reset, so clients get
"connection refused" like from a dead node) and when it is back (``up()``,
possibly towards a restarted node on another port). ``on_bulk(n, action)`` runs
``action`` when the n-th ``_bulk`` request arrives, before forwarding it, which
puts an outage at a chosen point in the middle of a crawl.
"""
from __future__ import annotations

import socket
import threading
from typing import Callable


class TcpProxy:
    def __init__(self, upstream_port: int, host: str = "127.0.0.1"):
        self.host, self.upstream_port = host, upstream_port
        self.bulk_requests = 0
        self._trigger: tuple[int, Callable[[], None]] | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def on_bulk(self, nth: int, action: Callable[[], None]) -> None:
        self._trigger = (nth, action)

    def up(self, upstream_port: int | None = None) -> None:
        if upstream_port:
            self.upstream_port = upstream_port
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))          # port 0 first, then the same port again
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener:
            try:
                listener.shutdown(socket.SHUT_RDWR)     # wakes the thread blocked in accept()
            except OSError:
                pass
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, set()
        for conn in conns:
            try:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()                            # linger 0: the peer sees a reset
            except OSError:
                pass

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((self.host, self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if from_client and b"/_bulk" in data:
                    self.bulk_requests += data.count(b"/_bulk")
                    if self._trigger and self.bulk_requests >= self._trigger[0]:
                        action, self._trigger = self._trigger[1], None
                        action()
                        return
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.down()
