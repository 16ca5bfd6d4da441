"""The web app: ``create_app(index_url)`` builds a Starlette app over one open index.

This module is the composition root: it builds the shared state (``state.py``),
the middleware and the one route table. Layers, outermost first: security
headers (``headers.py``, outside even the 500 handler), the transport (a trusted
proxy's scheme, Secure cookies: ``transport.py``), the Host and cross-origin
checks (``guard.py``), the signed session cookie, the login check (``auth.py``),
then the routes: server-rendered pages (``pages.py``, ``watch_pages.py``,
``source_pages.py``; Jinja2 with autoescape) and the JSON API under ``/api/``
(``api.py``, ``watch_api.py``, described by ``openapi.py``). The views import
only helpers (``responses.py`` and below), never each other nor this module.
Route functions are plain ``def``s: Starlette runs them in its thread pool, and
the index serializes its own access.
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from index import open_index
from monitor.web import api, pages, site_api, source_pages, watch_api, watch_pages
from monitor.web import export_views, feed_views, source_views
from monitor.web.auth import Credentials, LoginRequired, session_secret
from monitor.web.cache import DEFAULT_TTL, CachedMatches
from monitor.web.guard import HostPolicy, RequestGuard
from monitor.web.headers import SecurityHeaders
from monitor.web.registry import SiteRegistry
from monitor.web.responses import EXCEPTION_HANDLERS
from monitor.web.sessions import SessionRegistry
from monitor.web.state import HERE, Readers, WebState, make_templates
from monitor.web.throttle import LoginThrottle
from monitor.web.transport import Transport, trust_proxy_from_env

SESSION_MAX_AGE = 12 * 3600


def route_table() -> list[BaseRoute]:
    """Every URL the app answers, pages first, then the JSON API, then static files."""
    return [
        Route("/", pages.search, name="search"),
        Route("/story/{story_id}", pages.story, name="story"),
        Route("/login", pages.login, methods=["GET"], name="login"),
        Route("/login", pages.login_submit, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"], name="logout"),
        Route("/watches", watch_pages.watches, methods=["GET"], name="watches"),
        Route("/watches", watch_pages.watch_create, methods=["POST"]),
        Route("/watches/{name}/delete", watch_pages.watch_delete, methods=["POST"], name="watch_delete"),
        Route("/watches/{name}/test", watch_pages.watch_test, methods=["GET"], name="watch_test"),
        Route("/watches/{name}/edit", watch_pages.watch_edit, methods=["GET"], name="watch_edit"),
        Route("/watches/{name}/edit", watch_pages.watch_update, methods=["POST"]),
        Route("/watches/{name}/pause", watch_pages.watch_pause, methods=["POST"], name="watch_pause"),
        Route("/watches/{name}/resume", watch_pages.watch_resume, methods=["POST"], name="watch_resume"),
        Route("/watches/{name}/snooze", watch_pages.watch_snooze, methods=["POST"], name="watch_snooze"),
        Route("/sources", source_pages.sources, methods=["GET"], name="sources"),
        Route("/sources", source_pages.site_create, methods=["POST"]),
        Route("/sources/{name}/edit", source_pages.site_edit, methods=["GET"], name="site_edit"),
        Route("/sources/{name}/edit", source_pages.site_update, methods=["POST"]),
        Route("/sources/{name}/pause", source_pages.site_pause, methods=["POST"], name="site_pause"),
        Route("/sources/{name}/resume", source_pages.site_resume, methods=["POST"], name="site_resume"),
        Route("/sources/{name}/delete", source_pages.site_delete, methods=["POST"], name="site_delete"),
        # Outputs (issue 21): search export, a watch's page and Atom feed, a source's page with its chart.
        Route("/export", export_views.export_search, name="export"),
        Route("/api/export", export_views.export_search, name="api_export"),
        Route("/watches/{name}", feed_views.watch_page, methods=["GET"], name="watch_page"),
        Route("/watches/{name}/feed-token", feed_views.rotate_feed_token, methods=["POST"], name="watch_feed_token"),
        Route("/api/watches/{name}/feed", feed_views.api_watch_feed, methods=["GET", "POST"], name="api_watch_feed"),
        Route("/feeds/watches/{name}.atom", feed_views.watch_feed_xml, name="watch_feed"),
        Route("/sources/{site}", source_views.source_page, name="source_page"),

        Route("/api/search", api.api_search, name="api_search"),
        Route("/api/story/{story_id}", api.api_story, name="api_story"),
        Route("/api/sites", site_api.api_sites, methods=["GET"], name="api_sites"),
        Route("/api/sites", site_api.api_site_create, methods=["POST"]),
        Route("/api/sites/{name}", site_api.api_site, methods=["GET"], name="api_site"),
        Route("/api/sites/{name}", site_api.api_site_update, methods=["PATCH"]),
        Route("/api/sites/{name}", site_api.api_site_delete, methods=["DELETE"]),
        Route("/api/sites/{name}/pause", site_api.api_site_pause, methods=["POST", "DELETE"], name="api_site_pause"),
        Route("/api/openapi.json", api.api_openapi, name="api_openapi"),
        Route("/api/sources", source_pages.api_sources, name="api_sources"),
        Route("/api/watches", watch_api.api_watches, methods=["GET"], name="api_watches"),
        Route("/api/watches", watch_api.api_watch_create, methods=["POST"]),
        Route("/api/watches/{name}", watch_api.api_watch, methods=["GET"], name="api_watch"),
        Route("/api/watches/{name}", watch_api.api_watch_delete, methods=["DELETE"]),
        Route("/api/watches/{name}", watch_api.api_watch_update, methods=["PATCH"]),
        Route("/api/watches/{name}/pause", watch_api.api_watch_pause, methods=["POST", "DELETE"], name="api_watch_pause"),
        Route("/api/watches/{name}/test", watch_api.api_watch_test, methods=["GET"], name="api_watch_test"),
        Route("/api/watches/{name}/snooze", watch_api.api_watch_snooze, methods=["POST", "DELETE"],
              name="api_watch_snooze"),

        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]


class App(Starlette):
    """Starlette with the security headers outside its 500 handler as well: Starlette
    puts its ``ServerErrorMiddleware`` outside every user middleware, so a 500 went
    out without the Content-Security-Policy."""

    def build_middleware_stack(self):
        return SecurityHeaders(super().build_middleware_stack())


def create_app(index_url: str | None = None, *, credentials: Credentials | None = None,
               secret: str | None = None, cache_seconds: float = DEFAULT_TTL, readers: int = 2,
               hosts: HostPolicy | None = None, trust_proxy: bool | None = None,
               sites: SiteRegistry | None = None) -> Starlette:
    """The app over ``index_url`` (opened now, so a bad URL fails before serving).
    ``credentials`` default to the environment's (``auth.Credentials.from_env``);
    ``cache_seconds``: how long a search's list of matching stories is reused;
    ``readers``: searches served at once (each has its own index connection);
    ``hosts``: the Host names answered (default: loopback and ``NEWSMON_ALLOWED_HOSTS``);
    ``trust_proxy``: believe X-Forwarded-Proto/-For (default: ``NEWSMON_TRUST_PROXY``);
    ``sites``: where the sites live (``registry.SiteRegistry``; the serve command passes the
    sites file's), which makes them manageable on the Sources page and under ``/api/sites``."""
    index = open_index(index_url)
    state = WebState(index=index, index_url=index_url or "",
                     credentials=credentials if credentials is not None else Credentials.from_env(),
                     templates=make_templates(), matches=CachedMatches(ttl=cache_seconds),
                     readers=Readers(index_url, readers),
                     sessions=SessionRegistry(index.state, SESSION_MAX_AGE), throttle=LoginThrottle(),
                     registry=sites)

    @asynccontextmanager
    async def lifespan(app):
        yield
        state.close()

    middleware = [
        Middleware(Transport, trust_proxy=trust_proxy_from_env() if trust_proxy is None else trust_proxy),
        Middleware(RequestGuard, policy=hosts or HostPolicy.build()),
        Middleware(SessionMiddleware, secret_key=secret or session_secret(), same_site="strict",
                   session_cookie="newsmon_session", max_age=SESSION_MAX_AGE),
        Middleware(LoginRequired, credentials=state.credentials, sessions=state.sessions, throttle=state.throttle),
    ]
    app = App(routes=route_table(), middleware=middleware, lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS)
    state.sites_changed()
    app.state.web = state
    return app
