"""How a request really arrived: its scheme and client, and Secure cookies over https.

Behind a TLS-terminating reverse proxy the server itself sees plain http from
the proxy's address. Only when the operator says so (``newsmon serve
--behind-proxy`` or ``NEWSMON_TRUST_PROXY=1``) are the proxy's
``X-Forwarded-Proto`` and ``X-Forwarded-For`` believed; otherwise anyone could
claim https or another client address (and dodge the per-address login limit).
"""
from __future__ import annotations

import os

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRUST_PROXY_ENV = "NEWSMON_TRUST_PROXY"


def trust_proxy_from_env(environ: dict | None = None) -> bool:
    env = os.environ if environ is None else environ
    return (env.get(TRUST_PROXY_ENV) or "").strip().lower() in ("1", "true", "yes", "on")


def _last(value: str | None) -> str:
    # The proxy next to us appends (or sets) the last entry; earlier ones are the client's say-so.
    return (value or "").split(",")[-1].strip()


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class Transport:
    """ASGI middleware, outside the session: the proxy's scheme and client when trusted,
    and ``Secure`` on every cookie of an https response (the browser then never sends
    the session over plain http)."""

    def __init__(self, app: ASGIApp, trust_proxy: bool = False):
        self.app = app
        self.trust_proxy = trust_proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.trust_proxy:
            headers = Headers(scope=scope)
            proto, forwarded_for = _last(headers.get("x-forwarded-proto")).lower(), _last(headers.get("x-forwarded-for"))
            scope = dict(scope)
            if proto in ("http", "https"):
                scope["scheme"] = proto
            if forwarded_for:
                scope["client"] = (forwarded_for, 0)
        if scope.get("scheme") != "https":
            return await self.app(scope, receive, send)

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(name, value + b"; secure" if name.lower() == b"set-cookie"
                                       and b"; secure" not in value.lower() else value)
                                      for name, value in message.get("headers", [])]
            await send(message)

        await self.app(scope, receive, send_secure)
