"""The OpenAPI 3.1 description of ``/api/``, written out (a test checks every API
route is in it, and every path in it is a route)."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from monitor.web.openapi_outputs import OUTPUT_PATHS

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _q(name: str, description: str, schema: dict | None = None, required: bool = False, many=False) -> dict:
    schema = schema or _STR
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "array", "items": schema} if many else schema,
            **({"style": "form", "explode": True} if many else {})}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {"400": _json(_ref("Error"), "a parameter is wrong; `error` says which and how"),
          "401": _json(_ref("Error"), "no or wrong credentials (when the server requires a login)"),
          "503": _json(_ref("Error"), "the index (Elasticsearch) cannot be reached")}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": _STR}},
    "Copy": {"type": "object", "properties": {"url": _STR, "site": _STR, "published": _NSTR}},
    "Story": {"type": "object", "description": "as `newsmon search --json` prints it",
              "properties": {"story_id": _STR, "title": _STR, "url": _STR, "site": _STR, "published": _NSTR,
                             "snippet": _STR, "copies": {"type": "array", "items": _ref("Copy")},
                             "reach": {"type": "integer", "description": "distinct sites carrying the story"}}},
    "SearchResult": {"type": "object", "required": ["total", "stories"], "properties": {
        "total": {"type": "integer", "description": "matching stories in all"},
        "offset": {"type": "integer"}, "limit": {"type": "integer"},
        "sort": {"type": "string", "enum": ["date", "relevance"]},
        "stories": {"type": "array", "items": _ref("Story")}}},
    "Article": {"type": "object", "properties": {
        "id": _STR, "url": _STR, "site": _STR, "title": _STR, "published": _NSTR, "region": _NSTR,
        "source": _NSTR, "author": _NSTR, "column": _NSTR, "canonical": {"type": "boolean"}}},
    "StoryDetail": {"allOf": [_ref("Article"), {"type": "object", "properties": {
        "story_id": _STR, "text": {"type": "string", "description": "clean text, original script"},
        "copies": {"type": "array", "items": _ref("Article")}, "reach": {"type": "integer"}}}]},
    "Sites": {"type": "object", "properties": {"sites": {"type": "array", "items": {
        "type": "object", "properties": {"name": _STR, "region": _NSTR, "title": _STR}}}}},
}

PATHS = {
    "/api/search": {"get": {
        "summary": "Stories matching a query, newest first (or by relevance), each once",
        "description": "Same stories, same order, as `newsmon search --json` for the same q/site/since/until/limit.",
        "parameters": [
            _q("q", "query: terms ANDed (also AND), OR between terms, -term or NOT term excludes, "
                    "\"quoted phrase\", parentheses group; AND/OR/NOT in any case; "
                    "simplified finds traditional", required=True),
            _q("site", "only stories with a matching copy on this site (repeatable)", many=True),
            _q("region", "only stories with a matching copy in this region or under it (repeatable)", many=True),
            _q("since", "published on or after (YYYY-MM-DD)", {"type": "string", "format": "date"}),
            _q("until", "published on or before (YYYY-MM-DD)", {"type": "string", "format": "date"}),
            _q("sort", "date (default) or relevance", {"type": "string", "enum": ["date", "relevance"]}),
            _q("limit", "stories per answer", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20}),
            _q("offset", "stories to skip (paging)", {"type": "integer", "minimum": 0, "default": 0})],
        "responses": {"200": _json(_ref("SearchResult"), "one page of stories and the total"), **ERRORS}}},
    "/api/story/{story_id}": {"get": {
        "summary": "One story: the canonical copy's clean text and metadata, and every copy",
        "parameters": [{"name": "story_id", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": _json(_ref("StoryDetail"), "the story"),
                      "404": _json(_ref("Error"), "no such story"), **ERRORS}}},
    "/api/openapi.json": {"get": {"summary": "This document",
                                  "responses": {"200": {"description": "OpenAPI 3.1"}}}},
}

_WATCH_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_ERR = {"$ref": "#/components/schemas/Error"}


WATCH_SCHEMAS = {
    "Watch": {"type": "object", "required": ["name", "query"], "properties": {
        "name": {"type": "string"}, "query": {"type": "string", "description": "the search query language"},
        "emails": {"type": "array", "items": {"type": "string"}},
        "webhooks": {"type": "array", "items": {"type": "string"}},
        "mode": {"type": "string", "enum": ["immediate", "digest", "both"]},
        "sites": {"type": "array", "items": {"type": "string"}},
        "regions": {"type": "array", "items": {"type": "string"}},
        "created": {"type": "string", "description": "ISO datetime, UTC (set by the server)"},
        "window_hours": {"type": "integer", "minimum": 1, "default": 48,
                         "description": "immediate alerts only for articles published this many hours back "
                                        "(and after the watch was created); older matches come as one summary"},
        "quiet_hours": {"type": "string", "description": "HH:MM-HH:MM in NEWSMON_TZ, e.g. 22:00-07:00: "
                                                         "alerts wait until it ends"},
        "snoozed_until": {"type": "string", "description": "ISO datetime, UTC; until then matches go to the "
                                                           "digest only (set with /snooze)"},
        "paused": {"type": "boolean", "description": "no alerts and no digest section (set with /pause)"}}},
}
_WATCH = {"$ref": "#/components/schemas/Watch"}
WATCH_PATHS = {
    "/api/watches": {
        "get": {"summary": "Every watch", "responses": {"200": _json(
            {"type": "object", "properties": {"watches": {"type": "array", "items": _WATCH}}}, "the watches")}},
        "post": {"summary": "Create a watch (application/json)",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": _WATCH}}},
                 "responses": {"201": _json(_WATCH, "created"), "400": _json(_ERR, "invalid: says which field"),
                               "415": _json(_ERR, "not application/json")}}},
    "/api/watches/{name}": {
        "get": {"summary": "One watch", "parameters": [_WATCH_NAME],
                "responses": {"200": _json(_WATCH, "the watch"), "404": _json(_ERR, "no such watch")}},
        "delete": {"summary": "Delete a watch", "parameters": [_WATCH_NAME],
                   "responses": {"200": _json({"type": "object", "properties": {"removed": {"type": "string"}}},
                                              "deleted"), "404": _json(_ERR, "no such watch")}},
        "patch": {"summary": "Edit a watch in place: the fields given replace its own (name, creation and "
                             "snooze stay)", "parameters": [_WATCH_NAME],
                  "requestBody": {"required": True, "content": {"application/json": {"schema": _WATCH}}},
                  "responses": {"200": _json(_WATCH, "the watch"), "400": _json(_ERR, "invalid: says which field"),
                                "404": _json(_ERR, "no such watch")}}},
    "/api/watches/{name}/test": {"get": {
        "summary": "Stories the watch matches among the last `days` days (as `newsmon watch test`)",
        "parameters": [_WATCH_NAME, {"name": "days", "in": "query", "schema": {"type": "integer", "default": 7}}],
        "responses": {"200": _json({"type": "object", "properties": {
            "watch": {"type": "string"}, "days": {"type": "integer"},
            "stories": {"type": "array", "items": {"$ref": "#/components/schemas/Story"}}}}, "matching stories"),
            "404": _json(_ERR, "no such watch")}}},
    "/api/watches/{name}/snooze": {
        "post": {"summary": "Snooze a watch: no immediate alerts until `until`, matches go to the digest only",
                 "parameters": [_WATCH_NAME],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["until"], "properties": {"until": {
                         "type": "string", "description": "YYYY-MM-DD (its start) or YYYY-MM-DD HH:MM, "
                                                          "in NEWSMON_TZ"}}}}}},
                 "responses": {"200": _json(_WATCH, "the snoozed watch"), "400": _json(_ERR, "bad time"),
                               "404": _json(_ERR, "no such watch"), "415": _json(_ERR, "not application/json")}},
        "delete": {"summary": "End a watch's snooze", "parameters": [_WATCH_NAME],
                   "responses": {"200": _json(_WATCH, "the watch"), "404": _json(_ERR, "no such watch")}}},
}

_SITE = {"type": "object", "required": ["name", "start_urls"], "properties": {
    "name": {"type": "string", "description": "short id: lowercase letters, digits, - _ ."},
    "title": {"type": "string", "description": "display name, e.g. 宿城区人民政府"},
    "start_urls": {"type": "array", "items": {"type": "string", "format": "uri"}},
    "region": {"type": "string"}, "schedule": {"type": "string", "description": "every N s|m|h|d, or a cron line"},
    "paused": {"type": "boolean", "description": "kept in the sites file but not crawled"}}}
_SITE_ERR = {"type": "object", "properties": {"error": {"type": "string"}, "field": {"type": ["string", "null"]}}}
_SITE_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_JSON_BODY = {"required": True, "content": {"application/json": {"schema": _SITE}}}
SITE_PATHS = {
    "/api/sites": {
        "get": {"summary": "Every site the index or the sites file knows: name, region, title "
                           "(and start_urls, schedule, paused for sites in the file)",
                "responses": {"200": _json(_ref("Sites"), "sites, sorted by name"), **ERRORS}},
        "post": {"summary": "Add a site to the sites file (the running scheduler picks it up)",
                 "requestBody": _JSON_BODY,
                 "responses": {"201": _json(_SITE, "added"), "400": _json(_SITE_ERR, "refused: says which field"),
                               "415": _json(_ERR, "not application/json")}}},
    "/api/sites/{name}": {
        "get": {"summary": "One site of the sites file", "parameters": [_SITE_NAME],
                "responses": {"200": _json(_SITE, "the site"), "404": _json(_ERR, "no such site")}},
        "patch": {"summary": "Change a site's title, start_urls, region, schedule or paused",
                  "parameters": [_SITE_NAME], "requestBody": _JSON_BODY,
                  "responses": {"200": _json(_SITE, "the site"), "400": _json(_SITE_ERR, "refused"),
                                "404": _json(_ERR, "no such site")}},
        "delete": {"summary": "Remove a site from the sites file (its history stays)", "parameters": [_SITE_NAME],
                   "responses": {"200": _json({"type": "object", "properties": {"removed": {"type": "string"}}},
                                              "removed"), "404": _json(_ERR, "no such site")}}},
    "/api/sites/{name}/pause": {
        "post": {"summary": "Pause a site: the scheduler stops crawling it", "parameters": [_SITE_NAME],
                 "responses": {"200": _json(_SITE, "the site"), "404": _json(_ERR, "no such site")}},
        "delete": {"summary": "Resume a paused site", "parameters": [_SITE_NAME],
                   "responses": {"200": _json(_SITE, "the site"), "404": _json(_ERR, "no such site")}}},
    "/api/watches/{name}/pause": {
        "post": {"summary": "Pause a watch: no alerts and no digest section until resumed",
                 "parameters": [_WATCH_NAME],
                 "responses": {"200": _json(_WATCH, "the watch"), "404": _json(_ERR, "no such watch")}},
        "delete": {"summary": "Resume a paused watch", "parameters": [_WATCH_NAME],
                   "responses": {"200": _json(_WATCH, "the watch"), "404": _json(_ERR, "no such watch")}}},
}

_FLAG = {"type": "object", "properties": {
    "kind": {"type": "string", "enum": ["failing", "blocked", "silent", "degraded", "backfill"]},
    "message": {"type": "string"}, "since": {"type": "string", "description": "ISO datetime, UTC"}}}
SOURCE_PATHS = {
    "/api/sources": {"get": {
        "summary": "Run history and health flags per site (as `newsmon status --json`)",
        "responses": {"200": _json({"type": "object", "properties": {"sites": {"type": "array", "items": {
            "type": "object", "properties": {
                "name": {"type": "string"}, "runs": {"type": "integer"},
                "last_run": {"type": ["object", "null"],
                             "description": "started, ended, status, pages_fetched, articles_new, errors, blocked, "
                                            "worker (the newsmon worker that ran it; null: the scheduler's machine)"},
                "last_new_article": {"type": ["string", "null"]},
                "failure_streak": {"type": "integer"},
                "health": {"type": "array", "items": _FLAG},
                "fetch_rung": {"type": "string", "enum": ["plain", "browser"],
                               "description": "how the site's pages are fetched (plain HTTP or a real browser)"},
                "fetch_rung_memory": {"type": ["object", "null"],
                                      "description": "a challenged site's rung kept for later runs: rung, kind, "
                                                     "since, seen, until (ISO datetimes, UTC); null when none"}}}},
            "queue": {"type": "object", "description": "only with NEWSMON_BROKER set: the task queue's depth",
                      "properties": {"broker": {"type": "string"}, "queued": {"type": ["integer", "null"]},
                                     "running": {"type": ["integer", "null"]},
                                     "error": {"type": ["string", "null"], "description": "why it cannot be read"},
                                     "detail": {"type": ["string", "null"]}}}}},
            "every site with history")}}},
}


def openapi_document() -> dict:
    try:
        release = version("newsmon")
    except PackageNotFoundError:
        release = "dev"
    return {
        "openapi": "3.1.0",
        "info": {"title": "newsmon API", "version": release,
                 "description": "Search Chinese local-government news coverage: stories, their copies, "
                                "watches and source health."},
        "paths": {**PATHS, **WATCH_PATHS, **SOURCE_PATHS, **SITE_PATHS, **OUTPUT_PATHS},
        "components": {"schemas": {**SCHEMAS, **WATCH_SCHEMAS}, "securitySchemes": {
            "token": {"type": "http", "scheme": "bearer", "description": "NEWSMON_WEB_TOKEN"},
            "password": {"type": "http", "scheme": "basic",
                         "description": "NEWSMON_WEB_USER / NEWSMON_WEB_PASSWORD"}}},
        "security": [{"token": []}, {"password": []}, {}],
    }
