"""Watches: a named query in the one query language, with a scope and recipients.

A watch is what ``newsmon watch add`` (and the web UI) creates and what alerts
and digests match stories against. Matching is ``story_matches``: a story
matches when one of its copies (on the watch's sites / in its regions, when
scoped) satisfies the query on its normalized title+body -- the same rule as
``newsmon search``, so a query finds the same stories in search, alerts and
digests on either backend.

Watches live in the index database (``backend.state``, kind ``watch``, keyed by
name), so the crawler, the scheduler, the CLI and the web UI all see one list.

What keeps alerts from flooding is per watch too (``monitor.alert_policy``):
``window_hours`` (an immediate alert only for articles first published in the
last N hours, default 48, and after the watch was created), ``quiet_hours``
(``"22:00-07:00"`` in ``NEWSMON_TZ``: alerts wait until it ends) and
``snoozed_until`` (until then, matches go to the digest only).
"""
from __future__ import annotations

import logging

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Iterable

from index.base import ArticleRecord, IndexBackend
from index.query import Query, QueryLimitError, QuerySyntaxError, parse_query
from monitor.alert_policy import DEFAULT_WINDOW_HOURS, MAX_WINDOW_HOURS, parse_quiet_hours
from monitor.clock import parse as parse_time
from index.normalize import normalize_text

logger = logging.getLogger("newsmon.alerts")

WATCH_KIND = "watch"
MODES = ("immediate", "digest", "both")
DEFAULT_MODE = "both"
TEST_DAYS = 7             # how far back "test a watch" looks unless told
# Watch names end up in state keys ("<watch>/<story_id>") and in mail headers:
# letters (CJK included), digits, '_', '.', '-'; no '/' and no spaces.
_NAME = re.compile(r"^[^\W_][\w.-]{0,63}$")
# user@domain: no spaces, quotes, brackets or list separators; one '@', a domain of labels.
_EMAIL = re.compile(r"^[^@\s<>()\[\]\\,;:\"]{1,64}@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*$")
WEBHOOK_FORMATS = ("json", "wecom", "dingtalk", "feishu")


class WatchError(ValueError):
    """A watch that cannot be stored or used; the message says which field and,
    for a query, where its syntax breaks."""


@dataclass
class Watch:
    name: str
    query: str
    emails: list[str] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)
    mode: str = DEFAULT_MODE
    sites: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    created: str = ""                # ISO datetime, UTC; set by WatchStore.add
    window_hours: int = DEFAULT_WINDOW_HOURS   # immediate alerts for articles published this recently
    quiet_hours: str = ""            # "22:00-07:00" in NEWSMON_TZ: alerts wait until it ends
    snoozed_until: str = ""          # ISO datetime, UTC: until then, matches go to the digest only
    paused: bool = False             # kept, but matched by nothing: no alerts, no digest section

    @cached_property
    def parsed(self) -> Query:
        """The parsed query (``WatchError`` saying where, if it does not parse)."""
        return parse_watch_query(self.query, self.name)

    @property
    def immediate(self) -> bool:
        return not self.paused and self.mode in ("immediate", "both")

    @property
    def in_digest(self) -> bool:
        return not self.paused and self.mode in ("digest", "both")

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("parsed", None)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Watch":
        return cls(name=str(data["name"]), query=str(data["query"]),
                   emails=list(data.get("emails") or []), webhooks=list(data.get("webhooks") or []),
                   mode=str(data.get("mode") or DEFAULT_MODE), sites=list(data.get("sites") or []),
                   regions=list(data.get("regions") or []), created=str(data.get("created") or ""),
                   window_hours=data.get("window_hours") or DEFAULT_WINDOW_HOURS,
                   quiet_hours=str(data.get("quiet_hours") or ""),
                   snoozed_until=str(data.get("snoozed_until") or ""), paused=data.get("paused") is True)


# -- validation ----------------------------------------------------------------------

def parse_watch_query(query: str, name: str = "") -> Query:
    """``parse_query`` with an error that points at the spot: the query, and a caret
    under the character where it breaks (CJK characters count double width)."""
    label = f"监测「{name}」：" if name else ""
    try:
        return parse_query(query)
    except QueryLimitError as exc:   # the whole query is the problem: one line, no echo of it
        raise WatchError(f"{label}查询有误：{exc}") from None
    except QuerySyntaxError as exc:
        raise WatchError(f"{label}查询有误：{exc.message}（第 {exc.position + 1} 个字符处）\n"
                         f"{exc.pointer(query)}") from None


