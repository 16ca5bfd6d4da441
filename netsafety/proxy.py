"""A pinning HTTP proxy on loopback: the only way out for a browser.

Chromium resolves names itself, so vetting a request's host before the browser
sends it (``page.route``) leaves the DNS-rebinding gap open: the check sees a
public address, Chromium's own lookup a moment later gets 127.0.0.1. With this
proxy as the browser's proxy (and Chromium's resolver told to resolve nothing,
``--host-resolver-rules``), every connection the browser makes is opened here,
to the one address ``pin(host, port)`` vetted for that host -- ``CONNECT`` for
https (the TLS stays the browser's own, end to end), absolute-form requests for
http. A refused host gets a 403 and is kept in ``refused``; ``connections``
lists ``(host, address)`` of every connection opened.

One request per client connection for http (``Connection: close`` both ways),
so a kept-alive browser connection can never carry a second request to another
host past the pin.
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable
from urllib.parse import urlsplit

from netsafety.addresses import UnsafeURLError

Pin = Callable[[str, int], Awaitable[str]]     # (host, port) -> vetted address, or UnsafeURLError
_HOP_HEADERS = frozenset({"connection", "proxy-connection", "keep-alive", "proxy-authorization"})
_MAX_HEAD = 64 * 1024


class PinningProxy:
    def __init__(self, pin: Pin, connect_timeout: float = 30.0, admits: Callable[[str], bool] | None = None):
        self.pin = pin
        # Which hosts this browser may reach at all, checked before any DNS lookup: Chromium's
        # own background requests (autofill, updates) come here too, and must not even be resolved.
        self.admits = admits
        self.connect_timeout = connect_timeout
        self.connections: list[tuple[str, str]] = []
        self.refused: list[tuple[str, str]] = []
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> str:
        """Listen on a loopback port the OS chose; returns the proxy's URL."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=_MAX_HEAD)
        return "http://127.0.0.1:%d" % self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line, *fields = head[:-4].decode("latin-1").split("\r\n")
            method, target, _version = line.split(" ", 2)
            if method.upper() == "CONNECT":
                parts = urlsplit("//" + target)
                host, port, first = parts.hostname or "", parts.port or 443, b""
            else:
                parts = urlsplit(target)
                host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                kept = [f for f in fields if f.split(":", 1)[0].strip().lower() not in _HOP_HEADERS]
                first = "\r\n".join([f"{method} {path} HTTP/1.1", *kept, "Connection: close", "", ""]).encode("latin-1")
            if self.admits is not None and not self.admits(host.lower().rstrip(".")):
                self.refused.append((target, "out of the site's scope"))
                await _answer(writer, 403, "refused: out of the site's scope")
                return
            try:
                address = await self.pin(host.lower().rstrip("."), port)
            except UnsafeURLError as exc:
                self.refused.append((target, exc.reason))
                await _answer(writer, 403, f"refused by network safety: {exc.reason}")
                return
            try:
                up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(address, port),
                                                              self.connect_timeout)
            except (OSError, asyncio.TimeoutError) as exc:
                await _answer(writer, 502, f"cannot connect to {host} ({address}): {exc}")
                return
            self.connections.append((host, address))
            if first:
                up_writer.write(first)
            else:
                writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            await _relay(reader, writer, up_reader, up_writer, tunnel=not first)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, ConnectionError):
            pass
        finally:
            writer.close()


async def _answer(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    body = text.encode("utf-8")
    writer.write(f"HTTP/1.1 {status} Refused\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
    await writer.drain()


async def _relay(reader, writer, up_reader, up_writer, tunnel: bool) -> None:
    """Bytes both ways until the server's side ends (http: its answer, told to close)."""
    async def pipe(src, dst, answer_head: bool):
        try:
            if answer_head:    # the answer's head says close: the browser opens a new connection next time
                head = await src.readuntil(b"\r\n\r\n")
                line, *fields = head[:-4].split(b"\r\n")
                kept = [f for f in fields if f.split(b":", 1)[0].strip().lower().decode("latin-1") not in _HOP_HEADERS]
                dst.write(b"\r\n".join([line, *kept, b"Connection: close", b"", b""]))
            while chunk := await src.read(65536):
                dst.write(chunk)
                await dst.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass

    upload = asyncio.ensure_future(pipe(reader, up_writer, False))
    download = asyncio.ensure_future(pipe(up_reader, writer, not tunnel))
    try:   # a tunnel ends when either side does; an http exchange when the answer has come
        await asyncio.wait([upload, download] if tunnel else [download], return_when=asyncio.FIRST_COMPLETED)
    finally:
        upload.cancel()
        download.cancel()
        up_writer.close()
