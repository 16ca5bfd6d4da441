"""What the views answer with: a rendered page, Chinese JSON, and the error responses.

Every view imports these from here (never from another view or from ``app.py``),
so the route modules stay leaves under the composition root in ``app.py``.
Errors: a missing page or bad request as its page or ``{"error"}`` JSON; the
index gone away or unable to take a write as 503 (a write that found the index
locked past every retry carries ``Retry-After``; a full disk or a read-only mount
is said as it is, in the index's own one-line message); anything else as a plain
500 page that needs neither template nor session, since either may be what failed.
"""
from __future__ import annotations

import html
import json
import re
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from index import IndexURLError
from index.errors import StorageBusy, StorageError
from monitor.web.auth import SESSION_USER, csrf_token

FORM_EXPIRED = "表单已过期：请返回后重新提交。"
_SPLIT = re.compile(r"[\s,;，；、]+")
SERVER_ERROR = "服务器内部错误：请稍后再试；若一再出现，请把时间告诉管理员（详情在服务日志里）。"


class ChineseJSON(JSONResponse):
    """JSON with Chinese as is (``ensure_ascii=False``), like the CLI's ``--json``."""

    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(request: Request, name: str, context: dict, status_code: int = 200) -> Response:
    """The template ``name`` with what every page needs (CSRF token, login state, the nav)."""
    state = request.app.state.web
    titles: list[dict] = []

    def site_name(site: str) -> str:
        """The site's display name (its ``title:``), else its name; read once per page."""
        if not titles:
            titles.append(state.site_titles())
        return titles[0].get(site, site)

    base = {"request": request, "csrf": csrf_token(request), "logged_in": bool(request.session.get(SESSION_USER)),
            "login_required": state.credentials.required, "nav": name.split(".")[0], "site_name": site_name}
    return state.templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def split_values(text: str | None) -> list[str]:
    """A form field holding several values (emails, URLs, regions): split on spaces,
    line breaks and Chinese or Latin commas and semicolons."""
    return [value for value in _SPLIT.split(text or "") if value]


class BadBody(ValueError):
    """A write to the API whose body is not a JSON object; ``status`` is 415 or 400."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status

    def response(self) -> JSONResponse:
        return ChineseJSON({"error": str(self)}, status_code=self.status)


async def json_object(request: Request, example: str) -> dict:
    """The request's JSON object body. Writes take ``application/json`` only: a
    cross-site HTML form cannot send that without a CORS preflight this server never
    grants, so cookie-authenticated writes need no CSRF token."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise BadBody(f"请以 application/json 发送，如 {example}", 415)
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise BadBody(f"请求体不是有效的 JSON：{exc}", 400) from None
    if not isinstance(body, dict):
        raise BadBody(f"请求体应是一个 JSON 对象，如 {example}", 400)
    return body


def bad_request(message: str) -> JSONResponse:
    return ChineseJSON({"error": message}, status_code=400)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
    """``{"error": message}`` under ``/api/``, else the error page."""
    if is_api(request):
        return ChineseJSON({"error": message}, status_code=status, headers=headers)
    response = render(request, "error.html", {"status": status, "message": message}, status)
    response.headers.update(headers or {})
    return response


def _retry_after(exc: Exception) -> dict:
    return {"Retry-After": str(exc.retry_after)} if isinstance(exc, StorageBusy) else {}


# Starlette's own errors carry the English reason phrase ("Not Found"): said in Chinese.
STATUS_TEXTS = {404: "找不到这个页面：地址可能有误，或内容已被删除。", 405: "这个地址不接受这种请求方式。",
                400: "请求有误。", 403: "没有权限访问这个页面。"}


async def http_error(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail
    if detail == HTTPStatus(exc.status_code).phrase:
        detail = STATUS_TEXTS.get(exc.status_code, f"请求未能完成（HTTP {exc.status_code}）。")
    return error_response(request, exc.status_code, detail)


async def index_down(request: Request, exc: IndexURLError) -> Response:
    # Elasticsearch went away after the app started: say so instead of a 500.
    return error_response(request, 503, str(exc))


async def storage_unavailable(request: Request, exc: StorageError) -> Response:
    return error_response(request, 503, str(exc), _retry_after(exc))


async def server_error(request: Request, exc: Exception) -> Response:
    # No template and no session here: either may be what failed. The log has the traceback.
    status, message, headers = 500, SERVER_ERROR, {}
    if isinstance(exc, StorageError):     # raised outside the routes (the login's session lookup)
        status, message, headers = 503, str(exc), _retry_after(exc)
    if is_api(request):
        return ChineseJSON({"error": message}, status_code=status, headers=headers)
    return HTMLResponse(f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{status}</title>'
                        f'<link rel="stylesheet" href="/static/style.css"><main><h1>{status}</h1>'
                        f'<p class="error" role="alert">{html.escape(message)}</p>'
                        f'<p><a href="/">返回搜索</a></p></main></html>', status_code=status, headers=headers)


EXCEPTION_HANDLERS = {HTTPException: http_error, IndexURLError: index_down, StorageError: storage_unavailable,
                      500: server_error}
