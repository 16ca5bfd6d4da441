"""The index could not take or give what a request needed: 503, never a 500.

A write that found the index locked past every retry (a long transaction in
another process) is worth repeating soon, so it carries ``Retry-After``; a full
disk or a read-only mount is said as it is, in the index's own one-line message.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from index.errors import StorageBusy, StorageError


async def storage_unavailable(request: Request, exc: StorageError) -> Response:
    from monitor.web.api import ChineseJSON
    from monitor.web.pages import render
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, StorageBusy) else {}
    if request.url.path.startswith("/api/"):
        return ChineseJSON({"error": str(exc)}, status_code=503, headers=headers)
    response = render(request, "error.html", {"status": 503, "message": str(exc)}, 503)
    response.headers.update(headers)
    return response


def handlers() -> dict:
    return {StorageError: storage_unavailable}
