"""Watches page: list, create, test and delete watches.

Thin over the library: ``monitor.watches.WatchStore`` (the alerts issue's model);
its ``WatchError`` messages are shown as they are.
"""
from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.watches import TEST_DAYS, Watch, WatchError, WatchStore
from monitor.web.auth import check_csrf
from monitor.web.responses import render

_SPLIT = re.compile(r"[\s,;，；]+")


def _store(request: Request) -> WatchStore:
    return request.app.state.web.watch_store()


def _values(text: str | None) -> list[str]:
    return [v for v in _SPLIT.split(text or "") if v]


def _watches_page(request: Request, *, form: dict | None = None, error: str | None = None,
                  status_code: int = 200) -> Response:
    context = {"watches": _store(request).list(), "form": form or {}, "error": error,
               "sites": request.app.state.web.site_regions(),
               "created": request.query_params.get("created"), "deleted": request.query_params.get("deleted")}
    return render(request, "watches.html", context, status_code=status_code)


def watches(request: Request) -> Response:
    return _watches_page(request)


async def watch_create(request: Request) -> Response:
    form = await request.form()
    values = {"name": str(form.get("name") or ""), "query": str(form.get("query") or ""),
              "emails": str(form.get("emails") or ""), "webhooks": str(form.get("webhooks") or ""),
              "mode": str(form.get("mode") or "both"), "sites": [str(s) for s in form.getlist("sites") if s],
              "regions": str(form.get("regions") or ""),
              "window_hours": str(form.get("window_hours") or "").strip(),
              "quiet_hours": str(form.get("quiet_hours") or "").strip()}
    if not check_csrf(request, form.get("csrf")):
        return _watches_page(request, form=values, error="the form expired: please submit it again",
                             status_code=400)
    watch = Watch(name=values["name"], query=values["query"], emails=_values(values["emails"]),
                  webhooks=_values(values["webhooks"]), mode=values["mode"], sites=values["sites"],
                  regions=_values(values["regions"]), quiet_hours=values["quiet_hours"],
                  **({"window_hours": values["window_hours"]} if values["window_hours"] else {}))
    try:
        _store(request).add(watch)
    except WatchError as exc:
        return _watches_page(request, form=values, error=str(exc), status_code=400)
    return RedirectResponse("/watches?" + urlencode({"created": watch.name}), status_code=303)


async def watch_delete(request: Request) -> Response:
    form = await request.form()
    name = request.path_params["name"]
    if not check_csrf(request, form.get("csrf")):
        raise HTTPException(400, "the form expired: go back and try again")
    if not _store(request).remove(name):
        raise HTTPException(404, f"no watch named {name!r}")
    return RedirectResponse("/watches?" + urlencode({"deleted": name}), status_code=303)


def watch_test(request: Request) -> Response:
    name = request.path_params["name"]
    store = _store(request)
    watch = store.get(name)
    if watch is None:
        raise HTTPException(404, f"no watch named {name!r}")
    try:
        days = max(1, min(int(request.query_params.get("days") or TEST_DAYS), 3650))
    except ValueError:
        days = TEST_DAYS
    try:
        stories = store.matches(watch, days)
        terms, error = watch.parsed.positive_terms, None
    except WatchError as exc:
        stories, terms, error = [], [], str(exc)
    return render(request, "watch_test.html", {"watch": watch, "days": days, "stories": stories,
                                                 "terms": terms, "error": error, "q": watch.query},
                  status_code=400 if error else 200)
