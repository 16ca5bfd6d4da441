"""The JSON API under ``/api/`` (described in ``openapi.py``, served at ``/api/openapi.json``).

``GET /api/search`` answers the same stories, in the same order, as
``newsmon search --json`` for the same ``q``/``site``/``since``/``until``/``limit``
(design.md), plus ``total`` and the paging/sort/region extensions.
"""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from index.base import ArticleRecord
from index.story_search import search_page
from monitor.web.params import BadSearch, read_search
from monitor.web.responses import ChineseJSON, bad_request


def api_search(request: Request) -> JSONResponse:
    try:
        params = read_search(request.query_params, api=True)
    except BadSearch as exc:
        return bad_request(str(exc))
    state = request.app.state.web
    with state.matches.over_readers(state.readers) as index:     # a pooled index only when needed
        result = search_page(index, params.query, sites=params.sites,
                             regions=params.regions, since=params.since, until=params.until,
                             sort=params.sort, offset=params.offset, limit=params.limit)
    return ChineseJSON(result.as_dict())


def copy_dict(record: ArticleRecord) -> dict:
    return {"id": record.id, "url": record.url, "site": record.site, "title": record.title,
            "published": record.published, "region": record.region, "source": record.source,
            "author": record.author, "column": record.column, "canonical": record.canonical}


def api_story(request: Request) -> JSONResponse:
    with request.app.state.web.readers() as index:
        copies = index.story_copies(request.path_params["story_id"])
    if not copies:
        raise HTTPException(404, "没有这篇报道")
    head = copies[0]
    return ChineseJSON({"story_id": head.story_id, **copy_dict(head), "text": head.text,
                        "copies": [copy_dict(c) for c in copies], "reach": len({c.site for c in copies})})


def api_openapi(request: Request) -> JSONResponse:
    from monitor.web.openapi import openapi_document
    return ChineseJSON(openapi_document())