def check_email(address: str, watch: str = "") -> str:
    """The one check of an email address (watch add, the web forms and API, the sites
    file, digest --to). Control and invisible characters are refused first: an address
    lands in a To: header, where a line break would add headers (``Bcc:``)."""
    label = f"监测「{watch}」：" if watch else ""
    bad = next((c for c in address if unicodedata.category(c)[0] in "CZ" and c != " "), None)
    if bad is not None:
        raise WatchError(f"{label}邮箱地址 {address!r} 含有控制字符或不可见字符 "
                         f"(U+{ord(bad):04X})，不能使用；请只写地址本身，如 user@example.com")
    if len(address) > 254 or not _EMAIL.match(address):
        raise WatchError(f"{label}{address!r} 不是有效的邮箱地址（应形如 user@example.com，"
                         "一个地址一项，不含空格、引号、尖括号或逗号）")
    return address


def webhook_format(url: str) -> tuple[str, str]:
    """``(format, url)`` for a webhook: an explicit ``wecom+https://…`` prefix wins;
    otherwise the group-robot host decides (WeCom, DingTalk, Feishu/Lark), else plain JSON."""
    scheme, sep, rest = url.partition("+")
    if sep and scheme in WEBHOOK_FORMATS and rest.startswith(("http://", "https://")):
        return scheme, rest
    host = re.sub(r"^[a-z]+://", "", url).split("/", 1)[0].split(":", 1)[0].lower()
    if host == "qyapi.weixin.qq.com":
        return "wecom", url
    if host in ("oapi.dingtalk.com", "api.dingtalk.com"):
        return "dingtalk", url
    if host.endswith(("feishu.cn", "larksuite.com")):
        return "feishu", url
    return "json", url


def validate_watch(watch: Watch) -> Watch:
    """Check every field; returns the watch with its lists cleaned (stripped, de-duplicated)."""
    name = (watch.name or "").strip()
    if not _NAME.match(name):
        raise WatchError(f"监测名称 {watch.name!r} 不可用：只能用字母（含汉字）、数字、_、. 和 -，"
                         "不能有空格或 /，最多 64 个字符")
    watch.name = name
    watch.query = (watch.query or "").strip()
    parse_watch_query(watch.query, name)
    if watch.mode not in MODES:
        raise WatchError(f"监测「{name}」：方式 {watch.mode!r} 不可用，可选：immediate（即时提醒）、"
                         "digest（每日摘要）、both（两者）")
    watch.emails = [check_email(address, name) for address in _clean(watch.emails)]
    watch.webhooks = _clean(watch.webhooks)
    for url in watch.webhooks:
        _fmt, target = webhook_format(url)
        if not re.match(r"^https?://[^/\s]+", target):
            raise WatchError(f"监测「{name}」：webhook {url!r} 不是 http(s) 网址"
                             f"（可在前面加 {'+、'.join(WEBHOOK_FORMATS)}+ 指定消息格式）")
    if not watch.emails and not watch.webhooks:
        raise WatchError(f"监测「{name}」：至少要有一个收件人（邮箱，或群机器人 webhook）")
    if watch.mode == "digest" and not watch.emails:
        raise WatchError(f"监测「{name}」：每日摘要通过邮件发送：请加一个邮箱，或把方式改为 immediate（即时提醒）")
    watch.sites = _clean(watch.sites)
    watch.regions = _clean(watch.regions)
    try:
        hours = int(str(watch.window_hours).strip() or DEFAULT_WINDOW_HOURS)
    except ValueError:
        hours = 0
    if not 1 <= hours <= MAX_WINDOW_HOURS:
        raise WatchError(f"监测「{name}」：即时提醒窗口 window_hours {watch.window_hours!r} 应是 1 到 "
                         f"{MAX_WINDOW_HOURS} 之间的整数小时（默认 {DEFAULT_WINDOW_HOURS}）")
    watch.window_hours = hours
    try:
        parse_quiet_hours(watch.quiet_hours)
    except ValueError as exc:
        raise WatchError(f"监测「{name}」：{exc}") from None
    watch.quiet_hours = (watch.quiet_hours or "").replace(" ", "")
    if watch.snoozed_until and not isinstance(parse_time(watch.snoozed_until), datetime):
        raise WatchError(f"监测「{name}」：snoozed_until {watch.snoozed_until!r} 不是 ISO 日期时间")
    watch.__dict__.pop("parsed", None)   # the query may have been edited: re-parse on next use
    return watch


