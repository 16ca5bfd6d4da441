#!/usr/bin/env python3
"""Serve N generated news sites from one asyncio process, each on its own loopback address.

    python benchmarks/capacity/siteserver.py --sites 1000 [--port 0] [--latency 0.05 0.3]
        [--initial 30] [--new-per-round 3] [--round-seconds 1800] [--sites-file OUT.yaml]
        [--schedule "every 30m"] [--delay 0.25] [--access-log FILE]

Site ``i`` listens on ``127.100.x.y`` (``sitegen.host_of``), all on one port, so each
site is its own host and a crawler's per-site politeness is real. Every response
waits a uniform random latency first. Every ``--round-seconds`` each site gets
``--new-per-round`` new articles. ``ETag``/``Last-Modified`` and conditional GETs
(304) as static CMS pages have. ``--access-log`` appends ``host<TAB>path<TAB>
monotonic seconds at arrival<TAB>status`` per request (politeness checks).

Prints one JSON line, then serves until stdin reaches EOF or SIGTERM:
``{"port": P, "sites": {"bench-trs-0000": "http://127.100.0.1:P/", ...}}``
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import socket
import sys
import time
from email.utils import formatdate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sitegen import Pages, encode, etag, site  # noqa: E402

ROBOTS = b"User-agent: *\nDisallow: /search/\n"
LAST_MODIFIED = formatdate(1765000000, usegmt=True)
NOT_FOUND = b"<html><body><h1>404 Not Found</h1></body></html>"


class SiteServer:
    def __init__(self, n: int, pages: Pages, latency: tuple[float, float], round_seconds: float,
                 access_log: str | None = None):
        self.sites = [site(i) for i in range(n)]
        self.by_host = {s.host: s for s in self.sites}
        self.pages = pages
        self.latency = latency
        self.round_seconds = round_seconds
        self.started = time.monotonic()
        self.log = open(access_log, "a", encoding="utf-8", buffering=1) if access_log else None
        self.requests = 0
        # Rendered responses of the current round, by (host, target): a crawl pass, the
        # peer's pass and the scheduled runs fetch the same pages, and rendering (Jinja,
        # the phrase generator, GBK, the ETag) is most of the server's CPU per response.
        self._cache: dict[tuple[str, str], tuple[int, bytes, str, str | None]] = {}
        self._cache_total = -1

    def total(self) -> int:
        rounds = int((time.monotonic() - self.started) // self.round_seconds) if self.round_seconds > 0 else 0
        return self.pages.count(rounds)

    def respond(self, host: str, target: str, headers: dict[str, str]) -> tuple[int, bytes, str, str | None]:
        total = self.total()
        if total != self._cache_total:          # a new round: every list page changed
            self._cache.clear()
            self._cache_total = total
        key = (host, target)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self.render(host, target, total)
        status, body, ctype, tag = hit
        if tag is not None and headers.get("if-none-match") == tag:
            return 304, b"", ctype, tag
        return hit

    def render(self, host: str, target: str, total: int) -> tuple[int, bytes, str, str | None]:
        s = self.by_host.get(host)
        if s is None:
            return 404, b"", "text/plain", None
        path, _, query = target.partition("?")
        if path == "/robots.txt":
            return 200, ROBOTS, "text/plain", None
        text = self.pages.page(s, path, query, total)
        if text is None:
            return 404, NOT_FOUND, "text/html", None
        body, ctype = encode(s, text)
        return 200, body, ctype, etag(body)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = (lines[0].split(" ") + ["", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                arrived = time.monotonic()
                self.requests += 1
                await asyncio.sleep(random.uniform(*self.latency))
                status, body, ctype, tag = self.respond(host, target, headers)
                if self.log:
                    self.log.write(f"{host}\t{target}\t{arrived:.4f}\t{status}\n")
                reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
                extra = f"ETag: {tag}\r\nLast-Modified: {LAST_MODIFIED}\r\n" if tag else ""
                payload = b"" if method == "HEAD" or status == 304 else body
                writer.write((f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
                              f"Content-Length: {len(payload)}\r\n{extra}Connection: keep-alive\r\n\r\n")
                             .encode("latin-1") + payload)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def write_sites_file(path: str, server: SiteServer, port: int, schedule: str, delay: float) -> None:
    lines = ["sites:"]
    for s in server.sites:
        lines += [f"  - name: {s.name}", f"    start_urls: [\"http://{s.host}:{port}/\"]",
                  "    region: 江苏省宿迁市", f"    schedule: \"{schedule}\"", f"    download_delay: {delay}",
                  "    allow_private: true"]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


async def main_async(args) -> None:
    pages = Pages(args.initial, args.new_per_round)
    server = SiteServer(args.sites, pages, tuple(args.latency), args.round_seconds, args.access_log)
    port = args.port or free_port(server.sites[0].host)
    servers = []
    for s in server.sites:
        servers.append(await asyncio.start_server(server.handle, s.host, port, backlog=64))
    if args.sites_file:
        write_sites_file(args.sites_file, server, port, args.schedule, args.delay)
    print(json.dumps({"port": port, "sites": {s.name: f"http://{s.host}:{port}/" for s in server.sites}}),
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if not sys.stdin.isatty():
        await loop.connect_read_pipe(lambda: _EofProtocol(stop), sys.stdin)
    await stop.wait()
    for srv in servers:
        srv.close()


class _EofProtocol(asyncio.Protocol):
    def __init__(self, stop: asyncio.Event):
        self.stop = stop

    def connection_lost(self, exc) -> None:
        self.stop.set()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, nargs=2, default=[0.05, 0.3], metavar=("MIN", "MAX"))
    ap.add_argument("--initial", type=int, default=30, help="articles per site at the start")
    ap.add_argument("--new-per-round", type=int, default=3)
    ap.add_argument("--round-seconds", type=float, default=1800.0)
    ap.add_argument("--sites-file")
    ap.add_argument("--schedule", default="every 30m")
    ap.add_argument("--delay", type=float, default=0.25, help="download_delay written in the sites file")
    ap.add_argument("--access-log")
    args = ap.parse_args(argv)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
