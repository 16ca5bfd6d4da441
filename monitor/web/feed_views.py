"""A watch's page (its volume chart and feed URL) and its Atom feed for feed readers,
behind a token in the URL, with the token's rotation.

``GET /feeds/watches/{name}.atom?token=…`` needs no login (``auth.OPEN_PATHS``):
the token is the key. An unknown watch and a wrong token get the same 404, so the
URL says nothing about which watches exist. A reader that sends back the ETag or
Last-Modified it was given gets 304 while nothing changed. The token is shown on
the watch's page, and rotating it there (``POST /watches/{name}/feed-token``, or
``POST /api/watches/{name}/feed-token``) stops the old URL at once.
"""
from __future__ import annotations

from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.charts import DAYS, watch_chart
from monitor.feeds import ATOM_TYPE, WatchFeed, atom_xml, feed_token, rotate_token, token_matches, watch_feed
from monitor.watches import Watch
from monitor.web.auth import check_csrf
from monitor.web.responses import ChineseJSON, error_response, render

NOT_FOUND = "没有这个订阅源：链接可能已失效（令牌已更换或监测已删除），请到监测页面复制新的订阅链接。"
FEED_CACHE_SECONDS = 60


def _watch(request: Request) -> Watch:
    watch = request.app.state.web.watch_store().get(request.path_params["name"])
    if watch is None:
        raise HTTPException(404, f"没有名为 {request.path_params['name']!r} 的监测")
    return watch


def feed_url(request: Request, watch: Watch, token: str) -> str:
    return str(request.url_for("watch_feed", name=watch.name)) + "?" + urlencode({"token": token})


def watch_feed_xml(request: Request) -> Response:
    state = request.app.state.web
    watch = state.watch_store().get(request.path_params["name"])
    if watch is None or not token_matches(state.index.state, watch, request.query_params.get("token")):
        return Response(NOT_FOUND + "\n", 404, media_type="text/plain; charset=utf-8")
    with state.readers() as index:
        feed = watch_feed(state.matches.over(index), watch)
    headers = {"ETag": feed.etag, "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
               "Cache-Control": f"private, max-age={FEED_CACHE_SECONDS}"}
    if _unchanged(request, feed):
        return Response(status_code=304, headers=headers)
    body = atom_xml(feed, self_url=feed_url(request, watch, request.query_params["token"]),
                    page_url=str(request.url_for("watch_page", name=watch.name)))
    return Response(body, media_type=ATOM_TYPE, headers=headers)


def _unchanged(request: Request, feed: WatchFeed) -> bool:
    """RFC 9110 13.1: If-None-Match decides when sent (weak comparison); else If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or feed.etag in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return feed.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


async def rotate_feed_token(request: Request) -> Response:
    """The watch page's button: a new token, back to the page showing the new URL."""
    form = await request.form()
    if not check_csrf(request, form.get("csrf")):
        return error_response(request, 400, "表单已过期：请返回页面重试")
    state = request.app.state.web
    watch = _watch(request)
    rotate_token(state.index.state, watch)
    return RedirectResponse(str(request.url_for("watch_page", name=watch.name)) + "?rotated=1", status_code=303)


def api_watch_feed(request: Request) -> ChineseJSON:
    """``GET``: the feed URL (made on first use); ``POST``: a new one, the old stops working."""
    state = request.app.state.web
    watch = _watch(request)
    if request.method == "POST":
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return ChineseJSON({"error": "请以 application/json 发送（内容可为 {}）"}, status_code=415)
        token = rotate_token(state.index.state, watch)
    else:
        token = feed_token(state.index.state, watch)
    return ChineseJSON({"watch": watch.name, "feed_url": feed_url(request, watch, token)})


def watch_page(request: Request) -> Response:
    """The watch, its matching articles per day (``monitor.charts``) and its feed URL."""
    state = request.app.state.web
    watch = _watch(request)
    with state.readers() as index:
        chart = watch_chart(index, watch)
    return render(request, "watch.html", {
        "watch": watch, "chart": chart, "days": DAYS, "rotated": bool(request.query_params.get("rotated")),
        "feed_url": feed_url(request, watch, feed_token(state.index.state, watch))})
