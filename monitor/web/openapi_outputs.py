"""The OpenAPI paths of the outputs (issue 21): a search as CSV/XLSX and a watch's feed URL,
merged into ``openapi.py``'s document."""
from __future__ import annotations

_STR = {"type": "string"}
_ERROR = {"description": "the error, in Chinese", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}
_WATCH = {"name": "name", "in": "path", "required": True, "schema": _STR}
_FEED = {"description": "the watch's Atom feed URL (carries its token: no login needed to read it)",
         "content": {"application/json": {"schema": {"type": "object", "properties": {
             "watch": _STR, "feed_url": _STR}}}}}


def _q(name: str, description: str, many: bool = False, enum: list[str] | None = None) -> dict:
    schema = {"type": "string", **({"enum": enum} if enum else {})}
    return {"name": name, "in": "query", "description": description,
            "schema": {"type": "array", "items": schema} if many else schema}


OUTPUT_PATHS = {
    "/api/export": {"get": {
        "summary": "A search's stories as a spreadsheet: CSV (UTF-8 with BOM) or XLSX",
        "description": "Every matching story in the search's order (up to NEWSMON_EXPORT_MAX_ROWS, 5000 by "
                       "default; a note row says when cut), columns 标题, 来源, 地区, 发布时间 (NEWSMON_TZ), 链接, "
                       "同一报道条数, 转载站点数, 其他来源, 摘要, 报道编号. Cells that look like formulas are "
                       "neutralised. Headers X-Newsmon-Total and X-Newsmon-Rows give the counts.",
        "parameters": [_q("q", "query, as /api/search"), _q("format", "csv (default) or xlsx", enum=["csv", "xlsx"]),
                       _q("site", "site filter (repeatable)", True), _q("region", "region filter (repeatable)", True),
                       _q("since", "YYYY-MM-DD"), _q("until", "YYYY-MM-DD"),
                       _q("sort", "date or relevance", enum=["date", "relevance"])],
        "responses": {"200": {"description": "the file, as an attachment", "content": {
            "text/csv": {"schema": _STR},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": _STR}}},
            "400": _ERROR}}},
    "/api/watches/{name}/feed": {
        "get": {"summary": "The watch's Atom feed URL (made on first use)", "parameters": [_WATCH],
                "responses": {"200": _FEED, "404": _ERROR}},
        "post": {"summary": "A new feed token: the old feed URL answers 404 from now on", "parameters": [_WATCH],
                 "responses": {"200": _FEED, "404": _ERROR, "415": _ERROR}}},
}
