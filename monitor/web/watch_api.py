"""JSON API for watches, over the same library calls as the watches page.

Writes take ``application/json`` only: a cross-site HTML form cannot send that
without a CORS preflight this server never grants, so cookie-authenticated
writes need no CSRF token here.
"""
from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from monitor.clock import parse_local
from monitor.watches import TEST_DAYS, Watch, WatchError
from monitor.web.responses import ChineseJSON, bad_request


def _not_found(name: str) -> ChineseJSON:
    return ChineseJSON({"error": f"no watch named {name!r}"}, status_code=404)


def api_watches(request: Request) -> ChineseJSON:
    return ChineseJSON({"watches": [w.to_dict() for w in request.app.state.web.watch_store().list()]})


async def api_watch_create(request: Request) -> Response:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return ChineseJSON({"error": "send the watch as application/json"}, status_code=415)
    try:
        body = json.loads(await request.body())
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object")
        watch = Watch.from_dict({**body, "created": ""})
    except (ValueError, KeyError, TypeError) as exc:
        return bad_request(f"a watch is a JSON object with at least name and query: {exc}")
    try:
        request.app.state.web.watch_store().add(watch)
    except WatchError as exc:
        return bad_request(str(exc))
    return ChineseJSON(watch.to_dict(), status_code=201)


def api_watch(request: Request) -> ChineseJSON:
    watch = request.app.state.web.watch_store().get(request.path_params["name"])
    return ChineseJSON(watch.to_dict()) if watch else _not_found(request.path_params["name"])


def api_watch_delete(request: Request) -> Response:
    name = request.path_params["name"]
    if not request.app.state.web.watch_store().remove(name):
        return _not_found(name)
    return ChineseJSON({"removed": name})


async def api_watch_snooze(request: Request) -> Response:
    """``POST {"until": "YYYY-MM-DD[ HH:MM]"}`` (NEWSMON_TZ, or with an offset): no
    immediate alerts until then, matches go to the digest only. ``DELETE`` ends it."""
    name = request.path_params["name"]
    until = None
    if request.method == "POST":
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return ChineseJSON({"error": "send {\"until\": \"YYYY-MM-DD HH:MM\"} as application/json"},
                               status_code=415)
        try:
            body = json.loads(await request.body())
            until = parse_local(str(body["until"]))
        except (ValueError, KeyError, TypeError) as exc:
            return bad_request(f"until: {exc}")
    store = request.app.state.web.watch_store()
    if store.get(name) is None:
        return _not_found(name)
    try:
        watch = store.snooze(name, until)
    except WatchError as exc:
        return bad_request(str(exc))
    return ChineseJSON(watch.to_dict())


def api_watch_test(request: Request) -> ChineseJSON:
    name = request.path_params["name"]
    store = request.app.state.web.watch_store()
    watch = store.get(name)
    if watch is None:
        return _not_found(name)
    try:
        days = int(request.query_params.get("days") or TEST_DAYS)
    except ValueError:
        return bad_request("days: a whole number of days")
    if not 1 <= days <= 3650:
        return bad_request("days: between 1 and 3650")
    try:
        stories = store.matches(watch, days)
    except WatchError as exc:        # stored before the query bounds, say: a 400 saying why, not a 500
        return bad_request(str(exc))
    return ChineseJSON({"watch": name, "days": days, "stories": stories})
