"""Sources: each site's run history and health flags, and managing the sites themselves.

The health is ``monitor.health.source_status`` -- the same per-site entries
``newsmon status --json`` prints, so the page, the API and the CLI never disagree.
Adding, editing, pausing and removing sites goes through the ``SiteRegistry`` the
serve command handed the app (``registry.py``); without one the page only reads.
"""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.health import source_status
from monitor.task_queue import queue_depth
from monitor.web.auth import check_csrf
from monitor.web.registry import SiteEntry, SiteRegistryError
from monitor.web.responses import FORM_EXPIRED, ChineseJSON, render, split_values

FLASHES = {"added": "已添加站点", "saved": "已保存站点", "paused": "已暂停采集", "resumed": "已恢复采集",
           "removed": "已删除站点"}


def _statuses(request: Request) -> list[dict]:
    return [status.to_dict() for status in source_status(request.app.state.web.index)]


def _registry(request: Request):
    registry = request.app.state.web.registry
    if registry is None:
        raise HTTPException(404, "这个服务没有配置站点文件，不能在网页上管理站点（用 newsmon serve --sites FILE 启动）")
    return registry


def site_rows(request: Request) -> tuple[list[dict], str | None]:
    """One row per site: the sites file's entries (also those never crawled yet) with
    their health, then sites that only have history (removed from the file)."""
    state = request.app.state.web
    statuses = {site["name"]: site for site in _statuses(request)}
    entries, problem = [], None
    if state.registry is not None:
        try:
            entries = state.registry.list()
        except SiteRegistryError as exc:
            problem = exc.message
    rows, titles = [], state.site_titles()
    for entry in entries:
        status = statuses.pop(entry.name, None) or {"name": entry.name, "runs": 0, "last_run": None,
                                                    "last_new_article": None, "failure_streak": 0, "health": [],
                                                    "article_shapes": [], "fetch_rung": "plain"}
        rows.append({**status, "entry": entry, "title": titles.get(entry.name, entry.display_name)})
    rows += [{**status, "entry": None, "title": titles.get(name, name)} for name, status in sorted(statuses.items())]
    return rows, problem


def _sources_page(request: Request, *, form: dict | None = None, errors: dict | None = None,
                  status_code: int = 200) -> Response:
    rows, problem = site_rows(request)
    flash = request.query_params.get("done"), request.query_params.get("site")
    queue = queue_depth()       # several machines: tasks waiting and running; None on one machine
    context = {"sites": rows, "flagged": sum(1 for row in rows if row["health"]), "problem": problem,
               "queue": queue, "show_workers": queue is not None or any(
                   (row.get("last_run") or {}).get("worker") for row in rows),
               "registry": request.app.state.web.registry, "form": form or {}, "errors": errors or {},
               "flash": f"{FLASHES[flash[0]]}「{flash[1]}」。" if flash[0] in FLASHES and flash[1] else None}
    return render(request, "sources.html", context, status_code=status_code)


def sources(request: Request) -> Response:
    return _sources_page(request)


def api_sources(request: Request) -> ChineseJSON:
    """What ``newsmon status --json`` prints: the sites, and the queue when a broker is set."""
    out: dict = {"sites": _statuses(request)}
    queue = queue_depth()
    if queue is not None:
        out["queue"] = queue.to_dict()
    return ChineseJSON(out)


def _form_values(form: FormData) -> dict:
    return {key: str(form.get(key) or "").strip() for key in ("name", "title", "start_urls", "region", "schedule")}


def _entry(values: dict, name: str | None = None) -> SiteEntry:
    return SiteEntry(name=name or values["name"], title=values["title"], region=values["region"],
                     schedule=values["schedule"], start_urls=split_values(values["start_urls"]))


def _done(request: Request, what: str, name: str) -> RedirectResponse:
    request.app.state.web.sites_changed()
    return RedirectResponse("/sources?" + urlencode({"done": what, "site": name}), status_code=303)


async def site_create(request: Request) -> Response:
    registry = _registry(request)
    form = await request.form()
    values = _form_values(form)
    if not check_csrf(request, form.get("csrf")):
        return _sources_page(request, form=values, errors={None: FORM_EXPIRED}, status_code=400)
    try:
        entry = registry.add(_entry(values))
    except SiteRegistryError as exc:
        return _sources_page(request, form=values, errors={exc.field: exc.message}, status_code=400)
    return _done(request, "added", entry.name)


def _edit_page(request: Request, entry: SiteEntry, form: dict, errors: dict, status_code: int = 200) -> Response:
    return render(request, "site_edit.html", {"entry": entry, "form": form, "errors": errors}, status_code)


def site_edit(request: Request) -> Response:
    entry = _registry(request).get(request.path_params["name"])
    if entry is None:
        raise HTTPException(404, f"没有名为「{request.path_params['name']}」的站点")
    form = {**entry.to_dict(), "start_urls": "\n".join(entry.start_urls)}
    return _edit_page(request, entry, form, {})


async def site_update(request: Request) -> Response:
    registry = _registry(request)
    name = request.path_params["name"]
    entry = registry.get(name)
    if entry is None:
        raise HTTPException(404, f"没有名为「{name}」的站点")
    form = await request.form()
    values = {**_form_values(form), "name": name}
    if not check_csrf(request, form.get("csrf")):
        return _edit_page(request, entry, values, {None: FORM_EXPIRED}, 400)
    try:
        changes = _entry(values, name).to_dict()
        registry.update(name, {key: changes[key] for key in ("title", "start_urls", "region", "schedule")})
    except SiteRegistryError as exc:
        return _edit_page(request, entry, values, {exc.field: exc.message}, 400)
    return _done(request, "saved", name)


async def _site_action(request: Request, act) -> Response:
    registry = _registry(request)
    form = await request.form()
    name = request.path_params["name"]
    if not check_csrf(request, form.get("csrf")):
        raise HTTPException(400, FORM_EXPIRED)
    try:
        found = act(registry, name)
    except SiteRegistryError as exc:
        raise HTTPException(400, exc.message) from None
    if not found:
        raise HTTPException(404, f"没有名为「{name}」的站点")
    return found


async def site_pause(request: Request) -> Response:
    return await _site_action(request, lambda registry, name: registry.get(name) and (
        registry.set_paused(name, True) and _done(request, "paused", name)))


async def site_resume(request: Request) -> Response:
    return await _site_action(request, lambda registry, name: registry.get(name) and (
        registry.set_paused(name, False) and _done(request, "resumed", name)))


async def site_delete(request: Request) -> Response:
    return await _site_action(request, lambda registry, name: registry.remove(name) and _done(request, "removed", name))
