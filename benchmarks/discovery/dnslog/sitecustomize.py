"""Installed in the discovery benchmark's crawl processes (``PYTHONPATH``): every host
*name* the crawl tries to resolve is appended to ``$NEWSMON_BENCH_DNS_LOG`` and refused.

The benchmark serves its sites on IP literals, so a name lookup means the crawl tried to
reach a host outside its site (a snapshot's link farm points at real domains). Refusing
it keeps the benchmark offline and deterministic.
"""
import ipaddress
import os
import socket

_LOG = os.environ.get("NEWSMON_BENCH_DNS_LOG")
_real_getaddrinfo = socket.getaddrinfo
_real_gethostbyname = socket.gethostbyname


def _name(host) -> str | None:
    text = host.decode() if isinstance(host, bytes) else (host or "")
    try:
        ipaddress.ip_address(text)
        return None
    except ValueError:
        return None if text in ("", "localhost") else text


def _refuse(host):
    name = _name(host)
    if name is None:
        return False
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(name.lower() + "\n")
    raise socket.gaierror(socket.EAI_NONAME, f"{name}: outside the benchmark (counted as off-scope)")


def getaddrinfo(host, *args, **kwargs):
    _refuse(host)
    return _real_getaddrinfo(host, *args, **kwargs)


def gethostbyname(host):
    _refuse(host)
    return _real_gethostbyname(host)


if _LOG:
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
