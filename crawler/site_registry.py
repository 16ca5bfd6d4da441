"""The sites file as the web UI and API manage it (``monitor.web.registry.SiteRegistry``).

Every change edits the file's text in place, line by line, so comments, anchors,
key order and the other sites stay exactly as written: a new site is appended to
the ``sites:`` list, an edit replaces only the lines of the keys it changes, a
removal drops the site's lines. The new text must then pass the very check the
crawler and the scheduler apply (``crawler.sites.parse_sites``) and read back as
intended; only then is it written, atomically (a temporary file beside it,
fsync, rename), so a crash leaves the old file or the new one, never half of
either. The scheduler notices the new file by its mtime and content
(``crawler.scheduling.SitesFileWatcher``) and crawls an added site without a restart.
A team that keeps the file in git commits it as before: the UI's edits are
ordinary, minimal diffs.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from crawler.sites import SiteConfig, SitesFile, SitesFileError, parse_schedule, parse_sites, read_sites_file
from monitor.web.registry import EDITABLE, SiteEntry, SiteRegistryError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_KEY = re.compile(r"^(\s*)(-\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*:(\s|$)")
_TOP_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\s*:")
_SITES_HEAD = re.compile(r"^sites\s*:\s*(?P<rest>[^#]*?)\s*(?P<comment>#.*)?$")
MAX_TEXT = 200


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _filler(line: str) -> bool:
    """A blank or comment-only line."""
    return not line.strip() or line.lstrip().startswith("#")


def _dump(value) -> str:
    """One YAML value on one line (quoted where YAML needs it, Chinese as is)."""
    text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10**9)
    return text.removesuffix("\n...\n").rstrip("\n")


def _trim(lines: list[str], start: int, end: int, indent: int) -> int:
    """``end`` moved back over blank lines and comments at ``indent`` or less: they
    introduce what follows, not the block above."""
    while end > start + 1 and _filler(lines[end - 1]) and (not lines[end - 1].strip() or _indent(lines[end - 1]) <= indent):
        end -= 1
    return end


class _Layout:
    """Where the ``sites:`` list and each site's lines are in the file's text."""

    def __init__(self, text: str):
        self.lines = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        self.head = next((i for i, line in enumerate(self.lines) if _SITES_HEAD.match(line.rstrip("\n"))), None)
        self.items: list[tuple[int, int]] = []       # (first line, end) of each site, trimmed
        self.dash = 2
        if self.head is None:
            return
        rest = _SITES_HEAD.match(self.lines[self.head].rstrip("\n")).group("rest")
        if rest not in ("", "[]"):
            raise SiteRegistryError("站点文件的 sites: 用了单行写法 [...]，网页无法安全地修改；请改成每个站点一段后再试")
        end = next((i for i in range(self.head + 1, len(self.lines))
                    if _TOP_KEY.match(self.lines[i])), len(self.lines))
        starts = [i for i in range(self.head + 1, end) if re.match(r"^\s*-(\s|$)", self.lines[i])]
        if starts:
            self.dash = _indent(self.lines[starts[0]])
            starts = [i for i in starts if _indent(self.lines[i]) == self.dash]
        for n, first in enumerate(starts):
            stop = starts[n + 1] if n + 1 < len(starts) else end
            self.items.append((first, _trim(self.lines, first, stop, self.dash)))

    def keys(self, item: int) -> tuple[int, dict[str, tuple[int, int]]]:
        """The key column and each key's (first line, end) in site ``item``."""
        first, end = self.items[item]
        head = self.lines[first]
        after = head[self.dash + 1:]
        column = self.dash + 1 + (len(after) - len(after.lstrip(" ")))
        if after.lstrip().startswith("{"):
            raise SiteRegistryError("这个站点在站点文件里用了单行写法 {...}，网页无法安全地修改；请手工编辑")
        starts = [first] + [i for i in range(first + 1, end)
                            if _indent(self.lines[i]) == column and _KEY.match(self.lines[i])]
        found = {}
        for n, start in enumerate(starts):
            stop = starts[n + 1] if n + 1 < len(starts) else end
            match = _KEY.match(self.lines[start])
            if match:
                found[match.group(3)] = (start, _trim(self.lines, start, stop, column))
        return column, found

    def text(self) -> str:
        return "".join(self.lines)


