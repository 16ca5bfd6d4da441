"""Server-rendered pages: search, story, login (watches: ``watch_pages.py``, sources: ``source_pages.py``).

Every value from an article reaches HTML through Jinja2's autoescape (or the
``highlight`` filter, which escapes too); no page needs JavaScript.
"""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from index.query import QuerySyntaxError, parse_query
from index.story_search import search_page
from monitor.web.auth import SESSION_USER, check_csrf, safe_next, too_many_attempts
from monitor.web.params import BadSearch, SearchParams, read_search, region_levels
from monitor.web.responses import FORM_EXPIRED, render
from monitor.web.sessions import SESSION_ID
from monitor.web.throttle import keys
from monitor.web.transport import client_ip

PAGE_LINKS = 9            # page numbers shown around the current one


def page_numbers(current: int, last: int) -> list[int]:
    start = max(1, min(current - PAGE_LINKS // 2, last - PAGE_LINKS + 1))
    return list(range(start, min(last, start + PAGE_LINKS - 1) + 1))


def search(request: Request) -> Response:
    state = request.app.state.web
    error, result, params, pointer = None, None, SearchParams(), None
    try:
        params = read_search(request.query_params)
        if params.query is not None:
            with state.matches.over_readers(state.readers) as index:     # a pooled index only when needed
                result = search_page(index, params.query, sites=params.sites,
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
        raise HTTPException(404, "没有这篇报道：它可能已并入另一篇报道")
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
        return render(request, "login.html", {"next": target, "error": FORM_EXPIRED}, 400)
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
        return render(request, "login.html", {"next": target, "error": "用户名、密码或令牌不对"}, 401)
    state.throttle.succeeded(*attempt)
    sid = await run_in_threadpool(state.sessions.start, user)
    request.session.clear()       # a fresh session (and CSRF token) on login
    request.session[SESSION_USER] = user
    request.session[SESSION_ID] = sid
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    form = await request.form()
    if not check_csrf(request, form.get("csrf")):
        raise HTTPException(400, FORM_EXPIRED)
    # Forget it on the server too: a copy of the cookie must not outlive the logout.
    await run_in_threadpool(request.app.state.web.sessions.end, request.session.get(SESSION_ID))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
