"""Server-rendered pages: search, story, login (watches and sources: ``admin_pages.py``).

Every value from an article reaches HTML through Jinja2's autoescape (or the
``highlight`` filter, which escapes too); no page needs JavaScript.
"""
from __future__ import annotations

import html

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from index import IndexURLError
from index.errors import StorageBusy, StorageError
from index.query import QuerySyntaxError, parse_query
from index.story_search import search_page
from monitor.web.auth import SESSION_USER, check_csrf, csrf_token, safe_next, too_many_attempts
from monitor.web.params import BadSearch, SearchParams, read_search, region_levels
from monitor.web.sessions import SESSION_ID
from monitor.web.throttle import keys
from monitor.web.transport import client_ip

PAGE_LINKS = 9            # page numbers shown around the current one


def render(request: Request, name: str, context: dict, status_code: int = 200) -> Response:
    state = request.app.state.web
    base = {"request": request, "csrf": csrf_token(request), "logged_in": bool(request.session.get(SESSION_USER)),
            "login_required": state.credentials.required, "nav": name.split(".")[0]}
    return state.templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def page_numbers(current: int, last: int) -> list[int]:
    start = max(1, min(current - PAGE_LINKS // 2, last - PAGE_LINKS + 1))
    return list(range(start, min(last, start + PAGE_LINKS - 1) + 1))


def search(request: Request) -> Response:
    state = request.app.state.web
    error, result, params, pointer = None, None, SearchParams(), None
    try:
        params = read_search(request.query_params)
        if params.query is not None:
            with state.readers() as index:
                result = search_page(state.matches.over(index), params.query, sites=params.sites,
                                     regions=params.regions, since=params.since, until=params.until,
                                     sort=params.sort, offset=params.offset, limit=params.limit)
    except BadSearch as exc:
        error = str(exc)
        params = exc.search or params          # what was typed stays in the form
        if exc.position is not None:          # point at where the query breaks
            pointer = (params.q[:exc.position], params.q[exc.position:exc.position + 1] or " ",
                       params.q[exc.position + 1:])
    sites = state.site_regions()
    last_page = max(1, -(-result.total // params.limit)) if result else 1
    context = {"params": params, "result": result, "error": error, "pointer": pointer, "sites": sites,
               "regions": region_options(sites), "terms": params.query.positive_terms if params.query else [],
               "pages": page_numbers(params.page, last_page), "last_page": last_page}
    return render(request, "search.html", context, status_code=400 if error else 200)


def region_options(sites: dict[str, str | None]) -> list[tuple[str, int]]:
    """Every region and each level above it, with its depth (``params.region_levels``)."""
    return region_levels(sites.values())


def story(request: Request) -> Response:
    state = request.app.state.web
    with state.readers() as index:
        copies = index.story_copies(request.path_params["story_id"])
    if not copies:
        raise HTTPException(404, "no such story: it may have been merged into another one")
    wanted = request.query_params.get("copy")
    shown = next((c for c in copies if c.id == wanted), copies[0])
    q = request.query_params.get("q") or ""
    try:
        terms = parse_query(q).positive_terms if q else []
    except QuerySyntaxError:
        terms = []
    context = {"copies": copies, "head": copies[0], "shown": shown, "q": q, "terms": terms,
               "paragraphs": [p for p in shown.text.split("\n") if p.strip()],
               "reach": len({c.site for c in copies})}
    return render(request, "story.html", context)


def login(request: Request) -> Response:
    return render(request, "login.html", {"next": safe_next(request.query_params.get("next")), "error": None})


async def login_submit(request: Request) -> Response:
    state = request.app.state.web
    form = await request.form()
    target = safe_next(form.get("next"))
    if not check_csrf(request, form.get("csrf")):
        return render(request, "login.html", {"next": target, "error": "the form expired: please try again"}, 400)
    creds = state.credentials
    tried = "token" if form.get("token") else str(form.get("user") or "") or None
    attempt = keys(client_ip(request.scope), tried)
    wait = state.throttle.retry_after(*attempt)
    if wait:
        response = render(request, "login.html", {"next": target, "error": too_many_attempts(wait)}, 429)
        response.headers["Retry-After"] = str(wait)
        return response
    user = None
    if form.get("token") and creds.check_token(str(form["token"])):
        user = "token"
    elif form.get("user") and creds.check_password(str(form["user"]), str(form.get("password") or "")):
        user = str(form["user"])
    if user is None:
        if tried:
            state.throttle.failed(*attempt)
        return render(request, "login.html", {"next": target, "error": "wrong user name, password or token"}, 401)
    state.throttle.succeeded(*attempt)
    sid = await run_in_threadpool(state.sessions.start, user)
    request.session.clear()       # a fresh session (and CSRF token) on login
    request.session[SESSION_USER] = user
    request.session[SESSION_ID] = sid
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    form = await request.form()
    if not check_csrf(request, form.get("csrf")):
        raise HTTPException(400, "the form expired: go back and try again")
    # Forget it on the server too: a copy of the cookie must not outlive the logout.
    await run_in_threadpool(request.app.state.web.sessions.end, request.session.get(SESSION_ID))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def routes() -> list[Route]:
    from monitor.web import source_pages, watch_pages
    return [
        Route("/", search, name="search"),
        Route("/story/{story_id}", story, name="story"),
        Route("/login", login, methods=["GET"], name="login"),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"], name="logout"),
        *watch_pages.routes(),
        *source_pages.routes(),
    ]


SERVER_ERROR = "服务器内部错误：请稍后再试；若一再出现，请把时间告诉管理员（详情在服务日志里）。"


def exception_handlers() -> dict:
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return render(request, "error.html", {"status": exc.status_code, "message": exc.detail}, exc.status_code)

    async def index_down(request: Request, exc: IndexURLError) -> Response:
        # Elasticsearch went away after the app started: say so instead of a 500.
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=503)
        return render(request, "error.html", {"status": 503, "message": str(exc)}, 503)

    async def server_error(request: Request, exc: Exception) -> Response:
        # No template and no session here: either may be what failed. The log has the traceback.
        status, message, headers = 500, SERVER_ERROR, {}
        if isinstance(exc, StorageError):     # raised outside the routes (the login's session lookup)
            status, message = 503, str(exc)
            headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, StorageBusy) else {}
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status, headers=headers)
        return HTMLResponse(f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{status}</title>'
                            f'<link rel="stylesheet" href="/static/style.css"><main><h1>{status}</h1>'
                            f'<p class="error" role="alert">{html.escape(message)}</p>'
                            f'<p><a href="/">返回搜索</a></p></main></html>', status_code=status, headers=headers)

    return {HTTPException: http_error, IndexURLError: index_down, 500: server_error}
