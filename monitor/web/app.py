"""The web app: ``create_app(index_url)`` builds a Starlette app over one open index.

Layers, outermost first: security headers (``headers.py``, outside even the 500
handler), the transport (a trusted proxy's scheme, Secure cookies: ``transport.py``),
the Host and cross-origin checks (``guard.py``), the signed session cookie, the
login check (``auth.py``), then the routes: server-rendered pages
(``pages.py``, Jinja2 with autoescape) and the JSON API under ``/api/``
(``api.py``, described by ``openapi.py``). Route functions are plain ``def``s:
Starlette runs them in its thread pool, and the index serializes its own access.
"""
from __future__ import annotations

import time
import queue
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from index import open_index
from index.base import IndexBackend
from monitor.clock import show
from monitor.text import reach_line, safe_href
from monitor.web.auth import Credentials, LoginRequired, session_secret
from monitor.web.cache import DEFAULT_TTL, CachedMatches
from monitor.web.guard import HostPolicy, RequestGuard
from monitor.web.headers import SecurityHeaders
from monitor.web.highlight import highlight
from monitor.web.sessions import SessionRegistry
from monitor.web.throttle import LoginThrottle
from monitor.web.transport import Transport, trust_proxy_from_env

HERE = Path(__file__).resolve().parent
SITES_TTL = 60.0          # seconds the site/region filter lists are reused
SESSION_MAX_AGE = 12 * 3600


class Readers:
    """A few open indexes for searches. A request holds one for its whole search, and
    requests queue for them first come, first served: sharing one connection made
    every concurrent search wait for all the others (each takes the index's lock
    once per story), so all of them finished together, at the end."""

    def __init__(self, index_url: str | None, size: int):
        self._all = [open_index(index_url) for _ in range(size)]
        self._free: queue.Queue[IndexBackend] = queue.Queue()
        for index in self._all:
            self._free.put(index)

    @contextmanager
    def __call__(self) -> Iterator[IndexBackend]:
        index = self._free.get()
        try:
            yield index
        finally:
            self._free.put(index)

    def close(self) -> None:
        for index in self._all:
            index.close()


@dataclass
class WebState:
    """What every request uses: the index, the credentials, the templates."""

    index: IndexBackend
    index_url: str
    credentials: Credentials
    templates: Jinja2Templates
    matches: CachedMatches
    readers: Readers
    sessions: SessionRegistry
    throttle: LoginThrottle
    _sites: tuple[float, dict[str, str | None]] = field(default=(0.0, {}))

    def site_regions(self) -> dict[str, str | None]:
        """Sites and their regions for the filters, re-read at most every ``SITES_TTL`` s."""
        stamp, sites = self._sites
        if time.monotonic() - stamp > SITES_TTL:
            sites = self.index.site_regions()
            self._sites = (time.monotonic(), sites)
        return sites


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["highlight"] = highlight
    env.filters["when"] = lambda value: show(value, "—")        # NEWSMON_TZ, to the minute
    env.filters["link"] = safe_href
    env.globals["reach_line"] = reach_line
    return Jinja2Templates(env=env)


class App(Starlette):
    """Starlette with the security headers outside its 500 handler as well: Starlette
    puts its ``ServerErrorMiddleware`` outside every user middleware, so a 500 went
    out without the Content-Security-Policy."""

    def build_middleware_stack(self):
        return SecurityHeaders(super().build_middleware_stack())


def create_app(index_url: str | None = None, *, credentials: Credentials | None = None,
               secret: str | None = None, cache_seconds: float = DEFAULT_TTL, readers: int = 2,
               hosts: HostPolicy | None = None, trust_proxy: bool | None = None) -> Starlette:
    """The app over ``index_url`` (opened now, so a bad URL fails before serving).
    ``credentials`` default to the environment's (``auth.Credentials.from_env``);
    ``cache_seconds``: how long a search's list of matching stories is reused;
    ``readers``: searches served at once (each has its own index connection);
    ``hosts``: the Host names answered (default: loopback and ``NEWSMON_ALLOWED_HOSTS``);
    ``trust_proxy``: believe X-Forwarded-Proto/-For (default: ``NEWSMON_TRUST_PROXY``)."""
    from monitor.web import api, pages, storage_errors

    index = open_index(index_url)
    state = WebState(index=index, index_url=index_url or "",
                     credentials=credentials if credentials is not None else Credentials.from_env(),
                     templates=make_templates(), matches=CachedMatches(ttl=cache_seconds),
                     readers=Readers(index_url, readers),
                     sessions=SessionRegistry(index.state, SESSION_MAX_AGE), throttle=LoginThrottle())

    @asynccontextmanager
    async def lifespan(app):
        yield
        state.readers.close()
        state.index.close()

    middleware = [
        Middleware(Transport, trust_proxy=trust_proxy_from_env() if trust_proxy is None else trust_proxy),
        Middleware(RequestGuard, policy=hosts or HostPolicy.build()),
        Middleware(SessionMiddleware, secret_key=secret or session_secret(), same_site="strict",
                   session_cookie="newsmon_session", max_age=SESSION_MAX_AGE),
        Middleware(LoginRequired, credentials=state.credentials, sessions=state.sessions, throttle=state.throttle),
    ]
    routes = [*pages.routes(), *api.routes(),
              Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static")]
    app = App(routes=routes, middleware=middleware, lifespan=lifespan,
              exception_handlers={**pages.exception_handlers(), **storage_errors.handlers()})
    app.state.web = state
    return app
