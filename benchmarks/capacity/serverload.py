#!/usr/bin/env python3
"""Capacity of the generated-sites server alone: pages/s it serves to many keep-alive clients.

    python benchmarks/capacity/serverload.py [--sites 1000] [--clients 400] [--seconds 20]
        [--latency 0.05 0.3] [--processes 2]

Starts ``siteserver.py`` and ``--processes`` client processes; each client process
holds ``--clients / --processes`` keep-alive connections, connection ``c`` to site
``c mod --sites`` (its own host), and walks that site as a crawler does: home, list
pages, then every article linked, again and again. Prints responses/s (200, 304
and the 404s of links to pages the sites lack), the server's CPU per response and its RSS at the end, as JSON.
With ``--latency 0 0`` it measures the server's CPU-bound ceiling.
"""
from __future__ import annotations

import argparse
import asyncio
import html
import json
import multiprocessing
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK")
HREF = re.compile(rb'href="([^"#]+\.html[^"]*)"')


async def _get(reader, writer, host: str, target: str) -> tuple[int, bytes]:
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    return status, await reader.readexactly(length)


async def _client(host: str, port: int, kind: str, deadline: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    start = "/xwdt/index.html" if kind == "trs" else "/col/col1229/index.html?uid=4321&pageNum=1"
    while time.monotonic() < deadline:
        status, body = await _get(reader, writer, host, start)
        counts[0] += 1
        base = f"http://{host}:{port}{start}"
        links = [urljoin(base, html.unescape(m.decode())) for m in HREF.findall(body)]
        for link in links:
            if time.monotonic() >= deadline:
                break
            parts = urlsplit(link)
            if parts.hostname != host:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            status, _ = await _get(reader, writer, host, target)
            counts[0 if status in (200, 304) else 1] += 1
    writer.close()


def _client_process(hosts: list[tuple[str, str]], port: int, seconds: float, out) -> None:
    async def run():
        counts = [0, 0]
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(_client(h, port, kind, deadline, counts) for h, kind in hosts))
        return counts
    out.put(asyncio.run(run()))


def _cpu_and_rss(pid: int) -> tuple[float, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK, int(fields[21]) * os.sysconf("SC_PAGE_SIZE")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=400)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--latency", type=float, nargs=2, default=[0.05, 0.3])
    args = ap.parse_args(argv)
    server = subprocess.Popen([sys.executable, str(HERE / "siteserver.py"), "--sites", str(args.sites),
                               "--latency", *map(str, args.latency)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(server.stdout.readline())
        port = info["port"]
        hosts = [(url.split("/")[2].split(":")[0], name.split("-")[1]) for name, url in info["sites"].items()]
        per = [[hosts[c % len(hosts)] for c in range(p, args.clients, args.processes)]
               for p in range(args.processes)]
        cpu0, _ = _cpu_and_rss(server.pid)
        out = multiprocessing.Queue()
        procs = [multiprocessing.Process(target=_client_process, args=(h, port, args.seconds, out)) for h in per]
        began = time.monotonic()
        for p in procs:
            p.start()
        results = [out.get() for _ in procs]
        wall = time.monotonic() - began
        cpu1, rss = _cpu_and_rss(server.pid)
        for p in procs:
            p.join()
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    ok = sum(r[0] for r in results) + sum(r[1] for r in results)     # a 404 is served too
    print(json.dumps({"sites": args.sites, "clients": args.clients, "latency": args.latency,
                      "responses": ok, "not_found": sum(r[1] for r in results), "seconds": round(wall, 1),
                      "responses_per_s": round(ok / wall, 1), "server_cpu_s": round(cpu1 - cpu0, 1),
                      "server_cpu_ms_per_response": round(1000 * (cpu1 - cpu0) / max(1, ok), 3),
                      "server_rss_mb": round(rss / 2**20), "loadavg": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
