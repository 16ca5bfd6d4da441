"""A search as a download: ``/export?format=csv|xlsx&q=…`` (the search page's links keep
its query and filters) and the same at ``/api/export`` for API clients.

Thin over ``monitor.exports``: the search's parameters are read by ``params.read_search``
(the same errors as the page and ``/api/search``), the matching stories are found
once (through the app's cached match lists) and the rows are read from an index
reader while they are sent: CSV line by line, XLSX from a spooled temporary file.
"""
from __future__ import annotations

from typing import IO, Iterator
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from monitor.exports import (CSV_TYPE, FORMATS, XLSX_TYPE, Export, ExportRequest, csv_chunks,
                             filename, max_rows, plan_export, xlsx_file)
from monitor.web.params import BadSearch, read_search

CHUNK = 64 * 1024


def export_search(request: Request) -> Response:
    fmt = (request.query_params.get("format") or "csv").lower()
    if fmt not in FORMATS:
        raise HTTPException(400, f"format：{fmt!r} 不是可导出的格式（可选：{'、'.join(FORMATS)}）")
    try:
        params = read_search(request.query_params)
    except BadSearch as exc:
        raise HTTPException(400, str(exc)) from None
    if params.query is None:
        raise HTTPException(400, "q：请给出要导出的查询（与搜索的查询语言相同）")
    wanted = ExportRequest(query=params.query, q=params.q, sites=params.sites, regions=params.regions,
                           since=params.since, until=params.until, sort=params.sort)
    state = request.app.state.web
    with state.readers() as index:
        export = plan_export(state.matches.over(index), wanted)
        body = xlsx_file(export) if fmt == "xlsx" else None
    headers = {"Content-Disposition": _attachment(filename(wanted, fmt)), "Cache-Control": "no-store",
               "X-Newsmon-Total": str(export.total), "X-Newsmon-Rows": str(len(export.matches)),
               "X-Newsmon-Row-Cap": str(max_rows())}
    if body is not None:
        return StreamingResponse(_file_chunks(body), media_type=XLSX_TYPE, headers=headers)
    return StreamingResponse(_csv_rows(request, export), media_type=CSV_TYPE, headers=headers)


def _csv_rows(request: Request, export: Export) -> Iterator[bytes]:
    """The CSV, read from an index reader held while it is sent (and released if the
    download stops half way: the generator is closed)."""
    with request.app.state.web.readers() as index:
        export.index = index
        yield from csv_chunks(export)


def _file_chunks(body: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := body.read(CHUNK):
            yield chunk
    finally:
        body.close()


def _attachment(name: str) -> str:
    """A download name any browser takes: ASCII fallback plus the UTF-8 name (RFC 6266)."""
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