def _clean(values: Iterable[str] | str | None) -> list[str]:
    if isinstance(values, str):
        values = [values]
    return list(dict.fromkeys(str(v).strip() for v in values or () if str(v).strip()))


# -- the sites file's watches: section ------------------------------------------------------

# Field names as in the CLI (--email, --webhook, --site, --region, repeatable) or plural lists.
_CONFIG_FIELDS = {"name": "name", "query": "query", "mode": "mode", "email": "emails", "emails": "emails",
                  "webhook": "webhooks", "webhooks": "webhooks", "site": "sites", "sites": "sites",
                  "region": "regions", "regions": "regions", "window_hours": "window_hours",
                  "quiet_hours": "quiet_hours"}


def watches_from_config(entries: list, path: str = "<sites>", lines: list[int] | None = None) -> list[Watch]:
    """``Watch`` objects from a sites file's ``watches:`` entries; ``WatchError``
    naming the file, the line (``lines``: each entry's, as the sites loader read
    them; the file is not parsed again here) and the field of the first bad one."""
    lines = lines or []
    watches, seen = [], set()
    for i, entry in enumerate(entries or []):
        where = f"{path}:{lines[i]}" if i < len(lines) else f"{path}: watches[{i}]"
        if not isinstance(entry, dict):
            raise WatchError(f"{where}: 每个监测应是含 name 和 query 的映射")
        unknown = sorted(set(entry) - set(_CONFIG_FIELDS))
        if unknown:
            raise WatchError(f"{where}: 字段 '{unknown[0]}' 不认识；可用的字段："
                             f"{', '.join(sorted(_CONFIG_FIELDS))}")
        for required in ("name", "query"):
            if not entry.get(required):
                raise WatchError(f"{where}: 缺少字段 '{required}'")
        values: dict = {}
        for key, value in entry.items():
            field_name = _CONFIG_FIELDS[key]
            if field_name in ("emails", "webhooks", "sites", "regions"):
                values.setdefault(field_name, []).extend(value if isinstance(value, list) else [value])
            else:
                values[field_name] = str(value)
        try:
            watch = validate_watch(Watch(**values))
        except WatchError as exc:
            raise WatchError(f"{where}: {exc}") from None
        if watch.name in seen:
            raise WatchError(f"{where}: 字段 'name'：监测名称 {watch.name!r} 重复")
        seen.add(watch.name)
        watches.append(watch)
    return watches


# -- matching: one rule for watch test, alerts and digests ----------------------------------

def in_scope(watch: Watch, record: ArticleRecord) -> bool:
    """True if the copy is on one of the watch's sites and in one of its regions (when scoped)."""
    if watch.sites and record.site not in watch.sites:
        return False
    if watch.regions:
        region = normalize_text(record.region or "")
        return any(normalize_text(r) in region for r in watch.regions)
    return True


def story_matches(watch: Watch, copies: Iterable[ArticleRecord]) -> bool:
    """The story matches when a copy in scope satisfies the query (as ``search`` does)."""
    query = watch.parsed
    return any(in_scope(watch, c) and query.matches(c.match_text) for c in copies)


# -- the store --------------------------------------------------------------------------

