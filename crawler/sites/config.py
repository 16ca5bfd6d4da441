"""The sites file: load and validate ``sites.yaml`` into ``SiteConfig`` objects.

A bad file never crashes a crawl with a traceback: ``SitesFileError`` names the
file, the line and the field, e.g.
``sites.yaml:7: site 'pingqiao': field 'schedule': "every 30x" is not ...``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from crawler.sites.bounded_yaml import MAX_BYTES, BoundedLoader, YAMLLimitError
from pipelines.article import ExtractOptions

_SCHEDULE_EVERY = re.compile(r"^every\s+(\d+)\s*(s|m|h|d)$")
_CRON = re.compile(r"^\S+(\s+\S+){4}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_KNOWN_FIELDS = {
    "name", "start_urls", "region", "schedule", "allowed_prefixes", "article_url_pattern",
    "list_url_pattern", "encoding", "selectors", "allow_private", "max_pages",
    "download_delay", "concurrency", "render", "title", "paused",
}
# How a site's pages are fetched (crawler/ladder.py): plain HTTP that moves up to a real
# browser when challenged (auto), never a browser (plain), or a browser for its lists (browser).
RENDER_MODES = ("auto", "plain", "browser")
_SELECTOR_FIELDS = {"title", "body", "date"}
_TEXT_FIELDS = {"name", "title", "region", "schedule", "article_url_pattern", "list_url_pattern", "encoding"}
_LIST_FIELDS = {"start_urls", "allowed_prefixes"}


class SitesFileError(ValueError):
    """A sites file that cannot be used; the message names line and field."""


@dataclass(frozen=True)
class SiteConfig:
    name: str
    start_urls: tuple[str, ...]
    region: str | None = None
    schedule: str = "every 1h"
    allowed_prefixes: tuple[str, ...] = ()
    article_url_pattern: str | None = None
    list_url_pattern: str | None = None
    encoding: str | None = None
    selectors: dict = field(default_factory=dict, hash=False, compare=False)
    allow_private: bool = False
    max_pages: int = 2000
    download_delay: float | None = None
    concurrency: int | None = None
    render: str = "auto"
    title: str | None = None       # the name people know the site by (宿城区人民政府), shown instead of name
    paused: bool = False           # kept in the file but not crawled by the scheduler

    @property
    def display_name(self) -> str:
        return self.title or self.name

    def extract_options(self) -> ExtractOptions:
        return ExtractOptions(
            encoding=self.encoding,
            title_selector=self.selectors.get("title"),
            body_selector=self.selectors.get("body"),
            date_selector=self.selectors.get("date"),
        )


@dataclass
class SitesFile:
    path: str
    sites: list[SiteConfig]
    watches: list[dict] = field(default_factory=list)
    digest: dict = field(default_factory=dict)
    watch_lines: list[int] = field(default_factory=list)   # line of each watches: item, for errors

    def select(self, names: list[str] | tuple[str, ...]) -> list[SiteConfig]:
        if not names:
            return list(self.sites)
        known = {s.name: s for s in self.sites}
        missing = [n for n in names if n not in known]
        if missing:
            raise SitesFileError(
                f"{self.path}: no site named {', '.join(map(repr, missing))}; "
                f"known sites: {', '.join(known) or '(none)'}")
        return [known[n] for n in names]


def parse_schedule(text: str) -> tuple[str, object]:
    """``("interval", seconds)`` or ``("cron", "m h dom mon dow")``; ValueError if neither."""
    text = str(text).strip()
    m = _SCHEDULE_EVERY.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        if n <= 0:
            raise ValueError(f"{text!r}: the interval must be positive")
        return "interval", n * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    if _CRON.match(text):
        return "cron", text
    raise ValueError(
        f"{_short(text)} is not a schedule; write 'every N s|m|h|d' (e.g. 'every 30m') "
        "or a cron line with five fields (e.g. '*/30 * * * *')")


def read_sites_file(path: str | Path) -> bytes:
    """The file's bytes; a file over ``MAX_BYTES`` is refused before it is read whole."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SitesFileError(f"{path}: sites file not found") from None
    except OSError as exc:
        raise SitesFileError(f"{path}: cannot read sites file: {exc}") from None
    if len(raw) > MAX_BYTES:
        raise SitesFileError(f"{path}: 站点文件超过 {MAX_BYTES // 2**20} MB 上限（3,000 个站点约 0.75 MB）："
                             "请检查是否选错了文件")
    return raw


