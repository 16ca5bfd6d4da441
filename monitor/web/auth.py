"""Who may use the web UI: credentials from the environment, login, CSRF.

- ``Credentials.from_env()``: ``NEWSMON_WEB_TOKEN`` (a shared token) and/or
  ``NEWSMON_WEB_USER`` + ``NEWSMON_WEB_PASSWORD``. When any is set, every page
  and API call needs them; ``check_bind`` refuses a non-loopback address without
  them, because the index then answers anyone on the network.
- Browsers log in once at ``/login`` (a signed session cookie, SameSite=strict);
  API clients send ``Authorization: Bearer TOKEN`` or HTTP Basic user:password.
- Forms carry a per-session CSRF token (``csrf_token``/``check_csrf``). The JSON
  API takes writes only as ``application/json``, which no cross-site form can send;
  ``guard.py`` refuses cross-origin writes and foreign Host names before all this.
- Wrong passwords and tokens, on the form and in headers alike, are throttled per
  client address and user (``throttle.py``); logout ends the session on the
  server too (``sessions.py``).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from monitor.web.guard import refusal
from monitor.web.sessions import SESSION_ID, SessionRegistry
from monitor.web.throttle import LoginThrottle, keys
from monitor.web.transport import client_ip

TOKEN_ENV = "NEWSMON_WEB_TOKEN"
USER_ENV = "NEWSMON_WEB_USER"
PASSWORD_ENV = "NEWSMON_WEB_PASSWORD"
SECRET_ENV = "NEWSMON_WEB_SECRET"
OPEN_PATHS = ("/login", "/static/", "/feeds/")   # reachable without logging in (a feed checks its own token)
SESSION_USER = "user"


class AccessConfigError(ValueError):
    """The server would be reachable from the network with no login: refuse to start."""


@dataclass(frozen=True)
class Credentials:
    token: str | None = None
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_env(cls, environ: dict | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        user, password = env.get(USER_ENV) or None, env.get(PASSWORD_ENV) or None
        if bool(user) != bool(password):
            raise AccessConfigError(f"set both {USER_ENV} and {PASSWORD_ENV} (or neither)")
        return cls(token=env.get(TOKEN_ENV) or None, user=user, password=password)

    @property
    def required(self) -> bool:
        return bool(self.token or self.user)

    def describe(self) -> str:
        ways = (["token"] if self.token else []) + ([f"user {self.user!r}"] if self.user else [])
        return "login required (" + " or ".join(ways) + ")" if ways else "open, no login (loopback only)"

    def check_token(self, token: str) -> bool:
        return bool(self.token) and hmac.compare_digest(token.encode(), self.token.encode())

    def check_password(self, user: str, password: str) -> bool:
        if not self.user:
            return False
        # Both comparisons always run: no timing hint about which one failed.
        ok_user = hmac.compare_digest(user.encode(), self.user.encode())
        ok_password = hmac.compare_digest(password.encode(), self.password.encode())
        return ok_user and ok_password


def is_loopback(host: str) -> bool:
    """True if ``host`` (a name or address) only ever resolves to loopback addresses."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def check_bind(host: str, credentials: Credentials) -> None:
    """Refuse to serve a non-loopback address without credentials, saying how to set them."""
    if credentials.required or is_loopback(host):
        return
    raise AccessConfigError(
        f"refusing to listen on {host} without a login: anyone who can reach it could read the index. "
        f"Set {TOKEN_ENV}=<a long random token> (API: 'Authorization: Bearer <token>'), or "
        f"{USER_ENV}=<name> and {PASSWORD_ENV}=<password>, in the environment; "
        f"or listen on 127.0.0.1 only.")


def session_secret(environ: dict | None = None) -> str:
    """``NEWSMON_WEB_SECRET`` if set (sessions survive restarts), else a fresh random key."""
    env = os.environ if environ is None else environ
    return env.get(SECRET_ENV) or secrets.token_urlsafe(32)


def _header_user(authorization: str) -> str | None:
    """The name an Authorization header tries (``token`` for a bearer), for the throttle."""
    scheme, _, value = authorization.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return "token"
    if scheme == "basic":
        try:
            return base64.b64decode(value.strip()).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _header_login(credentials: Credentials, authorization: str) -> str | None:
    scheme, _, value = authorization.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and credentials.check_token(value.strip()):
        return "token"
    if scheme == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if credentials.check_password(user, password):
            return user
    return None


def too_many_attempts(seconds: int) -> str:
    return f"登录失败次数过多，请 {seconds} 秒后再试。"


class LoginRequired:
    """ASGI middleware (inside the session middleware): pages redirect to ``/login``,
    API calls get 401, unless the session or the Authorization header says who it is.
    A session the server no longer knows (logged out) is emptied first."""

    def __init__(self, app: ASGIApp, credentials: Credentials, sessions: SessionRegistry,
                 throttle: LoginThrottle):
        self.app = app
        self.credentials = credentials
        self.sessions = sessions
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.credentials.required:
            return await self.app(scope, receive, send)
        request = Request(scope)
        session = request.session
        if session.get(SESSION_USER):
            sid = session.get(SESSION_ID)
            alive = self.sessions.known(sid)
            if alive is None:             # not seen since this process started: ask the store
                alive = await run_in_threadpool(self.sessions.alive, sid)
            if not alive:
                session.clear()
        path = scope["path"]
        if path.startswith(OPEN_PATHS) or session.get(SESSION_USER):
            return await self.app(scope, receive, send)
        authorization = request.headers.get("authorization")
        if authorization:
            attempt = keys(client_ip(scope), _header_user(authorization))
            wait = self.throttle.retry_after(*attempt)
            if wait:
                response = refusal(scope, 429, too_many_attempts(wait), {"Retry-After": str(wait)})
                return await response(scope, receive, send)
            if _header_login(self.credentials, authorization):
                self.throttle.succeeded(*attempt)
                return await self.app(scope, receive, send)
            self.throttle.failed(*attempt)
        if path.startswith("/api/"):
            response = JSONResponse({"error": "需要登录：请在请求头里带上 'Authorization: Bearer <令牌>'，"
                                              "或 HTTP Basic 用户名和密码"}, status_code=401,
                                    headers={"WWW-Authenticate": 'Bearer realm="newsmon", Basic realm="newsmon"'})
        else:
            target = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
            response = RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
        await response(scope, receive, send)


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use), for a form's hidden field."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and submitted) and hmac.compare_digest(expected.encode(), submitted.encode())


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
