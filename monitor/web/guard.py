"""Which requests the web UI answers at all: a Host it is known by, and writes
from its own pages.

DNS rebinding: a page on ``attacker.example`` re-points its name at 127.0.0.1 and
then talks to this server as its own origin; its requests say
``Host: attacker.example``. So only these names are answered (421 otherwise):

- loopback names and addresses (``localhost``, ``127.0.0.1``, ``::1``), any port;
- the address the server is bound to;
- names the operator configured (``newsmon serve --allowed-host NAME``,
  ``NEWSMON_ALLOWED_HOSTS=a.example,b.example``);
- when bound to every interface (``0.0.0.0``/``::``), any IP address: a
  rebinding page always sends its own DNS name, never an address.

Writes (POST/PUT/PATCH/DELETE) from a browser must come from this server's own
pages: ``Origin`` (or, without it, ``Referer``) must be this origin, else 403.
A request with neither is not sent by a web page (curl, scripts), and goes on to
the login check as before.
"""
from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

ALLOWED_HOSTS_ENV = "NEWSMON_ALLOWED_HOSTS"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def refusal(scope: Scope, status: int, message: str, headers: dict | None = None) -> Response:
    """A short Chinese refusal: JSON under ``/api/``, plain text elsewhere (never HTML,
    since the message may quote a header the client sent)."""
    if scope["path"].startswith("/api/"):
        return Response(json.dumps({"error": message}, ensure_ascii=False), status, headers,
                        media_type="application/json")
    return Response(message + "\n", status, headers, media_type="text/plain; charset=utf-8")


def split_host(value: str | None) -> tuple[str, int | None] | None:
    """``Host`` header -> (lower-case name without brackets or final dot, port); None if malformed."""
    value = (value or "").strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:]
    elif value.count(":") > 1:
        return None                       # an IPv6 address must be in brackets
    else:
        name, _, port = value.partition(":")
    name = name.rstrip(".")
    if not name or (port and not (port.isdigit() and int(port) < 65536)):
        return None
    return name, int(port) if port else None


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def _configured(entry: str) -> str | None:
    """A configured name as ``split_host`` leaves it: ``news.example:8443``, ``[::1]`` and ``::1`` all work."""
    entry = entry.strip()
    ip = _ip(entry.strip("[]"))
    parsed = None if ip else split_host(entry)
    ip = ip or (parsed and _ip(parsed[0]))
    return str(ip) if ip else parsed[0] if parsed else None


@dataclass(frozen=True)
class HostPolicy:
    names: frozenset[str]
    any_address: bool = False

    @classmethod
    def build(cls, bound: str | None = None, extra: Iterable[str] = (), environ: dict | None = None) -> HostPolicy:
        """Loopback, ``bound`` (the listening address), ``extra`` and ``NEWSMON_ALLOWED_HOSTS``."""
        env = os.environ if environ is None else environ
        entries = [*extra, *(env.get(ALLOWED_HOSTS_ENV) or "").split(",")]
        bare = (bound or "").strip().strip("[]")
        if bare not in WILDCARD_BINDS:
            entries.append(bare)
        names = set(LOOPBACK_NAMES) | {name for name in map(_configured, entries) if name}
        return cls(frozenset(names), any_address=bare in WILDCARD_BINDS and bound is not None)

    def allows(self, host_header: str | None) -> bool:
        parsed = split_host(host_header)
        if parsed is None:
            return False
        name, ip = parsed[0], _ip(parsed[0])
        if ip is not None:
            return ip.is_loopback or self.any_address or str(ip) in self.names
        return name in self.names

    def describe(self) -> str:
        shown = sorted(self.names - LOOPBACK_NAMES)
        return ", ".join(["localhost/127.0.0.1/::1", *shown] + (["本机任一 IP 地址"] if self.any_address else []))


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.rstrip("."), port


def own_origin(scope: Scope, headers: Headers) -> tuple[str, str, int | None] | None:
    """This request's own origin: its scheme (``Transport`` has applied a trusted proxy's) and Host."""
    parsed = split_host(headers.get("host"))
    if parsed is None:
        return None
    scheme = scope.get("scheme", "http")
    return scheme, parsed[0], parsed[1] or DEFAULT_PORTS.get(scheme)


def same_origin_write(scope: Scope, headers: Headers) -> bool:
    """Whether an unsafe request may go on: it comes from this origin, or from no web page at all."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site in ("cross-site", "same-site"):       # set by the browser itself; a page cannot forge it
        return False
    origin = headers.get("origin")
    if origin == "null":
        # Opaque: a sandboxed frame, or a browser told to hide the origin; only its
        # own Sec-Fetch-Site can vouch that it is this site's page.
        return fetch_site == "same-origin"
    claimed = origin or headers.get("referer")
    if claimed is None:
        return True                       # no web page sent this (curl, scripts): the login check decides
    own = own_origin(scope, headers)
    return own is not None and _origin(claimed) == own


class RequestGuard:
    """ASGI middleware: 421 for a Host this server is not known by, 403 for a
    cross-origin write. Runs before the session and login, on every route."""

    def __init__(self, app: ASGIApp, policy: HostPolicy):
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        if not self.policy.allows(headers.get("host")):
            host = (headers.get("host") or "")[:100]
            response = refusal(scope, 421, f"拒绝访问：本服务不以主机名 “{host}” 提供服务（防 DNS 重绑定）。"
                                           f"如需用此名称访问，请用 newsmon serve --allowed-host 或 "
                                           f"{ALLOWED_HOSTS_ENV} 配置。")
        elif scope["method"] not in SAFE_METHODS and not same_origin_write(scope, headers):
            response = refusal(scope, 403, "拒绝跨站请求：修改操作只接受来自本站页面的请求。")
        else:
            return await self.app(scope, receive, send)
        await response(scope, receive, send)
