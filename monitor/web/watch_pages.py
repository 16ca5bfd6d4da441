"""Watches page: list, create, edit, pause, test and delete watches.

Thin over the library: ``monitor.watches.WatchStore`` (the alerts issue's model);
its ``WatchError`` messages are shown as they are.
"""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.clock import parse_local
from monitor.watches import TEST_DAYS, Watch, WatchError, WatchStore
from monitor.web.auth import check_csrf
from monitor.web.responses import FORM_EXPIRED, render, split_values

FLASHES = {"created": "已创建监测", "deleted": "已删除监测", "saved": "已保存监测", "paused": "已暂停监测",
           "resumed": "已恢复监测", "snoozed": "已暂停提醒：监测", "unsnoozed": "已恢复提醒：监测"}


def _store(request: Request) -> WatchStore:
    return request.app.state.web.watch_store()


def _no_watch(name: str) -> HTTPException:
    return HTTPException(404, f"没有名为「{name}」的监测")


def _flash(request: Request) -> str | None:
    for what, text in FLASHES.items():
        if request.query_params.get(what):
            return f"{text}「{request.query_params[what]}」。"
    return None


def _watches_page(request: Request, *, form: dict | None = None, error: str | None = None,
                  status_code: int = 200) -> Response:
    state = request.app.state.web
    context = {"watches": _store(request).list(), "form": form or {}, "error": error,
               "sites": state.site_regions(), "flash": _flash(request)}
    return render(request, "watches.html", context, status_code=status_code)


def watches(request: Request) -> Response:
    return _watches_page(request)


def _form_values(form: FormData) -> dict:
    return {"name": str(form.get("name") or ""), "query": str(form.get("query") or ""),
            "emails": str(form.get("emails") or ""), "webhooks": str(form.get("webhooks") or ""),
            "mode": str(form.get("mode") or "both"), "sites": [str(s) for s in form.getlist("sites") if s],
            "regions": str(form.get("regions") or ""),
            "window_hours": str(form.get("window_hours") or "").strip(),
            "quiet_hours": str(form.get("quiet_hours") or "").strip()}


def _watch(values: dict) -> Watch:
    return Watch(name=values["name"], query=values["query"], emails=split_values(values["emails"]),
                 webhooks=split_values(values["webhooks"]), mode=values["mode"], sites=values["sites"],
                 regions=split_values(values["regions"]), quiet_hours=values["quiet_hours"],
                 **({"window_hours": values["window_hours"]} if values["window_hours"] else {}))


def _done(what: str, name: str) -> RedirectResponse:
    return RedirectResponse("/watches?" + urlencode({what: name}), status_code=303)


async def watch_create(request: Request) -> Response:
    form = await request.form()
    values = _form_values(form)
    if not check_csrf(request, form.get("csrf")):
        return _watches_page(request, form=values, error=FORM_EXPIRED, status_code=400)
    watch = _watch(values)
    try:
        _store(request).add(watch)
    except WatchError as exc:
        return _watches_page(request, form=values, error=str(exc), status_code=400)
    return _done("created", watch.name)


def _edit_page(request: Request, watch: Watch, form: dict, error: str | None, status_code: int = 200) -> Response:
    state = request.app.state.web
    return render(request, "watch_edit.html", {"watch": watch, "form": form, "error": error,
                                                "sites": state.site_regions()},
                  status_code=status_code)


def watch_edit(request: Request) -> Response:
    watch = _store(request).get(request.path_params["name"])
    if watch is None:
        raise _no_watch(request.path_params["name"])
    form = {**watch.to_dict(), "emails": "，".join(watch.emails), "webhooks": "\n".join(watch.webhooks),
            "regions": "，".join(watch.regions), "window_hours": str(watch.window_hours)}
    return _edit_page(request, watch, form, None)


async def watch_update(request: Request) -> Response:
    name = request.path_params["name"]
    store = _store(request)
    watch = store.get(name)
    if watch is None:
        raise _no_watch(name)
    form = await request.form()
    values = {**_form_values(form), "name": name}
    if not check_csrf(request, form.get("csrf")):
        return _edit_page(request, watch, values, FORM_EXPIRED, 400)
    try:
        store.update(name, _watch(values))
    except WatchError as exc:
        return _edit_page(request, watch, values, str(exc), 400)
    return _done("saved", name)


async def _watch_action(request: Request, paused: bool | None) -> Response:
    """Pause or resume (``paused``), or delete (None) the watch the path names."""
    form = await request.form()
    name = request.path_params["name"]
    if not check_csrf(request, form.get("csrf")):
        raise HTTPException(400, FORM_EXPIRED)
    store = _store(request)
    if paused is None:
        if not store.remove(name):
            raise _no_watch(name)
        return _done("deleted", name)
    try:
        store.set_paused(name, paused)
    except WatchError:
        raise _no_watch(name) from None
    return _done("paused" if paused else "resumed", name)


async def watch_snooze(request: Request) -> Response:
    """Snooze until the date typed (its midnight, NEWSMON_TZ), or end the snooze (no date)."""
    form = await request.form()
    name = request.path_params["name"]
    if not check_csrf(request, form.get("csrf")):
        raise HTTPException(400, FORM_EXPIRED)
    until = str(form.get("until") or "").strip()
    try:
        _store(request).snooze(name, parse_local(until) if until else None)
    except ValueError as exc:             # WatchError is one, and so is a date not typed as YYYY-MM-DD
        return _watches_page(request, error=f"监测「{name}」：暂停提醒的日期有误：{exc}", status_code=400)
    return _done("snoozed" if until else "unsnoozed", name)


async def watch_delete(request: Request) -> Response:
    return await _watch_action(request, None)


async def watch_pause(request: Request) -> Response:
    return await _watch_action(request, True)


async def watch_resume(request: Request) -> Response:
    return await _watch_action(request, False)


def watch_test(request: Request) -> Response:
    name = request.path_params["name"]
    store = _store(request)
    watch = store.get(name)
    if watch is None:
        raise _no_watch(name)
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
