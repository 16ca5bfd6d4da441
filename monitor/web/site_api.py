"""JSON API for the sites: the same ``SiteRegistry`` calls as the Sources page.

``GET /api/sites`` lists every site the index or the sites file knows, as
``{"name","region"}`` (design.md) plus ``title``, and for sites in the file
``start_urls``, ``schedule`` and ``paused``. Writes (``POST /api/sites``,
``PATCH``/``DELETE /api/sites/{name}``, ``POST``/``DELETE /api/sites/{name}/pause``)
take ``application/json`` and answer ``{"error", "field"}`` with 400 when refused.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from monitor.web.registry import EDITABLE, SiteEntry, SiteRegistryError
from monitor.web.responses import BadBody, ChineseJSON, json_object

EXAMPLE = '{"name": "sucheng-gov", "start_urls": ["https://www.example.gov.cn/"], "title": "宿城区人民政府"}'


def _refused(exc: SiteRegistryError) -> ChineseJSON:
    return ChineseJSON({"error": exc.message, "field": exc.field}, status_code=400)


def _no_registry() -> ChineseJSON:
    return ChineseJSON({"error": "这个服务没有配置站点文件，不能管理站点（用 newsmon serve --sites FILE 启动）"},
                       status_code=404)


def _not_found(name: str) -> ChineseJSON:
    return ChineseJSON({"error": f"没有名为「{name}」的站点"}, status_code=404)


def _urls(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(url, str) for url in value):
        raise SiteRegistryError("start_urls 应是网址或网址列表", "start_urls")
    return value


def _changes(body: dict) -> dict:
    unknown = sorted(set(body) - {*EDITABLE, "name", "paused"})
    if unknown:
        raise SiteRegistryError(f"不认识的字段：{', '.join(unknown)}；可用：name, {', '.join(EDITABLE)}, paused",
                                unknown[0])
    changes = {key: body[key] for key in (*EDITABLE, "paused") if key in body}
    for key in ("title", "region", "schedule"):
        if key in changes and not isinstance(changes[key], str):
            raise SiteRegistryError(f"{key} 应是文本", key)
    if "paused" in changes and not isinstance(changes["paused"], bool):
        raise SiteRegistryError("paused 应是 true 或 false", "paused")
    if "start_urls" in changes:
        changes["start_urls"] = _urls(changes["start_urls"])
    return changes


def api_sites(request: Request) -> ChineseJSON:
    state = request.app.state.web
    listed = {}
    if state.registry is not None:
        try:
            listed = {entry.name: entry for entry in state.registry.list()}
        except SiteRegistryError:
            listed = {}
    regions = {**state.site_regions(), **{name: entry.region or None for name, entry in listed.items()}}
    sites = []
    for name in sorted(regions):
        entry = listed.get(name)
        item = {"name": name, "region": regions[name], "title": entry.display_name if entry else name}
        if entry:
            item.update(start_urls=entry.start_urls, schedule=entry.schedule, paused=entry.paused)
        sites.append(item)
    return ChineseJSON({"sites": sites})


async def api_site_create(request: Request) -> Response:
    registry = request.app.state.web.registry
    if registry is None:
        return _no_registry()
    try:
        body = await json_object(request, EXAMPLE)
        changes = _changes(body)
        if not isinstance(body.get("name"), str):
            raise SiteRegistryError("请给出站点名称 name（英文小写短名，如 sucheng-gov）", "name")
        entry = registry.add(SiteEntry(name=body["name"], **changes))
    except BadBody as exc:
        return exc.response()
    except SiteRegistryError as exc:
        return _refused(exc)
    request.app.state.web.sites_changed()
    return ChineseJSON(entry.to_dict(), status_code=201)


def api_site(request: Request) -> Response:
    registry = request.app.state.web.registry
    if registry is None:
        return _no_registry()
    entry = registry.get(request.path_params["name"])
    return ChineseJSON(entry.to_dict()) if entry else _not_found(request.path_params["name"])


async def api_site_update(request: Request) -> Response:
    registry = request.app.state.web.registry
    name = request.path_params["name"]
    if registry is None:
        return _no_registry()
    try:
        changes = _changes(await json_object(request, '{"title": "宿城区人民政府", "schedule": "every 30m"}'))
        if registry.get(name) is None:
            return _not_found(name)
        entry = registry.update(name, changes)
    except BadBody as exc:
        return exc.response()
    except SiteRegistryError as exc:
        return _refused(exc)
    request.app.state.web.sites_changed()
    return ChineseJSON(entry.to_dict())


def api_site_delete(request: Request) -> Response:
    registry = request.app.state.web.registry
    name = request.path_params["name"]
    if registry is None:
        return _no_registry()
    try:
        if not registry.remove(name):
            return _not_found(name)
    except SiteRegistryError as exc:
        return _refused(exc)
    request.app.state.web.sites_changed()
    return ChineseJSON({"removed": name})


def api_site_pause(request: Request) -> Response:
    """``POST``: stop crawling the site (it stays in the file); ``DELETE``: resume."""
    registry = request.app.state.web.registry
    name = request.path_params["name"]
    if registry is None:
        return _no_registry()
    if registry.get(name) is None:
        return _not_found(name)
    try:
        entry = registry.set_paused(name, request.method == "POST")
    except SiteRegistryError as exc:
        return _refused(exc)
    return ChineseJSON(entry.to_dict())
