"""Sources: the scheduler's run history and health flags per site, as a page and as JSON.

Thin over ``monitor.health.source_status`` -- the same per-site entries
``newsmon status --json`` prints, so the page, the API and the CLI never disagree.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from monitor.health import source_status
from monitor.web.responses import ChineseJSON, render


def _statuses(request: Request) -> list[dict]:
    return [status.to_dict() for status in source_status(request.app.state.web.index)]


def sources(request: Request) -> Response:
    sites = _statuses(request)
    flagged = sum(1 for site in sites if site["health"])
    return render(request, "sources.html", {"sites": sites, "flagged": flagged})


def api_sources(request: Request) -> ChineseJSON:
    return ChineseJSON({"sites": _statuses(request)})