class WatchStore:
    """Watches in ``index.state`` (kind ``watch``, key = name)."""

    def __init__(self, index: IndexBackend):
        self.index = index
        self.state = index.state

    def add(self, watch: Watch) -> Watch:
        """Validate and store a new watch; ``WatchError`` if invalid or the name is taken."""
        validate_watch(watch)
        if not watch.created:
            watch.created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        if not self.state.add(WATCH_KIND, watch.name, watch.to_dict()):
            raise WatchError(f"已有名为「{watch.name}」的监测（可以在网页上编辑它，"
                             f"或先删除：newsmon watch remove {watch.name}）")
        return watch

    def replace(self, watch: Watch) -> Watch:
        """Validate and store, replacing a watch of the same name (keeps its creation time)."""
        validate_watch(watch)
        old = self.get(watch.name)
        watch.created = watch.created or (old.created if old else "") or \
            datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.state.put(WATCH_KIND, watch.name, watch.to_dict())
        return watch

    def sync(self, watches: Iterable[Watch]) -> list[str]:
        """Store the sites file's watches (adding new ones, replacing changed ones);
        watches added by the CLI or the web UI stay, and so does a snooze set by hand.
        Returns the names written."""
        written = []
        for watch in watches:
            old = self.get(watch.name)
            if old is not None:
                watch.snoozed_until = old.snoozed_until
            if old is not None:
                watch.paused = old.paused        # paused in the UI: a file sync does not resume it
            runtime = {"created": "", "snoozed_until": "", "paused": False}
            if old is None or {**old.to_dict(), **runtime} != {**watch.to_dict(), **runtime}:
                self.replace(watch)
                written.append(watch.name)
        return written

    def update(self, name: str, watch: Watch) -> Watch:
        """Edit the watch ``name`` in place (the web form, ``PATCH /api/watches/NAME``): its
        name, creation time, snooze and pause stay, so alerts already sent stay sent."""
        old = self.get(name)
        if old is None:
            raise WatchError(f"没有名为「{name}」的监测")
        watch.name, watch.created = old.name, old.created
        watch.snoozed_until, watch.paused = old.snoozed_until, old.paused
        validate_watch(watch)
        self.state.put(WATCH_KIND, watch.name, watch.to_dict())
        return watch

    def set_paused(self, name: str, paused: bool) -> Watch:
        """Pause (no alerts, no digest) or resume the watch; ``WatchError`` if there is none."""
        watch = self.get(name)
        if watch is None:
            raise WatchError(f"没有名为「{name}」的监测")
        watch.paused = paused
        self.state.put(WATCH_KIND, watch.name, watch.to_dict())
        return watch

    def list(self) -> list[Watch]:
        return [Watch.from_dict(doc) for _key, doc in self.state.scan(WATCH_KIND)]

    def get(self, name: str) -> Watch | None:
        doc = self.state.get(WATCH_KIND, name)
        return Watch.from_dict(doc) if doc else None

    def remove(self, name: str) -> bool:
        return self.state.delete(WATCH_KIND, name)

    def snooze(self, name: str, until: datetime | None) -> Watch:
        """Snooze the watch until ``until`` (aware), or end its snooze (None);
        ``WatchError`` for an unknown watch or a time already past."""
        watch = self.get(name)
        if watch is None:
            raise WatchError(f"没有名为「{name}」的监测（查看全部：newsmon watch list）")
        if until is not None and until <= datetime.now(timezone.utc):
            raise WatchError(f"监测「{name}」：暂停提醒的截止时间必须在将来")
        watch.snoozed_until = until.astimezone(timezone.utc).isoformat(timespec="seconds") if until else ""
        self.state.put(WATCH_KIND, watch.name, watch.to_dict())
        return watch

    def matches(self, watch: Watch, days: int, now: datetime | None = None) -> list[dict]:
        """Stories (``search --json`` dicts, newest first) the watch matches among
        articles published -- or, undated, fetched -- in the last ``days`` days."""
        now = now or datetime.now(timezone.utc)
        since = (now - timedelta(days=max(days, 0))).date().isoformat()
        stories = self.index.search(watch.parsed, sites=watch.sites or None, since=since,
                                    until=now.date().isoformat(), limit=None)
        if watch.regions:
            stories = [s for s in stories
                       if story_matches(watch, self.index.story_copies(s["story_id"]))]
        return stories


def parsable(watches: Iterable[Watch]) -> list[Watch]:
    """The watches whose stored query still parses. One stored before today's query
    limits is skipped with a warning, so it cannot stop every other watch's alerts."""
    usable = []
    for watch in watches:
        try:
            watch.parsed
        except WatchError as exc:
            logger.warning("监测「%s」的查询无法解析，已跳过（删除后重新添加即可）：%s",
                           watch.name, str(exc).splitlines()[0])
            continue
        usable.append(watch)
    return usable
