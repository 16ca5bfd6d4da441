"""JSON API for watches, over the same library calls as the watches page.

Writes take ``application/json`` only: a cross-site HTML form cannot send that
without a CORS preflight this server never grants, so cookie-authenticated
writes need no CSRF token here.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from monitor.clock import parse_local
from monitor.watches import TEST_DAYS, Watch, WatchError
from monitor.web.responses import BadBody, ChineseJSON, bad_request, json_object


def _not_found(name: str) -> ChineseJSON:
    return ChineseJSON({"error": f"没有名为「{name}」的监测"}, status_code=404)


def api_watches(request: Request) -> ChineseJSON:
    return ChineseJSON({"watches": [w.to_dict() for w in request.app.state.web.watch_store().list()]})


async def api_watch_create(request: Request) -> Response:
    try:
        body = await json_object(request, '{"name": "laser", "query": "激光", "emails": ["team@example.com"]}')
        watch = Watch.from_dict({**body, "created": ""})
    except BadBody as exc:
        return exc.response()
    except (ValueError, KeyError, TypeError) as exc:
        return bad_request(f"监测至少要有 name 和 query 两项：缺少或写错了 {exc}")
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
        try:
            body = await json_object(request, '{"until": "YYYY-MM-DD HH:MM"}')
            until = parse_local(str(body["until"]))
        except BadBody as exc:
            return exc.response()
        except (ValueError, KeyError, TypeError) as exc:
            return bad_request(f"暂停提醒的截止时间（until）有误：{exc}")
    store = request.app.state.web.watch_store()
    if store.get(name) is None:
        return _not_found(name)
    try:
        watch = store.snooze(name, until)
    except WatchError as exc:
        return bad_request(str(exc))
    return ChineseJSON(watch.to_dict())


async def api_watch_update(request: Request) -> Response:
    """``PATCH``: the fields given replace the watch's (name, creation time and snooze stay)."""
    name = request.path_params["name"]
    store = request.app.state.web.watch_store()
    old = store.get(name)
    if old is None:
        return _not_found(name)
    try:
        body = await json_object(request, '{"query": "激光 OR 传感", "emails": ["team@example.com"]}')
        unknown = sorted(set(body) - set(old.to_dict()) - {"name"})
        if unknown:
            return bad_request(f"不认识的字段：{', '.join(unknown)}")
        watch = store.update(name, Watch.from_dict({**old.to_dict(), **body, "name": name}))
    except BadBody as exc:
        return exc.response()
    except (WatchError, ValueError, TypeError) as exc:
        return bad_request(str(exc))
    return ChineseJSON(watch.to_dict())


def api_watch_pause(request: Request) -> Response:
    """``POST``: pause the watch (no alerts, no digest section); ``DELETE``: resume it."""
    name = request.path_params["name"]
    try:
        watch = request.app.state.web.watch_store().set_paused(name, request.method == "POST")
    except WatchError:
        return _not_found(name)
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
        return bad_request("天数（days）应是整数")
    if not 1 <= days <= 3650:
        return bad_request("天数（days）应在 1 到 3650 之间")
    try:
        stories = store.matches(watch, days)
    except WatchError as exc:        # stored before the query bounds, say: a 400 saying why, not a 500
        return bad_request(str(exc))
    return ChineseJSON({"watch": name, "days": days, "stories": stories})