def load_sites(path: str | Path) -> SitesFile:
    try:
        raw = read_sites_file(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SitesFileError(f"{path}: cannot read sites file: {exc}") from None
    return parse_sites(raw, str(path))


def parse_sites(raw: str, path: str = "<sites>") -> SitesFile:
    if len(raw) > MAX_BYTES:
        raise SitesFileError(f"{path}: 站点文件超过 {MAX_BYTES // 2**20} MB 上限")
    loader = BoundedLoader(raw)
    try:
        root = loader.get_single_node()
    except YAMLLimitError as exc:
        raise SitesFileError(f"{path}:{exc.line}: {exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise SitesFileError(f"{path}{where}: not valid YAML: "
                             f"{_one_line(getattr(exc, 'problem', None) or exc)}") from None
    if root is None or not isinstance(root, yaml.MappingNode):
        raise SitesFileError(f"{path}:1: expected a mapping with a 'sites:' list")
    top = _mapping(root, path)
    if "sites" not in top:
        raise SitesFileError(f"{path}:1: missing the 'sites:' list")
    sites_node = top["sites"][1]
    if not isinstance(sites_node, yaml.SequenceNode):
        raise SitesFileError(f"{path}:{_line(sites_node)}: 'sites' must be a list")
    sites, seen = [], {}
    for node in sites_node.value:
        site = _parse_site(loader, node, path)
        if site.name in seen:
            raise SitesFileError(
                f"{path}:{_line(node)}: field 'name': duplicate site name {site.name!r} "
                f"(first defined on line {seen[site.name]})")
        seen[site.name] = _line(node)
        sites.append(site)
    watches, watch_lines, digest = [], [], {}
    if "watches" in top:
        node = top["watches"][1]
        watches = _construct(loader, node, path, "watches")
        if not isinstance(watches, (list, type(None))):
            raise SitesFileError(f"{path}:{_line(node)}: 'watches' 必须是列表（每项一个 name 和 query）")
        watches = watches or []
        watch_lines = [_line(item) for item in node.value] if isinstance(node, yaml.SequenceNode) else []
    if "digest" in top:
        node = top["digest"][1]
        digest = _construct(loader, node, path, "digest")
        if not isinstance(digest, (dict, type(None))):
            raise SitesFileError(f"{path}:{_line(node)}: 'digest' 必须是映射（如 time: \"08:00\"）")
        digest = digest or {}
    return SitesFile(path=path, sites=sites, watches=list(watches), digest=dict(digest),
                     watch_lines=watch_lines)


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _short(value, width: int = 80) -> str:
    """``repr`` cut to ``width``: a message quotes what was written without echoing megabytes."""
    text = repr(value)
    return text if len(text) <= width else text[:width] + "…"


def _construct(loader: BoundedLoader, node: yaml.Node, path: str, label: str):
    """The Python value of ``node``; an unusable value (``!!int abc``, ``2021-02-30``)
    is a ``SitesFileError`` at its line."""
    try:
        return loader.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or node.start_mark
        problem = exc.problem or exc
    except (ValueError, TypeError, OverflowError) as exc:
        mark, problem = node.start_mark, exc
    raise SitesFileError(f"{path}:{mark.line + 1}: {label}: {_one_line(problem)}")


def _mapping(node: yaml.MappingNode, path: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    fields = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise SitesFileError(f"{path}:{_line(key)}: 键必须是普通文本，不能是列表或映射")
        fields[key.value] = (key, value)
    return fields


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _parse_site(loader: BoundedLoader, node: yaml.Node, path: str) -> SiteConfig:
    if not isinstance(node, yaml.MappingNode):
        raise SitesFileError(f"{path}:{_line(node)}: each site must be a mapping with name and start_urls")
    fields = _mapping(node, path)
    name_node = fields.get("name", (None, None))[1]
    label = f"site {_short(name_node.value)}" if isinstance(name_node, yaml.ScalarNode) else "site"

    def fail(field_name: str, msg: str, at: yaml.Node | None = None) -> SitesFileError:
        return SitesFileError(f"{path}:{_line(at or node)}: {label}: field '{field_name}': {msg}")

    for key, (knode, _) in fields.items():
        if key not in _KNOWN_FIELDS:
            raise fail(key[:40], f"unknown field; known fields: {', '.join(sorted(_KNOWN_FIELDS))}", knode)
    if name_node is None:
        raise fail("name", "missing (every site needs a unique name)")
    if not isinstance(name_node, yaml.ScalarNode):
        raise fail("name", "必须是文本", name_node)
    name = str(name_node.value).strip()
    if not _NAME.match(name):
        raise fail("name", f"{_short(name)} must be lowercase letters, digits, '-', '_' or '.'", name_node)
    values = {k: _construct(loader, v, path, f"{label}: field '{k}'") for k, (_, v) in fields.items()}
    for key in _TEXT_FIELDS & values.keys():
        if not isinstance(values[key], (str, int, float, type(None))):
            raise fail(key, "必须是一段文本，不能是列表或映射", fields[key][1])
    for key in _LIST_FIELDS & values.keys():
        items = values[key] if isinstance(values[key], list) else [values[key]]
        if not all(isinstance(item, (str, type(None))) for item in items):
            raise fail(key, "必须是 URL 文本或 URL 列表", fields[key][1])

    urls = values.get("start_urls")
    if isinstance(urls, str):
        urls = [urls]
    if not urls or not isinstance(urls, list):
        raise fail("start_urls", "missing or empty (give the site's homepage URL)",
                   fields.get("start_urls", (None, None))[1])
    for url in urls:
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise fail("start_urls", f"{_short(url)} is not an http(s) URL", fields["start_urls"][1])
    kwargs: dict = {"name": name, "start_urls": tuple(str(u) for u in urls)}

    if "schedule" in values:
        try:
            parse_schedule(values["schedule"])
        except ValueError as exc:
            raise fail("schedule", str(exc), fields["schedule"][1]) from None
        kwargs["schedule"] = str(values["schedule"]).strip()
    for key in ("title", "region", "article_url_pattern", "list_url_pattern", "encoding"):
        if values.get(key) is not None:
            kwargs[key] = str(values[key])
    for key in ("article_url_pattern", "list_url_pattern"):
        if key in kwargs:
            try:
                re.compile(kwargs[key])
            except re.error as exc:
                raise fail(key, f"not a valid regular expression: {exc}", fields[key][1]) from None
    if "encoding" in kwargs:
        import codecs
        try:
            codecs.lookup(kwargs["encoding"])
        except LookupError:
            raise fail("encoding", f"unknown encoding {_short(kwargs['encoding'])}", fields["encoding"][1]) from None
    if values.get("allowed_prefixes") is not None:
        prefixes = values["allowed_prefixes"]
        if isinstance(prefixes, str):
            prefixes = [prefixes]
        if not isinstance(prefixes, list):
            raise fail("allowed_prefixes", "must be a list of URL prefixes", fields["allowed_prefixes"][1])
        kwargs["allowed_prefixes"] = tuple(str(p) for p in prefixes)
    if values.get("selectors") is not None:
        sel = values["selectors"]
        if (not isinstance(sel, dict) or set(sel) - _SELECTOR_FIELDS
                or not all(isinstance(v, (str, int, float)) for v in sel.values())):
            raise fail("selectors", "must be a mapping with any of: title, body, date", fields["selectors"][1])
        kwargs["selectors"] = {k: str(v) for k, v in sel.items()}
    if "paused" in values and not isinstance(values["paused"], bool):
        raise fail("paused", "must be true or false", fields["paused"][1])
    kwargs["paused"] = values.get("paused") is True
    if "allow_private" in values:
        if not isinstance(values["allow_private"], bool):
            raise fail("allow_private", "must be true or false", fields["allow_private"][1])
        kwargs["allow_private"] = values["allow_private"]
    if values.get("render") is not None:
        render = values["render"]
        if not isinstance(render, str) or render.strip().lower() not in RENDER_MODES:
            raise fail("render", f"{_short(render)} is not one of {', '.join(RENDER_MODES)} "
                                 "(browser: open the site's pages in Chromium)", fields["render"][1])
        kwargs["render"] = render.strip().lower()
    for key, kind in (("max_pages", int), ("concurrency", int), ("download_delay", float)):
        if values.get(key) is not None:
            try:
                number = kind(values[key])
                if number < 0 or isinstance(values[key], bool):
                    raise ValueError
            except (TypeError, ValueError):
                raise fail(key, f"must be a non-negative number, got {_short(values[key])}", fields[key][1]) from None
            kwargs[key] = number
    return SiteConfig(**kwargs)