def _check_text(value: str, label: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise SiteRegistryError(f"{label}太长：最多 {MAX_TEXT} 个字", field)
    if any(unicodedata.category(c)[0] == "C" for c in value):
        raise SiteRegistryError(f"{label}含有控制字符，请只写文字", field)
    return value


def check_entry(entry: SiteEntry) -> SiteEntry:
    """Each field, with a Chinese message naming it (the form shows it beside the field)."""
    name = (entry.name or "").strip()
    if not name:
        raise SiteRegistryError("请填写站点名称（英文小写短名，如 sucheng-gov，命令行里用它）", "name")
    if not _NAME.match(name):
        raise SiteRegistryError(f"站点名称「{name[:64]}」只能用小写字母、数字、-、_ 和 .，以字母或数字开头，"
                                "最多 64 个字符（如 sucheng-gov）", "name")
    urls = [u.strip() for u in entry.start_urls if u and u.strip()]
    if not urls:
        raise SiteRegistryError("请填写起始网址（站点首页，如 https://www.example.gov.cn/）", "start_urls")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
            raise SiteRegistryError(f"「{url[:120]}」不是 http(s) 网址（应形如 https://www.example.gov.cn/）",
                                    "start_urls")
    schedule = (entry.schedule or "").strip()
    if schedule:
        try:
            parse_schedule(schedule)
        except ValueError:
            raise SiteRegistryError(f"「{schedule[:60]}」不是有效的采集周期：请写 every 30m、every 2h 这样的间隔，"
                                    "或五段 cron，如 */30 * * * *", "schedule") from None
    return SiteEntry(name=name, start_urls=list(dict.fromkeys(urls)), schedule=schedule, paused=bool(entry.paused),
                     title=_check_text(entry.title, "显示名称", "title"),
                     region=_check_text(entry.region, "地区", "region"))


def entry_of(site: SiteConfig) -> SiteEntry:
    return SiteEntry(name=site.name, start_urls=list(site.start_urls), title=site.title or "",
                     region=site.region or "", schedule=site.schedule, paused=site.paused)


class SitesFileRegistry:
    """``SiteRegistry`` over one sites file (created with the first site if missing)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.location = str(self.path)
        self._lock = threading.Lock()

    # -- reading ----------------------------------------------------------------------

    def _read(self) -> tuple[str, SitesFile | None]:
        if not self.path.exists():
            return "", None
        try:
            text = read_sites_file(self.path).decode("utf-8")
            return text, parse_sites(text, str(self.path))
        except (SitesFileError, UnicodeDecodeError) as exc:
            raise SiteRegistryError(f"站点文件有误，先修好它才能在网页上修改：{exc}") from None

    def list(self) -> list[SiteEntry]:
        _text, sites = self._read()
        return [entry_of(site) for site in sites.sites] if sites else []

    def get(self, name: str) -> SiteEntry | None:
        return next((entry for entry in self.list() if entry.name == name), None)

    # -- writing ----------------------------------------------------------------------

    def add(self, entry: SiteEntry) -> SiteEntry:
        entry = check_entry(entry)

        def change(text: str, sites: SitesFile | None) -> str:
            if sites and any(site.name == entry.name for site in sites.sites):
                raise SiteRegistryError(f"已有名为「{entry.name}」的站点：请换一个名称", "name")
            layout = _Layout(text)
            if layout.head is None:
                layout.lines.append("sites:\n")
                layout.head = len(layout.lines) - 1
            elif layout.lines[layout.head].split("#")[0].rstrip().endswith("[]"):
                layout.lines[layout.head] = "sites:\n"
            at = layout.items[-1][1] if layout.items else layout.head + 1
            pad = " " * layout.dash
            block = [f"{pad}- name: {_dump(entry.name)}\n"]
            block += [f"{pad}  {key}: {_dump(value)}\n" for key, value in _fields(entry).items()]
            layout.lines[at:at] = block
            return layout.text()

        self._write(change, entry.name)
        return self.get(entry.name)

    def update(self, name: str, changes: dict) -> SiteEntry:
        current = self.get(name)
        if current is None:
            raise SiteRegistryError(f"没有名为「{name}」的站点")
        wanted = check_entry(SiteEntry(**{**current.to_dict(), **{k: v for k, v in changes.items()
                                                                  if k in (*EDITABLE, "paused")}}))
        before, after = _fields(check_entry(current)), _fields(wanted)
        touched = {key for key in (*EDITABLE, "paused") if before.get(key) != after.get(key)}
        if touched:         # keys left as they were keep their lines (and their YAML style)
            self._write(lambda text, sites: _replace_keys(text, sites, name, after, touched), name)
        return self.get(name)

    def set_paused(self, name: str, paused: bool) -> SiteEntry:
        return self.update(name, {"paused": paused})

    def remove(self, name: str) -> bool:
        if self.get(name) is None:
            return False

        def change(text: str, sites: SitesFile) -> str:
            layout = _Layout(text)
            first, end = layout.items[_position(sites, name)]
            del layout.lines[first:end]
            if len(layout.items) == 1:        # an empty block list reads as null: say [] instead
                head = layout.lines[layout.head]
                comment = head[head.index("#"):] if "#" in head else "\n"
                layout.lines[layout.head] = "sites: []" + (" " + comment if comment != "\n" else "\n")
            return layout.text()

        self._write(change, None, removed=name)
        return True

    def _write(self, change, name: str | None, removed: str | None = None) -> None:
        """Apply ``change(text, sites) -> new text`` under the lock, check the result as
        the crawler would, and replace the file atomically."""
        with self._lock:
            text, sites = self._read()
            before = hashlib.sha1(text.encode("utf-8")).hexdigest()
            new_text = change(text, sites)
            try:
                parsed = parse_sites(new_text, str(self.path))
            except SitesFileError as exc:
                raise SiteRegistryError(f"修改后的站点文件通不过校验，未保存：{exc}") from None
            names = [site.name for site in parsed.sites]
            if (name is not None and name not in names) or (removed is not None and removed in names):
                raise SiteRegistryError("站点文件的写法网页无法安全地修改，未保存：请手工编辑")
            if self.path.exists() and hashlib.sha1(self.path.read_bytes()).hexdigest() != before:
                raise SiteRegistryError("站点文件刚被别人改过：请刷新页面后再试一次")
            _replace_atomically(self.path, new_text)


def _fields(entry: SiteEntry) -> dict:
    """The managed keys as the file should hold them (empty ones left out)."""
    fields = {"title": entry.title, "start_urls": entry.start_urls, "region": entry.region,
              "schedule": entry.schedule, "paused": True if entry.paused else None}
    return {key: value for key, value in fields.items() if value}


def _position(sites: SitesFile, name: str) -> int:
    return next(i for i, site in enumerate(sites.sites) if site.name == name)


def _replace_keys(text: str, sites: SitesFile, name: str, fields: dict, touched: set) -> str:
    layout = _Layout(text)
    item = _position(sites, name)
    if len(layout.items) != len(sites.sites):
        raise SiteRegistryError("站点文件的写法网页无法安全地修改，未保存：请手工编辑")
    column, keys = layout.keys(item)
    first, end = layout.items[item]
    edits, appended = [], []             # (start, end, new lines), applied bottom-up
    for key in (k for k in (*EDITABLE, "paused") if k in touched):
        new = [f"{' ' * column}{key}: {_dump(fields[key])}\n"] if key in fields else []
        if key in keys:
            start, stop = keys[key]
            if start == first:           # the key shares the line with the list's '-'
                if not new:
                    raise SiteRegistryError(f"{key} 写在站点的第一行，网页无法删除它：请手工编辑")
                new = [layout.lines[first][:column] + new[0].lstrip(" ")]
            edits.append((start, stop, new))
        else:
            appended += new
    edits.append((end, end, appended))
    for start, stop, new in sorted(edits, key=lambda e: e[0], reverse=True):
        layout.lines[start:stop] = new
    return layout.text()


def _replace_atomically(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it over: readers see the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
